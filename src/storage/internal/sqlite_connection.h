// SqliteConnection: one sqlite3 handle with its cached prepared statements, and the mapping from
// SQLite result codes to absl::Status. Private to the SQLite backend.
#ifndef REKEY_STORAGE_INTERNAL_SQLITE_CONNECTION_H_
#define REKEY_STORAGE_INTERNAL_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rekey::storage::internal {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// Maps a SQLite result code to the most specific Status: busy, locked, I/O, full, cannot open ->
// kUnavailable; corrupt, not a database -> kDataLoss; anything else -> kInternal. The message
// says `what` was being done and SQLite's own text (which names tables/columns, never values).
absl::Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Resets `stmt` and clears its bindings on scope exit, so it holds no read transaction open and
// no pointer into the caller's buffers.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Not thread-safe: used by one thread at a time (SQLite is opened in multi-thread mode).
class SqliteConnection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_NOMUTEX and extended result codes are
  // added) and sets busy_timeout. kUnavailable if SQLite cannot open it.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path, int flags,
                                                                int busy_timeout_ms);

  // Runs `sql` (one or more statements; rows are discarded). Uncached: for setup and DDL.
  absl::Status Exec(const char* sql);

  // The prepared statement for `sql`, prepared on first use and cached for the connection's life.
  // The caller steps it and must reset it (ScopedReset) before the next Prepare of the same SQL.
  absl::StatusOr<sqlite3_stmt*> Prepare(const char* sql);

  // Prepares (cached), steps to completion and resets `sql`, which takes no parameters.
  absl::Status Run(const char* sql);

  // Runs a cached one-column query with optional text parameter ?1; the first row's column 0 as
  // text, or nullopt when there is no row.
  absl::StatusOr<std::optional<std::string>> QueryText(const char* sql,
                                                       std::optional<std::string_view> param);
  // Same, for an integer column.
  absl::StatusOr<std::optional<int64_t>> QueryInt(const char* sql,
                                                  std::optional<std::string_view> param);

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  SqliteConnection(SqlitePtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  // Steps a query with optional text parameter ?1; calls `read` on the first row if any.
  template <typename Read>
  absl::Status QueryFirstRow(const char* sql, std::optional<std::string_view> param, Read read);

  SqlitePtr db_;
  std::string path_;
  // By SQL text. Declared after db_, so statements are finalized before the handle closes.
  std::unordered_map<std::string, StatementPtr> statements_;
};

// Binds `text` to parameter `index` without copying; `text` must outlive the next reset.
absl::Status BindText(sqlite3_stmt* stmt, int index, std::string_view text);
// Binds `bytes` as a BLOB to parameter `index` without copying; same lifetime rule.
absl::Status BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes);
// Column `col` of the current row as bytes (TEXT or BLOB); valid until the next step or reset.
std::string_view ColumnBytes(sqlite3_stmt* stmt, int col);

}  // namespace rekey::storage::internal

#endif  // REKEY_STORAGE_INTERNAL_SQLITE_CONNECTION_H_
