#include "rotators/mysql/mysql_rotator.h"

#include <mysql.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators::mysql {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

constexpr size_t kMaxUserName = 80;  // MariaDB 10.6+; MySQL 8: 32
constexpr size_t kMaxMessageChars = 300;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

std::string Redact(std::string text, const std::vector<std::string_view>& redact) {
  text = RedactValues(std::move(text), redact);
  // A syntax error quotes the statement near the error: keep only the fact.
  if (size_t near = text.find("near '"); near != std::string::npos) {
    text = rekey::StrCat(text.substr(0, near), "near [redacted]");
  }
  return OneLine(text, kMaxMessageChars);
}

enum class RevokeMode { kLock, kRandomPassword };

struct Config {
  std::string host;
  int port = 3306;
  std::string tls = "prefer";  // disable | prefer | require | verify
  std::string ssl_ca;
  std::string username;
  std::string user_host = "%";
  std::string admin_secret;
  bool alternating = false;
  std::array<std::string, 2> users;
  std::string group_role;  // "" = none
  RevokeMode revoke_mode = RevokeMode::kLock;
  std::string verify_query = "SELECT 1";
  absl::Duration timeout = absl::Seconds(10);
};

struct Credential {
  std::string username;
  SecretBytes password;
};

bool ValidName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxUserName && name.find('\0') == std::string::npos;
}

Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  static const std::vector<std::string_view> kKnown = {
      "host",        "port",         "tls",      "ssl_ca",    "username",
      "user_host",   "admin_secret", "strategy", "usernames", "group_role",
      "revoke_mode", "verify_query", "timeout"};
  RejectUnknownParams(params, kKnown, problems);
  Config c;
  HostPortParams(params, problems, c.host, c.port);
  if (auto tls = StringParam(params, "tls", problems)) {
    if (*tls != "disable" && *tls != "prefer" && *tls != "require" && *tls != "verify") {
      AddProblem(problems, "tls", "must be disable, prefer, require or verify");
    } else {
      c.tls = *tls;
    }
  }
  if (auto ca = StringParam(params, "ssl_ca", problems)) c.ssl_ca = *ca;
  if (auto user = StringParam(params, "username", problems)) {
    if (!ValidName(*user)) {
      AddProblem(problems, "username", "must be an account name of 1 to 80 characters");
    } else {
      c.username = *user;
    }
  } else if (!params.contains("username")) {
    AddProblem(problems, "username", "is required");
  }
  if (auto h = StringParam(params, "user_host", problems)) {
    if (h->empty() || h->size() > 255) {
      AddProblem(problems, "user_host", "must be the account's host part, e.g. \"%\"");
    } else {
      c.user_host = *h;
    }
  }
  if (auto admin = StringParam(params, "admin_secret", problems)) {
    if (admin->empty() || admin->size() > 512) {
      AddProblem(problems, "admin_secret", "must be the path of a rekey secret");
    } else {
      c.admin_secret = *admin;
    }
  } else if (!params.contains("admin_secret")) {
    AddProblem(problems, "admin_secret",
               "is required: the path of a credential allowed to ALTER USER and CREATE USER");
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
               !v->get_array()[1].is_string() || !ValidName(S(v->get_array()[0].get_string())) ||
               !ValidName(S(v->get_array()[1].get_string())) ||
               v->get_array()[0] == v->get_array()[1]) {
      AddProblem(problems, "usernames", "must be two different account names");
    } else {
      c.users = {std::string(S(v->get_array()[0].get_string())),
                 std::string(S(v->get_array()[1].get_string()))};
    }
  }
  if (c.alternating && !c.username.empty()) c.group_role = rekey::StrCat(c.username, "_group");
  if (auto group = StringParam(params, "group_role", problems)) {
    if (!c.alternating) {
      AddProblem(problems, "group_role", "is only for strategy alternating-users");
    } else if (!group->empty() && !ValidName(*group)) {
      AddProblem(problems, "group_role", "must be a role name (\"\" = no shared role)");
    } else {
      c.group_role = *group;
    }
  }
  if (auto mode = StringParam(params, "revoke_mode", problems)) {
    if (*mode == "random_password") {
      c.revoke_mode = RevokeMode::kRandomPassword;
    } else if (*mode != "lock") {
      AddProblem(problems, "revoke_mode", "must be lock or random_password");
    }
  }
  if (auto q = StringParam(params, "verify_query", problems)) {
    if (q->empty() || q->size() > 4096) {
      AddProblem(problems, "verify_query", "must be a non-empty SQL query");
    } else {
      c.verify_query = *q;
    }
  }
  TimeoutParam(params, "timeout", problems, c.timeout);
  return c;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config c = ParseConfig(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return c;
}

