#include "rotators/postgres/postgres_rotator.h"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/params.h"
#include "rotators/postgres/pg_client.h"

namespace rekey::rotators::postgres {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

constexpr size_t kMaxRoleName = 63;  // NAMEDATALEN - 1
constexpr size_t kMaxStatements = 16;
constexpr size_t kMaxStatementChars = 4096;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

struct Credential {
  std::string username;
  SecretBytes password;
};

enum class RevokeMode { kNoLogin, kRandomPassword };

struct Config {
  std::string host;
  int port = 5432;
  std::string database = "postgres";
  std::string sslmode = "prefer";
  std::string sslrootcert;
  std::string username;
  std::string admin_secret;  // empty = self-rotation (single-user only)
  bool alternating = false;
  std::array<std::string, 2> users;
  std::string group_role;
  std::vector<std::string> set_statements;
  std::vector<std::string> revoke_statements;
  RevokeMode revoke_mode = RevokeMode::kNoLogin;
  std::string verify_query = "SELECT 1";
  absl::Duration timeout = absl::Seconds(10);
};

bool ValidRoleName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxRoleName && name.find('\0') == std::string_view::npos;
}

// The placeholders a statement may use.
bool ValidTemplate(std::string_view t, std::string* why) {
  size_t pos = 0;
  while ((pos = t.find("{{", pos)) != std::string_view::npos) {
    const size_t end = t.find("}}", pos);
    if (end == std::string_view::npos) {
      *why = "has an unclosed {{";
      return false;
    }
    const std::string_view name = t.substr(pos + 2, end - pos - 2);
    if (name != "name" && name != "password" && name != "group") {
      *why = rekey::StrCat("uses unknown placeholder {{", name,
                           "}} (known: {{name}}, {{password}}, {{group}})");
      return false;
    }
    pos = end + 2;
  }
  return true;
}

