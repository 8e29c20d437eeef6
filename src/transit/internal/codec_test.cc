// JSON serialization into wiped memory (base64 is tested in transit/base64_test.cc).
#include "transit/internal/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"

namespace rekey::transit::internal {
namespace {

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