std::string TargetOf(const Config& c) { return rekey::StrCat(c.host, ":", c.port); }

absl::StatusOr<Credential> CredentialOf(const SecretBytes& value, std::string_view what) {
  boost::system::error_code ec;
  json::value doc = json::parse(J(value.Reveal()), ec);
  if (ec || !doc.is_object()) {
    WipeJsonStrings(doc);
    return absl::FailedPreconditionError(rekey::StrCat(what, " is not a JSON object"));
  }
  Credential cred;
  const json::object& o = doc.get_object();
  if (const json::value* u = o.if_contains("username"); u != nullptr && u->is_string()) {
    cred.username = std::string(S(u->get_string()));
  }
  const json::value* p = o.if_contains("password");
  const bool ok = p != nullptr && p->is_string() && !cred.username.empty();
  if (ok) cred.password = SecretBytes(S(p->get_string()));
  WipeJsonStrings(doc);
  if (!ok) {
    return absl::FailedPreconditionError(
        rekey::StrCat(what, " lacks a \"username\" or \"password\" string"));
  }
  return cred;
}

absl::StatusOr<Credential> VersionCredential(const std::optional<rotation::VersionView>& v,
                                             std::string_view what) {
  if (!v.has_value() || !v->value.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat("the ", what, " value is not readable"));
  }
  return CredentialOf(*v->value, rekey::StrCat("the ", what, " value"));
}

struct MysqlDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};

absl::Status StatusOfError(unsigned int code, std::string message) {
  switch (code) {
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 4151:  // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
    case 3118:  // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
      return absl::UnauthenticatedError(message);
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1396:  // ER_CANNOT_USER (often: no privilege on mysql.user)
      return code == 1396 ? absl::FailedPreconditionError(message)
                          : absl::PermissionDeniedError(message);
    case 1969:  // ER_STATEMENT_TIMEOUT (MariaDB)
    case 3024:  // ER_QUERY_TIMEOUT (MySQL)
      return absl::DeadlineExceededError(message);
    case 1819:  // ER_NOT_VALID_PASSWORD
    case 1827:  // ER_PASSWORD_FORMAT
      return absl::InvalidArgumentError(message);
    default:
      if (code >= 2000 && code < 3000) {  // client errors: unreachable, lost connection
        return absl::StrContains(message, "timeout") || absl::StrContains(message, "timed out")
                   ? absl::DeadlineExceededError(message)
                   : absl::UnavailableError(message);
      }
      return absl::FailedPreconditionError(message);
  }
}

