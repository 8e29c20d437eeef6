// EncryptedStore (the barrier) over the real crypto::Keyset: the Store contract still holds, and
// the inner store only ever sees ciphertext bound to its key.
#include "storage/encrypted_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/keyset.h"
#include "crypto/os_random.h"
#include "storage/memory_store.h"
#include "storage/sqlite_store.h"
#include "storage/testing/store_conformance.h"
#include "storage/testing/temp_dir.h"

namespace rekey::storage::testing {
namespace {

// The keyset and the inner store behind one EncryptedStore; the factory outlives what it makes.
template <typename InnerFactory>
struct EncryptedFactory {
  absl::StatusOr<std::unique_ptr<Store>> Make() {
    ASSIGN_OR_RETURN(inner, inner_factory.Make());
    return std::unique_ptr<Store>(std::make_unique<EncryptedStore>(*inner, *keyset));
  }
  crypto::OsRandom random;
  FakeClock clock;
  std::unique_ptr<crypto::Keyset> keyset = crypto::Keyset::Generate(random, clock);
  InnerFactory inner_factory;
  std::unique_ptr<Store> inner;
};

struct MemoryInner {
  absl::StatusOr<std::unique_ptr<Store>> Make() { return std::make_unique<MemoryStore>(); }
};
struct SqliteInner {
  absl::StatusOr<std::unique_ptr<Store>> Make() {
    SqliteStoreOptions options;
    options.create_if_missing = true;
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store,
                     SqliteStore::Open(dir.File("store.db"), options));
    return std::unique_ptr<Store>(std::move(store));
  }
  ScopedTempDir dir;
};

struct EncryptedMemoryFactory : EncryptedFactory<MemoryInner> {
  static constexpr char kName[] = "EncryptedMemory";
};
struct EncryptedSqliteFactory : EncryptedFactory<SqliteInner> {
  static constexpr char kName[] = "EncryptedSqlite";
};

using Barriers = ::testing::Types<EncryptedMemoryFactory, EncryptedSqliteFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Barrier, StoreConformanceTest, Barriers, FactoryName);

}  // namespace
}  // namespace rekey::storage::testing

namespace rekey::storage {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScopedTempDir;

constexpr char kPlaintext[] = "plaintext-CANARY-0xC0FFEE";

class EncryptedStoreTest : public ::testing::Test {
 protected:
  void Put(Store& store, const std::string& key, std::string_view value) {
    WriteBatch batch;
    batch.Put(key, SecretBytes(value));
    ASSERT_OK(store.Commit(batch));
  }
  // The ciphertext the inner store holds at `key`.
  std::string RawValue(const std::string& key) {
    absl::StatusOr<std::optional<Record>> record = inner_.Get(key);
    EXPECT_TRUE(record.ok() && record->has_value());
    return record.ok() && record->has_value() ? std::string((*record)->value.Reveal()) : "";
  }

  crypto::OsRandom random_;
  FakeClock clock_;
  std::unique_ptr<crypto::Keyset> keyset_ = crypto::Keyset::Generate(random_, clock_);
  MemoryStore inner_;
  EncryptedStore store_{inner_, *keyset_};
};

TEST_F(EncryptedStoreTest, InnerStoreNeverContainsPlaintext) {
  Put(store_, "kv/a", kPlaintext);
  Put(store_, "kv/b", std::string(kPlaintext) + std::string(kPlaintext));
  ASSERT_OK_AND_ASSIGN(std::vector<Record> raw, inner_.Scan("", "", 0));
  ASSERT_EQ(raw.size(), 2u);
  for (const Record& record : raw) {
    EXPECT_THAT(std::string(record.value.Reveal()), Not(HasSubstr("CANARY"))) << record.key;
    EXPECT_GT(record.value.size(), sizeof(kPlaintext) - 1);
  }
  EXPECT_EQ(raw[0].key, "kv/a");  // keys are stored in clear
}

TEST_F(EncryptedStoreTest, SqliteFileNeverContainsPlaintext) {
  ScopedTempDir dir;
  const std::string path = dir.File("store.db");
  {
    SqliteStoreOptions options;
    options.create_if_missing = true;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> sqlite, SqliteStore::Open(path, options));
    EncryptedStore barrier(*sqlite, *keyset_);
    Put(barrier, "kv/a", kPlaintext);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(bytes, HasSubstr("kv/a"));
  EXPECT_THAT(bytes, Not(HasSubstr("CANARY")));
}

TEST_F(EncryptedStoreTest, ValueCopiedToAnotherKeyFailsWithDataLoss) {
  Put(store_, "kv/original", kPlaintext);
  Put(inner_, "kv/copy", RawValue("kv/original"));
  absl::StatusOr<std::optional<Record>> copied = store_.Get("kv/copy");
  EXPECT_THAT(copied, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'kv/copy'")));
  EXPECT_THAT(std::string(copied.status().message()), Not(HasSubstr("CANARY")));
}

TEST_F(EncryptedStoreTest, FlippedByteFailsWithDataLoss) {
  Put(store_, "kv/a", kPlaintext);
  for (size_t position : {size_t{0}, size_t{8}, RawValue("kv/a").size() - 1}) {
    std::string tampered = RawValue("kv/a");
    tampered[position] ^= 0x01;
    Put(inner_, "kv/b", tampered);
    EXPECT_THAT(store_.Get("kv/b"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'kv/b'")))
        << "byte " << position;
  }
}

TEST_F(EncryptedStoreTest, RecordFromAnotherKeysetFailsWithDataLoss) {
  std::unique_ptr<crypto::Keyset> other = crypto::Keyset::Generate(random_, clock_);
  EncryptedStore other_barrier(inner_, *other);
  Put(other_barrier, "kv/a", kPlaintext);
  EXPECT_THAT(store_.Get("kv/a"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(EncryptedStoreTest, ScanDecryptsInKeyOrderWithInnerModIndexes) {
  Put(store_, "kv/2", "two");
  Put(store_, "kv/1", "one");
  Put(store_, "other", "x");
  ASSERT_OK_AND_ASSIGN(std::vector<Record> records, store_.Scan("kv/", "", 0));
  ASSERT_OK_AND_ASSIGN(std::vector<Record> raw, inner_.Scan("kv/", "", 0));
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(records[0].key, "kv/1");
  EXPECT_EQ(records[0].value.Reveal(), "one");
  EXPECT_EQ(records[1].value.Reveal(), "two");
  EXPECT_EQ(records[0].mod_index, raw[0].mod_index);
  EXPECT_EQ(records[1].mod_index, raw[1].mod_index);
}

TEST_F(EncryptedStoreTest, ScanFailsWithDataLossWhenOneRecordIsTampered) {
  Put(store_, "kv/1", "one");
  Put(store_, "kv/2", "two");
  Put(inner_, "kv/2", RawValue("kv/1"));
  EXPECT_THAT(store_.Scan("kv/", "", 0),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'kv/2'")));
}

TEST_F(EncryptedStoreTest, ScanKeysPassesThroughWithoutDecrypting) {
  Put(store_, "kv/1", "one");
  Put(inner_, "kv/2", "not even ciphertext");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> keys, store_.ScanKeys("kv/", "", 0));
  EXPECT_THAT(keys, ElementsAre("kv/1", "kv/2"));
}

}  // namespace
}  // namespace rekey::storage
