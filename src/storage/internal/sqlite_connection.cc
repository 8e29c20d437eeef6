// SqliteConnection: open, exec, statement cache and error mapping.
#include "storage/internal/sqlite_connection.h"

#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::storage::internal {

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = rekey::StrCat(what, ": ", detail, " (sqlite code ", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                         int flags,
                                                                         int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
  SqlitePtr db(raw);  // sqlite3_open_v2 may allocate a handle even on failure
  if (rc != SQLITE_OK) {
    return SqliteError(db.get(), rc, rekey::StrCat("cannot open '", path, "'"));
  }
  const int timeout_rc = sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  if (timeout_rc != SQLITE_OK) return SqliteError(db.get(), timeout_rc, "busy_timeout");
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(std::move(db), path));
}

absl::Status SqliteConnection::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, rekey::StrCat("'", sql, "'"));
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqliteConnection::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, rekey::StrCat("prepare '", sql, "'"));
  sqlite3_stmt* out = stmt.get();
  statements_.emplace(sql, std::move(stmt));
  return out;
}

absl::Status SqliteConnection::Run(const char* sql) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  ScopedReset reset(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, rekey::StrCat("'", sql, "'"));
  return absl::OkStatus();
}

template <typename Read>
absl::Status SqliteConnection::QueryFirstRow(const char* sql, std::optional<std::string_view> param,
                                             Read read) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  ScopedReset reset(stmt);
  if (param.has_value()) RETURN_IF_ERROR(BindText(stmt, 1, *param));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    read(stmt);
    return absl::OkStatus();
  }
  if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, rekey::StrCat("'", sql, "'"));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> SqliteConnection::QueryText(
    const char* sql, std::optional<std::string_view> param) {
  std::optional<std::string> out;
  RETURN_IF_ERROR(QueryFirstRow(
      sql, param, [&](sqlite3_stmt* stmt) { out = std::string(ColumnBytes(stmt, 0)); }));
  return out;
}

absl::StatusOr<std::optional<int64_t>> SqliteConnection::QueryInt(
    const char* sql, std::optional<std::string_view> param) {
  std::optional<int64_t> out;
  RETURN_IF_ERROR(QueryFirstRow(sql, param, [&](sqlite3_stmt* stmt) {
    if (sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) out = sqlite3_column_int64(stmt, 0);
  }));
  return out;
}

namespace {
// A null pointer would bind NULL rather than an empty TEXT or BLOB.
constexpr char kEmpty[1] = {0};
const char* NonNullData(std::string_view bytes) {
  return bytes.data() != nullptr ? bytes.data() : kEmpty;
}
}  // namespace

absl::Status BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt, index, NonNullData(text), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) return SqliteError(sqlite3_db_handle(stmt), rc, "bind text");
  return absl::OkStatus();
}

absl::Status BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  const int rc = sqlite3_bind_blob64(stmt, index, NonNullData(bytes), bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) return SqliteError(sqlite3_db_handle(stmt), rc, "bind blob");
  return absl::OkStatus();
}

std::string_view ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace rekey::storage::internal
