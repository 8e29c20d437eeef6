#include "app/rotators.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/acme/acme_rotator.h"
#include "rotators/exec/exec_rotator.h"
#include "rotators/generic/generic_rotator.h"
#include "rotators/http/http_rotator.h"
#include "rotators/jwt/jwt_rotator.h"
#include "rotators/mysql/mysql_rotator.h"
#include "rotators/pki/ca_rotator.h"
#include "rotators/pki/pki_rotator.h"
#include "rotators/postgres/postgres_rotator.h"
#include "rotators/redis/redis_rotator.h"

namespace rekey::app {

absl::Status RegisterRotators(rotation::RotatorRegistry& registry, pki::CaService& ca) {
  RETURN_IF_ERROR(rotators::generic::RegisterGenericRotator(registry));
  RETURN_IF_ERROR(rotators::http::RegisterHttpRotator(registry));
  RETURN_IF_ERROR(rotators::exec::RegisterExecRotator(registry));
  RETURN_IF_ERROR(rotators::postgres::RegisterPostgresRotator(registry));
  RETURN_IF_ERROR(rotators::redis::RegisterRedisRotator(registry));
  RETURN_IF_ERROR(rotators::mysql::RegisterMysqlRotator(registry));
  RETURN_IF_ERROR(rotators::pki::RegisterPkiRotator(registry, ca));
  RETURN_IF_ERROR(rotators::pki::RegisterCaRotator(registry, ca));
  return absl::OkStatus();
}

absl::Status RegisterAcmeRotator(rotation::RotatorRegistry& registry, secrets::SecretsService& kv) {
  rotators::acme::AcmeRotatorOptions options;
  options.accounts = std::make_shared<rotators::acme::FunctionAccountStore>(
      [&kv](std::string_view path) -> absl::StatusOr<SecretBytes> {
        ASSIGN_OR_RETURN(secrets::ReadResult r, kv.Read(path, 0));
        if (!r.value.has_value()) {
          return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no current value"));
        }
        return std::move(*r.value);
      },
      [&kv](std::string_view path, const SecretBytes& value) -> absl::Status {
        secrets::WriteOptions write;
        write.cas = 0;  // only when it does not exist yet
        write.actor = "rotator:acme";
        absl::Status s = kv.Put(path, value, write).status();
        if (absl::IsFailedPrecondition(s)) {
          return absl::AlreadyExistsError(rekey::StrCat("secret \"", path, "\" exists"));
        }
        return s;
      });
  return rotators::acme::RegisterAcmeRotator(registry, std::move(options));
}

absl::Status RegisterJwtRotator(rotation::RotatorRegistry& registry, jwt::JwtService& jwt) {
  return rotators::jwt::RegisterJwtRotator(registry, jwt);
}

absl::StatusOr<rotation::EngineOptions> EngineOptionsFor(const ServerConfig& config) {
  rotation::EngineOptions options = config.rotation;
  const char* crash = std::getenv("REKEY_TEST_CRASH_AT");
  if (crash == nullptr || *crash == '\0') return options;
  const std::string spec(crash);
  const size_t colon = spec.find(':');
  const std::string phase = spec.substr(0, colon);
  const std::string when = colon == std::string::npos ? "before" : spec.substr(colon + 1);
  rotation::CrashPointForTest point;
  bool known = false;
  for (rotation::Phase p :
       {rotation::Phase::kCreate, rotation::Phase::kSet, rotation::Phase::kTest,
        rotation::Phase::kFinish, rotation::Phase::kRevoke, rotation::Phase::kRollback}) {
    if (rotation::PhaseName(p) == phase) {
      point.phase = p;
      known = true;
    }
  }
  if (!known || (when != "before" && when != "after")) {
    return absl::InvalidArgumentError(
        rekey::StrCat("REKEY_TEST_CRASH_AT must be "
                      "<create|set|test|finish|revoke|rollback>:<before|after>, not \"",
                      spec.substr(0, 64), "\""));
  }
  point.after_effect = when == "after";
  spdlog::warn(
      "REKEY_TEST_CRASH_AT={}: this server will kill itself during a rotation (tests only)", spec);
  point.crash = [] { std::raise(SIGKILL); };
  options.crash_for_test = point;
  return options;
}

}  // namespace rekey::app
