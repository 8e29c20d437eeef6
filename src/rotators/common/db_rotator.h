// What the database rotators (mysql, postgres, redis) share: the params they all read (host and
// port, the account, the admin credential, the single-user / alternating-users strategy), the
// credential value {"username", "password", ...}, and DbRotator, a Rotator made of their steps.
// Each rotator keeps its own client, statements and step logic in its own folder.
#ifndef REKEY_ROTATORS_COMMON_DB_ROTATOR_H_
#define REKEY_ROTATORS_COMMON_DB_ROTATOR_H_

#include <array>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"
#include "rotators/common/params.h"

namespace rekey::rotators {

// The params every database rotator reads; a rotator's Config derives from it.
struct DbParams {
  DbParams(int default_port, absl::Duration default_timeout)
      : port(default_port), timeout(default_timeout) {}

  std::string host;
  int port;
  std::string username;      // the account single-user rotates; the first of `users` by default
  std::string admin_secret;  // the path of the admin credential; "" = none
  bool alternating = false;  // strategy alternating-users, else single-user
  std::array<std::string, 2> users;  // alternating-users: the two accounts
  std::string group_role;            // alternating-users: the role both share; "" = none
  absl::Duration timeout;            // for connecting, and for each command or statement
};

// "host:port", the target as messages name it.
std::string TargetOf(const DbParams& p);

// How a database names its accounts, and the problems a bad name gets.
struct AccountNames {
  size_t max_length;           // bytes
  std::string_view bad_name;   // for "username"
  std::string_view bad_pair;   // for "usernames"
  std::string_view bad_group;  // for "group_role"
  bool group_may_be_empty;     // "group_role": "" means no shared role
};

// "username": required, 1 to names.max_length bytes without NUL; into p.username.
void UsernameParam(const boost::json::object& params, const AccountNames& names,
                   std::vector<rotation::Problem>* problems, DbParams& p);
// "admin_secret": the path of a rekey secret (at most 512 bytes), into p.admin_secret. When it is
// absent, records `required` as its problem, unless `required` is "" (optional).
void AdminSecretParam(const boost::json::object& params, std::string_view required,
                      std::vector<rotation::Problem>* problems, DbParams& p);
// "strategy" (single-user or alternating-users) into p.alternating; for alternating-users only,
// "usernames" (two different names; default p.username and p.username + "_clone") into p.users
// and "group_role" (default p.username + "_group") into p.group_role. After UsernameParam.
void StrategyParams(const boost::json::object& params, const AccountNames& names,
                    std::vector<rotation::Problem>* problems, DbParams& p);

// What revoke does to a retired account: the database's own way to disable it (MariaDB: ACCOUNT
// LOCK; PostgreSQL: NOLOGIN), or a random password nobody knows.
enum class RevokeMode { kDisable, kRandomPassword };
// "revoke_mode": `disable` (the name of kDisable, e.g. "lock") or "random_password", into `out`.
void RevokeModeParam(const boost::json::object& params, std::string_view disable,
                     std::vector<rotation::Problem>* problems, RevokeMode& out);
// "verify_query": a non-empty SQL query of at most 4096 bytes, into `out` when present.
void VerifyQueryParam(const boost::json::object& params, std::vector<rotation::Problem>* problems,
                      std::string& out);

// A username and password, as a credential value holds them.
struct Credential {
  std::string username;
  SecretBytes password;
};

// Whether a credential value must name its user (a Redis requirepass value need not).
enum class Username { kRequired, kOptional };

// The credential in `value`, a JSON object with "username" and "password" strings (other fields
// are ignored); `what` names it in messages. kFailedPrecondition when `value` is not a JSON
// object or lacks a "password" string or (kRequired) a non-empty "username" string. The parsed
// JSON is wiped.
absl::StatusOr<Credential> CredentialOf(const SecretBytes& value, std::string_view what,
                                        Username username = Username::kRequired);
// The credential of version `v`, named "the <what> value". kFailedPrecondition when `v` is unset
// or unreadable, or as CredentialOf.
absl::StatusOr<Credential> VersionCredential(const std::optional<rotation::VersionView>& v,
                                             std::string_view what,
                                             Username username = Username::kRequired);
// The credential of version `v`, or nullopt when it has none VersionCredential accepts.
std::optional<Credential> ReadableCredential(const std::optional<rotation::VersionView>& v,
                                             Username username = Username::kRequired);

// The admin credential: the current value of the secret at `path` (params.admin_secret).
// kFailedPrecondition, naming `path`, when it cannot be read or is not a credential.
absl::StatusOr<Credential> AdminCredential(rotation::StepContext& ctx, std::string_view path);
// `status` of connecting with the admin credential of `path`, with a refusal (kUnauthenticated)
// reported as kPermissionDenied naming `path`.
absl::Status AdminConnectStatus(std::string_view path, const absl::Status& status);

// How long the next connection or statement may take: min(timeout, the time left before the
// step's deadline). kDeadlineExceeded "the step's deadline passed before reaching <what>" when no
// time is left.
absl::StatusOr<absl::Duration> TimeLeft(const rotation::StepContext& ctx, absl::Duration timeout,
                                        std::string_view what);

// The `test` step of a SQL database: logs in as the pending version's credential with
// `connect(username, password)` (an absl::StatusOr of a pointer to a connection with
// Exec(sql)) and runs `verify_query`. A refused login (kUnauthenticated) is kFailedPrecondition
// "the new password of <kind> "<username>" was refused: ..."; `kind` is "account", "role", ...
template <typename Connect>
absl::Status LogInAndVerify(rotation::StepContext& ctx, const DbParams& p, std::string_view kind,
                            std::string_view verify_query, Connect connect) {
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  auto conn = connect(pending.username, pending.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::FailedPreconditionError(
        rekey::StrCat("the new password of ", kind, " \"", pending.username,
                      "\" was refused: ", conn.status().message()));
  }
  RETURN_IF_ERROR(conn.status());
  RETURN_IF_ERROR((*conn)->Exec(verify_query));
  ctx.log().Info(rekey::StrCat(kind, " \"", pending.username, "\" logged in to ", TargetOf(p),
                               " and ran the verify query"));
  return absl::OkStatus();
}

// The value `create` stores: the current version's JSON object (other fields carried over; {}
// without a readable current version) with "username", a fresh "password" from ctx.Generate(),
// "host", "port" and the `extra` string fields. The username is p.username, or with
// alternating-users the one of p.users the current value does not name (users[0] when there is no
// current version); `user` (when set) receives it. kFailedPrecondition when the current value is
// not a JSON object; Generate's error as it is.
absl::StatusOr<SecretBytes> NewCredentialValue(
    rotation::StepContext& ctx, const DbParams& p,
    const std::vector<std::pair<std::string_view, std::string_view>>& extra = {},
    std::string* user = nullptr);

// A Rotator made of a database rotator's steps: functions of the step's params, parsed into a
// `Config`, and of the context. `Config` is a DbParams with a static
//   Config Parse(const boost::json::object& params, std::vector<rotation::Problem>* problems)
// that records every problem with `params`. Each step parses the params first and fails with
// kInvalidArgument naming the first problem; Validate reports every problem; TargetKey is
// "<name>://host:port" ("" without a host); References asks for read on params.admin_secret.
// Thread-safe when the steps are.
template <typename Config>
class DbRotator final : public rotation::Rotator {
 public:
  template <typename Result>
  using StepFn = Result (*)(const Config& c, rotation::StepContext& ctx);

