#include "app/keyring_saver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"
#include "storage/seal.h"

namespace rekey::app {
namespace {

uint64_t StoredEncryptions(storage::Store& raw, const SecretBytes& root, Random& random,
                           const Clock& clock) {
  auto keyring = storage::UnsealKeyring(raw, root, random, clock);
  EXPECT_TRUE(keyring.ok()) << keyring.status();
  uint64_t total = 0;
  for (const auto& key : (*keyring)->Keys()) total += key.encryptions;
  return total;
}

class KeyringSaverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = storage::GenerateRootKey(random_);
    ASSERT_OK_AND_ASSIGN(keyring_, storage::InitializeKeyring(raw_, root_, random_, clock_));
  }
  uint64_t Stored() { return StoredEncryptions(raw_, root_, random_, clock_); }

  storage::MemoryStore raw_;
  FakeRandom random_;
  FakeClock clock_;
  SecretBytes root_;
  std::unique_ptr<crypto::Keyset> keyring_;
};

TEST_F(KeyringSaverTest, StopSavesCountersThatMoved) {
  KeyringSaver saver(raw_, *keyring_, root_, random_, absl::Hours(1));
  for (int i = 0; i < 5; ++i) ASSERT_OK(keyring_->Encrypt("x", "aad").status());
  EXPECT_EQ(Stored(), 0u);
  saver.Stop();
  EXPECT_EQ(Stored(), 5u);
}

TEST_F(KeyringSaverTest, ATickSavesOnlyWhenCountersMoved) {
  KeyringSaver saver(raw_, *keyring_, root_, random_, absl::Hours(1));
  const uint64_t before = raw_.CommitIndex();
  saver.TickForTest();
  EXPECT_EQ(raw_.CommitIndex(), before);  // nothing moved, nothing written
  ASSERT_OK(keyring_->Encrypt("x", "aad").status());
  saver.TickForTest();
  EXPECT_EQ(Stored(), 1u);
}

}  // namespace
}  // namespace rekey::app
