// SqliteStore behaviour beyond the shared Store contract: opening, durability across reopen,
// group commit and concurrency.
#include "storage/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/testing/temp_dir.h"

namespace rekey::storage {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScopedTempDir;

SqliteStoreOptions CreateOptions() {
  SqliteStoreOptions options;
  options.create_if_missing = true;
  return options;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// Runs `sql` on `path` through a plain SQLite connection; returns the first column of the last
// row (or "" when there is none).
std::string RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string last;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &last, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  return last;
}

absl::StatusOr<uint64_t> PutOne(Store& store, const std::string& key, const std::string& value) {
  WriteBatch batch;
  batch.Put(key, SecretBytes(value));
  return store.Commit(batch);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  ScopedTempDir dir_;
  const std::string path_ = dir_.File("store.db");
};

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  uint64_t index = 0;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                         SqliteStore::Open(path_, CreateOptions()));
    ASSERT_OK(PutOne(*store, "keep", "kept-value"));
    ASSERT_OK_AND_ASSIGN(index, PutOne(*store, "drop", "x"));
    WriteBatch batch;
    batch.Delete("drop");
    ASSERT_OK_AND_ASSIGN(index, store->Commit(batch));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(path_, {}));
  EXPECT_EQ(store->CommitIndex(), index);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> kept, store->Get("keep"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->value.Reveal(), "kept-value");
  EXPECT_EQ(kept->mod_index, 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> dropped, store->Get("drop"));
  EXPECT_FALSE(dropped.has_value());
  ASSERT_OK_AND_ASSIGN(uint64_t next, PutOne(*store, "after", "v"));
  EXPECT_GT(next, index);
}

