#include "rotators/postgres/postgres_rotator.h"

#include <algorithm>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/db_rotator.h"
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
constexpr AccountNames kRoleNames = {.max_length = kMaxRoleName,
                                     .bad_name = "must be a role name of 1 to 63 bytes",
                                     .bad_pair = "must be two different role names",
                                     .bad_group = "must be a role name of 1 to 63 bytes",
                                     .group_may_be_empty = false};

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

// admin_secret "" = self-rotation (single-user only); timeout = params.statement_timeout.
struct Config : DbParams {
  Config() : DbParams(5432, absl::Seconds(10)) {}
  // `params` as a Config, with every problem recorded in `problems`.
  static Config Parse(const json::object& params, std::vector<Problem>* problems);

  std::string database = "postgres";
  std::string sslmode = "prefer";
  std::string sslrootcert;
  std::vector<std::string> set_statements;
  std::vector<std::string> revoke_statements;
  RevokeMode revoke_mode = RevokeMode::kDisable;  // kDisable: NOLOGIN
  std::string verify_query = "SELECT 1";
};

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

Config Config::Parse(const json::object& params, std::vector<Problem>* problems) {
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
  UsernameParam(params, kRoleNames, problems, c);
  AdminSecretParam(params, "", problems, c);
  StrategyParams(params, kRoleNames, problems, c);
  if (c.alternating && c.admin_secret.empty() && !params.contains("admin_secret")) {
    AddProblem(problems, "admin_secret",
               "is required for alternating-users (a role with CREATEROLE changes both roles)");
  }
  c.set_statements = StatementsParam(params, "set_statements", problems);
  c.revoke_statements = StatementsParam(params, "revoke_statements", problems);
  RevokeModeParam(params, "nologin", problems, c.revoke_mode);
  VerifyQueryParam(params, problems, c.verify_query);
  TimeoutParam(params, "statement_timeout", problems, c.timeout);
  return c;
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
  ASSIGN_OR_RETURN(o.timeout, TimeLeft(ctx, c.timeout, "the server"));
  return PgConnection::Connect(o);
}

// Connects with the admin credential of params.admin_secret.
absl::StatusOr<std::unique_ptr<PgConnection>> ConnectAdmin(const Config& c, StepContext& ctx) {
  ASSIGN_OR_RETURN(Credential admin, AdminCredential(ctx, c.admin_secret));
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      ConnectAs(c, ctx, admin.username, admin.password);
  RETURN_IF_ERROR(AdminConnectStatus(c.admin_secret, conn.status()));
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
  if (c.revoke_mode == RevokeMode::kDisable) return {"ALTER ROLE {{name}} WITH NOLOGIN"};
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

absl::Status Check(const Config& c, StepContext& ctx) {
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

absl::StatusOr<SecretBytes> Create(const Config& c, StepContext& ctx) {
  std::string user;
  ASSIGN_OR_RETURN(SecretBytes value,
                   NewCredentialValue(ctx, c, {{"database", c.database}}, &user));
  ctx.state()["user"] = user;
  return value;
}

absl::Status Set(const Config& c, StepContext& ctx) {
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::unique_ptr<PgConnection> conn;
  if (c.admin_secret.empty()) {
    std::optional<Credential> cur = ReadableCredential(ctx.current());
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

absl::Status Test(const Config& c, StepContext& ctx) {
  return LogInAndVerify(ctx, c, "role", c.verify_query,
                        [&](const std::string& user, const SecretBytes& password) {
                          return ConnectAs(c, ctx, user, password);
                        });
}

absl::Status Revoke(const Config& c, StepContext& ctx) {
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
          ? (c.revoke_mode == RevokeMode::kDisable ? " (NOLOGIN)" : " (random password)")
          : " (revoke_statements)"));
  return absl::OkStatus();
}

absl::Status Rollback(const Config& c, StepContext& ctx) {
  if (!ctx.pending().has_value()) return absl::OkStatus();  // create failed: nothing was set
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::optional<Credential> cur = ReadableCredential(ctx.current());
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

}  // namespace

absl::Status RegisterPostgresRotator(rotation::RotatorRegistry& registry) {
  return RegisterDbRotator(registry, "postgres", Check, Create, Set, Test, Revoke, Rollback);
}

}  // namespace rekey::rotators::postgres
