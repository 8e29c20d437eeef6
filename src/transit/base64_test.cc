#include "transit/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace rekey::transit {
namespace {

std::string Bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Both the standard and the URL decoder agree with the character-at-a-time reference on `text`.
void ExpectAgrees(const std::string& text) {
  EXPECT_EQ(Base64Decode(text), internal::Base64DecodeOneByOne(text, false)) << text;
  EXPECT_EQ(Base64UrlDecode(text), internal::Base64DecodeOneByOne(text, true)) << text;
  const std::optional<SecretBytes> secret = Base64DecodeSecret(text);
  const std::optional<std::string> plain = Base64Decode(text);
  ASSERT_EQ(secret.has_value(), plain.has_value()) << text;
  if (secret.has_value()) {
    EXPECT_EQ(secret->Reveal(), *plain);
  }
}

TEST(Base64Test, MatchesRfc4648VectorsAndGo) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("Zm9v\r\nYmFy"), "foobar");  // Go skips CR and LF
  std::string appended = "vault:v1:";
  Base64EncodeAppend("foo", &appended);
  EXPECT_EQ(appended, "vault:v1:Zm9v");
}

TEST(Base64Test, DecodeIsStrictLikeGo) {
  for (const char* bad : {"Zg", "Zg=", "Zg==Zg==", "Z!==", "Zm9v YmFy",
                          "Z===", "Zm9vYg=", "Zm9vY===", "Zm=9vYmFy", "Zm9v-mFy"}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
    EXPECT_EQ(Base64DecodeSecret(bad), std::nullopt) << bad;
  }
}

TEST(Base64Test, UrlVariantHasNoPadding) {
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode("-_8="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("+/8"), std::nullopt);
}

TEST(Base64Test, RoundTripsEveryLength) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    const std::string data = Bytes(rng, n);
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)), data);
    EXPECT_EQ(Base64EncodeSecret(data).Reveal(), Base64Encode(data));
    ASSERT_TRUE(Base64DecodeSecret(Base64Encode(data)).has_value());
    EXPECT_EQ(Base64DecodeSecret(Base64Encode(data))->Reveal(), data);
  }
}

// The table-driven decoder accepts exactly what the reference does: valid encodings with one
// character changed, inserted or removed, anywhere (padding, newlines, bad characters included).
TEST(Base64Test, FastPathAgreesWithReferenceOnMutations) {
  std::mt19937 rng(11);
  const std::string specials = "=\r\n+/-_ A\x80";
  for (int round = 0; round < 3000; ++round) {
    const std::string data = Bytes(rng, rng() % 40);
    std::string text = (round % 2 == 0) ? Base64Encode(data) : Base64UrlEncode(data);
    ExpectAgrees(text);
    const size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
    const char c = specials[rng() % specials.size()];
    switch (rng() % 3) {
      case 0:
        if (at < text.size()) text[at] = c;
        break;
      case 1:
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        if (at < text.size()) text.erase(at, 1);
        break;
    }
    ExpectAgrees(text);
  }
}

}  // namespace
}  // namespace rekey::transit