// One blocking connection. Not thread-safe.
class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const Config& c, StepContext& ctx,
                                                          const std::string& user,
                                                          const SecretBytes& password) {
    const absl::Duration left = std::min(c.timeout, ctx.deadline() - ctx.clock().Now());
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("the step's deadline passed before reaching the server");
    }
    const unsigned int seconds = static_cast<unsigned int>(
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(left, absl::Seconds(1)))));
    std::unique_ptr<MYSQL, MysqlDeleter> m(mysql_init(nullptr));
    if (m == nullptr) return absl::ResourceExhaustedError("libmariadb could not allocate");
    mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
    mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &seconds);
    mysql_options(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &seconds);
    if (c.tls != "disable") {
      my_bool enforce = c.tls != "prefer";
      my_bool verify = c.tls == "verify";
      if (!c.ssl_ca.empty()) mysql_options(m.get(), MYSQL_OPT_SSL_CA, c.ssl_ca.c_str());
      mysql_options(m.get(), MYSQL_OPT_SSL_ENFORCE, &enforce);
      mysql_options(m.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    std::string pw(password.Reveal());
    MYSQL* ok = mysql_real_connect(m.get(), c.host.c_str(), user.c_str(), pw.c_str(), nullptr,
                                   static_cast<unsigned int>(c.port), nullptr, 0);
    SecureWipe(pw);
    const std::string target = rekey::StrCat("account \"", user, "\" at ", TargetOf(c));
    if (ok == nullptr) {
      return StatusOfError(mysql_errno(m.get()),
                           rekey::StrCat("cannot connect as ", target, ": ",
                                         Redact(mysql_error(m.get()), {password.Reveal()})));
    }
    auto conn = std::unique_ptr<Connection>(new Connection(std::move(m), target));
    // MariaDB: a statement time limit on the server as well as the client read timeout.
    conn->mariadb_ = absl::StrContains(mysql_get_server_info(conn->m_.get()), "MariaDB");
    if (conn->mariadb_) {
      RETURN_IF_ERROR(conn->Exec(rekey::StrCat("SET SESSION max_statement_time = ", seconds)));
    }
    return conn;
  }

  // Runs one statement, discarding any result. `redact` lists values that must not appear in
  // the error message (the statement itself is always redacted).
  absl::Status Exec(std::string_view sql, const std::vector<std::string_view>& redact = {}) {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      std::vector<std::string_view> all = redact;
      all.push_back(sql);
      return StatusOfError(mysql_errno(m_.get()),
                           rekey::StrCat(Redact(mysql_error(m_.get()), all), " (error ",
                                         mysql_errno(m_.get()), ", ", target_, ")"));
    }
    do {
      MYSQL_RES* res = mysql_store_result(m_.get());
      if (res != nullptr) mysql_free_result(res);
    } while (mysql_next_result(m_.get()) == 0);
    return absl::OkStatus();
  }

  // Runs a query and returns the first column of the first row ("" when none or NULL).
  absl::StatusOr<std::string> QueryOne(std::string_view sql) {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      return StatusOfError(mysql_errno(m_.get()),
                           rekey::StrCat(Redact(mysql_error(m_.get()), {sql}), " (", target_, ")"));
    }
    MYSQL_RES* res = mysql_store_result(m_.get());
    std::string out;
    if (res != nullptr) {
      MYSQL_ROW row = mysql_fetch_row(res);
      if (row != nullptr && mysql_num_fields(res) > 0 && row[0] != nullptr) out = row[0];
      mysql_free_result(res);
    }
    return out;
  }

  // 'text', escaped for the connection's character set and sql_mode.
  std::string Quote(std::string_view text) {
    std::string buf(text.size() * 2 + 1, '\0');
    const unsigned long n =
        mysql_real_escape_string(m_.get(), buf.data(), text.data(), text.size());
    std::string out = rekey::StrCat("'", std::string_view(buf.data(), n), "'");
    SecureWipe(buf);
    return out;
  }
  // `identifier`.
  static std::string QuoteIdentifier(std::string_view name) {
    std::string out = "`";
    for (char ch : name) {
      if (ch == '`') out.push_back('`');
      out.push_back(ch);
    }
    out.push_back('`');
    return out;
  }

  bool mariadb() const { return mariadb_; }
  // True for MySQL 8.0.14+ (dual passwords: RETAIN CURRENT PASSWORD).
  bool dual_passwords() const { return !mariadb_ && mysql_get_server_version(m_.get()) >= 80014; }

 private:
  Connection(std::unique_ptr<MYSQL, MysqlDeleter> m, std::string target)
      : m_(std::move(m)), target_(std::move(target)) {}
  std::unique_ptr<MYSQL, MysqlDeleter> m_;
  std::string target_;
  bool mariadb_ = false;
};

absl::StatusOr<std::unique_ptr<Connection>> ConnectAdmin(const Config& c, StepContext& ctx) {
  absl::StatusOr<SecretBytes> raw = ctx.ReadSecret(c.admin_secret);
  if (!raw.ok()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "cannot read the admin credential \"", c.admin_secret, "\": ", raw.status().message()));
  }
  ASSIGN_OR_RETURN(Credential admin, CredentialOf(*raw, rekey::StrCat("the admin credential \"",
                                                                      c.admin_secret, "\"")));
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(c, ctx, admin.username, admin.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::PermissionDeniedError(rekey::StrCat("the admin credential \"", c.admin_secret,
                                                     "\" was refused: ", conn.status().message()));
  }
  return conn;
}

std::string Account(Connection& conn, const Config& c, std::string_view user) {
  return rekey::StrCat(conn.Quote(user), "@", conn.Quote(c.user_host));
}

