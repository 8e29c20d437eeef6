#include "pki/keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "pki/testing/matchers.h"

namespace rekey::pki {
namespace {

using ::rekey::pki::testing::IsOkAndHolds;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

class KeyTypeTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(KeyTypeTest, GeneratedKeyHasItsTypeAndSurvivesPem) {
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(GetParam()));
  ASSERT_OK_AND_ASSIGN(KeyType type, KeyTypeOf(key.get()));
  EXPECT_EQ(type, GetParam());
  ASSERT_OK_AND_ASSIGN(SecretBytes pem, PrivateKeyToPem(key.get()));
  EXPECT_THAT(std::string(pem.Reveal()), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr back, ParsePrivateKeyPem(pem));
  EXPECT_TRUE(SamePublicKey(key.get(), back.get()));
}

TEST_P(KeyTypeTest, NameRoundTripsAndVaultPairMapsBack) {
  ASSERT_OK_AND_ASSIGN(KeyType parsed, ParseKeyType(KeyTypeName(GetParam())));
  EXPECT_EQ(parsed, GetParam());
  ASSERT_OK_AND_ASSIGN(KeyType vault,
                       KeyTypeFromVault(VaultKeyType(GetParam()), KeyBits(GetParam())));
  EXPECT_EQ(vault, GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, KeyTypeTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kEd25519),
                         [](const auto& info) {
                           std::string name(KeyTypeName(info.param));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(KeysTest, VaultDefaultsAndRefusals) {
  EXPECT_THAT(KeyTypeFromVault("rsa", 0), IsOkAndHolds(KeyType::kRsa2048));
  EXPECT_THAT(KeyTypeFromVault("ec", 0), IsOkAndHolds(KeyType::kEcP256));
  EXPECT_THAT(KeyTypeFromVault("rsa", 1024), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyTypeFromVault("ec", 521), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyTypeFromVault("ed25519", 256), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyTypeFromVault("dsa", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyTypeFromVault("ec-p384", 0), IsOkAndHolds(KeyType::kEcP384));
}

TEST(KeysTest, UnsupportedKeysAreRefused) {
  EvpPkeyPtr rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_NE(rsa1024, nullptr);
  EXPECT_THAT(KeyTypeOf(rsa1024.get()), StatusIs(absl::StatusCode::kInvalidArgument));
  EvpPkeyPtr k1(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  ASSERT_NE(k1, nullptr);
  EXPECT_THAT(KeyTypeOf(k1.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("P-256")));
}

TEST(KeysTest, GarbageIsNotAKeyAndIsNotQuoted) {
  EXPECT_THAT(ParsePrivateKeyPem(SecretBytes("hunter2-not-a-key")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::Not(HasSubstr("hunter2"))));
}

TEST(KeysTest, DifferentKeysDiffer) {
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr a, GenerateKey(KeyType::kEcP256));
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr b, GenerateKey(KeyType::kEcP256));
  EXPECT_FALSE(SamePublicKey(a.get(), b.get()));
}

}  // namespace
}  // namespace rekey::pki
