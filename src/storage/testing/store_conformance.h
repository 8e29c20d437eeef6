// StoreConformanceTest: the Store contract as a type-parameterized GoogleTest suite. A backend's
// test instantiates it with a factory type that has `absl::StatusOr<std::unique_ptr<Store>>
// Make()` and `static constexpr char kName[]` (the factory outlives the store it makes).
#ifndef REKEY_STORAGE_TESTING_STORE_CONFORMANCE_H_
#define REKEY_STORAGE_TESTING_STORE_CONFORMANCE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"
#include "storage/store.h"

namespace rekey::storage::testing {

using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Names each instantiation after its factory's `static constexpr char kName[]`.
struct FactoryName {
  template <typename Factory>
  static std::string GetName(int) {
    return Factory::kName;
  }
};

template <typename Factory>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(store_, factory_.Make()); }

  // Commits one Put of `key` = `value` and returns its index (0 on failure, which is recorded).
  uint64_t Put(const std::string& key, const std::string& value) {
    WriteBatch batch;
    batch.Put(key, SecretBytes(value));
    absl::StatusOr<uint64_t> index = store_->Commit(batch);
    EXPECT_OK(index);
    return index.value_or(0);
  }
  // The value at `key` as a string, or "<absent>" / "<error>".
  std::string ValueAt(const std::string& key) {
    absl::StatusOr<std::optional<Record>> record = store_->Get(key);
    if (!record.ok()) return "<error>";
    if (!record->has_value()) return "<absent>";
    return std::string((*record)->value.Reveal());
  }
  std::vector<std::string> Keys(const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const Record& record : records) out.push_back(record.key);
    return out;
  }
  void PutAll(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) Put(key, "v:" + key);
  }

  Factory factory_;  // declared first: outlives store_
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

TYPED_TEST_P(StoreConformanceTest, NewStoreHasCommitIndexZero) {
  EXPECT_EQ(this->store_->CommitIndex(), 0u);
}

TYPED_TEST_P(StoreConformanceTest, PutThenGetReturnsValueAndModIndex) {
  const uint64_t index = this->Put("a/b", "secret-1");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record, this->store_->Get("a/b"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->key, "a/b");
  EXPECT_EQ(record->value.Reveal(), "secret-1");
  EXPECT_EQ(record->mod_index, index);
}

TYPED_TEST_P(StoreConformanceTest, GetOfMissingKeyIsNullopt) {
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record, this->store_->Get("missing"));
  EXPECT_FALSE(record.has_value());
}

TYPED_TEST_P(StoreConformanceTest, DeleteRemovesKey) {
  this->Put("k", "v");
  WriteBatch batch;
  batch.Delete("k");
  ASSERT_OK(this->store_->Commit(batch));
  EXPECT_EQ(this->ValueAt("k"), "<absent>");
}

TYPED_TEST_P(StoreConformanceTest, OverwriteReplacesValueAndModIndex) {
  this->Put("k", "old");
  const uint64_t second = this->Put("k", "new");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record, this->store_->Get("k"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->value.Reveal(), "new");
  EXPECT_EQ(record->mod_index, second);
}

TYPED_TEST_P(StoreConformanceTest, LaterOpOnSameKeyInBatchWins) {
  WriteBatch batch;
  batch.Put("k", SecretBytes("first"));
  batch.Delete("k");
  batch.Put("k", SecretBytes("last"));
  batch.Put("gone", SecretBytes("x"));
  batch.Delete("gone");
  ASSERT_OK(this->store_->Commit(batch));
  EXPECT_EQ(this->ValueAt("k"), "last");
  EXPECT_EQ(this->ValueAt("gone"), "<absent>");
}

TYPED_TEST_P(StoreConformanceTest, BinaryAndEmptyValuesRoundTrip) {
  const std::string binary("\0\xff\x01zero\0", 8);
  this->Put("binary", binary);
  this->Put("empty", "");
  EXPECT_EQ(this->ValueAt("binary"), binary);
  EXPECT_EQ(this->ValueAt("empty"), "");
}

TYPED_TEST_P(StoreConformanceTest, WrongModIndexAbortsWholeBatchAndWritesNothing) {
  const uint64_t index = this->Put("guard", "v");
  WriteBatch batch;
  batch.Put("other", SecretBytes("must-not-appear"));
  batch.Delete("guard");
  batch.ExpectModIndex("guard", index + 7);
  EXPECT_THAT(this->store_->Commit(batch),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("'guard'")));
  EXPECT_EQ(this->ValueAt("other"), "<absent>");
  EXPECT_EQ(this->ValueAt("guard"), "v");
  EXPECT_EQ(this->store_->CommitIndex(), index);
}

TYPED_TEST_P(StoreConformanceTest, AbortMessageNeverContainsValues) {
  this->Put("guard", "old-secret-value");
  WriteBatch batch;
  batch.Put("guard", SecretBytes("new-secret-value"));
  batch.ExpectModIndex("guard", 0);
  absl::StatusOr<uint64_t> result = this->store_->Commit(batch);
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(result.status().message()), ::testing::Not(HasSubstr("secret-value")));
}