std::vector<std::string> StatementsParam(const json::object& params, std::string_view name,
                                         std::vector<Problem>* problems) {
  std::vector<std::string> out;
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) return out;
  if (!v->is_array() || v->get_array().empty() || v->get_array().size() > kMaxStatements) {
    AddProblem(problems, name,
               rekey::StrCat("must be a list of 1 to ", kMaxStatements, " SQL statements"));
    return out;
  }
  for (const json::value& s : v->get_array()) {
    std::string why;
    if (!s.is_string() || s.get_string().empty() || s.get_string().size() > kMaxStatementChars) {
      AddProblem(problems, name, "each statement must be a non-empty string");
    } else if (!ValidTemplate(S(s.get_string()), &why)) {
      AddProblem(problems, name, rekey::StrCat("a statement ", why));
    } else {
      out.emplace_back(S(s.get_string()));
    }
  }
  return out;
}

Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  static const std::vector<std::string_view> kKnown = {
      "host",        "port",         "database",         "sslmode",
      "sslrootcert", "username",     "usernames",        "admin_secret",
      "strategy",    "group_role",   "set_statements",   "revoke_statements",
      "revoke_mode", "verify_query", "statement_timeout"};
  RejectUnknownParams(params, kKnown, problems);
  Config c;
  HostPortParams(params, problems, c.host, c.port);
  if (auto db = StringParam(params, "database", problems)) {
    if (db->empty() || db->size() > kMaxRoleName) {
      AddProblem(problems, "database", "must be a database name");
    } else {
      c.database = *db;
    }
  }
  if (auto mode = StringParam(params, "sslmode", problems)) {
    static const std::vector<std::string_view> kModes = {"disable", "allow",     "prefer",
                                                         "require", "verify-ca", "verify-full"};
    if (std::find(kModes.begin(), kModes.end(), *mode) == kModes.end()) {
      AddProblem(problems, "sslmode",
                 "must be disable, allow, prefer, require, verify-ca or verify-full");
    } else {
      c.sslmode = *mode;
    }
  }
  if (auto cert = StringParam(params, "sslrootcert", problems)) c.sslrootcert = *cert;
  if (auto user = StringParam(params, "username", problems)) {
    if (!ValidRoleName(*user)) {
      AddProblem(problems, "username", "must be a role name of 1 to 63 bytes");
    } else {
      c.username = *user;
    }
  } else if (!params.contains("username")) {
    AddProblem(problems, "username", "is required");
  }
  if (auto admin = StringParam(params, "admin_secret", problems)) {
    if (admin->empty() || admin->size() > 512) {
      AddProblem(problems, "admin_secret", "must be the path of a rekey secret");
    } else {
      c.admin_secret = *admin;
    }
  }
  if (auto strategy = StringParam(params, "strategy", problems)) {
    if (*strategy == "alternating-users") {
      c.alternating = true;
    } else if (*strategy != "single-user") {
      AddProblem(problems, "strategy", "must be single-user or alternating-users");
    }
  }
  c.users = {c.username, c.username.empty() ? "" : rekey::StrCat(c.username, "_clone")};
  if (const json::value* v = params.if_contains("usernames")) {
    if (!c.alternating) {
      AddProblem(problems, "usernames", "is only for strategy alternating-users");
    } else if (!v->is_array() || v->get_array().size() != 2 || !v->get_array()[0].is_string() ||
               !v->get_array()[1].is_string() ||
               !ValidRoleName(S(v->get_array()[0].get_string())) ||
               !ValidRoleName(S(v->get_array()[1].get_string())) ||
               v->get_array()[0] == v->get_array()[1]) {
      AddProblem(problems, "usernames", "must be two different role names");
    } else {
      c.users = {std::string(S(v->get_array()[0].get_string())),
                 std::string(S(v->get_array()[1].get_string()))};
    }
  }
  c.group_role = c.username.empty() ? "" : rekey::StrCat(c.username, "_group");
  if (auto group = StringParam(params, "group_role", problems)) {
    if (!c.alternating) {
      AddProblem(problems, "group_role", "is only for strategy alternating-users");
    } else if (!ValidRoleName(*group)) {
      AddProblem(problems, "group_role", "must be a role name of 1 to 63 bytes");
    } else {
      c.group_role = *group;
    }
  }
  if (c.alternating && c.admin_secret.empty() && !params.contains("admin_secret")) {
    AddProblem(problems, "admin_secret",
               "is required for alternating-users (a role with CREATEROLE changes both roles)");
  }
  c.set_statements = StatementsParam(params, "set_statements", problems);
  c.revoke_statements = StatementsParam(params, "revoke_statements", problems);
  if (auto mode = StringParam(params, "revoke_mode", problems)) {
    if (*mode == "random_password") {
      c.revoke_mode = RevokeMode::kRandomPassword;
    } else if (*mode != "nologin") {
      AddProblem(problems, "revoke_mode", "must be nologin or random_password");
    }
  }
  if (auto q = StringParam(params, "verify_query", problems)) {
    if (q->empty() || q->size() > kMaxStatementChars) {
      AddProblem(problems, "verify_query", "must be a non-empty SQL query");
    } else {
      c.verify_query = *q;
    }
  }
  TimeoutParam(params, "statement_timeout", problems, c.timeout);
  return c;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config c = ParseConfig(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return c;
}

std::string TargetOf(const Config& c) { return rekey::StrCat(c.host, ":", c.port); }

// The credential in a version's or secret's JSON value; `what` names it in messages.
absl::StatusOr<Credential> CredentialOf(const SecretBytes& value, std::string_view what) {
  WipedObject doc;
  RETURN_IF_ERROR(doc.Parse(value.Reveal(), what));
  Credential cred;
  cred.username = doc.String("username");
  const json::value* p = doc.object().if_contains("password");
  if (cred.username.empty() || p == nullptr || !p->is_string()) {
    return absl::FailedPreconditionError(
        rekey::StrCat(what, " lacks a \"username\" or \"password\" string"));
  }
  cred.password = SecretBytes(S(p->get_string()));
  return cred;
}

