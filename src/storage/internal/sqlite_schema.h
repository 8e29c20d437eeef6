// The on-disk layout of a SqliteStore file: schema, format marker and writer PRAGMAs.
#ifndef REKEY_STORAGE_INTERNAL_SQLITE_SCHEMA_H_
#define REKEY_STORAGE_INTERNAL_SQLITE_SCHEMA_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "storage/internal/sqlite_connection.h"

namespace rekey::storage::internal {

// Maps up to 256 MiB of the file into memory so page reads are memory reads, not pread() calls,
// and gives each connection a 16 MiB page cache (the writer re-reads fewer WAL frames).
inline constexpr char kMmapPragma[] = "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384;";

// store_meta row 'format' of every file this code reads and writes.
inline constexpr char kFormatMarker[] = "rekey-sqlite-1";

// Checks that `db` (the read-write connection) holds a rekey store, creating the schema when the
// database is empty and `create` is set, then applies the writer PRAGMAs (WAL, synchronous=FULL,
// secure_delete, no foreign keys). Returns the stored commit index. kFailedPrecondition if the
// file is not SQLite, is SQLite without our schema and marker, or is empty and `create` is off;
// kDataLoss if the marker is ours but the metadata is damaged; kUnavailable on I/O failure. A
// foreign file is never modified.
absl::StatusOr<uint64_t> PrepareWriterConnection(SqliteConnection& db, bool create);

// Reads store_meta's commit_index through `db`. kDataLoss if it is missing or not a
// non-negative integer.
absl::StatusOr<uint64_t> ReadCommitIndex(SqliteConnection& db);

// Writes `index` as store_meta's commit_index through `db` (inside the caller's transaction).
absl::Status WriteCommitIndex(SqliteConnection& db, uint64_t index);

}  // namespace rekey::storage::internal

#endif  // REKEY_STORAGE_INTERNAL_SQLITE_SCHEMA_H_