TYPED_TEST_P(StoreConformanceTest, ConditionZeroSucceedsWhenKeyAbsent) {
  WriteBatch batch;
  batch.Put("new", SecretBytes("v"));
  batch.ExpectModIndex("new", 0);
  ASSERT_OK(this->store_->Commit(batch));
  EXPECT_EQ(this->ValueAt("new"), "v");
}

TYPED_TEST_P(StoreConformanceTest, ConditionZeroAbortsWhenKeyPresent) {
  this->Put("taken", "v1");
  WriteBatch batch;
  batch.Put("taken", SecretBytes("v2"));
  batch.ExpectModIndex("taken", 0);
  EXPECT_THAT(this->store_->Commit(batch), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(this->ValueAt("taken"), "v1");
}

TYPED_TEST_P(StoreConformanceTest, ConditionOnCurrentModIndexSucceeds) {
  const uint64_t index = this->Put("k", "v1");
  WriteBatch batch;
  batch.Put("k", SecretBytes("v2"));
  batch.ExpectModIndex("k", index);
  ASSERT_OK(this->store_->Commit(batch));
  EXPECT_EQ(this->ValueAt("k"), "v2");
}

TYPED_TEST_P(StoreConformanceTest, ConditionOnDeletedKeyExpectsZero) {
  const uint64_t index = this->Put("k", "v");
  WriteBatch del;
  del.Delete("k");
  ASSERT_OK(this->store_->Commit(del));
  WriteBatch stale;
  stale.Put("k", SecretBytes("again"));
  stale.ExpectModIndex("k", index);
  EXPECT_THAT(this->store_->Commit(stale), StatusIs(absl::StatusCode::kAborted));
  WriteBatch fresh;
  fresh.Put("k", SecretBytes("again"));
  fresh.ExpectModIndex("k", 0);
  EXPECT_OK(this->store_->Commit(fresh));
}

TYPED_TEST_P(StoreConformanceTest, CommitIndexStrictlyIncreasesAndStampsRecords) {
  uint64_t previous = this->store_->CommitIndex();
  for (int i = 0; i < 5; ++i) {
    const std::string key = "k" + std::to_string(i);
    const uint64_t index = this->Put(key, "v");
    EXPECT_GT(index, previous);
    EXPECT_EQ(this->store_->CommitIndex(), index);
    ASSERT_OK_AND_ASSIGN(std::optional<Record> record, this->store_->Get(key));
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->mod_index, index);
    previous = index;
  }
}

TYPED_TEST_P(StoreConformanceTest, EmptyBatchReturnsCurrentIndexAndWritesNothing) {
  const uint64_t index = this->Put("k", "v");
  ASSERT_OK_AND_ASSIGN(uint64_t empty_index, this->store_->Commit(WriteBatch()));
  EXPECT_EQ(empty_index, index);
  EXPECT_EQ(this->store_->CommitIndex(), index);
}

TYPED_TEST_P(StoreConformanceTest, ConditionOnlyBatchChecksWithoutWriting) {
  const uint64_t index = this->Put("k", "v");
  WriteBatch holds;
  holds.ExpectModIndex("k", index);
  EXPECT_THAT(this->store_->Commit(holds), ::rekey::testing::IsOk());
  WriteBatch fails;
  fails.ExpectModIndex("k", 0);
  EXPECT_THAT(this->store_->Commit(fails), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(this->store_->CommitIndex(), index);
}

// Waits (bounded) for one CommitAsync callback and returns its result.
inline absl::StatusOr<uint64_t> CommitAsyncAndWait(Store& store, WriteBatch batch) {
  std::promise<absl::StatusOr<uint64_t>> promise;
  std::future<absl::StatusOr<uint64_t>> future = promise.get_future();
  store.CommitAsync(std::move(batch), [&promise](absl::StatusOr<uint64_t> result) {
    promise.set_value(std::move(result));
  });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return absl::DeadlineExceededError("CommitAsync never called back");
  }
  return future.get();
}

