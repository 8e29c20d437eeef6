// The rotation config attached to a secret (design.md section 1) and the generator that makes
// new values, with their JSON form (the API's and the stored one) and validation.
#ifndef REKEY_ROTATION_CONFIG_H_
#define REKEY_ROTATION_CONFIG_H_

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "crypto/generators.h"
#include "rotation/registry.h"
#include "rotation/schedule.h"

namespace rekey::rotation {

// How new values are made: {"type": "password" | "api_key" | "bytes" | "uuid", ...}.
struct GeneratorSpec {
  enum class Type { kPassword, kApiKey, kBytes, kUuid };
  Type type = Type::kPassword;
  crypto::PasswordPolicy password;  // type password
  crypto::ApiKeyFormat api_key;     // type api_key
  int bytes = 32;                   // type bytes: how many random bytes
  crypto::ByteEncoding encoding = crypto::ByteEncoding::kBase64Url;

  absl::StatusOr<SecretBytes> Generate(Random& random) const;
};

// A webhook for a secret's rotation events: in the config either "https://..." or
// {"url": "...", "signing_secret": "<rekey path of a secret with an hmac_key field>"}.
struct NotifyTarget {
  std::string url;             // http:// or https://
  std::string signing_secret;  // "" = unsigned
};

struct RetryPolicy {
  int max_attempts = 3;                        // 1..20; each attempt uses a new value
  absl::Duration backoff = absl::Seconds(30);  // before attempt 2; doubled for each next one
  absl::Duration max_backoff = absl::Minutes(10);
};

struct RotationConfig {
  std::string rotator;         // a registered rotator name
  boost::json::object params;  // rotator-specific, checked by the rotator's Validate
  std::string schedule_text;   // "" = manual rotations only
  std::optional<Schedule> schedule;
  absl::Duration window = absl::ZeroDuration();  // zero = no window: a late rotation still starts
  std::optional<absl::Duration> grace;           // unset = the server's default
  GeneratorSpec generator;
  RetryPolicy retry;
  std::vector<NotifyTarget> notify;  // webhooks told about this secret's rotation events
};

// Parses the JSON form. Every problem is reported at once in `problems` (field names as in the
// JSON: "schedule", "retry.max_attempts", "params.url", ...); the result is meaningful only when
// `problems` stayed empty. Rotator params are checked by the rotator named in "rotator",
// looked up in `registry`.
RotationConfig ParseRotationConfig(const boost::json::object& json, const RotatorRegistry& registry,
                                   std::vector<Problem>& problems);
// The JSON form; ParseRotationConfig(ToJson(c)) gives back `c`.
boost::json::object ToJson(const RotationConfig& config);

// "field: message; field: message" for a Status message.
std::string JoinProblems(const std::vector<Problem>& problems);

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_CONFIG_H_
