// Tests for SHA-256, HMAC-SHA256 (RFC 4231) and HKDF-SHA256 (RFC 5869).
#include "crypto/hash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"

namespace rekey::crypto {
namespace {

using ::rekey::testing::StatusIs;

std::string Hex(std::string_view bytes) { return absl::BytesToHexString(ToAbsl(bytes)); }

// Bytes first, first+1, ..., last.
std::string Range(int first, int last) {
  std::string out;
  for (int b = first; b <= last; ++b) out.push_back(static_cast<char>(b));
  return out;
}

TEST(Sha256Test, DigestOfAbc) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, DigestOfEmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, HexIsLowerCaseOfRawDigest) {
  EXPECT_EQ(Sha256Hex("abc"), Hex(Sha256("abc")));
  EXPECT_EQ(Sha256Hex("abc").size(), 64u);
}

TEST(HmacSha256Test, Rfc4231TestCase1) {
  ASSERT_OK_AND_ASSIGN(std::string mac, HmacSha256(std::string(20, '\x0b'), "Hi There"));
  EXPECT_EQ(Hex(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231TestCase2) {
  ASSERT_OK_AND_ASSIGN(std::string mac, HmacSha256("Jefe", "what do ya want for nothing?"));
  EXPECT_EQ(Hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231TestCase6KeyLongerThanBlock) {
  ASSERT_OK_AND_ASSIGN(std::string mac,
                       HmacSha256(std::string(131, '\xaa'),
                                  "Test Using Larger Than Block-Size Key - Hash Key First"));
  EXPECT_EQ(Hex(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  ASSERT_OK_AND_ASSIGN(std::string mac, HmacSha256("", ""));
  EXPECT_EQ(Hex(mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HkdfSha256Test, Rfc5869TestCase1) {
  ASSERT_OK_AND_ASSIGN(SecretBytes okm, HkdfSha256(SecretBytes(std::string(22, '\x0b')),
                                                   Range(0x00, 0x0c), Range(0xf0, 0xf9), 42));
  EXPECT_EQ(Hex(okm.Reveal()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256Test, Rfc5869TestCase2LongInputs) {
  ASSERT_OK_AND_ASSIGN(SecretBytes okm, HkdfSha256(SecretBytes(Range(0x00, 0x4f)),
                                                   Range(0x60, 0xaf), Range(0xb0, 0xff), 82));
  EXPECT_EQ(Hex(okm.Reveal()),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfSha256Test, Rfc5869TestCase3EmptySaltAndInfo) {
  ASSERT_OK_AND_ASSIGN(SecretBytes okm,
                       HkdfSha256(SecretBytes(std::string(22, '\x0b')), "", "", 42));
  EXPECT_EQ(Hex(okm.Reveal()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256Test, RejectsZeroLength) {
  EXPECT_THAT(HkdfSha256(SecretBytes("ikm"), "", "", 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HkdfSha256Test, AcceptsMaximumLengthAndRejectsOneMore) {
  EXPECT_THAT(HkdfSha256(SecretBytes("ikm"), "", "", 255 * 32), rekey::testing::IsOk());
  EXPECT_THAT(HkdfSha256(SecretBytes("ikm"), "", "", 255 * 32 + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HkdfSha256Test, RejectsEmptyInputKeyMaterial) {
  EXPECT_THAT(HkdfSha256(SecretBytes(), "salt", "info", 32),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::crypto