TYPED_TEST_P(StoreConformanceTest, CommitAsyncCommitsLikeCommit) {
  WriteBatch put;
  put.ExpectModIndex("k", 0);
  put.Put("k", SecretBytes("v1"));
  ASSERT_OK_AND_ASSIGN(uint64_t index, CommitAsyncAndWait(*this->store_, std::move(put)));
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record, this->store_->Get("k"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->value.Reveal(), "v1");
  EXPECT_EQ(record->mod_index, index);
  WriteBatch conflict;
  conflict.ExpectModIndex("k", 0);
  conflict.Put("k", SecretBytes("v2"));
  EXPECT_THAT(CommitAsyncAndWait(*this->store_, std::move(conflict)),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(record, this->store_->Get("k"));
  EXPECT_EQ(record->value.Reveal(), "v1");
}

TYPED_TEST_P(StoreConformanceTest, ScanReturnsOnlyPrefixInAscendingOrder) {
  this->PutAll({"b/2", "a/9", "b/1", "b", "ba", "c/1", "b/10"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("b/", "", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("b/1", "b/10", "b/2"));
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].value.Reveal(), "v:b/1");
  EXPECT_GT(records[0].mod_index, 0u);
}

TYPED_TEST_P(StoreConformanceTest, ScanWithEmptyPrefixReturnsEverything) {
  this->PutAll({"z", "a", "m"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("", "", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("a", "m", "z"));
}

TYPED_TEST_P(StoreConformanceTest, ScanStartsStrictlyAfterStartAfter) {
  this->PutAll({"p/a", "p/b", "p/c", "p/d"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("p/", "p/b", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("p/c", "p/d"));
  ASSERT_OK_AND_ASSIGN(records, this->store_->Scan("p/", "p/bb", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("p/c", "p/d"));
}

TYPED_TEST_P(StoreConformanceTest, ScanStartAfterBelowPrefixStartsAtPrefix) {
  this->PutAll({"a", "p/a", "p/b"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("p/", "a", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("p/a", "p/b"));
}

TYPED_TEST_P(StoreConformanceTest, ScanStartAfterBeyondPrefixIsEmpty) {
  this->PutAll({"p/a", "q"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("p/", "p0", 0));
  EXPECT_THAT(records, IsEmpty());
}

TYPED_TEST_P(StoreConformanceTest, ScanStopsAtLimit) {
  this->PutAll({"k1", "k2", "k3", "k4"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("k", "", 2));
  EXPECT_THAT(this->Keys(records), ElementsAre("k1", "k2"));
}

TYPED_TEST_P(StoreConformanceTest, PagingWithStartAfterAndLimitVisitsEveryKeyOnce) {
  std::vector<std::string> keys;
  for (int i = 0; i < 23; ++i) keys.push_back("page/" + std::to_string(100 + i));
  this->PutAll(keys);
  this->PutAll({"pagf", "pag"});
  std::vector<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> page, this->store_->ScanKeys("page/", cursor, 5));
    if (page.empty()) break;
    seen.insert(seen.end(), page.begin(), page.end());
    cursor = page.back();
  }
  EXPECT_EQ(seen, keys);
}

TYPED_TEST_P(StoreConformanceTest, ScanKeysMatchesScan) {
  this->PutAll({"s/1", "s/2", "s/3", "t/1"});
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("s/", "s/1", 5));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> keys, this->store_->ScanKeys("s/", "s/1", 5));
  EXPECT_EQ(keys, this->Keys(records));
  EXPECT_THAT(keys, ElementsAre("s/2", "s/3"));
}

TYPED_TEST_P(StoreConformanceTest, ScanWithHighBytePrefixReachesEndOfKeySpace) {
  const std::string prefix("x\xff", 2);
  this->PutAll({prefix + "a", prefix + "\xff", "y", "x"});
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> keys, this->store_->ScanKeys(prefix, "", 0));
  EXPECT_THAT(keys, ElementsAre(prefix + "a", prefix + "\xff"));
}

TYPED_TEST_P(StoreConformanceTest, ScanReadsDeletesAndOverwrites) {
  this->PutAll({"d/1", "d/2", "d/3"});
  WriteBatch batch;
  batch.Delete("d/2");
  batch.Put("d/3", SecretBytes("changed"));
  ASSERT_OK(this->store_->Commit(batch));
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, this->store_->Scan("d/", "", 0));
  EXPECT_THAT(this->Keys(records), ElementsAre("d/1", "d/3"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].value.Reveal(), "changed");
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreConformanceTest, NewStoreHasCommitIndexZero, PutThenGetReturnsValueAndModIndex,
    GetOfMissingKeyIsNullopt, DeleteRemovesKey, OverwriteReplacesValueAndModIndex,
    LaterOpOnSameKeyInBatchWins, BinaryAndEmptyValuesRoundTrip,
    WrongModIndexAbortsWholeBatchAndWritesNothing, AbortMessageNeverContainsValues,
    ConditionZeroSucceedsWhenKeyAbsent, ConditionZeroAbortsWhenKeyPresent,
    ConditionOnCurrentModIndexSucceeds, ConditionOnDeletedKeyExpectsZero,
    CommitIndexStrictlyIncreasesAndStampsRecords, EmptyBatchReturnsCurrentIndexAndWritesNothing,
    ConditionOnlyBatchChecksWithoutWriting, CommitAsyncCommitsLikeCommit,
    ScanReturnsOnlyPrefixInAscendingOrder, ScanWithEmptyPrefixReturnsEverything,
    ScanStartsStrictlyAfterStartAfter, ScanStartAfterBelowPrefixStartsAtPrefix,
    ScanStartAfterBeyondPrefixIsEmpty, ScanStopsAtLimit,
    PagingWithStartAfterAndLimitVisitsEveryKeyOnce, ScanKeysMatchesScan,
    ScanWithHighBytePrefixReachesEndOfKeySpace, ScanReadsDeletesAndOverwrites);

}  // namespace rekey::storage::testing

#endif  // REKEY_STORAGE_TESTING_STORE_CONFORMANCE_H_
