// Tests for the step protocol shared by the http and exec rotators.
#include "rotators/http/step_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"

namespace rekey::rotators::step_protocol {
namespace {

namespace json = boost::json;
using ::rekey::rotation::Problem;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;

TEST(StepProtocolTest, IdempotencyKeyIsRunStepAndAttempt) {
  FakeStepContext ctx;
  ctx.set_run_id("r-1");
  ctx.set_attempt(3);
  EXPECT_EQ(IdempotencyKey(Action::kRevoke, ctx), "r-1:revoke:3");
}

TEST(StepProtocolTest, EmptyAnswerIsAnEmptyObject) {
  ASSERT_OK_AND_ASSIGN(Answer a, ParseAnswer(" \n", "provider x"));
  EXPECT_FALSE(a.value.has_value());
  EXPECT_TRUE(a.state.empty());
  EXPECT_EQ(a.message, "");
}

TEST(StepProtocolTest, AnswerFieldsAreParsedAndUnknownMembersIgnored) {
  ASSERT_OK_AND_ASSIGN(Answer a,
                       ParseAnswer(R"({"value": {"api_key": "k"}, "state": {"a": "1", "b": null},
                               "message": "fine", "extra": [1]})",
                                   "provider x"));
  ASSERT_TRUE(a.value.has_value());
  EXPECT_EQ(a.value->at("api_key"), "k");
  EXPECT_THAT(a.state, ElementsAre(Pair("a", Optional(std::string("1"))), Pair("b", std::nullopt)));
  EXPECT_EQ(a.message, "fine");
}

TEST(StepProtocolTest, OversizedAnswerIsRefused) {
  EXPECT_THAT(ParseAnswer(std::string(kMaxAnswerBytes + 1, ' '), "command /x"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("command /x")));
}

TEST(StepProtocolTest, LongStateValuesAreRefused) {
  const std::string text =
      R"({"state": {"k": ")" + std::string(kMaxStateValueChars + 1, 'v') + R"("}})";
  EXPECT_THAT(ParseAnswer(text, "p"), StatusIs(absl::StatusCode::kInternal));
}

TEST(StepProtocolTest, TooManyStateEntriesAreRefused) {
  FakeStepContext ctx;
  Answer a;
  for (size_t i = 0; i <= kMaxStateEntries; ++i) a.state.emplace_back("k" + std::to_string(i), "v");
  EXPECT_THAT(ApplyState(a, ctx, "p"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_TRUE(ctx.state().empty());
}

TEST(StepProtocolTest, SafeMessageReplacesControlAndNonAsciiBytes) {
  EXPECT_EQ(SafeMessage("a\tb\x1b[31m\xc3\xa9"), "a?b?[31m??");
}

TEST(StepProtocolTest, ErrorMessageNeverFails) {
  EXPECT_EQ(ErrorMessage("<html>"), "");
  EXPECT_EQ(ErrorMessage(R"({"message": 5})"), "");
  EXPECT_EQ(ErrorMessage(R"({"message": "no"})"), "no");
}

TEST(StepProtocolTest, ValueOptionsDefaultsAndProblems) {
  std::vector<Problem> problems;
  ValueOptions o = ParseValueOptions(json::object(), &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(o.field, "api_key");
  EXPECT_TRUE(o.merge);
  EXPECT_EQ(o.source, ValueSource::kProvider);
  ParseValueOptions(json::parse(R"({"field": 1, "merge": 0, "value_source": "x"})").as_object(),
                    &problems);
  EXPECT_EQ(problems.size(), 3u);
}

TEST(StepProtocolTest, DurationParam) {
  std::vector<Problem> problems;
  const json::object p = json::parse(R"({"a": "1m30s", "b": "0s", "c": 5})").as_object();
  EXPECT_EQ(
      ParseDurationParam(p, "a", absl::Seconds(1), absl::Seconds(1), absl::Hours(1), &problems),
      absl::Seconds(90));
  EXPECT_EQ(
      ParseDurationParam(p, "b", absl::Seconds(7), absl::Seconds(1), absl::Hours(1), &problems),
      absl::Seconds(7));
  ParseDurationParam(p, "c", absl::Seconds(7), absl::Seconds(1), absl::Hours(1), &problems);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].field, "params.b");
  EXPECT_EQ(problems[1].field, "params.c");
}

TEST(StepProtocolTest, RequestWithAnUnparsableActedOnValueIsFailedPrecondition) {
  FakeStepContext ctx;
  ctx.set_pending(FakeStepContext::MakeVersion(2, "v2", "not json secret-ish"));
  EXPECT_THAT(BuildRequest(Action::kTest, ctx, ValueOptions{}),
              StatusIs(absl::StatusCode::kFailedPrecondition, Not(HasSubstr("secret-ish"))));
  // finish does not send the pending value, so it does not need to parse it.
  EXPECT_OK(BuildRequest(Action::kFinish, ctx, ValueOptions{}).status());
}

TEST(StepProtocolTest, GeneratedValueReplacesOnlyTheField) {
  FakeStepContext ctx;
  ctx.set_current(FakeStepContext::MakeVersion(1, "v1", R"({"api_key": "old", "user": "u"})"));
  ValueOptions o;
  ASSERT_OK_AND_ASSIGN(SecretBytes v, GenerateNewValue(ctx, o));
  EXPECT_EQ(json::parse(json::string_view(v.Reveal().data(), v.size())),
            json::value({{"api_key", ctx.generated().at(0)}, {"user", "u"}}));
  o.merge = false;
  ASSERT_OK_AND_ASSIGN(SecretBytes w, GenerateNewValue(ctx, o));
  EXPECT_EQ(json::parse(json::string_view(w.Reveal().data(), w.size())),
            json::value({{"api_key", ctx.generated().at(1)}}));
}

}  // namespace
}  // namespace rekey::rotators::step_protocol
