// Base64 as Go encodes and decodes it, and JSON serialization into wiped memory.
#include "transit/internal/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"

namespace rekey::transit::internal {
namespace {

TEST(CodecTest, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYg==").value_or("?"), "foob");
  EXPECT_EQ(Base64Decode("").value_or("?"), "");
}

TEST(CodecTest, Base64DecodeIsStrictLikeGo) {
  EXPECT_FALSE(Base64Decode("Zg").has_value());        // missing padding
  EXPECT_FALSE(Base64Decode("Zg=").has_value());       // short padding
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());  // data after padding
  EXPECT_FALSE(Base64Decode("Z!==").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v YmFy").has_value());
  EXPECT_FALSE(Base64Decode("Z===").has_value());
  EXPECT_EQ(Base64Decode("Zm9v\r\nYmFy").value_or("?"), "foobar");  // Go skips CR/LF
}

TEST(CodecTest, SecretVariantsAgree) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  SecretBytes enc = Base64EncodeSecret(all);
  EXPECT_EQ(enc.Reveal(), Base64Encode(all));
  std::optional<SecretBytes> dec = Base64DecodeSecret(enc.Reveal());
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(dec->Reveal(), all);
  EXPECT_FALSE(Base64DecodeSecret("***").has_value());
}

TEST(CodecTest, UrlVariantHasNoPadding) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8").value_or("?"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("-_8=").has_value());
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
}

TEST(CodecTest, SecretJsonRoundTripsLargeDocuments) {
  boost::json::object o(ZeroingJsonStorage());
  o["big"] = std::string(10000, 'x');
  o["n"] = 7;
  SecretBytes text = SerializeSecretJson(o);
  EXPECT_EQ(text.Reveal(), boost::json::serialize(o));
  ASSERT_OK_AND_ASSIGN(boost::json::value back, ParseSecretJson(text.Reveal(), "doc"));
  EXPECT_EQ(back.at("big").as_string().size(), 10000u);
  EXPECT_THAT(ParseSecretJson("{", "doc"), rekey::testing::StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace rekey::transit::internal