absl::StatusOr<Credential> VersionCredential(const std::optional<rotation::VersionView>& v,
                                             std::string_view what) {
  if (!v.has_value() || !v->value.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat("the ", what, " value is not readable"));
  }
  return CredentialOf(*v->value, rekey::StrCat("the ", what, " value"));
}

absl::StatusOr<absl::Duration> TimeLeft(const Config& c, StepContext& ctx) {
  const absl::Duration left = ctx.deadline() - ctx.clock().Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("the step's deadline passed before reaching the server");
  }
  return std::min(c.timeout, left);
}

absl::StatusOr<std::unique_ptr<PgConnection>> ConnectAs(const Config& c, StepContext& ctx,
                                                        const std::string& user,
                                                        const SecretBytes& password) {
  ConnectOptions o;
  o.host = c.host;
  o.port = c.port;
  o.database = c.database;
  o.sslmode = c.sslmode;
  o.sslrootcert = c.sslrootcert;
  o.user = user;
  o.password = password.Reveal();
  ASSIGN_OR_RETURN(o.timeout, TimeLeft(c, ctx));
  return PgConnection::Connect(o);
}

// Connects with the admin credential of params.admin_secret.
absl::StatusOr<std::unique_ptr<PgConnection>> ConnectAdmin(const Config& c, StepContext& ctx) {
  absl::StatusOr<SecretBytes> raw = ctx.ReadSecret(c.admin_secret);
  if (!raw.ok()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "cannot read the admin credential \"", c.admin_secret, "\": ", raw.status().message()));
  }
  ASSIGN_OR_RETURN(Credential admin, CredentialOf(*raw, rekey::StrCat("the admin credential \"",
                                                                      c.admin_secret, "\"")));
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      ConnectAs(c, ctx, admin.username, admin.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::PermissionDeniedError(rekey::StrCat("the admin credential \"", c.admin_secret,
                                                     "\" was refused: ", conn.status().message()));
  }
  return conn;
}

// Replaces {{name}}, {{password}} and {{group}} by already-quoted text.
std::string Render(std::string_view t, std::string_view name, std::string_view password,
                   std::string_view group) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = t.find("{{", pos);
    if (open == std::string_view::npos) break;
    const size_t close = t.find("}}", open);
    if (close == std::string_view::npos) break;
    out.append(t.substr(pos, open - pos));
    const std::string_view key = t.substr(open + 2, close - open - 2);
    out.append(key == "name" ? name : key == "password" ? password : group);
    pos = close + 2;
  }
  out.append(t.substr(pos));
  return out;
}

// Runs `statements` for role `name` in one transaction. {{password}} is the quoted SCRAM
// verifier of `password` (a random one when unset).
absl::Status RunStatements(PgConnection& conn, const std::vector<std::string>& statements,
                           const std::string& name, const SecretBytes* password,
                           const std::string& group, Random& random) {
  ASSIGN_OR_RETURN(std::string qname, conn.QuoteIdentifier(name));
  std::string qgroup;
  if (!group.empty()) {
    ASSIGN_OR_RETURN(qgroup, conn.QuoteIdentifier(group));
  }
  std::string random_password;
  if (password == nullptr) {
    std::string bytes(32, '\0');
    random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
    random_password = absl::BytesToHexString(ToAbsl(bytes));
    SecureWipe(bytes);
  }
  const std::string_view plain = password != nullptr ? password->Reveal() : random_password;
  ASSIGN_OR_RETURN(std::string verifier, conn.ScramVerifier(name, plain));
  SecureWipe(random_password);
  ASSIGN_OR_RETURN(std::string qverifier, conn.QuoteLiteral(verifier));
  absl::Status status = conn.Exec("BEGIN");
  for (size_t i = 0; status.ok() && i < statements.size(); ++i) {
    std::string sql = Render(statements[i], qname, qverifier, qgroup);
    status = conn.Exec(sql, {verifier, qverifier});
    SecureWipe(sql);
  }
  if (status.ok()) {
    status = conn.Exec("COMMIT");
  } else {
    (void)conn.Exec("ROLLBACK");
  }
  SecureWipe(verifier);
  SecureWipe(qverifier);
  return status;
}

