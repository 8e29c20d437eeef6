// AwsCall: one AWS Secrets Manager request's operations over the secrets service and the
// rotation engine, for a caller whose policies are known (SigV4 already checked by AwsHandler).
// Every operation authorizes before it touches storage.
#ifndef REKEY_API_AWS_AWS_CALL_H_
#define REKEY_API_AWS_AWS_CALL_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/aws/aws_handler.h"
#include "api/aws/aws_operations.h"
#include "api/aws/aws_wire.h"
#include "rotation/engine.h"

namespace rekey::api::aws {

struct OperationEntry;  // aws_call.cc: a row of the operations table and its handler

// One request's worth of state: the caller's policies and helpers over the store.
class AwsCall {
 public:
  // `engine` may be null (no rotation: RotateSecret answers InvalidRequestException). `actor`
  // names the caller in rotation runs ("aws:<access key id>").
  AwsCall(secrets::SecretsService& kv, rotation::RotationEngine* engine,
          const auth::PolicySet& policies, const Clock& clock, Random& random,
          const AwsHandlerOptions& options, std::string actor)
      : kv_(kv),
        engine_(engine),
        policies_(policies),
        clock_(clock),
        random_(random),
        options_(options),
        actor_(std::move(actor)) {}

  // Runs operation `op` (a row of the operations table) or answers InvalidAction.
  Reply Dispatch(std::string_view op, const json::object& body);

  // The operations table: each row's rule (aws_operations.h) and handler.
  static const std::vector<OperationEntry>& Operations();

 private:
  struct Resolved {
    std::string name;
    secrets::SecretMetadata meta;
    std::optional<absl::Time> deletion;  // scheduled deletion
  };

  bool Allowed(std::string_view policy_path, Capability c) const {
    return policies_.Allows(policy_path, c);
  }
  static std::string DataPath(std::string_view name) { return StrCat("secret/data/", name); }
  static std::string MetaPath(std::string_view name) { return StrCat("secret/metadata/", name); }
  static std::string RotatePath(std::string_view name) { return StrCat("rotation/rotate/", name); }
  static std::string ConfigPath(std::string_view name) { return StrCat("rotation/config/", name); }

  // The secret name a SecretId names, without touching storage; `suffix` is the ARN's random
  // suffix when a full ARN was given.
  static std::string NameOf(std::string_view id, std::optional<std::string>& suffix);
  std::string Suffix(std::string_view name, absl::Time created) const;
  std::string Arn(std::string_view name, absl::Time created) const {
    return StrCat(kArnPrefix, options_.region, ":", options_.account_id, ":secret:", name, "-",
                  Suffix(name, created));
  }
  // Loads the secret; NotFound when absent, or when a full ARN's suffix does not match, or when
  // its scheduled deletion has passed (it is then purged).
  absl::StatusOr<Resolved> Resolve(std::string_view id, const std::string& name,
                                   const std::optional<std::string>& suffix);
  std::string VersionIdOf(const secrets::SecretMetadata& meta, uint64_t n) const;
  std::optional<uint64_t> VersionNumberOf(const secrets::SecretMetadata& meta,
                                          std::string_view id) const;
  static std::map<std::string, std::string> TagsOf(const secrets::SecretMetadata& meta);
  static json::array TagsJson(const secrets::SecretMetadata& meta);
  // What SecretString/SecretBinary are stored as (a JSON object's text), or an error reply.
  static bool Encode(const Body& b, std::optional<SecretBytes>& stored, Reply& reply);
  // Adds SecretString or SecretBinary for the stored value to `out`.
  static void Decode(std::string_view stored, json::object& out);
  // Writes a new version with `token` (idempotently); `labels` empty = AWSCURRENT.
  absl::StatusOr<std::pair<uint64_t, bool>> WriteValue(const std::string& name,
                                                       const SecretBytes& value,
                                                       const std::optional<std::string>& token,
                                                       const std::vector<std::string>& labels,
                                                       Reply& reply);
  json::object DescribeJson(const Resolved& r, bool for_list) const;
  absl::StatusOr<std::vector<std::string>> AllNames();

  Reply CreateSecret(const json::object& o);
  Reply GetSecretValue(const json::object& o);
  Reply PutSecretValue(const json::object& o);
  Reply UpdateSecret(const json::object& o);
  Reply DescribeSecret(const json::object& o);
  Reply ListSecrets(const json::object& o);
  Reply ListSecretVersionIds(const json::object& o);
  Reply UpdateSecretVersionStage(const json::object& o);
  Reply DeleteSecret(const json::object& o);
  Reply RestoreSecret(const json::object& o);
  Reply TagResource(const json::object& o);
  Reply UntagResource(const json::object& o);
  Reply GetRandomPassword(const json::object& o);
  Reply BatchGetSecretValue(const json::object& o);
  // aws_rotation.cc: RotateSecret and CancelRotateSecret drive the rotation engine.
  Reply RotateSecret(const json::object& o);
  Reply CancelRotateSecret(const json::object& o);
  // DescribeSecret's rotation members (RotationEnabled, RotationLambdaARN, RotationRules,
  // LastRotatedDate, NextRotationDate) for secret `name`, added to `out`.
  void AddRotationJson(const std::string& name, json::object& out) const;
  // The rotation config RotateSecret installs: from RotationLambdaARN's function (a rotator,
  // or the path of a secret whose config is a template), else the secret's own config, else the
  // generic rotator on the value's one field. An error reply when none fits.
  absl::StatusOr<json::object> RotationConfigFor(
      const Resolved& r, const std::optional<std::string>& lambda,
      const absl::StatusOr<rotation::RotationConfig>& own, Reply& reply);
  absl::StatusOr<json::object> GenericConfigFor(const Resolved& r, Reply& reply);

  secrets::SecretsService& kv_;
  rotation::RotationEngine* engine_;  // may be null
  const auth::PolicySet& policies_;
  const Clock& clock_;
  Random& random_;
  const AwsHandlerOptions& options_;
  const std::string actor_;
};

// Operation prologue: reads SecretId into a name, checks capability `cap` on `path_of(name)`
// (before any storage access), then resolves the secret into `r` (a StatusOr<Resolved>); returns
// the error reply from the enclosing operation on failure. Needs a `Reply reply` in scope. A
// partial ARN may resolve to another name than the one first checked ("app-secret" for
// "...:secret:app-secret", whose name looked like "app" plus a suffix): that name is checked too.
#define REKEY_AWS_RESOLVE(r, o, path_of, cap)                                        \
  std::optional<std::string> secret_id_;                                             \
  {                                                                                  \
    Body b_{o, reply};                                                               \
    if (!b_.String("SecretId", secret_id_, 1, 2048)) return reply;                   \
  }                                                                                  \
  if (!secret_id_) return Err("InvalidParameterException", "SecretId is required."); \
  std::optional<std::string> suffix_;                                                \
  const std::string name_ = NameOf(*secret_id_, suffix_);                            \
  if (!Allowed((path_of)(name_), cap)) return AccessDenied();                        \
  absl::StatusOr<Resolved> r = Resolve(*secret_id_, name_, suffix_);                 \
  if (r.ok() && r->name != name_ && !Allowed((path_of)(r->name), cap)) {             \
    return AccessDenied();                                                           \
  }                                                                                  \
  if (!r.ok()) return FromStatus(r.status())

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_AWS_CALL_H_
