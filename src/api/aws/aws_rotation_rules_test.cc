#include "api/aws/aws_rotation_rules.h"

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;

absl::StatusOr<RotationRulesSpec> Parse(std::string_view text) {
  return ParseRotationRules(json::parse(text).as_object());
}

TEST(RotationRulesTest, DaysAndRatesBecomeRekeyRates) {
  ASSERT_OK_AND_ASSIGN(RotationRulesSpec days, Parse(R"j({"AutomaticallyAfterDays": 30})j"));
  EXPECT_EQ(days.schedule, "rate(30d)");
  EXPECT_FALSE(days.window.has_value());
  ASSERT_OK_AND_ASSIGN(RotationRulesSpec rate,
                       Parse(R"j({"ScheduleExpression": "rate(10 days)", "Duration": "3h"})j"));
  EXPECT_EQ(rate.schedule, "rate(10d)");
  EXPECT_EQ(rate.window, "3h");
  ASSERT_OK_AND_ASSIGN(RotationRulesSpec hours,
                       Parse(R"j({"ScheduleExpression": "rate(4 hours)"})j"));
  EXPECT_EQ(hours.schedule, "rate(4h)");
  ASSERT_OK_AND_ASSIGN(RotationRulesSpec cron,
                       Parse(R"j({"ScheduleExpression": "cron(0 16 1,15 * ? *)"})j"));
  EXPECT_EQ(cron.schedule, "cron(0 16 1,15 * ? *)");
}

TEST(RotationRulesTest, InvalidRulesAreRefusedWithTheMemberNamed) {
  EXPECT_THAT(Parse(R"j({"AutomaticallyAfterDays": 3, "ScheduleExpression": "rate(3 days)"})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"AutomaticallyAfterDays": 0})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"AutomaticallyAfterDays": 1001})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"ScheduleExpression": "every day"})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"ScheduleExpression": "rate(5 minutes)"})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"AutomaticallyAfterDays": 1, "Duration": "25h"})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Parse(R"j({"AutomaticallyAfterDays": 1, "Duration": "90m"})j"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RotationRulesTest, DescribeShowsTheAwsForm) {
  EXPECT_EQ(json::serialize(RotationRulesJson("rate(30d)", absl::ZeroDuration())),
            R"j({"AutomaticallyAfterDays":30})j");
  EXPECT_EQ(json::serialize(RotationRulesJson("rate(4h)", absl::Hours(2))),
            R"j({"ScheduleExpression":"rate(4 hours)","Duration":"2h"})j");
  EXPECT_EQ(json::serialize(RotationRulesJson("cron(0 2 * * ? *)", absl::ZeroDuration())),
            R"j({"ScheduleExpression":"cron(0 2 * * ? *)"})j");
  EXPECT_TRUE(RotationRulesJson("", absl::ZeroDuration()).empty());
}

TEST(RotationRulesTest, LambdaArnsNameAFunction) {
  EXPECT_EQ(*LambdaFunctionName("arn:aws:lambda:us-east-1:123456789012:function:postgres"),
            "postgres");
  EXPECT_EQ(*LambdaFunctionName("arn:aws:lambda:us-east-1:123456789012:function:generic:PROD"),
            "generic");
  EXPECT_EQ(*LambdaFunctionName("function:templates/pg"), "templates/pg");
  EXPECT_THAT(LambdaFunctionName("arn:aws:lambda:us-east-1:1:layer:x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LambdaFunctionName("arn:aws:lambda:us-east-1:1:function:"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::api::aws
