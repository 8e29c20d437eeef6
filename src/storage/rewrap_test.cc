#include "storage/rewrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/encrypted_store.h"
#include "storage/memory_store.h"
#include "storage/seal.h"
#include "storage/sqlite_store.h"
#include "storage/testing/temp_dir.h"

namespace rekey::storage {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;

uint32_t KeyIdOf(std::string_view ciphertext) {
  uint32_t id = 0;
  for (int i = 1; i <= 4; ++i) id = (id << 8) | static_cast<uint8_t>(ciphertext[i]);
  return id;
}

// A store (MemoryStore or SqliteStore) with a keyring, a barrier and a key manager over it.
class RewrapTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      SqliteStoreOptions options;
      options.create_if_missing = true;
      ASSERT_OK_AND_ASSIGN(sqlite_, SqliteStore::Open(dir_.File("rekey.db"), options));
      raw_ = sqlite_.get();
    } else {
      raw_ = &memory_;
    }
    root_ = GenerateRootKey(random_);
    ASSERT_OK_AND_ASSIGN(keyring_, InitializeKeyring(*raw_, root_, random_, clock_));
    barrier_ = std::make_unique<EncryptedStore>(*raw_, *keyring_);
    manager_ = MakeManager();
  }

  std::unique_ptr<StorageKeyManager> MakeManager(uint64_t threshold = 0) {
    StorageKeyOptions options;
    options.page_size = 16;
    options.rotation_threshold = threshold;
    return std::make_unique<StorageKeyManager>(*raw_, *keyring_, root_, random_, clock_, options);
  }

  void Write(int from, int to) {
    for (int i = from; i < to; ++i) {
      WriteBatch batch;
      batch.Put(rekey::StrCat("kv/secret-", 1000 + i), SecretBytes(rekey::StrCat("value-", i)));
      ASSERT_OK(barrier_->Commit(batch).status());
    }
  }

  // Every record (but the reserved ones) decrypts to its value and is under `key_id`.
  void ExpectAll(int count, uint32_t key_id) {
    for (int i = 0; i < count; ++i) {
      const std::string key = rekey::StrCat("kv/secret-", 1000 + i);
      ASSERT_OK_AND_ASSIGN(std::optional<Record> r, barrier_->Get(key));
      ASSERT_TRUE(r.has_value()) << key;
      EXPECT_EQ(r->value.Reveal(), rekey::StrCat("value-", i));
      ASSERT_OK_AND_ASSIGN(std::optional<Record> raw, raw_->Get(key));
      EXPECT_EQ(KeyIdOf(raw->value.Reveal()), key_id) << key;
    }
  }

  int RunToEnd(StorageKeyManager& m) {
    int pages = 0;
    while (true) {
      absl::StatusOr<bool> more = m.Step();
      EXPECT_OK(more.status());
      ++pages;
      if (!more.ok() || !*more || pages > 10000) return pages;
    }
  }

  testing::ScopedTempDir dir_;
  FakeClock clock_;
  FakeRandom random_;
  MemoryStore memory_;
  std::unique_ptr<SqliteStore> sqlite_;
  Store* raw_ = nullptr;
  SecretBytes root_;
  std::unique_ptr<crypto::Keyset> keyring_;
  std::unique_ptr<EncryptedStore> barrier_;
  std::unique_ptr<StorageKeyManager> manager_;
};

TEST_P(RewrapTest, RotateMakesANewPrimaryForNewWritesAndPersistsIt) {
  const uint32_t old_id = keyring_->primary_id();
  Write(0, 10);
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager_->Rotate());
  EXPECT_NE(id, old_id);
  EXPECT_EQ(keyring_->primary_id(), id);
  Write(10, 20);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> raw, raw_->Get("kv/secret-1015"));
  EXPECT_EQ(KeyIdOf(raw->value.Reveal()), id);
  // The saved keyring knows the new primary.
  ASSERT_OK_AND_ASSIGN(auto reopened, UnsealKeyring(*raw_, root_, random_, clock_));
  EXPECT_EQ(reopened->primary_id(), id);
  RewrapProgress p = manager_->Progress();
  EXPECT_TRUE(p.active);
  EXPECT_EQ(p.target_key, id);
  EXPECT_EQ(p.total, 10u);
}