std::string RandomPassword(Random& random) {
  std::string bytes(24, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
  std::string out = absl::BytesToHexString(ToAbsl(bytes));
  SecureWipe(bytes);
  return out;
}

// ALTER USER <account> IDENTIFIED BY <password> [suffix].
absl::Status SetPassword(Connection& conn, const Config& c, std::string_view user,
                         std::string_view password, std::string_view suffix) {
  std::string literal = conn.Quote(password);
  std::string sql =
      rekey::StrCat("ALTER USER ", Account(conn, c, user), " IDENTIFIED BY ", literal, suffix);
  absl::Status s = conn.Exec(sql, {password, literal});
  SecureWipe(sql);
  SecureWipe(literal);
  return s;
}

// Locks `user` (revoke_mode lock) or gives it a random password nobody knows.
absl::Status Retire(Connection& conn, const Config& c, const std::string& user, Random& random) {
  if (c.revoke_mode == RevokeMode::kLock) {
    return conn.Exec(rekey::StrCat("ALTER USER ", Account(conn, c, user), " ACCOUNT LOCK"));
  }
  std::string pw = RandomPassword(random);
  absl::Status s = SetPassword(conn, c, user, pw, "");
  SecureWipe(pw);
  return s;
}

// alternating-users: both accounts exist (a missing one is created locked, with a random
// password) and share the role, active at login.
absl::Status EnsureAccounts(Connection& conn, const Config& c, Random& random) {
  const std::string role = Connection::QuoteIdentifier(c.group_role);
  if (!c.group_role.empty()) {
    RETURN_IF_ERROR(conn.Exec(rekey::StrCat("CREATE ROLE IF NOT EXISTS ", role)));
  }
  for (const std::string& user : c.users) {
    const std::string account = Account(conn, c, user);
    std::string pw = RandomPassword(random);
    std::string literal = conn.Quote(pw);
    std::string sql = rekey::StrCat("CREATE USER IF NOT EXISTS ", account, " IDENTIFIED BY ",
                                    literal, " ACCOUNT LOCK");
    absl::Status s = conn.Exec(sql, {pw, literal});
    SecureWipe(sql);
    SecureWipe(literal);
    SecureWipe(pw);
    RETURN_IF_ERROR(s);
    if (!c.group_role.empty()) {
      RETURN_IF_ERROR(conn.Exec(rekey::StrCat("GRANT ", role, " TO ", account)));
      RETURN_IF_ERROR(conn.Exec(
          rekey::StrCat("SET DEFAULT ROLE ", role, conn.mariadb() ? " FOR " : " TO ", account)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Problem> MysqlRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

std::vector<rotation::Reference> MysqlRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "admin_secret", "secret/data/", "", {"read"}, &refs);
  return refs;
}

std::string MysqlRotator::TargetKey(const json::object& params) const {
  std::vector<Problem> problems;
  Config c = ParseConfig(params, &problems);
  return c.host.empty() ? "" : rekey::StrCat("mysql://", c.host, ":", c.port);
}

absl::Status MysqlRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  RETURN_IF_ERROR(ctx.Generate().status());
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  // A non-admin account sees only its own rows of USER_PRIVILEGES.
  ASSIGN_OR_RETURN(std::string can,
                   conn->QueryOne("SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES "
                                  "WHERE PRIVILEGE_TYPE = 'CREATE USER'"));
  if (can == "0") {
    return absl::PermissionDeniedError(rekey::StrCat("the admin account of \"", c.admin_secret,
                                                     "\" lacks CREATE USER on ", TargetOf(c)));
  }
  if (!c.alternating && !conn->dual_passwords()) {
    ctx.log().Warn(
        rekey::StrCat(TargetOf(c),
                      " has no dual passwords (MariaDB, or MySQL before 8.0.14): single-user "
                      "rotation breaks new connections with the old password until clients "
                      "re-read it; use alternating-users"));
  }
  ctx.log().Info(rekey::StrCat("reached ", TargetOf(c), " with CREATE USER"));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> MysqlRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  json::value doc = json::object();
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    boost::system::error_code ec;
    doc = json::parse(J(ctx.current()->value->Reveal()), ec);
    if (ec || !doc.is_object()) {
      WipeJsonStrings(doc);
      return absl::FailedPreconditionError("the current value is not a JSON object");
    }
  }
  json::object& o = doc.get_object();
  std::string user = c.username;
  if (c.alternating) {
    std::string active;
    if (const json::value* u = o.if_contains("username"); u != nullptr && u->is_string()) {
      active = std::string(S(u->get_string()));
    }
    user = !ctx.current().has_value() ? c.users[0] : active == c.users[1] ? c.users[0] : c.users[1];
  }
  absl::StatusOr<SecretBytes> password = ctx.Generate();
  if (!password.ok()) {
    WipeJsonStrings(doc);
    return password.status();
  }
  if (json::value* old = o.if_contains("password")) WipeJsonStrings(*old);
  o["username"] = J(user);
  o["password"] = J(password->Reveal());
  o["host"] = J(c.host);
  o["port"] = c.port;
  std::string text = json::serialize(o);
  WipeJsonStrings(doc);
  return SecretBytes::TakeFrom(text);
}

absl::Status MysqlRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  if (c.alternating) {
    RETURN_IF_ERROR(EnsureAccounts(*conn, c, ctx.random()));
    RETURN_IF_ERROR(
        SetPassword(*conn, c, pending.username, pending.password.Reveal(), " ACCOUNT UNLOCK"));
  } else if (conn->dual_passwords()) {
    // MySQL 8.0.14+: the current password keeps working until revoke discards it. Repeating
    // this after a crash would retain the new password as the "old" one, so skip it when the
    // new password already works.
    if (!Connection::Open(c, ctx, pending.username, pending.password).ok()) {
      RETURN_IF_ERROR(SetPassword(*conn, c, pending.username, pending.password.Reveal(),
                                  " RETAIN CURRENT PASSWORD"));
    }
  } else {
    RETURN_IF_ERROR(SetPassword(*conn, c, pending.username, pending.password.Reveal(), ""));
  }
  ctx.log().Info(
      rekey::StrCat("set the password of account \"", pending.username, "\" on ", TargetOf(c)));
  return absl::OkStatus();
}

absl::Status MysqlRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(c, ctx, pending.username, pending.password);
  if (conn.status().code() == absl::StatusCode::kUnauthenticated) {
    return absl::FailedPreconditionError(
        rekey::StrCat("the new password of account \"", pending.username,
                      "\" was refused: ", conn.status().message()));
  }
  RETURN_IF_ERROR(conn.status());
  RETURN_IF_ERROR((*conn)->Exec(c.verify_query));
  ctx.log().Info(rekey::StrCat("account \"", pending.username, "\" logged in to ", TargetOf(c),
                               " and ran the verify query"));
  return absl::OkStatus();
}