  // `name` (TargetKey's scheme) must outlive the rotator: a string literal.
  DbRotator(std::string_view name, StepFn<absl::Status> check,
            StepFn<absl::StatusOr<SecretBytes>> create, StepFn<absl::Status> set,
            StepFn<absl::Status> test, StepFn<absl::Status> revoke, StepFn<absl::Status> rollback)
      : name_(name),
        check_(check),
        create_(create),
        set_(set),
        test_(test),
        revoke_(revoke),
        rollback_(rollback) {}

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override {
    std::vector<rotation::Problem> problems;
    Config::Parse(params, &problems);
    return problems;
  }
  std::string TargetKey(const boost::json::object& params) const override {
    std::vector<rotation::Problem> problems;
    const Config c = Config::Parse(params, &problems);
    return c.host.empty() ? "" : rekey::StrCat(name_, "://", c.host, ":", c.port);
  }
  std::vector<rotation::Reference> References(const boost::json::object& params) const override {
    std::vector<rotation::Reference> refs;
    AddReference(params, "admin_secret", "secret/data/", "", {"read"}, &refs);
    return refs;
  }

  absl::Status Check(rotation::StepContext& ctx) override { return Run(check_, ctx); }
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override {
    return Run(create_, ctx);
  }
  absl::Status Set(rotation::StepContext& ctx) override { return Run(set_, ctx); }
  absl::Status Test(rotation::StepContext& ctx) override { return Run(test_, ctx); }
  absl::Status Revoke(rotation::StepContext& ctx) override { return Run(revoke_, ctx); }
  absl::Status Rollback(rotation::StepContext& ctx) override { return Run(rollback_, ctx); }

 private:
  template <typename Result>
  static Result Run(StepFn<Result> step, rotation::StepContext& ctx) {
    std::vector<rotation::Problem> problems;
    const Config c = Config::Parse(ctx.params(), &problems);
    RETURN_IF_ERROR(FirstProblem(problems));
    return step(c, ctx);
  }

  const std::string_view name_;
  const StepFn<absl::Status> check_;
  const StepFn<absl::StatusOr<SecretBytes>> create_;
  const StepFn<absl::Status> set_;
  const StepFn<absl::Status> test_;
  const StepFn<absl::Status> revoke_;
  const StepFn<absl::Status> rollback_;
};

// Registers, as `name` (a string literal), the DbRotator of these steps.
template <typename Config>
absl::Status RegisterDbRotator(rotation::RotatorRegistry& registry, std::string_view name,
                               absl::Status (*check)(const Config&, rotation::StepContext&),
                               absl::StatusOr<SecretBytes> (*create)(const Config&,
                                                                     rotation::StepContext&),
                               absl::Status (*set)(const Config&, rotation::StepContext&),
                               absl::Status (*test)(const Config&, rotation::StepContext&),
                               absl::Status (*revoke)(const Config&, rotation::StepContext&),
                               absl::Status (*rollback)(const Config&, rotation::StepContext&)) {
  return registry.Register(
      std::string(name),
      std::make_unique<DbRotator<Config>>(name, check, create, set, test, revoke, rollback));
}

}  // namespace rekey::rotators

#endif  // REKEY_ROTATORS_COMMON_DB_ROTATOR_H_
