// Durable-write throughput of the storage layer against raw SQLite doing the same work, measured
// in the same run: the writes one KV write makes (metadata ~1.5 KB, a ~200 B value, pruning the
// oldest value), committed (a) through SqliteStore's group commit from many threads, (b) with raw
// sqlite3 calls, one transaction per write, and (c) with raw sqlite3, G writes per transaction.
// Run: build/release/bench/store_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "storage/sqlite_store.h"

namespace {

constexpr int kPaths = 256;
constexpr int kKeep = 10;

std::string TempPath(const char* name) {
  std::string dir = std::filesystem::temp_directory_path() / "rekey-store-bench-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) std::abort();
  return dir + "/" + name;
}

std::string MetaKey(int path) { return absl::StrFormat("kv/secret/s/bench-%d", path); }
std::string DataKey(int path, int64_t version) {
  return absl::StrFormat("kv/secret/s/bench-%d#%020d", path, version);
}

const std::string kMeta(1500, 'm');
const std::string kValue(200, 'v');

void BM_SqliteStoreGroupCommit(benchmark::State& state) {
  static std::unique_ptr<rekey::storage::SqliteStore> store;
  static std::atomic<int64_t> next{0};
  if (state.thread_index() == 0) {
    rekey::storage::SqliteStoreOptions options;
    options.create_if_missing = true;
    store = std::move(*rekey::storage::SqliteStore::Open(TempPath("group.db"), options));
    next = 0;
  }
  for (auto _ : state) {
    int64_t n = next.fetch_add(1);
    int path = static_cast<int>(n % kPaths);
    int64_t version = n / kPaths + 1;
    rekey::storage::WriteBatch batch;
    batch.Put(MetaKey(path), rekey::SecretBytes(kMeta));
    batch.Put(DataKey(path, version), rekey::SecretBytes(kValue));
    if (version > kKeep) batch.Delete(DataKey(path, version - kKeep));
    if (!store->Commit(batch).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    auto stats = store->Stats();
    state.counters["batches_per_txn"] =
        static_cast<double>(stats.batches) /
        static_cast<double>(std::max<uint64_t>(1, stats.transactions));
    store.reset();
  }
}
BENCHMARK(BM_SqliteStoreGroupCommit)->Threads(32)->UseRealTime();

// Raw sqlite3, same schema, pragmas and statements; `group` writes per transaction.
void BM_RawSqlite(benchmark::State& state) {
  const int group = static_cast<int>(state.range(0));
  sqlite3* db = nullptr;
  sqlite3_open(TempPath("raw.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=FAST;"
               "CREATE TABLE entries(key TEXT PRIMARY KEY, value BLOB NOT NULL,"
               " mod_index INTEGER NOT NULL) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt *upsert = nullptr, *del = nullptr, *sel = nullptr;
  sqlite3_prepare_v2(
      db,
      "INSERT INTO entries(key, value, mod_index) VALUES (?1, ?2, ?3) ON CONFLICT(key)"
      " DO UPDATE SET value = excluded.value, mod_index = excluded.mod_index",
      -1, &upsert, nullptr);
  sqlite3_prepare_v2(db, "DELETE FROM entries WHERE key = ?1", -1, &del, nullptr);
  sqlite3_prepare_v2(db, "SELECT mod_index FROM entries WHERE key = ?1", -1, &sel, nullptr);
  auto put = [&](const std::string& key, const std::string& value, int64_t index) {
    sqlite3_bind_text(upsert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(upsert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    sqlite3_bind_int64(upsert, 3, index);
    sqlite3_step(upsert);
    sqlite3_reset(upsert);
  };
  int64_t n = 0;
  for (auto _ : state) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < group; ++i, ++n) {
      int path = static_cast<int>(n % kPaths);
      int64_t version = n / kPaths + 1;
      std::string meta = MetaKey(path);
      sqlite3_bind_text(sel, 1, meta.data(), static_cast<int>(meta.size()), SQLITE_STATIC);
      sqlite3_step(sel);  // the compare-and-set read
      sqlite3_reset(sel);
      put(meta, kMeta, n);
      put(DataKey(path, version), kValue, n);
      if (version > kKeep) {
        std::string old = DataKey(path, version - kKeep);
        sqlite3_bind_text(del, 1, old.data(), static_cast<int>(old.size()), SQLITE_STATIC);
        sqlite3_step(del);
        sqlite3_reset(del);
      }
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * group);
  sqlite3_finalize(upsert);
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_close(db);
}
BENCHMARK(BM_RawSqlite)->Arg(1)->Arg(8)->Arg(32)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
