#include "rotators/redis/redis_rotator.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/db_rotator.h"
#include "rotators/common/params.h"

namespace rekey::rotators::redis {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

constexpr size_t kMaxMessageChars = 200;

// Replaces each non-empty `redact` string in `text`, flattens and truncates it.
std::string Redact(std::string text, const std::vector<std::string_view>& redact) {
  text = RedactValues(std::move(text), redact);
  // An ACL modifier ('>pw', '<pw') echoed in an altered form (not found above): drop everything
  // from the quote on.
  if (size_t q = text.find("modifier '");
      q != std::string::npos && text.compare(q + 10, 11, "[redacted]'") != 0) {
    text = rekey::StrCat(text.substr(0, q), "modifier [redacted]");
  }
  return OneLine(text, kMaxMessageChars);
}

enum class Mode { kAcl, kRequirePass };

// Single-user: username is the ACL user ("default" in requirepass mode); admin_secret is for acl
// mode only.
struct Config : DbParams {
  Config() : DbParams(6379, absl::Seconds(5)) {}
  // `params` as a Config, with every problem recorded in `problems`.
  static Config Parse(const json::object& params, std::vector<Problem>* problems);

  Mode mode = Mode::kAcl;
  bool acl_save = false;
};

Config Config::Parse(const json::object& params, std::vector<Problem>* problems) {
  static const std::vector<std::string_view> kKnown = {
      "host", "port", "mode", "username", "admin_secret", "acl_save", "timeout"};
  RejectUnknownParams(params, kKnown, problems);
  Config c;
  HostPortParams(params, problems, c.host, c.port);
  if (auto mode = StringParam(params, "mode", problems)) {
    if (*mode == "requirepass") {
      c.mode = Mode::kRequirePass;
    } else if (*mode != "acl") {
      AddProblem(problems, "mode", "must be acl or requirepass");
    }
  }
  auto user = StringParam(params, "username", problems);
  auto admin = StringParam(params, "admin_secret", problems);
  if (c.mode == Mode::kAcl) {
    if (!user.has_value() || user->empty() || user->size() > 256 ||
        user->find_first_of(" \t\r\n") != std::string::npos) {
      if (!params.contains("username") || user.has_value()) {
        AddProblem(problems, "username", "is required: the ACL user (no whitespace)");
      }
    } else {
      c.username = *user;
    }
    if (!admin.has_value() || admin->empty()) {
      if (!params.contains("admin_secret") || admin.has_value()) {
        AddProblem(problems, "admin_secret",
                   "is required: the path of a credential allowed to run ACL SETUSER");
      }
    } else {
      c.admin_secret = *admin;
    }
  } else {
    if (params.contains("username")) {
      AddProblem(problems, "username", "is not used in requirepass mode");
    }
    if (params.contains("admin_secret")) {
      AddProblem(problems, "admin_secret",
                 "is not used in requirepass mode (the current password is used)");
    }
    c.username = "default";
  }
  if (const json::value* v = params.if_contains("acl_save")) {
    if (!v->is_bool() || (c.mode != Mode::kAcl && v->get_bool())) {
      AddProblem(problems, "acl_save", "must be true or false (acl mode only)");
    } else {
      c.acl_save = v->get_bool();
    }
  }
  if (auto t = StringParam(params, "timeout", problems)) {
    absl::Duration d;
    if (!absl::ParseDuration(ToAbsl(*t), &d) || d < absl::Milliseconds(100) ||
        d > absl::Minutes(5)) {
      AddProblem(problems, "timeout", "must be a duration from 100ms to 5m, e.g. \"5s\"");
    } else {
      c.timeout = d;
    }
  }
  return c;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// One blocking connection. Not thread-safe.
class Connection {
 public:
  // Connects to the target and, when `user` is set, authenticates. kUnauthenticated when the
  // server refuses the credential.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const Config& c, StepContext& ctx,
                                                          std::string_view user,
                                                          const SecretBytes* password) {
    ASSIGN_OR_RETURN(const absl::Duration timeout, TimeLeft(ctx, c.timeout, "Redis"));
    const timeval tv = absl::ToTimeval(timeout);
    std::unique_ptr<redisContext, ContextDeleter> rc(
        redisConnectWithTimeout(c.host.c_str(), c.port, tv));
    if (rc == nullptr) return absl::ResourceExhaustedError("hiredis could not allocate");
    if (rc->err != 0) {
      const std::string msg =
          rekey::StrCat("cannot connect to Redis at ", TargetOf(c), ": ", rc->errstr);
      return absl::StrContains(rc->errstr, "timed out") ? absl::DeadlineExceededError(msg)
                                                        : absl::UnavailableError(msg);
    }
    redisSetTimeout(rc.get(), tv);
    auto conn = std::unique_ptr<Connection>(new Connection(std::move(rc), TargetOf(c)));
    if (password != nullptr) {
      absl::Status auth = user.empty() ? conn->Command({"AUTH", password->Reveal()}, {})
                                       : conn->Command({"AUTH", user, password->Reveal()}, {});
      if (!auth.ok()) {
        if (auth.code() == absl::StatusCode::kPermissionDenied ||
            absl::StrContains(auth.message(), "WRONGPASS") ||
            absl::StrContains(auth.message(), "invalid")) {
          return absl::UnauthenticatedError(rekey::StrCat("Redis at ", TargetOf(c),
                                                          " refused the password of user \"",
                                                          user.empty() ? "default" : user, "\""));
        }
        return auth;
      }
    }
    return conn;
  }

  // Runs one command. Error replies: NOPERM / WRONGPASS / NOAUTH → kPermissionDenied, others →
  // kFailedPrecondition; I/O errors → kUnavailable. Arguments are redacted from messages except
  // the first `shown` ones.
  absl::Status Command(const std::vector<std::string_view>& args, ReplyPtr* out, size_t shown = 1) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    std::vector<std::string_view> redact;
    for (size_t i = 0; i < args.size(); ++i) {
      argv.push_back(args[i].data());
      lens.push_back(args[i].size());
      if (i >= shown) redact.push_back(args[i]);
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(rc_.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
    const std::string name(args.empty() ? "" : args[0]);
    if (reply == nullptr) {
      return absl::UnavailableError(
          rekey::StrCat("Redis at ", target_, " failed during ", name, ": ", rc_->errstr));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string text = Redact(std::string(reply->str, reply->len), redact);
      const std::string msg = rekey::StrCat("Redis at ", target_, " answered ", name, ": ", text);
      if (absl::StartsWith(text, "NOPERM") || absl::StartsWith(text, "WRONGPASS") ||
          absl::StartsWith(text, "NOAUTH")) {
        return absl::PermissionDeniedError(msg);
      }
      return absl::FailedPreconditionError(msg);
    }
    if (out != nullptr) *out = std::move(reply);
    return absl::OkStatus();
  }

 private:
  Connection(std::unique_ptr<redisContext, ContextDeleter> rc, std::string target)
      : rc_(std::move(rc)), target_(std::move(target)) {}
  std::unique_ptr<redisContext, ContextDeleter> rc_;
  std::string target_;
};

absl::StatusOr<std::unique_ptr<Connection>> ConnectAdmin(const Config& c, StepContext& ctx) {
  ASSIGN_OR_RETURN(Credential admin, AdminCredential(ctx, c.admin_secret));
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(c, ctx, admin.username, &admin.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::PermissionDeniedError(rekey::StrCat("the admin credential \"", c.admin_secret,
                                                     "\" was refused by Redis at ", TargetOf(c)));
  }
  return conn;
}

// requirepass mode: logs in as the default user with the first password the server accepts.
absl::StatusOr<std::unique_ptr<Connection>> ConnectWithAny(
    const Config& c, StepContext& ctx, const std::vector<const SecretBytes*>& passwords) {
  for (const SecretBytes* p : passwords) {
    if (p == nullptr) continue;
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(c, ctx, "", p);
    if (conn.ok() || conn.status().code() != absl::StatusCode::kUnauthenticated) return conn;
  }
  return absl::PermissionDeniedError(rekey::StrCat(
      "Redis at ", TargetOf(c), " accepted neither the current nor the new requirepass"));
}

absl::Status RequireUser(Connection& conn, const Config& c) {
  ReplyPtr reply;
  RETURN_IF_ERROR(conn.Command({"ACL", "GETUSER", c.username}, &reply, 3));
  if (reply->type == REDIS_REPLY_NIL) {
    return absl::FailedPreconditionError(
        rekey::StrCat("the ACL user \"", c.username, "\" does not exist on Redis at ", TargetOf(c),
                      " (create it with its permissions first)"));
  }
  return absl::OkStatus();
}

// ACL SETUSER <user> <modifier><password>; removing a password the user lacks is success.
absl::Status SetUserPassword(Connection& conn, const Config& c, char op,
                             const SecretBytes& password) {
  std::string modifier = rekey::StrCat(std::string(1, op), password.Reveal());
  absl::Status s = conn.Command({"ACL", "SETUSER", c.username, modifier}, nullptr, 3);
  SecureWipe(modifier);
  if (!s.ok() && op == '<' && absl::StrContains(s.message(), "does not exist")) {
    return absl::OkStatus();
  }
  if (s.ok() && c.acl_save) RETURN_IF_ERROR(conn.Command({"ACL", "SAVE"}, nullptr));
  return s;
}

absl::Status Check(const Config& c, StepContext& ctx) {
  RETURN_IF_ERROR(ctx.Generate().status());
  if (c.mode == Mode::kRequirePass) {
    ASSIGN_OR_RETURN(Credential cur,
                     VersionCredential(ctx.current(), "current", Username::kOptional));
    ASSIGN_OR_RETURN(auto conn, ConnectWithAny(c, ctx, {&cur.password}));
    ctx.log().Info(rekey::StrCat("reached Redis at ", TargetOf(c), " with the current password"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(RequireUser(*conn, c));
  ctx.log().Info(
      rekey::StrCat("reached Redis at ", TargetOf(c), "; ACL user \"", c.username, "\" exists"));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> Create(const Config& c, StepContext& ctx) {
  return NewCredentialValue(ctx, c);
}

absl::Status Set(const Config& c, StepContext& ctx) {
  ASSIGN_OR_RETURN(Credential pending,
                   VersionCredential(ctx.pending(), "pending", Username::kOptional));
  if (c.mode == Mode::kRequirePass) {
    std::optional<Credential> cur = ReadableCredential(ctx.current(), Username::kOptional);
    ASSIGN_OR_RETURN(auto conn,
                     ConnectWithAny(c, ctx, {cur ? &cur->password : nullptr, &pending.password}));
    RETURN_IF_ERROR(
        conn->Command({"CONFIG", "SET", "requirepass", pending.password.Reveal()}, nullptr, 3));
    ctx.log().Warn(rekey::StrCat("requirepass changed on Redis at ", TargetOf(c),
                                 ": new connections with the old password now fail"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(RequireUser(*conn, c));
  RETURN_IF_ERROR(SetUserPassword(*conn, c, '>', pending.password));
  ctx.log().Info(rekey::StrCat("added a password to ACL user \"", c.username, "\" on ", TargetOf(c),
                               " (the current one keeps working)"));
  return absl::OkStatus();
}

absl::Status Test(const Config& c, StepContext& ctx) {
  ASSIGN_OR_RETURN(Credential pending,
                   VersionCredential(ctx.pending(), "pending", Username::kOptional));
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(
      c, ctx, c.mode == Mode::kAcl ? std::string_view(c.username) : "", &pending.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "Redis at ", TargetOf(c), " refused the new password of \"", c.username, "\""));
  }
  RETURN_IF_ERROR(conn.status());
  RETURN_IF_ERROR((*conn)->Command({"PING"}, nullptr));
  ctx.log().Info(rekey::StrCat("\"", c.username, "\" authenticated to ", TargetOf(c)));
  return absl::OkStatus();
}

absl::Status Revoke(const Config& c, StepContext& ctx) {
  if (c.mode == Mode::kRequirePass) {
    ctx.log().Info("requirepass: the old password stopped working at set; nothing to revoke");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Credential previous,
                   VersionCredential(ctx.previous(), "previous", Username::kOptional));
  ASSIGN_OR_RETURN(Credential live,
                   VersionCredential(ctx.current(), "current", Username::kOptional));
  if (live.password == previous.password) {
    ctx.log().Warn("the previous password equals the current one; not removing it");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(SetUserPassword(*conn, c, '<', previous.password));
  ctx.log().Info(rekey::StrCat("removed the previous password of ACL user \"", c.username, "\" on ",
                               TargetOf(c)));
  return absl::OkStatus();
}

absl::Status Rollback(const Config& c, StepContext& ctx) {
  if (!ctx.pending().has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Credential pending,
                   VersionCredential(ctx.pending(), "pending", Username::kOptional));
  std::optional<Credential> cur = ReadableCredential(ctx.current(), Username::kOptional);
  if (cur.has_value() && cur->password == pending.password) return absl::OkStatus();
  if (c.mode == Mode::kRequirePass) {
    if (!cur.has_value()) {
      ctx.log().Warn("requirepass: no readable current value to restore");
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto conn, ConnectWithAny(c, ctx, {&pending.password, &cur->password}));
    RETURN_IF_ERROR(
        conn->Command({"CONFIG", "SET", "requirepass", cur->password.Reveal()}, nullptr, 3));
    ctx.log().Info(rekey::StrCat("rolled back: requirepass restored on ", TargetOf(c)));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(SetUserPassword(*conn, c, '<', pending.password));
  ctx.log().Info(
      rekey::StrCat("rolled back: removed the new password of ACL user \"", c.username, "\""));
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterRedisRotator(rotation::RotatorRegistry& registry) {
  return RegisterDbRotator(registry, "redis", Check, Create, Set, Test, Revoke, Rollback);
}

}  // namespace rekey::rotators::redis