absl::Status MysqlRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Credential live, VersionCredential(ctx.current(), "current"));
  if (!c.alternating) {
    ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
    if (conn->dual_passwords()) {
      RETURN_IF_ERROR(conn->Exec(
          rekey::StrCat("ALTER USER ", Account(*conn, c, live.username), " DISCARD OLD PASSWORD")));
      ctx.log().Info(rekey::StrCat("discarded the old password of \"", live.username, "\""));
    } else {
      ctx.log().Info(
          "single-user without dual passwords: the old password stopped working at "
          "set; nothing to revoke");
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Credential previous, VersionCredential(ctx.previous(), "previous"));
  if (previous.username == live.username) {
    ctx.log().Warn(rekey::StrCat("account \"", previous.username,
                                 "\" is also the current one; not revoking it"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  RETURN_IF_ERROR(Retire(*conn, c, previous.username, ctx.random()));
  ctx.log().Info(
      rekey::StrCat("revoked account \"", previous.username, "\" on ", TargetOf(c),
                    c.revoke_mode == RevokeMode::kLock ? " (ACCOUNT LOCK)" : " (random password)"));
  return absl::OkStatus();
}

absl::Status MysqlRotator::Rollback(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  if (!ctx.pending().has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::optional<Credential> cur;
  if (auto cr = VersionCredential(ctx.current(), "current"); cr.ok()) cur = std::move(*cr);
  ASSIGN_OR_RETURN(auto conn, ConnectAdmin(c, ctx));
  if (c.alternating) {
    if (cur.has_value() && cur->username == pending.username) return absl::OkStatus();
    RETURN_IF_ERROR(Retire(*conn, c, pending.username, ctx.random()));
    ctx.log().Info(rekey::StrCat("rolled back: account \"", pending.username, "\" retired again"));
    return absl::OkStatus();
  }
  if (!cur.has_value()) {
    ctx.log().Warn("single-user: no readable current value to restore");
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(SetPassword(*conn, c, c.username, cur->password.Reveal(), ""));
  if (conn->dual_passwords()) {
    RETURN_IF_ERROR(conn->Exec(
        rekey::StrCat("ALTER USER ", Account(*conn, c, c.username), " DISCARD OLD PASSWORD")));
  }
  ctx.log().Info(
      rekey::StrCat("rolled back: account \"", c.username, "\" has its current password again"));
  return absl::OkStatus();
}

absl::Status RegisterMysqlRotator(rotation::RotatorRegistry& registry) {
  return registry.Register("mysql", std::make_unique<MysqlRotator>());
}

}  // namespace rekey::rotators::mysql