std::vector<std::string> SetStatements(const Config& c) {
  if (!c.set_statements.empty()) return c.set_statements;
  if (c.alternating) return {"ALTER ROLE {{name}} WITH LOGIN PASSWORD {{password}}"};
  return {"ALTER ROLE {{name}} WITH PASSWORD {{password}}"};
}

std::vector<std::string> RevokeStatements(const Config& c) {
  if (!c.revoke_statements.empty()) return c.revoke_statements;
  if (c.revoke_mode == RevokeMode::kNoLogin) return {"ALTER ROLE {{name}} WITH NOLOGIN"};
  return {"ALTER ROLE {{name}} WITH PASSWORD {{password}}"};
}

absl::StatusOr<bool> RoleExists(PgConnection& conn, const std::string& name) {
  ASSIGN_OR_RETURN(std::string lit, conn.QuoteLiteral(name));
  ASSIGN_OR_RETURN(std::vector<std::string> rows,
                   conn.QueryColumn(rekey::StrCat("SELECT 1 FROM pg_roles WHERE rolname = ", lit)));
  return !rows.empty();
}

// alternating-users: the group role exists (NOLOGIN), `user` exists and is a member of it.
absl::Status EnsureRoles(PgConnection& conn, const Config& c, const std::string& user,
                         rotation::StepLog& log) {
  ASSIGN_OR_RETURN(std::string qgroup, conn.QuoteIdentifier(c.group_role));
  ASSIGN_OR_RETURN(std::string quser, conn.QuoteIdentifier(user));
  ASSIGN_OR_RETURN(bool group_exists, RoleExists(conn, c.group_role));
  if (!group_exists) {
    RETURN_IF_ERROR(conn.Exec(rekey::StrCat("CREATE ROLE ", qgroup, " NOLOGIN")));
    log.Info(rekey::StrCat("created group role \"", c.group_role, "\""));
  }
  ASSIGN_OR_RETURN(bool user_exists, RoleExists(conn, user));
  if (!user_exists) {
    RETURN_IF_ERROR(conn.Exec(rekey::StrCat("CREATE ROLE ", quser, " NOLOGIN")));
    log.Info(rekey::StrCat("created role \"", user, "\""));
  }
  ASSIGN_OR_RETURN(std::string lgroup, conn.QuoteLiteral(c.group_role));
  ASSIGN_OR_RETURN(std::string luser, conn.QuoteLiteral(user));
  ASSIGN_OR_RETURN(
      std::vector<std::string> member,
      conn.QueryColumn(rekey::StrCat("SELECT pg_has_role(", luser, ", ", lgroup, ", 'MEMBER')")));
  if (member.empty() || member[0] != "t") {
    RETURN_IF_ERROR(conn.Exec(rekey::StrCat("GRANT ", qgroup, " TO ", quser)));
    log.Info(rekey::StrCat("granted \"", c.group_role, "\" to \"", user, "\""));
  }
  return absl::OkStatus();
}

// single-user without an admin credential: the role changes its own password, logging in with
// the first of `passwords` the server accepts.
absl::StatusOr<std::unique_ptr<PgConnection>> ConnectSelf(
    const Config& c, StepContext& ctx, const std::vector<const SecretBytes*>& passwords) {
  absl::Status last = absl::FailedPreconditionError("no credential to log in with");
  for (const SecretBytes* p : passwords) {
    if (p == nullptr) continue;
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = ConnectAs(c, ctx, c.username, *p);
    if (conn.ok() || conn.status().code() != absl::StatusCode::kUnauthenticated) return conn;
    last = conn.status();
  }
  return absl::PermissionDeniedError(
      rekey::StrCat("self-rotation: neither the current nor the new password of role \"",
                    c.username, "\" was accepted: ", last.message()));
}

}  // namespace

