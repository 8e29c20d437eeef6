// The first-party rotators and the engine's settings: the one place that names every rotator.
#ifndef REKEY_APP_ROTATORS_H_
#define REKEY_APP_ROTATORS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "app/config.h"
#include "rotation/engine.h"
#include "rotation/registry.h"

namespace rekey::app {

// Registers generic, http and exec (and later the database, PKI and key rotators).
absl::Status RegisterRotators(rotation::RotatorRegistry& registry);

// The engine's options from the server config. In test builds of the server, the environment
// variable REKEY_TEST_CRASH_AT=<phase>:<before|after> (e.g. "set:after") makes the server kill
// itself with SIGKILL at that point of the first run that reaches it; crash tests use it.
absl::StatusOr<rotation::EngineOptions> EngineOptionsFor(const ServerConfig& config);

}  // namespace rekey::app

#endif  // REKEY_APP_ROTATORS_H_
