#include "rotators/postgres/pg_client.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "core/secret_bytes.h"
#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators::postgres {
namespace {

constexpr size_t kMaxMessageChars = 300;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string Flatten(std::string_view text) { return rotators::OneLine(text, kMaxMessageChars); }

}  // namespace

std::string Redact(std::string text, const std::vector<std::string_view>& redact) {
  text = rotators::RedactValues(std::move(text), redact);
  return Flatten(text);
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const ConnectOptions& options) {
  const int64_t timeout_ms = std::max<int64_t>(absl::ToInt64Milliseconds(options.timeout), 1000);
  const std::string port = std::to_string(options.port);
  const std::string connect_timeout =
      std::to_string(std::max<int64_t>(2, static_cast<int64_t>(std::ceil(timeout_ms / 1000.0))));
  const std::string pg_options =
      rekey::StrCat("-c statement_timeout=", timeout_ms, " -c lock_timeout=", timeout_ms);
  std::string password(options.password);
  std::vector<const char*> keys = {"host",    "port",    "dbname",          "user",
                                   "sslmode", "options", "connect_timeout", "application_name",
                                   "password"};
  std::vector<const char*> values = {
      options.host.c_str(),    port.c_str(),       options.database.c_str(), options.user.c_str(),
      options.sslmode.c_str(), pg_options.c_str(), connect_timeout.c_str(),  "rekey-rotator",
      password.c_str()};
  if (!options.sslrootcert.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(options.sslrootcert.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  rekey::SecureWipe(password);
  std::string target = rekey::StrCat("user \"", options.user, "\" at ", options.host, ":",
                                     options.port, "/", options.database);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate");
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string raw = PQerrorMessage(conn);
    PQfinish(conn);
    const std::string msg = Redact(raw, {options.password});
    const std::string text = rekey::StrCat("cannot connect as ", target, ": ", msg);
    if (absl::StrContains(raw, "authentication failed") ||
        absl::StrContains(raw, "not permitted to log in") ||
        absl::StrContains(raw, "no pg_hba.conf entry") ||
        absl::StrContains(raw, "does not exist") || absl::StrContains(raw, "password is empty") ||
        absl::StrContains(raw, "no password supplied")) {
      return absl::UnauthenticatedError(text);
    }
    if (absl::StrContains(raw, "timeout")) return absl::DeadlineExceededError(text);
    return absl::UnavailableError(text);
  }
  // Server notices ("role ... does not exist, skipping") would go to stderr: drop them.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, std::move(target)));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::Status PgConnection::ResultStatus(PGresult* result,
                                        const std::vector<std::string_view>& redact) {
  if (result == nullptr) {
    return absl::UnavailableError(rekey::StrCat("lost the connection (", target_,
                                                "): ", Redact(PQerrorMessage(conn_), redact)));
  }
  const ExecStatusType st = PQresultStatus(result);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return absl::OkStatus();
  }
  const char* state_c = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary_c = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const std::string state = state_c != nullptr ? state_c : "";
  std::string primary = primary_c != nullptr ? primary_c : PQresultErrorMessage(result);
  // A syntax error quotes the statement text near the error: keep only the fact.
  if (state == "42601") primary = "syntax error in a configured statement";
  const std::string text =
      rekey::StrCat(Redact(primary, redact), " (SQLSTATE ", state, ", ", target_, ")");
  const std::string cls = state.substr(0, 2);
  if (state == "42501" || cls == "28") return absl::PermissionDeniedError(text);
  if (state == "57014") return absl::DeadlineExceededError(text);
  if (cls == "08" || cls == "57") return absl::UnavailableError(text);
  if (cls == "22" || cls == "23") return absl::InvalidArgumentError(text);
  return absl::FailedPreconditionError(text);
}

absl::Status PgConnection::Exec(std::string_view sql, const std::vector<std::string_view>& redact) {
  const std::string text(sql);
  ResultPtr result(PQexec(conn_, text.c_str()));
  std::vector<std::string_view> all = redact;
  all.push_back(sql);
  return ResultStatus(result.get(), all);
}

absl::StatusOr<std::vector<std::string>> PgConnection::QueryColumn(std::string_view sql) {
  const std::string text(sql);
  ResultPtr result(PQexec(conn_, text.c_str()));
  absl::Status status = ResultStatus(result.get(), {});
  if (!status.ok()) return status;
  std::vector<std::string> out;
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQnfields(result.get()) < 1) return out;
  for (int i = 0; i < PQntuples(result.get()); ++i) {
    out.emplace_back(PQgetisnull(result.get(), i, 0) ? "" : PQgetvalue(result.get(), i, 0));
  }
  return out;
}

absl::StatusOr<std::string> PgConnection::QuoteIdentifier(std::string_view name) {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  if (q == nullptr) {
    return absl::InvalidArgumentError(
        rekey::StrCat("cannot quote identifier: ", Flatten(PQerrorMessage(conn_))));
  }
  std::string out(q);
  PQfreemem(q);
  return out;
}

absl::StatusOr<std::string> PgConnection::QuoteLiteral(std::string_view value) {
  char* q = PQescapeLiteral(conn_, value.data(), value.size());
  if (q == nullptr) {
    // The message may quote the value: do not pass it on.
    return absl::InvalidArgumentError("cannot quote a value as an SQL literal (invalid encoding)");
  }
  std::string out(q);
  rekey::SecureWipe(q, out.size());
  PQfreemem(q);
  return out;
}

absl::StatusOr<std::string> PgConnection::ScramVerifier(std::string_view user,
                                                        std::string_view password) {
  const std::string u(user);
  std::string p(password);
  char* v = PQencryptPasswordConn(conn_, p.c_str(), u.c_str(), "scram-sha-256");
  rekey::SecureWipe(p);
  if (v == nullptr) {
    return absl::InternalError(
        rekey::StrCat("cannot compute a SCRAM verifier: ", Flatten(PQerrorMessage(conn_))));
  }
  std::string out(v);
  PQfreemem(v);
  return out;
}

}  // namespace rekey::rotators::postgres