std::vector<Problem> PostgresRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

std::vector<rotation::Reference> PostgresRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "admin_secret", "secret/data/", "", {"read"}, &refs);
  return refs;
}

std::string PostgresRotator::TargetKey(const json::object& params) const {
  std::vector<Problem> problems;
  Config c = ParseConfig(params, &problems);
  if (c.host.empty()) return "";
  return rekey::StrCat("postgres://", c.host, ":", c.port);
}

absl::Status PostgresRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  RETURN_IF_ERROR(ctx.Generate().status());
  if (c.admin_secret.empty()) {
    ASSIGN_OR_RETURN(Credential cur, VersionCredential(ctx.current(), "current"));
    ASSIGN_OR_RETURN(auto conn, ConnectSelf(c, ctx, {&cur.password}));
    ctx.log().Info(rekey::StrCat("reached ", TargetOf(c), " as \"", c.username, "\""));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  ASSIGN_OR_RETURN(std::vector<std::string> can,
                   conn->QueryColumn("SELECT rolsuper OR rolcreaterole FROM pg_roles "
                                     "WHERE rolname = current_user"));
  if (can.empty() || can[0] != "t") {
    return absl::PermissionDeniedError(rekey::StrCat("the admin role of \"", c.admin_secret,
                                                     "\" lacks CREATEROLE on ", TargetOf(c)));
  }
  std::vector<std::string> missing;
  for (const std::string& role :
       c.alternating ? std::vector<std::string>{c.users[0], c.users[1], c.group_role}
                     : std::vector<std::string>{c.username}) {
    ASSIGN_OR_RETURN(bool exists, RoleExists(*conn, role));
    if (!exists) missing.push_back(role);
  }
  if (!c.alternating && !missing.empty()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("role \"", c.username, "\" does not exist on ", TargetOf(c)));
  }
  for (const std::string& role : missing) {
    ctx.log().Info(rekey::StrCat("role \"", role, "\" does not exist yet; set will create it"));
  }
  ctx.log().Info(rekey::StrCat("reached ", TargetOf(c), " with CREATEROLE"));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> PostgresRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  WipedObject doc;
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    RETURN_IF_ERROR(doc.Parse(ctx.current()->value->Reveal(), "the current value"));
  }
  std::string user = c.username;
  if (c.alternating) {
    const bool has_current = ctx.current().has_value();
    user = !has_current                           ? c.users[0]
           : doc.String("username") == c.users[1] ? c.users[0]
                                                  : c.users[1];
  }
  ASSIGN_OR_RETURN(SecretBytes password, ctx.Generate());
  json::object& o = doc.object();
  if (json::value* old = o.if_contains("password")) WipeJsonStrings(*old);
  o["username"] = J(user);
  o["password"] = J(password.Reveal());
  o["host"] = J(c.host);
  o["port"] = c.port;
  o["database"] = J(c.database);
  std::string text = json::serialize(o);
  ctx.state()["user"] = user;
  return SecretBytes::TakeFrom(text);
}

absl::Status PostgresRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::unique_ptr<PgConnection> conn;
  if (c.admin_secret.empty()) {
    std::optional<Credential> cur;
    if (auto cr = VersionCredential(ctx.current(), "current"); cr.ok()) cur = std::move(*cr);
    ASSIGN_OR_RETURN(conn,
                     ConnectSelf(c, ctx, {cur ? &cur->password : nullptr, &pending.password}));
  } else {
    ASSIGN_OR_RETURN(conn, ConnectAdmin(c, ctx));
  }
  if (c.alternating) {
    // Both roles share the group; a missing one is created NOLOGIN.
    for (const std::string& user : c.users) {
      RETURN_IF_ERROR(EnsureRoles(*conn, c, user, ctx.log()));
    }
  }
  RETURN_IF_ERROR(RunStatements(*conn, SetStatements(c), pending.username, &pending.password,
                                c.alternating ? c.group_role : "", ctx.random()));
  ctx.log().Info(
      rekey::StrCat("set the password of role \"", pending.username, "\" on ", TargetOf(c)));
  return absl::OkStatus();
}

