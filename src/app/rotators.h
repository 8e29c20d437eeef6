// The first-party rotators and the engine's settings: the one place that names every rotator.
#ifndef REKEY_APP_ROTATORS_H_
#define REKEY_APP_ROTATORS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "app/config.h"
#include "jwt/jwt_service.h"
#include "pki/ca_service.h"
#include "rotation/engine.h"
#include "rotation/registry.h"
#include "secrets/secrets_service.h"

namespace rekey::app {

// Registers generic, http, exec, the database rotators, and pki (certificates from `ca`, which
// must outlive the registry's use).
absl::Status RegisterRotators(rotation::RotatorRegistry& registry, pki::CaService& ca);

// Registers acme, its ACME account keys kept as secrets of `kv` (created on first use); `kv` must
// outlive the registry's use.
absl::Status RegisterAcmeRotator(rotation::RotatorRegistry& registry, secrets::SecretsService& kv);

// Registers jwt, which rotates the signing keys of `jwt`'s keysets; `jwt` must outlive the
// registry's use.
absl::Status RegisterJwtRotator(rotation::RotatorRegistry& registry, jwt::JwtService& jwt);

// The engine's options from the server config. In test builds of the server, the environment
// variable REKEY_TEST_CRASH_AT=<phase>:<before|after> (e.g. "set:after") makes the server kill
// itself with SIGKILL at that point of the first run that reaches it; crash tests use it.
absl::StatusOr<rotation::EngineOptions> EngineOptionsFor(const ServerConfig& config);

}  // namespace rekey::app

#endif  // REKEY_APP_ROTATORS_H_
