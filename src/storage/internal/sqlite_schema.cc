// SqliteStore file layout: validation of existing files, creation of new ones.
#include "storage/internal/sqlite_schema.h"

#include <string>
#include <string_view>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::storage::internal {
namespace {

constexpr char kCreateSchema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS entries("
    "  key TEXT PRIMARY KEY, value BLOB NOT NULL, mod_index INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS store_meta(name TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO store_meta(name, value) VALUES"
    "  ('format', 'rekey-sqlite-1'), ('commit_index', 0);"
    "COMMIT;";
static_assert(std::string_view(kCreateSchema).find(kFormatMarker) != std::string_view::npos);
constexpr char kCountObjects[] = "SELECT count(*) FROM sqlite_master";
constexpr char kCountTable[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1";
constexpr char kReadMeta[] = "SELECT value FROM store_meta WHERE name = ?1";
constexpr char kWriteIndex[] = "UPDATE store_meta SET value = ?1 WHERE name = 'commit_index'";

absl::Status NotARekeyStore(const SqliteConnection& db, std::string_view why) {
  return absl::FailedPreconditionError(
      rekey::StrCat("'", db.path(), "' is not a rekey store: ", why));
}

absl::StatusOr<bool> HasTable(SqliteConnection& db, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<int64_t> count, db.QueryInt(kCountTable, name));
  return count.value_or(0) > 0;
}

absl::Status ApplyWriterPragmas(SqliteConnection& db) {
  ASSIGN_OR_RETURN(std::optional<std::string> mode,
                   db.QueryText("PRAGMA journal_mode=WAL", std::nullopt));
  if (mode != "wal") {
    return absl::UnavailableError(rekey::StrCat("cannot put '", db.path(), "' in WAL mode"));
  }
  RETURN_IF_ERROR(db.Exec(kMmapPragma));
  return db.Exec("PRAGMA synchronous=FULL; PRAGMA secure_delete=FAST; PRAGMA foreign_keys=OFF;");
}

absl::Status CreateSchema(SqliteConnection& db) {
  absl::Status created = db.Exec(kCreateSchema);
  if (!created.ok() && !sqlite3_get_autocommit(db.db())) db.Exec("ROLLBACK").IgnoreError();
  return created;
}

}  // namespace

absl::StatusOr<uint64_t> PrepareWriterConnection(SqliteConnection& db, bool create) {
  // The first read of the file: this is where a non-SQLite file shows itself.
  absl::StatusOr<std::optional<int64_t>> objects = db.QueryInt(kCountObjects, std::nullopt);
  if (!objects.ok()) {
    if ((sqlite3_errcode(db.db()) & 0xff) == SQLITE_NOTADB) {
      return NotARekeyStore(db, "not a SQLite database");
    }
    return objects.status();
  }
  if (objects->value_or(0) == 0) {
    if (!create) return NotARekeyStore(db, "empty SQLite database and create_if_missing is off");
    RETURN_IF_ERROR(ApplyWriterPragmas(db));
    RETURN_IF_ERROR(CreateSchema(db));
  } else {
    ASSIGN_OR_RETURN(bool has_meta, HasTable(db, "store_meta"));
    ASSIGN_OR_RETURN(bool has_entries, HasTable(db, "entries"));
    if (!has_meta || !has_entries) {
      return NotARekeyStore(db, "SQLite database without the rekey schema");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> format, db.QueryText(kReadMeta, "format"));
    if (format != kFormatMarker) {
      return NotARekeyStore(db, rekey::StrCat("unknown format marker (want ", kFormatMarker, ")"));
    }
    RETURN_IF_ERROR(ApplyWriterPragmas(db));
  }
  return ReadCommitIndex(db);
}

absl::StatusOr<uint64_t> ReadCommitIndex(SqliteConnection& db) {
  ASSIGN_OR_RETURN(std::optional<int64_t> index, db.QueryInt(kReadMeta, "commit_index"));
  if (!index.has_value() || *index < 0) {
    return absl::DataLossError(
        rekey::StrCat("'", db.path(), "': store_meta.commit_index is missing or invalid"));
  }
  return static_cast<uint64_t>(*index);
}

absl::Status WriteCommitIndex(SqliteConnection& db, uint64_t index) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, db.Prepare(kWriteIndex));
  ScopedReset reset(stmt);
  int rc = sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(index));
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return SqliteError(db.db(), rc, "write commit_index");
  if (sqlite3_changes(db.db()) != 1) {
    return absl::DataLossError(
        rekey::StrCat("'", db.path(), "': store_meta.commit_index is missing"));
  }
  return absl::OkStatus();
}

}  // namespace rekey::storage::internal
