// A thin adapter over libpq for the postgres rotator: connections and statements as
// absl::Status, SQLSTATEs mapped to the rotator.h error contract, and messages that never carry a
// password (the caller names the strings to redact).
#ifndef REKEY_ROTATORS_POSTGRES_PG_CLIENT_H_
#define REKEY_ROTATORS_POSTGRES_PG_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace rekey::rotators::postgres {

struct ConnectOptions {
  std::string host;
  int port = 5432;
  std::string database = "postgres";
  std::string sslmode = "prefer";
  std::string sslrootcert;  // empty = libpq's default
  std::string user;
  std::string_view password;                   // not owned; only for the duration of Connect()
  absl::Duration timeout = absl::Seconds(10);  // connect timeout and statement_timeout
};

// One libpq connection. Not thread-safe; owned by one step.
class PgConnection {
 public:
  // Opens a connection. Errors: kUnauthenticated when the server refused the credential (bad
  // password, NOLOGIN, no such role, pg_hba), kUnavailable when it cannot be reached,
  // kDeadlineExceeded on timeout. The message names host, port and user, never the password.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const ConnectOptions& options);
  ~PgConnection();

  // Runs one statement. `redact` lists strings (passwords, verifiers, the statement) that must
  // not appear in the error message. Errors by SQLSTATE: 42501 / class 28 → kPermissionDenied;
  // 57014 (statement_timeout) → kDeadlineExceeded; class 08 → kUnavailable; class 22 / 23 (a
  // value the server rejects) → kInvalidArgument; anything else → kFailedPrecondition.
  absl::Status Exec(std::string_view sql, const std::vector<std::string_view>& redact = {});
  // Runs a query and returns the first column of each row ("" for NULL).
  absl::StatusOr<std::vector<std::string>> QueryColumn(std::string_view sql);

  // "quoted" identifier / 'quoted' literal, by libpq for this connection's encoding.
  absl::StatusOr<std::string> QuoteIdentifier(std::string_view name);
  absl::StatusOr<std::string> QuoteLiteral(std::string_view value);
  // The SCRAM-SHA-256 verifier of `password` (computed client-side, so the server and its logs
  // never see the password itself).
  absl::StatusOr<std::string> ScramVerifier(std::string_view user, std::string_view password);

  std::string_view target() const { return target_; }

 private:
  PgConnection(pg_conn* conn, std::string target) : conn_(conn), target_(std::move(target)) {}
  absl::Status ResultStatus(pg_result* result, const std::vector<std::string_view>& redact);

  pg_conn* conn_;
  std::string target_;  // "user@host:port/db" for messages
};

// Replaces every occurrence of each non-empty string of `redact` in `text` by "[redacted]" and
// flattens newlines.
std::string Redact(std::string text, const std::vector<std::string_view>& redact);

}  // namespace rekey::rotators::postgres

#endif  // REKEY_ROTATORS_POSTGRES_PG_CLIENT_H_
