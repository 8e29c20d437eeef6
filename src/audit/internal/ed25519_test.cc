// Tests for the Ed25519 wrapper, with RFC 8032 section 7.1 test vectors.
#include "audit/internal/ed25519.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "core/testing/status_matchers.h"

namespace rekey::audit::internal {
namespace {

using ::rekey::testing::StatusIs;

std::string Unhex(const char* hex) { return absl::HexStringToBytes(hex); }

TEST(Ed25519Test, Rfc8032Test1) {
  SecretBytes seed(Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_OK_AND_ASSIGN(Ed25519Signer signer, Ed25519Signer::Create(seed));
  EXPECT_EQ(signer.public_key(),
            Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  ASSERT_OK_AND_ASSIGN(std::string sig, signer.Sign(""));
  EXPECT_EQ(sig, Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_OK(Ed25519Verify(signer.public_key(), "", sig));
}

TEST(Ed25519Test, Rfc8032Test2) {
  SecretBytes seed(Unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  ASSERT_OK_AND_ASSIGN(Ed25519Signer signer, Ed25519Signer::Create(seed));
  ASSERT_OK_AND_ASSIGN(std::string sig, signer.Sign(Unhex("72")));
  EXPECT_EQ(sig, Unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"));
}

TEST(Ed25519Test, AlteredMessageOrSignatureDoesNotVerify) {
  SecretBytes seed(std::string(32, '\x01'));
  ASSERT_OK_AND_ASSIGN(Ed25519Signer signer, Ed25519Signer::Create(seed));
  ASSERT_OK_AND_ASSIGN(std::string sig, signer.Sign("checkpoint 1"));
  EXPECT_THAT(Ed25519Verify(signer.public_key(), "checkpoint 2", sig),
              StatusIs(absl::StatusCode::kDataLoss));
  sig[10] ^= 1;
  EXPECT_THAT(Ed25519Verify(signer.public_key(), "checkpoint 1", sig),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(Ed25519Test, WrongSizesAreInvalidArguments) {
  EXPECT_THAT(Ed25519Signer::Create(SecretBytes(std::string(31, 'x'))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Ed25519Verify(std::string(31, 'x'), "m", std::string(64, 's')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Ed25519Verify(std::string(32, 'x'), "m", std::string(63, 's')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::audit::internal
