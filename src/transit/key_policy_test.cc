// KeyPolicy: creation rules (Vault's), rotation, and the stored form.
#include "transit/key_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace rekey::transit {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

class KeyPolicyTest : public ::testing::Test {
 protected:
  absl::StatusOr<KeyPolicy> Make(KeyType type, bool derived = false) {
    KeyCreateOptions o;
    o.type = type;
    o.derived = derived;
    return KeyPolicy::Create("k", o, random_, clock_);
  }
  FakeRandom random_;
  FakeClock clock_;
};

TEST_F(KeyPolicyTest, NewKeyHasVersionOneWithVaultDefaults) {
  ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(KeyType::kAes256Gcm96));
  EXPECT_EQ(p.latest_version, 1u);
  EXPECT_EQ(p.min_decryption_version, 1u);
  EXPECT_EQ(p.min_encryption_version, 0u);
  EXPECT_EQ(p.min_available_version, 0u);
  ASSERT_NE(p.Find(1), nullptr);
  EXPECT_EQ(p.Find(1)->key.size(), 32u);
  EXPECT_EQ(p.Find(1)->hmac_key.size(), 32u);
  EXPECT_EQ(p.Find(1)->created, clock_.Now());
  EXPECT_EQ(p.LastRotated(), clock_.Now());
}

TEST_F(KeyPolicyTest, EveryTypeCreatesMaterialOfItsKind) {
  for (KeyType t :
       {KeyType::kAes128Gcm96, KeyType::kAes256Gcm96, KeyType::kChaCha20Poly1305, KeyType::kEd25519,
        KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kEcdsaP521, KeyType::kRsa2048}) {
    SCOPED_TRACE(KeyTypeName(t));
    ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(t));
    const KeyVersion& v = *p.Find(1);
    if (IsSymmetric(t)) {
      EXPECT_EQ(v.key.size(), SymmetricKeySize(t));
      EXPECT_EQ(v.asymmetric, nullptr);
      EXPECT_TRUE(v.public_key.empty());
    } else {
      EXPECT_NE(v.asymmetric, nullptr);
      EXPECT_FALSE(v.public_key.empty());
    }
    if (IsEcdsa(t) || IsRsa(t)) {
      EXPECT_THAT(v.public_key, HasSubstr("BEGIN PUBLIC KEY"));
    }
    if (t == KeyType::kEd25519) {
      EXPECT_EQ(v.key.size(), 32u);
    }
  }
}

TEST_F(KeyPolicyTest, CreationRulesUseVaultMessages) {
  KeyCreateOptions o;
  o.convergent = true;
  EXPECT_THAT(KeyPolicy::Create("k", o, random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "convergent encryption requires derivation to be enabled"));
  o = {};
  o.auto_rotate_period = absl::Minutes(30);
  EXPECT_THAT(KeyPolicy::Create("k", o, random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "auto rotate period must be 0 to disable or at least an hour"));
  o = {};
  o.type = KeyType::kEcdsaP256;
  o.derived = true;
  EXPECT_THAT(KeyPolicy::Create("k", o, random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not supported")));
  o = {};
  o.type = KeyType::kEd25519;
  o.derived = true;
  o.convergent = true;
  EXPECT_THAT(KeyPolicy::Create("k", o, random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o = {};
  o.auto_rotate_period = absl::Hours(1);
  EXPECT_OK(KeyPolicy::Create("k", o, random_, clock_));
}

TEST_F(KeyPolicyTest, NamesFollowVaultsPattern) {
  EXPECT_TRUE(IsValidKeyName("a"));
  EXPECT_TRUE(IsValidKeyName("my-key.v2_x"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("-a"));
  EXPECT_FALSE(IsValidKeyName("a."));
  EXPECT_FALSE(IsValidKeyName("a/b"));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName(std::string(129, 'a')));
  EXPECT_THAT(KeyPolicy::Create("../x", {}, random_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeyPolicyTest, RotateAddsFreshVersions) {
  ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(KeyType::kAes256Gcm96));
  clock_.Advance(absl::Hours(1));
  ASSERT_OK(p.Rotate(random_, clock_));
  EXPECT_EQ(p.latest_version, 2u);
  EXPECT_FALSE(p.Find(1)->key == p.Find(2)->key);
  EXPECT_EQ(p.LastRotated(), clock_.Now());
  EXPECT_OK(p.Validate());
}

TEST_F(KeyPolicyTest, SerializeRoundTripsEverythingForEveryType) {
  for (KeyType t : {KeyType::kAes128Gcm96, KeyType::kChaCha20Poly1305, KeyType::kEd25519,
                    KeyType::kEcdsaP256, KeyType::kRsa2048}) {
    SCOPED_TRACE(KeyTypeName(t));
    ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(t));
    ASSERT_OK(p.Rotate(random_, clock_));
    p.exportable = true;
    p.deletion_allowed = true;
    p.min_decryption_version = 2;
    p.min_encryption_version = 2;
    p.auto_rotate_period = absl::Hours(24);
    ASSERT_OK_AND_ASSIGN(KeyPolicy back, KeyPolicy::Deserialize(p.Serialize()));
    EXPECT_EQ(back.name, "k");
    EXPECT_EQ(back.type, t);
    EXPECT_TRUE(back.exportable);
    EXPECT_TRUE(back.deletion_allowed);
    EXPECT_EQ(back.min_decryption_version, 2u);
    EXPECT_EQ(back.min_encryption_version, 2u);
    EXPECT_EQ(back.auto_rotate_period, absl::Hours(24));
    ASSERT_EQ(back.versions.size(), 2u);
    for (uint32_t n : {1u, 2u}) {
      EXPECT_TRUE(back.Find(n)->key == p.Find(n)->key);
      EXPECT_TRUE(back.Find(n)->hmac_key == p.Find(n)->hmac_key);
      EXPECT_EQ(back.Find(n)->created, p.Find(n)->created);
      EXPECT_EQ(back.Find(n)->public_key, p.Find(n)->public_key);
    }
  }
}

TEST_F(KeyPolicyTest, DeserializeRejectsCorruptRecords) {
  ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(KeyType::kAes256Gcm96));
  EXPECT_THAT(KeyPolicy::Deserialize(SecretBytes("not json")),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(KeyPolicy::Deserialize(SecretBytes("{}")), StatusIs(absl::StatusCode::kDataLoss));
  KeyPolicy missing = p;
  missing.latest_version = 2;  // version 2 is not there
  EXPECT_THAT(KeyPolicy::Deserialize(missing.Serialize()), StatusIs(absl::StatusCode::kDataLoss));
  KeyPolicy bad_min = p;
  bad_min.min_decryption_version = 5;
  EXPECT_THAT(KeyPolicy::Deserialize(bad_min.Serialize()), StatusIs(absl::StatusCode::kDataLoss));
  KeyPolicy short_key = p;
  short_key.versions[1].key = SecretBytes("short");
  EXPECT_THAT(KeyPolicy::Deserialize(short_key.Serialize()), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(KeyPolicyTest, StoredFormNamesNoMaterialInErrors) {
  ASSERT_OK_AND_ASSIGN(KeyPolicy p, Make(KeyType::kAes256Gcm96));
  KeyPolicy short_key = p;
  short_key.versions[1].key = SecretBytes("sixteen-byte-key");
  absl::StatusOr<KeyPolicy> bad = KeyPolicy::Deserialize(short_key.Serialize());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("sixteen")));
}

}  // namespace
}  // namespace rekey::transit
