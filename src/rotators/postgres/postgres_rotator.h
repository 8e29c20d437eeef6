// The `postgres` rotator: rotates a PostgreSQL role's password, in place (single-user) or by
// alternating between two roles that share a group role (alternating-users). docs/rotators/
// postgres.md describes the params, the strategies and the privileges the admin role needs.
#ifndef REKEY_ROTATORS_POSTGRES_POSTGRES_ROTATOR_H_
#define REKEY_ROTATORS_POSTGRES_POSTGRES_ROTATOR_H_

#include "absl/status/status.h"
#include "rotation/registry.h"

namespace rekey::rotators::postgres {

// Registers the rotator as "postgres"; its TargetKey is "postgres://host:port".
//
// Thread-safe and stateless between calls: every step opens its own connection (libpq, blocking;
// the engine runs steps on worker threads) with a connect timeout and a statement_timeout of
// min(params.statement_timeout, time left before the step's deadline).
//
// The value is a JSON object {"username", "password", "host", "port", "database"} (other fields
// of the current value are carried over). Passwords reach the server only as SCRAM-SHA-256
// verifiers computed by libpq, so neither the server log nor an error message can show them.
//
// Errors: the target unreachable → kUnavailable / kDeadlineExceeded; the admin credential
// missing → kFailedPrecondition, refused or lacking privileges → kPermissionDenied; the new
// password refused at `test` or rejected by the server → kFailedPrecondition / kInvalidArgument
// (the engine rolls back and retries with a new value).
absl::Status RegisterPostgresRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::postgres

#endif  // REKEY_ROTATORS_POSTGRES_POSTGRES_ROTATOR_H_
