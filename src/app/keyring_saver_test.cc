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

TEST(KeyringSaverTest, StopSavesCountersThatMoved) {
  storage::MemoryStore raw;
  FakeRandom random;
  FakeClock clock;
  SecretBytes root = storage::GenerateRootKey(random);
  ASSERT_OK_AND_ASSIGN(auto keyring, storage::InitializeKeyring(raw, root, random, clock));
  KeyringSaver saver(raw, *keyring, root, random, absl::Hours(1));
  for (int i = 0; i < 5; ++i) ASSERT_OK(keyring->Encrypt("x", "aad").status());
  EXPECT_EQ(StoredEncryptions(raw, root, random, clock), 0u);
  saver.Stop();
  EXPECT_EQ(StoredEncryptions(raw, root, random, clock), 5u);
}

TEST(KeyringSaverTest, ATickSavesOnlyWhenCountersMoved) {
  storage::MemoryStore raw;
  FakeRandom random;
  FakeClock clock;
  SecretBytes root = storage::GenerateRootKey(random);
  ASSERT_OK_AND_ASSIGN(auto keyring, storage::InitializeKeyring(raw, root, random, clock));
  KeyringSaver saver(raw, *keyring, root, random, absl::Hours(1));
  const uint64_t before = raw.CommitIndex();
  saver.TickForTest();
  EXPECT_EQ(raw.CommitIndex(), before);  // nothing moved, nothing written
  ASSERT_OK(keyring->Encrypt("x", "aad").status());
  saver.TickForTest();
  EXPECT_EQ(StoredEncryptions(raw, root, random, clock), 1u);
}

}  // namespace
}  // namespace rekey::app
