// Tests for AES-256-GCM seal/open against the GCM specification's test vectors.
#include "crypto/internal/aes_gcm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "core/testing/status_matchers.h"

namespace rekey::crypto::internal {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV).
const std::string kKey =
    absl::HexStringToBytes("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
const std::string kNonce = absl::HexStringToBytes("cafebabefacedbaddecaf888");
const std::string kPlaintext = absl::HexStringToBytes(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
const std::string kAad = absl::HexStringToBytes("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const std::string kCiphertextAndTag = absl::HexStringToBytes(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
    "76fc6ece0f4e1768cddf8853bb2d551b");

TEST(AesGcm256Test, SealMatchesKnownAnswer) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string out;
  ASSERT_THAT(aes.Seal(kKey, kNonce, kPlaintext, {kAad}, &out), IsOk());
  EXPECT_EQ(absl::BytesToHexString(out), absl::BytesToHexString(kCiphertextAndTag));
}

TEST(AesGcm256Test, SealAppendsToExistingOutput) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string out = "prefix";
  ASSERT_THAT(aes.Seal(kKey, kNonce, kPlaintext, {kAad}, &out), IsOk());
  EXPECT_EQ(out, "prefix" + kCiphertextAndTag);
}

TEST(AesGcm256Test, AadPartsAreAuthenticatedAsTheirConcatenation) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string out;
  const std::string_view aad(kAad);
  ASSERT_THAT(aes.Seal(kKey, kNonce, kPlaintext, {aad.substr(0, 5), "", aad.substr(5)}, &out),
              IsOk());
  EXPECT_EQ(out, kCiphertextAndTag);
}

TEST(AesGcm256Test, OpenRecoversKnownPlaintext) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  ASSERT_OK_AND_ASSIGN(SecretBytes plaintext, aes.Open(kKey, kNonce, kCiphertextAndTag, {kAad}));
  EXPECT_EQ(plaintext.Reveal(), kPlaintext);
}

TEST(AesGcm256Test, EmptyPlaintextRoundTrips) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string out;
  ASSERT_THAT(aes.Seal(kKey, kNonce, "", {}, &out), IsOk());
  EXPECT_EQ(out.size(), kAesGcmTagSize);
  ASSERT_OK_AND_ASSIGN(SecretBytes plaintext, aes.Open(kKey, kNonce, out, {}));
  EXPECT_TRUE(plaintext.empty());
}

TEST(AesGcm256Test, OpenRejectsWrongTag) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string tampered = kCiphertextAndTag;
  tampered.back() ^= 0x01;
  EXPECT_THAT(aes.Open(kKey, kNonce, tampered, {kAad}),
              StatusIs(absl::StatusCode::kInvalidArgument, "decryption failed"));
}

TEST(AesGcm256Test, OpenRejectsWrongAad) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  EXPECT_THAT(aes.Open(kKey, kNonce, kCiphertextAndTag, {"other"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "decryption failed"));
}

TEST(AesGcm256Test, OpenRejectsInputShorterThanTag) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  EXPECT_THAT(aes.Open(kKey, kNonce, std::string(kAesGcmTagSize - 1, 'x'), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "decryption failed"));
}

TEST(AesGcm256Test, SealRejectsWrongKeyAndNonceSizes) {
  ASSERT_OK_AND_ASSIGN(AesGcm256 aes, AesGcm256::Create());
  std::string out;
  EXPECT_THAT(aes.Seal(kKey.substr(0, 16), kNonce, "x", {}, &out),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(aes.Seal(kKey, kNonce.substr(0, 8), "x", {}, &out),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::crypto::internal