TEST_P(RewrapTest, RewrapMovesEveryRecordAndDisablesTheOldKey) {
  const uint32_t old_id = keyring_->primary_id();
  Write(0, 100);
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager_->Rotate());
  Write(100, 120);
  RunToEnd(*manager_);
  RewrapProgress p = manager_->Progress();
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.rewrapped, 100u);
  EXPECT_EQ(p.unreadable, 0u);
  EXPECT_EQ(p.pass, 2);  // the move, then a verifying pass
  ExpectAll(120, id);
  // The old key is kept, disabled, in the saved keyring.
  ASSERT_OK_AND_ASSIGN(auto reopened, UnsealKeyring(*raw_, root_, random_, clock_));
  bool found = false;
  for (const crypto::KeyInfo& k : reopened->Keys()) {
    if (k.id == old_id) {
      found = true;
      EXPECT_EQ(k.status, crypto::KeyStatus::kDisabled);
    }
  }
  EXPECT_TRUE(found);
  // A new manager over the same store sees the job as done.
  auto again = MakeManager();
  ASSERT_OK(again->Load());
  EXPECT_FALSE(again->Progress().active);
  EXPECT_EQ(again->Progress().rewrapped, 100u);
}

TEST_P(RewrapTest, AnInterruptedRewrapResumesFromItsCursor) {
  Write(0, 100);
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager_->Rotate());
  // 3 pages of 16 (the first holds the two reserved records, core/keyring and core/rewrap).
  for (int i = 0; i < 3; ++i) ASSERT_OK(manager_->Step().status());
  const RewrapProgress mid = manager_->Progress();
  EXPECT_TRUE(mid.active);
  EXPECT_EQ(mid.done, 46u);
  EXPECT_EQ(mid.rewrapped, 46u);
  manager_.reset();  // "crash": a new manager over the same store and keyring
  auto resumed = MakeManager();
  ASSERT_OK(resumed->Load());
  EXPECT_EQ(resumed->Progress().cursor, mid.cursor);
  EXPECT_EQ(resumed->Progress().rewrapped, 46u);
  RunToEnd(*resumed);
  EXPECT_FALSE(resumed->Progress().active);
  EXPECT_EQ(resumed->Progress().rewrapped, 100u);  // nothing moved twice
  ExpectAll(100, id);
}

TEST_P(RewrapTest, ConcurrentWritesDuringTheRewrapWin) {
  Write(0, 64);
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager_->Rotate());
  ASSERT_OK(manager_->Step().status());
  // Overwrite records before and after the cursor, delete one, add some.
  for (int i : {3, 20, 40, 63}) {
    WriteBatch batch;
    batch.Put(rekey::StrCat("kv/secret-", 1000 + i), SecretBytes("changed"));
    ASSERT_OK(barrier_->Commit(batch).status());
  }
  {
    WriteBatch batch;
    batch.Delete("kv/secret-1050");
    ASSERT_OK(barrier_->Commit(batch).status());
  }
  Write(64, 70);
  RunToEnd(*manager_);
  EXPECT_FALSE(manager_->Progress().active);
  for (int i = 0; i < 70; ++i) {
    const std::string key = rekey::StrCat("kv/secret-", 1000 + i);
    ASSERT_OK_AND_ASSIGN(std::optional<Record> r, barrier_->Get(key));
    if (i == 50) {
      EXPECT_FALSE(r.has_value());
      continue;
    }
    ASSERT_TRUE(r.has_value()) << key;
    const bool changed = i == 3 || i == 20 || i == 40 || i == 63;
    EXPECT_EQ(r->value.Reveal(), changed ? "changed" : rekey::StrCat("value-", i));
    ASSERT_OK_AND_ASSIGN(std::optional<Record> raw, raw_->Get(key));
    EXPECT_EQ(KeyIdOf(raw->value.Reveal()), id);
  }
}

TEST_P(RewrapTest, ARecordWrittenUnderTheOldKeyBehindTheCursorIsCaughtByTheVerifyingPass) {
  Write(0, 40);
  // A write sealed under the old key whose commit lands after the rewrap passed its place.
  ASSERT_OK_AND_ASSIGN(std::string sealed, keyring_->Encrypt("late", "kv/secret-1000"));
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager_->Rotate());
  ASSERT_OK(manager_->Step().status());
  WriteBatch late;
  late.Put("kv/secret-1000", SecretBytes(sealed));
  ASSERT_OK(raw_->Commit(late).status());
  RunToEnd(*manager_);
  EXPECT_FALSE(manager_->Progress().active);
  EXPECT_GE(manager_->Progress().pass, 3);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> r, barrier_->Get("kv/secret-1000"));
  EXPECT_EQ(r->value.Reveal(), "late");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> raw, raw_->Get("kv/secret-1000"));
  EXPECT_EQ(KeyIdOf(raw->value.Reveal()), id);
}

