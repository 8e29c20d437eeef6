// Tests for Keyset: ciphertext format, tamper resistance, key lifecycle, counters, serialization.
#include "crypto/keyset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "crypto/internal/keyset_format.h"
#include "crypto/os_random.h"

namespace rekey::crypto {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr size_t kOverhead = 1 + 4 + 12 + 16;

uint32_t IdOf(std::string_view ciphertext) {
  return (uint32_t{static_cast<uint8_t>(ciphertext[1])} << 24) |
         (uint32_t{static_cast<uint8_t>(ciphertext[2])} << 16) |
         (uint32_t{static_cast<uint8_t>(ciphertext[3])} << 8) |
         uint32_t{static_cast<uint8_t>(ciphertext[4])};
}

void SetId(std::string& ciphertext, uint32_t id) {
  for (int i = 0; i < 4; ++i) ciphertext[1 + i] = static_cast<char>(id >> (8 * (3 - i)));
}

auto DecryptionFailed() {
  return StatusIs(absl::StatusCode::kInvalidArgument, "decryption failed");
}

class KeysetTest : public ::testing::Test {
 protected:
  FakeRandom random_{7};
  FakeClock clock_;
  std::unique_ptr<Keyset> keyset_ = Keyset::Generate(random_, clock_);
};

TEST_F(KeysetTest, EncryptDecryptRoundTrip) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("hello, world", "path/a"));
  ASSERT_OK_AND_ASSIGN(SecretBytes pt, keyset_->Decrypt(ct, "path/a"));
  EXPECT_EQ(pt.Reveal(), "hello, world");
}

TEST_F(KeysetTest, EmptyPlaintextRoundTrips) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("", ""));
  ASSERT_OK_AND_ASSIGN(SecretBytes pt, keyset_->Decrypt(ct, ""));
  EXPECT_TRUE(pt.empty());
}

TEST_F(KeysetTest, CiphertextHasVersionPrimaryIdNonceAndTag) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("12345", "aad"));
  ASSERT_EQ(ct.size(), kOverhead + 5);
  EXPECT_EQ(ct[0], '\x01');
  EXPECT_EQ(IdOf(ct), keyset_->primary_id());
}

TEST_F(KeysetTest, EncryptingTwiceUsesFreshNonces) {
  ASSERT_OK_AND_ASSIGN(std::string a, keyset_->Encrypt("same", "aad"));
  ASSERT_OK_AND_ASSIGN(std::string b, keyset_->Encrypt("same", "aad"));
  EXPECT_NE(a.substr(5, 12), b.substr(5, 12));
}

TEST_F(KeysetTest, EverySingleBitFlipFailsToDecrypt) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("some secret value", "aad"));
  for (size_t i = 0; i < ct.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = ct;
      tampered[i] ^= static_cast<char>(1 << bit);
      EXPECT_THAT(keyset_->Decrypt(tampered, "aad"), DecryptionFailed())
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(KeysetTest, EveryTruncationFailsToDecrypt) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("some secret value", "aad"));
  for (size_t n = 0; n < ct.size(); ++n) {
    EXPECT_THAT(keyset_->Decrypt(ct.substr(0, n), "aad"), DecryptionFailed()) << n << " bytes";
  }
}