absl::Status PostgresRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      ConnectAs(c, ctx, pending.username, pending.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::FailedPreconditionError(
        rekey::StrCat("the new password of role \"", pending.username,
                      "\" was refused: ", conn.status().message()));
  }
  RETURN_IF_ERROR(conn.status());
  RETURN_IF_ERROR((*conn)->Exec(c.verify_query));
  ctx.log().Info(rekey::StrCat("role \"", pending.username, "\" logged in to ", TargetOf(c),
                               " and ran the verify query"));
  return absl::OkStatus();
}

absl::Status PostgresRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  if (!c.alternating) {
    ctx.log().Info("single-user: the previous password stopped working at set; nothing to revoke");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Credential previous, VersionCredential(ctx.previous(), "previous"));
  for (const auto* v : {&ctx.current(), &ctx.pending()}) {
    if (!v->has_value() || !(*v)->value.has_value()) continue;
    absl::StatusOr<Credential> live = CredentialOf(*(*v)->value, "the current value");
    if (live.ok() && live->username == previous.username) {
      ctx.log().Warn(rekey::StrCat("role \"", previous.username,
                                   "\" is also the current role; not revoking it"));
      return absl::OkStatus();
    }
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(RunStatements(*conn, RevokeStatements(c), previous.username, nullptr,
                                c.group_role, ctx.random()));
  ctx.log().Info(rekey::StrCat(
      "revoked role \"", previous.username, "\" on ", TargetOf(c),
      c.revoke_statements.empty()
          ? (c.revoke_mode == RevokeMode::kNoLogin ? " (NOLOGIN)" : " (random password)")
          : " (revoke_statements)"));
  return absl::OkStatus();
}

absl::Status PostgresRotator::Rollback(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  if (!ctx.pending().has_value()) return absl::OkStatus();  // create failed: nothing was set
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::optional<Credential> cur;
  if (auto cr = VersionCredential(ctx.current(), "current"); cr.ok()) cur = std::move(*cr);
  if (c.alternating) {
    if (cur.has_value() && cur->username == pending.username) {
      ctx.log().Warn(rekey::StrCat("role \"", pending.username,
                                   "\" is the current role; leaving it as it is"));
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
    ASSIGN_OR_RETURN(bool exists, RoleExists(*conn, pending.username));
    if (!exists) return absl::OkStatus();
    RETURN_IF_ERROR(RunStatements(*conn, RevokeStatements(c), pending.username, nullptr,
                                  c.group_role, ctx.random()));
    ctx.log().Info(rekey::StrCat("rolled back: role \"", pending.username, "\" locked again"));
    return absl::OkStatus();
  }
  if (!cur.has_value()) {
    ctx.log().Warn(
        "single-user: no readable current value to restore; the role keeps the "
        "password set by this run");
    return absl::OkStatus();
  }
  std::unique_ptr<PgConnection> conn;
  if (c.admin_secret.empty()) {
    ASSIGN_OR_RETURN(conn, ConnectSelf(c, ctx, {&pending.password, &cur->password}));
  } else {
    ASSIGN_OR_RETURN(conn, ConnectAdmin(c, ctx));
  }
  RETURN_IF_ERROR(
      RunStatements(*conn, SetStatements(c), c.username, &cur->password, "", ctx.random()));
  ctx.log().Info(
      rekey::StrCat("rolled back: role \"", c.username, "\" has its current password again"));
  return absl::OkStatus();
}

absl::Status RegisterPostgresRotator(rotation::RotatorRegistry& registry) {
  return registry.Register("postgres", std::make_unique<PostgresRotator>());
}

}  // namespace rekey::rotators::postgres