TEST_P(RewrapTest, RotatingAgainMidRewrapMovesEverythingToTheNewestKey) {
  Write(0, 50);
  ASSERT_OK(manager_->Rotate().status());
  ASSERT_OK(manager_->Step().status());
  ASSERT_OK_AND_ASSIGN(uint32_t newest, manager_->Rotate());
  RunToEnd(*manager_);
  ExpectAll(50, newest);
  int enabled = 0;
  for (const crypto::KeyInfo& k : keyring_->Keys()) {
    if (k.status == crypto::KeyStatus::kEnabled) ++enabled;
  }
  EXPECT_EQ(enabled, 1);
  EXPECT_EQ(keyring_->Keys().size(), 3u);
}

TEST_P(RewrapTest, AutomaticRotationAtTheUsageThreshold) {
  auto manager = MakeManager(/*threshold=*/25);
  const uint32_t old_id = keyring_->primary_id();
  Write(0, 20);
  ASSERT_OK_AND_ASSIGN(bool rotated, manager->MaybeAutoRotate());
  EXPECT_FALSE(rotated);
  EXPECT_EQ(keyring_->primary_id(), old_id);
  Write(20, 30);
  ASSERT_OK_AND_ASSIGN(rotated, manager->MaybeAutoRotate());
  EXPECT_TRUE(rotated);
  const uint32_t id = keyring_->primary_id();
  EXPECT_NE(id, old_id);
  ASSERT_OK_AND_ASSIGN(rotated, manager->MaybeAutoRotate());  // once: the new key is fresh
  EXPECT_FALSE(rotated);
  RunToEnd(*manager);
  ExpectAll(30, id);
}

TEST_P(RewrapTest, TheRewrapsOwnEncryptionsDoNotTriggerAnotherRotation) {
  auto manager = MakeManager(/*threshold=*/25);
  Write(0, 30);
  ASSERT_OK_AND_ASSIGN(bool rotated, manager->MaybeAutoRotate());
  EXPECT_TRUE(rotated);
  RunToEnd(*manager);  // 30 encryptions under the new key, all by the rewrap
  ASSERT_OK_AND_ASSIGN(rotated, manager->MaybeAutoRotate());
  EXPECT_FALSE(rotated);
  Write(30, 56);  // 26 of its own
  ASSERT_OK_AND_ASSIGN(rotated, manager->MaybeAutoRotate());
  EXPECT_TRUE(rotated);
}

TEST_P(RewrapTest, NoThresholdNeverRotates) {
  Write(0, 30);
  ASSERT_OK_AND_ASSIGN(bool rotated, manager_->MaybeAutoRotate());
  EXPECT_FALSE(rotated);
}

TEST_P(RewrapTest, StepWithNoJobDoesNothing) {
  Write(0, 5);
  ASSERT_OK_AND_ASSIGN(bool more, manager_->Step());
  EXPECT_FALSE(more);
}

TEST_P(RewrapTest, BackgroundThreadFinishesTheJob) {
  Write(0, 40);
  StorageKeyOptions options;
  options.page_size = 8;
  options.page_pause = absl::ZeroDuration();
  options.rotation_threshold = 0;
  StorageKeyManager manager(*raw_, *keyring_, root_, random_, clock_, options);
  manager.Start();
  ASSERT_OK_AND_ASSIGN(uint32_t id, manager.Rotate());
  // No sleeping: wait for the thread by polling Progress (bounded).
  for (int i = 0; i < 2000000 && manager.Progress().active; ++i) std::this_thread::yield();
  manager.Stop();
  EXPECT_FALSE(manager.Progress().active);
  ExpectAll(40, id);
}

TEST_P(RewrapTest, RekeyRootReplacesTheRootKey) {
  Write(0, 10);
  SecretBytes new_root = GenerateRootKey(random_);
  EXPECT_THAT(RekeyRoot(*raw_, GenerateRootKey(random_), new_root, random_, clock_),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK(RekeyRoot(*raw_, root_, new_root, random_, clock_));
  EXPECT_THAT(UnsealKeyring(*raw_, root_, random_, clock_),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(auto keyring, UnsealKeyring(*raw_, new_root, random_, clock_));
  EncryptedStore barrier(*raw_, *keyring);
  ASSERT_OK_AND_ASSIGN(std::optional<Record> r, barrier.Get("kv/secret-1007"));
  EXPECT_EQ(r->value.Reveal(), "value-7");
}

INSTANTIATE_TEST_SUITE_P(Stores, RewrapTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Sqlite") : std::string("Memory");
                         });

}  // namespace
}  // namespace rekey::storage