TEST_F(KeysetTest, AppendedBytesFailToDecrypt) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  EXPECT_THAT(keyset_->Decrypt(ct + "x", "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, WrongAadFailsToDecrypt) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "secret/a"));
  EXPECT_THAT(keyset_->Decrypt(ct, "secret/b"), DecryptionFailed());
  EXPECT_THAT(keyset_->Decrypt(ct, ""), DecryptionFailed());
}

TEST_F(KeysetTest, CiphertextRelabelledToAnotherKeyOfTheSameKeysetFails) {
  const uint32_t other = keyset_->AddKey();
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  std::string relabelled = ct;
  SetId(relabelled, other);
  EXPECT_THAT(keyset_->Decrypt(relabelled, "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, HeaderIsAuthenticatedEvenUnderTheSameKeyMaterial) {
  // Two keys with identical material but different ids: only the AAD binding of the header can
  // tell a moved ciphertext apart.
  const uint32_t primary = keyset_->primary_id();
  SecretBytes serialized = keyset_->Serialize();
  ASSERT_OK_AND_ASSIGN(auto records, internal::DecodeKeyset(serialized.Reveal()));
  internal::KeyRecord twin;
  twin.info = records[0].info;
  twin.info.id = primary ^ 1;
  twin.info.primary = false;
  twin.material = records[0].material;
  records.push_back(std::move(twin));
  ASSERT_OK_AND_ASSIGN(auto keyset,
                       Keyset::Deserialize(internal::EncodeKeyset(records), random_, clock_));

  ASSERT_OK_AND_ASSIGN(std::string ct, keyset->Encrypt("value", "aad"));
  SetId(ct, primary ^ 1);
  EXPECT_THAT(keyset->Decrypt(ct, "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, OtherKeysetCannotDecrypt) {
  OsRandom os_random;
  auto other = Keyset::Generate(os_random, clock_);
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  EXPECT_THAT(other->Decrypt(ct, "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, OtherKeysetWithSameKeyIdCannotDecrypt) {
  OsRandom os_random;
  auto other = Keyset::Generate(os_random, clock_);
  ASSERT_OK_AND_ASSIGN(std::string ct, other->Encrypt("value", "aad"));
  SetId(ct, keyset_->primary_id());
  EXPECT_THAT(keyset_->Decrypt(ct, "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, UnknownVersionByteFails) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  ct[0] = '\x02';
  EXPECT_THAT(keyset_->Decrypt(ct, "aad"), DecryptionFailed());
}

TEST_F(KeysetTest, DecryptionErrorNamesNoKey) {
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  SetId(ct, 12345);
  absl::StatusOr<SecretBytes> result = keyset_->Decrypt(ct, "aad");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "decryption failed");
  EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr("12345")));
}

TEST_F(KeysetTest, NewKeysAreEnabledNonPrimaryWithUniqueNonzeroIds) {
  const uint32_t first = keyset_->primary_id();
  const uint32_t second = keyset_->AddKey();
  const uint32_t third = keyset_->AddKey();
  EXPECT_NE(first, 0u);
  EXPECT_NE(second, 0u);
  EXPECT_NE(second, first);
  EXPECT_NE(third, second);
  EXPECT_EQ(keyset_->primary_id(), first);
  std::vector<KeyInfo> keys = keyset_->Keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[1].id, second);
  EXPECT_EQ(keys[1].status, KeyStatus::kEnabled);
  EXPECT_FALSE(keys[1].primary);
  EXPECT_TRUE(keys[0].primary);
}

TEST_F(KeysetTest, KeysRecordCreationTime) {
  clock_.Advance(absl::Hours(5));
  const uint32_t id = keyset_->AddKey();
  std::vector<KeyInfo> keys = keyset_->Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].created, clock_.Now() - absl::Hours(5));
  EXPECT_EQ(keys[1].id, id);
  EXPECT_EQ(keys[1].created, clock_.Now());
}

TEST_F(KeysetTest, AfterPromoteNewCiphertextsUseNewKeyAndOldOnesStillDecrypt) {
  ASSERT_OK_AND_ASSIGN(std::string old_ct, keyset_->Encrypt("old", "aad"));
  const uint32_t new_id = keyset_->AddKey();
  ASSERT_THAT(keyset_->Promote(new_id), IsOk());

  ASSERT_OK_AND_ASSIGN(std::string new_ct, keyset_->Encrypt("new", "aad"));
  EXPECT_EQ(IdOf(new_ct), new_id);
  ASSERT_OK_AND_ASSIGN(SecretBytes old_pt, keyset_->Decrypt(old_ct, "aad"));
  EXPECT_EQ(old_pt.Reveal(), "old");
  ASSERT_OK_AND_ASSIGN(SecretBytes new_pt, keyset_->Decrypt(new_ct, "aad"));
  EXPECT_EQ(new_pt.Reveal(), "new");
}

TEST_F(KeysetTest, PromoteUnknownIdIsNotFound) {
  EXPECT_THAT(keyset_->Promote(keyset_->primary_id() + 1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KeysetTest, PromoteDisabledKeyIsFailedPrecondition) {
  const uint32_t id = keyset_->AddKey();
  ASSERT_THAT(keyset_->Disable(id), IsOk());
  EXPECT_THAT(keyset_->Promote(id), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KeysetTest, DisableMakesOldCiphertextsFailAndEnableRestoresThem) {
  const uint32_t old_id = keyset_->primary_id();
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  ASSERT_THAT(keyset_->Promote(keyset_->AddKey()), IsOk());

  ASSERT_THAT(keyset_->Disable(old_id), IsOk());
  EXPECT_THAT(keyset_->Decrypt(ct, "aad"), DecryptionFailed());

  ASSERT_THAT(keyset_->Enable(old_id), IsOk());
  EXPECT_THAT(keyset_->Decrypt(ct, "aad"), IsOk());
}

TEST_F(KeysetTest, DestroyMakesOldCiphertextsFailForever) {
  const uint32_t old_id = keyset_->primary_id();
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("value", "aad"));
  ASSERT_THAT(keyset_->Promote(keyset_->AddKey()), IsOk());

  ASSERT_THAT(keyset_->Destroy(old_id), IsOk());
  EXPECT_THAT(keyset_->Decrypt(ct, "aad"), DecryptionFailed());
  EXPECT_THAT(keyset_->Enable(old_id), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(keyset_->Promote(old_id), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KeysetTest, DestroyedKeyKeepsIdAndStatusButNoMaterialAfterSerialize) {
  const uint32_t id = keyset_->AddKey();
  ASSERT_THAT(keyset_->Destroy(id), IsOk());
  ASSERT_OK_AND_ASSIGN(auto records, internal::DecodeKeyset(keyset_->Serialize().Reveal()));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].info.id, id);
  EXPECT_EQ(records[1].info.status, KeyStatus::kDestroyed);
  EXPECT_TRUE(records[1].material.empty());
}

TEST_F(KeysetTest, PrimaryCannotBeDisabled) {
  EXPECT_THAT(keyset_->Disable(keyset_->primary_id()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KeysetTest, PrimaryCannotBeDestroyed) {
  const uint32_t primary = keyset_->primary_id();
  EXPECT_THAT(keyset_->Destroy(primary), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("still works", ""));
  EXPECT_THAT(keyset_->Decrypt(ct, ""), IsOk());
}

TEST_F(KeysetTest, LifecycleCallsOnUnknownIdAreNotFound) {
  EXPECT_THAT(keyset_->Disable(1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(keyset_->Enable(1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(keyset_->Destroy(1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KeysetTest, UsageCounterCountsEncryptionsOfThePrimaryOnly) {
  const uint32_t first = keyset_->primary_id();
  for (int i = 0; i < 3; ++i) ASSERT_THAT(keyset_->Encrypt("x", ""), IsOk());
  const uint32_t second = keyset_->AddKey();
  ASSERT_THAT(keyset_->Promote(second), IsOk());
  for (int i = 0; i < 2; ++i) ASSERT_THAT(keyset_->Encrypt("x", ""), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string ct, keyset_->Encrypt("x", ""));
  ASSERT_THAT(keyset_->Decrypt(ct, ""), IsOk());  // Decryption does not count.

  std::vector<KeyInfo> keys = keyset_->Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, first);
  EXPECT_EQ(keys[0].encryptions, 3u);
  EXPECT_EQ(keys[1].id, second);
  EXPECT_EQ(keys[1].encryptions, 3u);
}

TEST_F(KeysetTest, SerializeDeserializeRoundTripKeepsKeysStatusAndCounters) {
  ASSERT_OK_AND_ASSIGN(std::string old_ct, keyset_->Encrypt("old", "aad"));
  ASSERT_THAT(keyset_->Encrypt("again", "aad"), IsOk());
  const uint32_t disabled = keyset_->AddKey();
  ASSERT_THAT(keyset_->Disable(disabled), IsOk());
  const uint32_t next = keyset_->AddKey();
  ASSERT_THAT(keyset_->Promote(next), IsOk());

  ASSERT_OK_AND_ASSIGN(auto restored, Keyset::Deserialize(keyset_->Serialize(), random_, clock_));

  std::vector<KeyInfo> before = keyset_->Keys();
  std::vector<KeyInfo> after = restored->Keys();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].status, before[i].status);
    EXPECT_EQ(after[i].primary, before[i].primary);
    EXPECT_EQ(after[i].created, before[i].created);
    EXPECT_EQ(after[i].encryptions, before[i].encryptions);
  }
  EXPECT_EQ(after[0].encryptions, 2u);
  EXPECT_EQ(restored->primary_id(), next);
  ASSERT_OK_AND_ASSIGN(SecretBytes pt, restored->Decrypt(old_ct, "aad"));
  EXPECT_EQ(pt.Reveal(), "old");
}

TEST_F(KeysetTest, UsageCounterContinuesAfterDeserialize) {
  for (int i = 0; i < 4; ++i) ASSERT_THAT(keyset_->Encrypt("x", ""), IsOk());
  ASSERT_OK_AND_ASSIGN(auto restored, Keyset::Deserialize(keyset_->Serialize(), random_, clock_));
  ASSERT_THAT(restored->Encrypt("x", ""), IsOk());
  EXPECT_EQ(restored->Keys()[0].encryptions, 5u);
}

TEST_F(KeysetTest, DeserializeRejectsGarbage) {
  EXPECT_THAT(Keyset::Deserialize(SecretBytes("not a keyset at all"), random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Keyset::Deserialize(SecretBytes(), random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeysetTest, DeserializeRejectsTwoPrimaries) {
  keyset_->AddKey();
  ASSERT_OK_AND_ASSIGN(auto records, internal::DecodeKeyset(keyset_->Serialize().Reveal()));
  records[1].info.primary = true;
  EXPECT_THAT(Keyset::Deserialize(internal::EncodeKeyset(records), random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 primary keys")));
}

TEST_F(KeysetTest, SerializedFormHoldsMaterialSoDifferentKeysetsSerializeDifferently) {
  OsRandom os_random;
  auto other = Keyset::Generate(os_random, clock_);
  EXPECT_FALSE(keyset_->Serialize() == other->Serialize());
}

TEST_F(KeysetTest, ConcurrentEncryptDecryptAndRotationAgree) {
  OsRandom os_random;
  auto keyset = Keyset::Generate(os_random, clock_);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string pt = "value-" + std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<std::string> ct = keyset->Encrypt(pt, "aad");
        if (!ct.ok()) {
          ++failures;
          continue;
        }
        absl::StatusOr<SecretBytes> back = keyset->Decrypt(*ct, "aad");
        if (!back.ok() || back->Reveal() != pt) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      if (!keyset->Promote(keyset->AddKey()).ok()) ++failures;
    }
  });
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  uint64_t total = 0;
  for (const KeyInfo& key : keyset->Keys()) total += key.encryptions;
  EXPECT_EQ(total, uint64_t{kThreads} * kPerThread);
}

}  // namespace
}  // namespace rekey::crypto
