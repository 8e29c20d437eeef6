#include "rotators/mysql/mysql_rotator.h"

#include <mysql.h>

#include <algorithm>
#include <boost/json/object.hpp>
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
#include "rotators/common/db_rotator.h"
#include "rotators/common/params.h"

namespace rekey::rotators::mysql {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

constexpr size_t kMaxMessageChars = 300;
constexpr AccountNames kAccountNames = {.max_length = 80,  // MariaDB 10.6+; MySQL 8: 32
                                        .bad_name = "must be an account name of 1 to 80 characters",
                                        .bad_pair = "must be two different account names",
                                        .bad_group = "must be a role name (\"\" = no shared role)",
                                        .group_may_be_empty = true};

std::string Redact(std::string text, const std::vector<std::string_view>& redact) {
  text = RedactValues(std::move(text), redact);
  // A syntax error quotes the statement near the error: keep only the fact.
  if (size_t near = text.find("near '"); near != std::string::npos) {
    text = rekey::StrCat(text.substr(0, near), "near [redacted]");
  }
  return OneLine(text, kMaxMessageChars);
}

struct Config : DbParams {
  Config() : DbParams(3306, absl::Seconds(10)) {}
  // `params` as a Config, with every problem recorded in `problems`.
  static Config Parse(const json::object& params, std::vector<Problem>* problems);

  std::string tls = "prefer";  // disable | prefer | require | verify
  std::string ssl_ca;
  std::string user_host = "%";
  RevokeMode revoke_mode = RevokeMode::kDisable;  // kDisable: ACCOUNT LOCK
  std::string verify_query = "SELECT 1";
};

Config Config::Parse(const json::object& params, std::vector<Problem>* problems) {
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
  UsernameParam(params, kAccountNames, problems, c);
  if (auto h = StringParam(params, "user_host", problems)) {
    if (h->empty() || h->size() > 255) {
      AddProblem(problems, "user_host", "must be the account's host part, e.g. \"%\"");
    } else {
      c.user_host = *h;
    }
  }
  AdminSecretParam(params,
                   "is required: the path of a credential allowed to ALTER USER and CREATE USER",
                   problems, c);
  StrategyParams(params, kAccountNames, problems, c);
  RevokeModeParam(params, "lock", problems, c.revoke_mode);
  VerifyQueryParam(params, problems, c.verify_query);
  TimeoutParam(params, "timeout", problems, c.timeout);
  return c;
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
    ASSIGN_OR_RETURN(const absl::Duration left, TimeLeft(ctx, c.timeout, "the server"));
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
  ASSIGN_OR_RETURN(Credential admin, AdminCredential(ctx, c.admin_secret));
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(c, ctx, admin.username, admin.password);
  RETURN_IF_ERROR(AdminConnectStatus(c.admin_secret, conn.status()));
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
  if (c.revoke_mode == RevokeMode::kDisable) {
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

absl::Status Check(const Config& c, StepContext& ctx) {
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

absl::StatusOr<SecretBytes> Create(const Config& c, StepContext& ctx) {
  return NewCredentialValue(ctx, c);
}

absl::Status Set(const Config& c, StepContext& ctx) {
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

absl::Status Test(const Config& c, StepContext& ctx) {
  return LogInAndVerify(ctx, c, "account", c.verify_query,
                        [&](const std::string& user, const SecretBytes& password) {
                          return Connection::Open(c, ctx, user, password);
                        });
}

absl::Status Revoke(const Config& c, StepContext& ctx) {
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
  ctx.log().Info(rekey::StrCat(
      "revoked account \"", previous.username, "\" on ", TargetOf(c),
      c.revoke_mode == RevokeMode::kDisable ? " (ACCOUNT LOCK)" : " (random password)"));
  return absl::OkStatus();
}

absl::Status Rollback(const Config& c, StepContext& ctx) {
  if (!ctx.pending().has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Credential pending, VersionCredential(ctx.pending(), "pending"));
  std::optional<Credential> cur = ReadableCredential(ctx.current());
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

}  // namespace

absl::Status RegisterMysqlRotator(rotation::RotatorRegistry& registry) {
  return RegisterDbRotator(registry, "mysql", Check, Create, Set, Test, Revoke, Rollback);
}

}  // namespace rekey::rotators::mysql