TEST_F(SqliteStoreTest, OpenMissingPathWithoutCreateIsNotFound) {
  EXPECT_THAT(SqliteStore::Open(path_, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path_)));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SqliteStoreTest, OpenNonSqliteFileIsFailedPreconditionAndLeavesItUnchanged) {
  const std::string content(2048, 'x');
  WriteFile(path_, content);
  EXPECT_THAT(SqliteStore::Open(path_, CreateOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a rekey store")));
  EXPECT_EQ(ReadFile(path_), content);
}

TEST_F(SqliteStoreTest, OpenForeignSqliteDatabaseIsFailedPreconditionAndLeavesItUnchanged) {
  RawSql(path_, "CREATE TABLE users(name TEXT); INSERT INTO users VALUES('alice');");
  EXPECT_THAT(SqliteStore::Open(path_, CreateOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a rekey store")));
  EXPECT_EQ(RawSql(path_, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(RawSql(path_, "SELECT count(*) FROM sqlite_master"), "1");
}

TEST_F(SqliteStoreTest, OpenSqliteDatabaseWithWrongFormatMarkerIsFailedPrecondition) {
  RawSql(path_,
         "CREATE TABLE entries(key TEXT PRIMARY KEY, value BLOB, mod_index INTEGER);"
         "CREATE TABLE store_meta(name TEXT PRIMARY KEY, value);"
         "INSERT INTO store_meta VALUES('format', 'rekey-sqlite-999');");
  EXPECT_THAT(SqliteStore::Open(path_, CreateOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("format marker")));
}

TEST_F(SqliteStoreTest, OpenEmptyFileWithoutCreateIsFailedPrecondition) {
  WriteFile(path_, "");
  EXPECT_THAT(SqliteStore::Open(path_, {}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteStoreTest, OpenDirectoryIsFailedPrecondition) {
  std::filesystem::create_directory(path_);
  EXPECT_THAT(SqliteStore::Open(path_, CreateOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteStoreTest, OpenWithInvalidOptionsIsInvalidArgument) {
  SqliteStoreOptions options = CreateOptions();
  options.max_batches_per_group = 0;
  EXPECT_THAT(SqliteStore::Open(path_, options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = CreateOptions();
  options.read_connections = 0;
  EXPECT_THAT(SqliteStore::Open(path_, options), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SqliteStore::Open(":memory:", CreateOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SqliteStoreTest, CreatedFileUsesWalAndCarriesFormatMarker) {
  { ASSERT_OK(SqliteStore::Open(path_, CreateOptions())); }
  EXPECT_EQ(RawSql(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawSql(path_, "SELECT value FROM store_meta WHERE name = 'format'"), "rekey-sqlite-1");
}

TEST_F(SqliteStoreTest, CallsAfterCloseFailWithFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       SqliteStore::Open(path_, CreateOptions()));
  ASSERT_OK_AND_ASSIGN(uint64_t index, PutOne(*store, "k", "v"));
  store->Close();
  EXPECT_THAT(PutOne(*store, "k", "v2"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->Scan("", "", 0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(store->CommitIndex(), index);
  store->Close();  // idempotent
}

TEST_F(SqliteStoreTest, DeletedValueIsOverwrittenOnDisk) {
  const std::string marker = "DESTROYED-SECRET-MARKER-0123456789";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                         SqliteStore::Open(path_, CreateOptions()));
    ASSERT_OK(PutOne(*store, "doomed", marker));
    ASSERT_OK(PutOne(*store, "neighbour", "still-here"));
  }  // closing checkpoints the WAL into the main file
  ASSERT_THAT(ReadFile(path_), HasSubstr(marker));  // the test can see the bytes at all
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(path_, {}));
    WriteBatch batch;
    batch.Delete("doomed");
    ASSERT_OK(store->Commit(batch));
  }
  EXPECT_THAT(ReadFile(path_), Not(HasSubstr(marker)));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal") &&
               ReadFile(path_ + "-wal").find(marker) != std::string::npos);
}

TEST_F(SqliteStoreTest, ConcurrentCommittersShareTransactions) {
  constexpr int kThreads = 64;
  constexpr int kBatchesPerThread = 20;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       SqliteStore::Open(path_, CreateOptions()));
  std::vector<std::vector<uint64_t>> indexes(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        absl::StatusOr<uint64_t> index =
            PutOne(*store, rekey::StrCat("t", t, "/", i), rekey::StrCat("value-", t, "-", i));
        if (index.ok()) {
          indexes[t].push_back(*index);
        } else {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  ASSERT_EQ(failures.load(), 0);
  std::set<uint64_t> distinct;
  for (const std::vector<uint64_t>& per_thread : indexes) {
    for (size_t i = 1; i < per_thread.size(); ++i) EXPECT_GT(per_thread[i], per_thread[i - 1]);
    distinct.insert(per_thread.begin(), per_thread.end());
  }
  EXPECT_EQ(distinct.size(), size_t{kThreads * kBatchesPerThread});
  EXPECT_EQ(store->CommitIndex(), uint64_t{kThreads * kBatchesPerThread});
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> keys,
                         store->ScanKeys(rekey::StrCat("t", t, "/"), "", 0));
    EXPECT_EQ(keys.size(), size_t{kBatchesPerThread}) << "thread " << t;
    for (int i = 0; i < kBatchesPerThread; ++i) {
      ASSERT_OK_AND_ASSIGN(std::optional<Record> record, store->Get(rekey::StrCat("t", t, "/", i)));
      ASSERT_TRUE(record.has_value());
      EXPECT_EQ(record->value.Reveal(), rekey::StrCat("value-", t, "-", i));
    }
  }
  const SqliteStore::GroupCommitStats stats = store->Stats();
  std::cout << "[ group    ] " << stats.batches << " batches in " << stats.transactions
            << " transactions\n";
  EXPECT_EQ(stats.batches, uint64_t{kThreads * kBatchesPerThread});
  EXPECT_LT(stats.transactions, stats.batches);
}

TEST_F(SqliteStoreTest, GroupChecksConditionsAgainstEarlierBatchesOfTheSameGroup) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       SqliteStore::Open(path_, CreateOptions()));
  const SqliteStore::GroupCommitStats before = store->Stats();
  store->PauseWriterForTest(true);
  WriteBatch first, second, unrelated;
  first.Put("k", SecretBytes("first"));
  first.ExpectModIndex("k", 0);
  second.Put("k", SecretBytes("second"));
  second.ExpectModIndex("k", 0);  // held when queued; no longer once `first` applied
  unrelated.Put("other", SecretBytes("x"));
  absl::StatusOr<uint64_t> results[3] = {absl::UnknownError(""), absl::UnknownError(""),
                                         absl::UnknownError("")};
  std::vector<std::thread> threads;
  const WriteBatch* batches[3] = {&first, &second, &unrelated};
  for (int i = 0; i < 3; ++i) {  // queued in this order
    threads.emplace_back([&, i] { results[i] = store->Commit(*batches[i]); });
    store->AwaitQueuedForTest(i + 1);
  }
  store->PauseWriterForTest(false);
  for (std::thread& thread : threads) thread.join();

  EXPECT_THAT(results[0], IsOk());
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kAborted, HasSubstr("'k'")));
  ASSERT_OK(results[2]);
  EXPECT_EQ(*results[2], *results[0] + 1);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> k, store->Get("k"));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->value.Reveal(), "first");
  const SqliteStore::GroupCommitStats after = store->Stats();
  EXPECT_EQ(after.transactions - before.transactions, 1u);
  EXPECT_EQ(after.batches - before.batches, 3u);
}

TEST_F(SqliteStoreTest, GroupFailsWithUnavailableAndWritesNothingWhenFileIsLocked) {
  SqliteStoreOptions options = CreateOptions();
  options.busy_timeout_ms = 10;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(path_, options));
  ASSERT_OK_AND_ASSIGN(uint64_t index, PutOne(*store, "k", "v1"));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  EXPECT_THAT(PutOne(*store, "k", "v2"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store->CommitIndex(), index);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> k, store->Get("k"));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->value.Reveal(), "v1");
  ASSERT_OK_AND_ASSIGN(uint64_t next, PutOne(*store, "k", "v3"));
  EXPECT_EQ(next, index + 1);
}

TEST_F(SqliteStoreTest, ConcurrentCompareAndSetLosesNoUpdate) {
  constexpr int kThreads = 16;
  constexpr int kIncrementsPerThread = 25;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store,
                       SqliteStore::Open(path_, CreateOptions()));
  ASSERT_OK(PutOne(*store, "counter", "0"));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrementsPerThread;) {
        absl::StatusOr<std::optional<Record>> current = store->Get("counter");
        if (!current.ok() || !current->has_value()) {
          errors.fetch_add(1);
          return;
        }
        WriteBatch batch;
        batch.Put(
            "counter",
            SecretBytes(std::to_string(std::stoi(std::string((*current)->value.Reveal())) + 1)));
        batch.ExpectModIndex("counter", (*current)->mod_index);
        absl::StatusOr<uint64_t> committed = store->Commit(batch);
        if (committed.ok()) {
          ++done;
        } else if (committed.status().code() != absl::StatusCode::kAborted) {
          errors.fetch_add(1);
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(errors.load(), 0);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> counter, store->Get("counter"));
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->value.Reveal(), std::to_string(kThreads * kIncrementsPerThread));
}

TEST_F(SqliteStoreTest, ReadersSeeConsistentSnapshotsWhileWriting) {
  constexpr int kWrites = 200;
  constexpr int kReaders = 4;
  SqliteStoreOptions options = CreateOptions();
  options.read_connections = 2;  // fewer than readers: some wait for a connection
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(path_, options));
  std::atomic<bool> writing{true};
  std::atomic<int> violations{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      uint64_t last_seen = 0;
      while (writing.load()) {
        const uint64_t durable_before = store->CommitIndex();
        absl::StatusOr<std::vector<Record>> records = store->Scan("pair/", "", 0);
        if (!records.ok()) {
          violations.fetch_add(1);
          return;
        }
        reads.fetch_add(1);
        if (records->empty()) {
          if (durable_before > 0) violations.fetch_add(1);
          continue;
        }
        // Both keys are written by every batch: a snapshot shows them equal, never older than
        // what CommitIndex() reported durable before the read, never older than the last read.
        if (records->size() != 2 || (*records)[0].value != (*records)[1].value ||
            (*records)[0].mod_index != (*records)[1].mod_index ||
            (*records)[0].mod_index < durable_before || (*records)[0].mod_index < last_seen) {
          violations.fetch_add(1);
        }
        last_seen = (*records)[0].mod_index;
      }
    });
  }
  for (int i = 0; i < kWrites; ++i) {
    WriteBatch batch;
    batch.Put("pair/a", SecretBytes(std::to_string(i)));
    batch.Put("pair/b", SecretBytes(std::to_string(i)));
    absl::StatusOr<uint64_t> committed = store->Commit(batch);
    EXPECT_OK(committed);
    if (!committed.ok()) break;
  }
  writing.store(false);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace rekey::storage
