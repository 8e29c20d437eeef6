// Tests for the audit line format: quoting, time, the line frame.
#include "audit/internal/line_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace rekey::audit::internal {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(JsonQuoteTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonQuote("h\xc3\xa9llo"), "\"h\xc3\xa9llo\"");
  EXPECT_EQ(JsonQuote("a\xff"
                      "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(JsonQuote("\xc3"), "\"\\ufffd\"");                        // truncated sequence
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
}

TEST(JsonQuoteTest, OutputIsValidJson) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string quoted = JsonQuote(all);
  EXPECT_THAT(quoted, Not(HasSubstr("\n")));
  boost::json::error_code ec;
  boost::json::parse(quoted, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(AuditTimeTest, FormatsRfc3339WithNanosAndParsesBack) {
  absl::Time t = absl::FromUnixNanos(1700000000123456789);
  EXPECT_EQ(FormatAuditTime(t), "2023-11-14T22:13:20.123456789Z");
  ASSERT_OK_AND_ASSIGN(absl::Time back, ParseAuditTime("2023-11-14T22:13:20.123456789Z"));
  EXPECT_EQ(back, t);
  EXPECT_EQ(FormatAuditTime(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00.000000000Z");
}

TEST(AuditTimeTest, RejectsOtherForms) {
  EXPECT_THAT(ParseAuditTime("2023-11-14T22:13:20Z"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAuditTime("2023-11-14T22:13:20.123456789+00:00"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAuditTime("2023-11-14 22:13:20.123456789Z"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LineFrameTest, AppendLineThenParseFrame) {
  std::string line;
  std::string prev = crypto::Sha256("previous");
  AppendLine(&line, 42, "\"type\":\"event\",\"time\":\"x\",", prev);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line, "{\"sequence\":42,\"type\":\"event\",\"time\":\"x\",\"prev\":\"sha256:" +
                      Hex(prev) + "\"}");
  LineFrame f;
  ASSERT_EQ(ParseLineFrame(line, &f), nullptr);
  EXPECT_EQ(f.sequence, 42u);
  EXPECT_EQ(f.type, "event");
  EXPECT_EQ(f.prev_hex, Hex(prev));
}

TEST(LineFrameTest, RejectsMalformedFrames) {
  std::string good;
  AppendLine(&good, 7, "\"type\":\"event\",\"time\":\"x\",", crypto::Sha256("p"));
  good.pop_back();
  LineFrame f;
  ASSERT_EQ(ParseLineFrame(good, &f), nullptr);
  auto with = [&](size_t pos, char c) {
    std::string s = good;
    s[pos] = c;
    return s;
  };
  EXPECT_NE(ParseLineFrame(with(0, '['), &f), nullptr);
  EXPECT_NE(ParseLineFrame(with(12, 'x'), &f), nullptr);  // sequence digit
  EXPECT_NE(ParseLineFrame(with(good.size() - 1, ']'), &f), nullptr);
  EXPECT_NE(ParseLineFrame(with(good.size() - 3, 'G'), &f), nullptr);  // prev hex
  EXPECT_NE(ParseLineFrame(with(good.size() - 3, 'A'), &f), nullptr);  // upper-case hex
  EXPECT_NE(ParseLineFrame(good.substr(0, good.size() - 1), &f), nullptr);
  EXPECT_NE(ParseLineFrame("", &f), nullptr);
  std::string leading_zero = good;
  leading_zero.insert(12, "0");
  EXPECT_NE(ParseLineFrame(leading_zero, &f), nullptr);
  std::string huge = good;
  huge.insert(12, "99999999999999999999");
  EXPECT_NE(ParseLineFrame(huge, &f), nullptr);
}

TEST(GenesisTest, DependsOnDeviceNameAndId) {
  EXPECT_EQ(GenesisHash("file", "00"), crypto::Sha256("rekey-audit-genesis\nfile\n00"));
  EXPECT_NE(GenesisHash("file", "00"), GenesisHash("file", "01"));
  EXPECT_NE(GenesisHash("file", "00"), GenesisHash("stdout", "00"));
}

}  // namespace
}  // namespace rekey::audit::internal
