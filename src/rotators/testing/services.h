// For rotator tests that need a real database server: starts it with scripts/services (idempotent,
// safe from parallel test processes) and reads the env file the script writes.
#ifndef REKEY_ROTATORS_TESTING_SERVICES_H_
#define REKEY_ROTATORS_TESTING_SERVICES_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rekey::rotators::testing {

// The variables of the services env file (REKEY_PG_PORT, REKEY_PG_ADMIN_PASSWORD, ...).
using ServiceEnv = std::map<std::string, std::string>;

// True when REKEY_NO_SERVICES=1: tests that need a server skip (and say so) instead of failing.
bool ServicesDisabled();

// Starts `service` ("postgres", "mariadb", "redis", "pebble") unless it is running, then returns
// the env file's variables. kUnavailable, naming the script and its exit status, when it cannot
// start.
// Runs `<source dir>/scripts/services start <service>`; the first call per process per service
// does the work, later calls return the cached result. Thread-safe.
absl::StatusOr<ServiceEnv> StartService(std::string_view service);

// env[key], or "" when absent.
std::string Var(const ServiceEnv& env, std::string_view key);

}  // namespace rekey::rotators::testing

#endif  // REKEY_ROTATORS_TESTING_SERVICES_H_
