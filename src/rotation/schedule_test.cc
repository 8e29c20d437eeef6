#include "rotation/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing/status_matchers.h"

namespace rekey::rotation {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

absl::Time T(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) {
    ADD_FAILURE() << "bad time " << rfc3339 << ": " << err;
  }
  return t;
}

std::string Fmt(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "never";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

Schedule S(const std::string& text) {
  absl::StatusOr<Schedule> s = Schedule::Parse(text);
  EXPECT_OK(s) << text;
  if (!s.ok()) return *Schedule::Parse("rate(1d)");
  return *s;
}

// The first occurrence of a rate/cron schedule strictly after `after`.
std::string Next(const std::string& text, const std::string& after) {
  return Fmt(S(text).NextOccurrenceAfter(absl::InfinitePast(), T(after)));
}

// The next `n` occurrences after `after`.
std::vector<std::string> NextN(const std::string& text, const std::string& after, int n) {
  Schedule s = S(text);
  std::vector<std::string> out;
  absl::Time t = T(after);
  for (int i = 0; i < n; ++i) {
    t = s.NextOccurrenceAfter(absl::InfinitePast(), t);
    out.push_back(Fmt(t));
  }
  return out;
}

std::string ParseError(const std::string& text) {
  absl::StatusOr<Schedule> s = Schedule::Parse(text);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  return s.ok() ? "" : std::string(s.status().message());
}

// ---- durations ----

TEST(ScheduleDurationTest, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*ParseScheduleDuration("30d"), absl::Hours(24 * 30));
  EXPECT_EQ(*ParseScheduleDuration("12h"), absl::Hours(12));
  EXPECT_EQ(*ParseScheduleDuration("90m"), absl::Minutes(90));
  EXPECT_EQ(*ParseScheduleDuration("45s"), absl::Seconds(45));
  EXPECT_EQ(*ParseScheduleDuration("1d12h"), absl::Hours(36));
  EXPECT_EQ(*ParseScheduleDuration("1d2h3m4s"),
            absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4));
  EXPECT_EQ(*ParseScheduleDuration(" 5m "), absl::Minutes(5));
  EXPECT_EQ(*ParseScheduleDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseScheduleDuration("0s"), absl::ZeroDuration());
}

TEST(ScheduleDurationTest, RejectsMalformedDurationsWithPreciseMessages) {
  auto err = [](const char* text) {
    absl::StatusOr<absl::Duration> d = ParseScheduleDuration(text);
    EXPECT_THAT(d, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    return d.ok() ? std::string() : std::string(d.status().message());
  };
  EXPECT_THAT(err(""), HasSubstr("empty"));
  EXPECT_EQ(err("5"), "duration '5': the number 5 has no unit (use d, h, m or s)");
  EXPECT_EQ(err("5x"), "duration '5x': unknown unit 'x' (use d, h, m or s)");
  EXPECT_THAT(err("1h1d"), HasSubstr("units must go from largest to smallest"));
  EXPECT_THAT(err("1h1h"), HasSubstr("each at most once"));
  EXPECT_THAT(err("-5m"), HasSubstr("expected a number at '-5m'"));
  EXPECT_THAT(err("1d 2h"), HasSubstr("expected a number at ' 2h'"));
  EXPECT_EQ(err("36501d"), "duration '36501d' is longer than 36500d");
  EXPECT_THAT(err("99999999999d"), HasSubstr("is longer than 36500d"));
}

TEST(ScheduleDurationTest, FormatsCanonicallyAndRoundTrips) {
  EXPECT_EQ(FormatScheduleDuration(absl::Hours(36)), "1d12h");
  EXPECT_EQ(FormatScheduleDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(FormatScheduleDuration(absl::Hours(24 * 30)), "30d");
  EXPECT_EQ(FormatScheduleDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatScheduleDuration(absl::Seconds(61)), "1m1s");
  for (absl::Duration d : {absl::Seconds(1), absl::Hours(25),
                           absl::Hours(24 * 365) + absl::Seconds(7), absl::Minutes(59)}) {
    EXPECT_EQ(*ParseScheduleDuration(FormatScheduleDuration(d)), d) << d;
  }
}

// ---- rate ----

TEST(RateScheduleTest, AcceptsShortLongAndAwsUnits) {
  EXPECT_EQ(S("rate(30d)").ToString(), "rate(30d)");
  EXPECT_EQ(S("rate(30 d)").ToString(), "rate(30d)");
  EXPECT_EQ(S("rate(30 days)").ToString(), "rate(30d)");
  EXPECT_EQ(S("rate(1 day)").ToString(), "rate(1d)");
  EXPECT_EQ(S("rate(12h)").ToString(), "rate(12h)");
  EXPECT_EQ(S("rate(12 hours)").ToString(), "rate(12h)");
  EXPECT_EQ(S("rate(1 hour)").ToString(), "rate(1h)");
  EXPECT_EQ(S("rate(90m)").ToString(), "rate(90m)");
  EXPECT_EQ(S("rate(5 minutes)").ToString(), "rate(5m)");
  EXPECT_EQ(S("rate(1 minute)").ToString(), "rate(1m)");
  EXPECT_EQ(S("rate(120m)").ToString(), "rate(2h)");
  EXPECT_EQ(S("rate(24h)").ToString(), "rate(1d)");
  EXPECT_EQ(S("  rate( 7 Days )  ").ToString(), "rate(7d)");
  EXPECT_EQ(S("rate(1d)").kind(), Schedule::Kind::kRate);
}

TEST(RateScheduleTest, EnforcesOneMinuteToTenYears) {
  EXPECT_OK(Schedule::Parse("rate(3650d)"));
  EXPECT_OK(Schedule::Parse("rate(5256000m)"));  // 3650d in minutes
  EXPECT_EQ(ParseError("rate(0m)"), "rate(0m): the rate must be at least 1 minute");
  EXPECT_EQ(ParseError("rate(3651d)"), "rate(3651d): the rate must be at most 10 years (3650d)");
  EXPECT_THAT(ParseError("rate(5256001m)"), HasSubstr("at most 10 years"));
  EXPECT_THAT(ParseError("rate(9999999999999d)"), HasSubstr("at most 10 years"));
  EXPECT_EQ(ParseError("rate(5 weeks)"),
            "rate(5 weeks): unknown unit 'weeks' (use m, h, d, minutes, hours or days)");
  EXPECT_THAT(ParseError("rate(30)"), HasSubstr("missing unit"));
  EXPECT_THAT(ParseError("rate(d)"), HasSubstr("expected a whole number and a unit"));
  EXPECT_THAT(ParseError("rate(-1d)"), HasSubstr("expected a whole number"));
  EXPECT_THAT(ParseError("rate(1.5h)"), HasSubstr("unknown unit"));
}

TEST(RateScheduleTest, NextDueCountsFromLastRotationOrCreation) {
  Schedule s = S("rate(30d)");
  ScheduleInput in;
  in.created = T("2024-01-01T00:00:00Z");
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-01-31T00:00:00Z");
  in.last_rotated = T("2024-02-10T13:14:15Z");
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-03-11T13:14:15Z");  // not aligned to minutes or days
  EXPECT_THAT(s.NextDue(ScheduleInput{}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RateScheduleTest, NextOccurrenceFollowsTheAnchorGrid) {
  Schedule s = S("rate(1h)");
  const absl::Time anchor = T("2024-01-01T00:00:00Z");
  EXPECT_EQ(Fmt(s.NextOccurrenceAfter(anchor, T("2024-01-01T05:30:00Z"))), "2024-01-01T06:00:00Z");
  EXPECT_EQ(Fmt(s.NextOccurrenceAfter(anchor, T("2024-01-01T06:00:00Z"))), "2024-01-01T07:00:00Z");
  EXPECT_EQ(Fmt(s.NextOccurrenceAfter(anchor, T("2023-12-31T00:00:00Z"))), "2024-01-01T00:00:00Z");
  EXPECT_EQ(s.NextOccurrenceAfter(anchor, absl::InfiniteFuture()), absl::InfiniteFuture());
}

// ---- cron, 5 fields ----

TEST(CronScheduleTest, WeeklyByNameAndNumber) {
  // 2024-01-01 is a Monday.
  EXPECT_EQ(Next("cron(0 2 * * SUN)", "2024-01-01T00:00:00Z"), "2024-01-07T02:00:00Z");
  EXPECT_EQ(Next("cron(0 2 * * 0)", "2024-01-01T00:00:00Z"), "2024-01-07T02:00:00Z");
  EXPECT_EQ(Next("cron(0 2 * * 7)", "2024-01-01T00:00:00Z"), "2024-01-07T02:00:00Z");
  EXPECT_EQ(Next("cron(0 2 * * sun)", "2024-01-01T00:00:00Z"), "2024-01-07T02:00:00Z");
  EXPECT_EQ(Next("cron(0 0 * * MON-FRI)", "2024-01-05T12:00:00Z"), "2024-01-08T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 * * 5-7)", "2024-01-06T12:00:00Z"), "2024-01-07T00:00:00Z");  // Sun
}

TEST(CronScheduleTest, StrictlyAfterTheGivenTime) {
  EXPECT_EQ(Next("cron(*/15 * * * *)", "2024-01-01T10:07:00Z"), "2024-01-01T10:15:00Z");
  EXPECT_EQ(Next("cron(*/15 * * * *)", "2024-01-01T10:15:00Z"), "2024-01-01T10:30:00Z");
  EXPECT_EQ(Next("cron(*/15 * * * *)", "2024-01-01T10:14:59.5Z"), "2024-01-01T10:15:00Z");
  EXPECT_EQ(Next("cron(* * * * *)", "2024-01-01T10:14:00Z"), "2024-01-01T10:15:00Z");
}

TEST(CronScheduleTest, ListsRangesAndSteps) {
  EXPECT_EQ(NextN("cron(0 9,17 * * *)", "2024-01-01T10:00:00Z", 3),
            (std::vector<std::string>{"2024-01-01T17:00:00Z", "2024-01-02T09:00:00Z",
                                      "2024-01-02T17:00:00Z"}));
  EXPECT_EQ(NextN("cron(0 8-18/5 * * *)", "2024-01-01T09:00:00Z", 3),
            (std::vector<std::string>{"2024-01-01T13:00:00Z", "2024-01-01T18:00:00Z",
                                      "2024-01-02T08:00:00Z"}));
  EXPECT_EQ(NextN("cron(5/20 * * * *)", "2024-01-01T09:00:00Z", 4),
            (std::vector<std::string>{"2024-01-01T09:05:00Z", "2024-01-01T09:25:00Z",
                                      "2024-01-01T09:45:00Z", "2024-01-01T10:05:00Z"}));
  EXPECT_EQ(NextN("cron(30 1 1 JAN-MAR,oct *)", "2024-01-15T00:00:00Z", 3),
            (std::vector<std::string>{"2024-02-01T01:30:00Z", "2024-03-01T01:30:00Z",
                                      "2024-10-01T01:30:00Z"}));
  EXPECT_EQ(Next("cron(0 0 1 */4 *)", "2024-02-01T00:00:00Z"), "2024-05-01T00:00:00Z");
}

TEST(CronScheduleTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // 2024-01-05, -12 and -19 are Fridays; the 13th matches by day of month.
  EXPECT_EQ(NextN("cron(0 0 13 * FRI)", "2024-01-01T00:00:00Z", 4),
            (std::vector<std::string>{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z",
                                      "2024-01-13T00:00:00Z", "2024-01-19T00:00:00Z"}));
  // A step in day-of-month restricts it too: 1, 11, 21, 31 or a Monday.
  EXPECT_EQ(NextN("cron(0 0 */10 * MON)", "2023-12-31T23:00:00Z", 4),
            (std::vector<std::string>{"2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z",
                                      "2024-01-11T00:00:00Z", "2024-01-15T00:00:00Z"}));
}

TEST(CronScheduleTest, OnlyTheRestrictedDayFieldDecides) {
  EXPECT_EQ(NextN("cron(0 0 13 * *)", "2024-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2024-01-13T00:00:00Z", "2024-02-13T00:00:00Z"}));
  EXPECT_EQ(NextN("cron(0 0 ? * FRI)", "2024-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z"}));
  // 1-31 matches every day: it does not turn the day-of-week into an OR.
  EXPECT_EQ(Next("cron(0 0 1-31 * FRI)", "2024-01-01T00:00:00Z"), "2024-01-05T00:00:00Z");
}

TEST(CronScheduleTest, LeapYearsAndFebruary29) {
  EXPECT_EQ(Next("cron(0 0 29 2 *)", "2023-03-01T00:00:00Z"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 29 2 *)", "2024-02-29T00:00:00Z"), "2028-02-29T00:00:00Z");
  // 2100 is not a leap year.
  EXPECT_EQ(Next("cron(0 0 29 2 *)", "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 L 2 *)", "2023-01-01T00:00:00Z"), "2023-02-28T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 L 2 *)", "2024-01-01T00:00:00Z"), "2024-02-29T00:00:00Z");
}

TEST(CronScheduleTest, EndOfMonthSkipsShortMonths) {
  EXPECT_EQ(NextN("cron(0 0 31 * *)", "2024-01-31T00:00:00Z", 3),
            (std::vector<std::string>{"2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z",
                                      "2024-07-31T00:00:00Z"}));
  EXPECT_EQ(NextN("cron(0 0 L * *)", "2024-04-30T00:00:00Z", 2),
            (std::vector<std::string>{"2024-05-31T00:00:00Z", "2024-06-30T00:00:00Z"}));
}

TEST(CronScheduleTest, YearBoundaries) {
  EXPECT_EQ(Next("cron(0 0 1 1 *)", "2024-12-31T23:59:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("cron(59 23 31 12 *)", "2024-12-31T23:59:00Z"), "2025-12-31T23:59:00Z");
  EXPECT_EQ(Next("cron(*/30 * * * *)", "2024-12-31T23:45:00Z"), "2025-01-01T00:00:00Z");
}

TEST(CronScheduleTest, NthWeekdayOfTheMonth) {
  // 2024-02-01 is a Thursday, so the first Monday of February is the 5th.
  EXPECT_EQ(Next("cron(0 0 * * 1#1)", "2024-01-02T00:00:00Z"), "2024-02-05T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 * * MON#1)", "2024-01-02T00:00:00Z"), "2024-02-05T00:00:00Z");
  // AWS: 2 = Monday; the fifth Monday of February exists only when Feb 29 is a Monday.
  EXPECT_EQ(Next("cron(0 0 ? 2 2#5 *)", "2016-03-01T00:00:00Z"), "2044-02-29T00:00:00Z");
}

TEST(CronScheduleTest, UtcOnly) {
  // 06:00+05:00 is 01:00 UTC: the next 02:00 is an hour away, whatever the offset written.
  EXPECT_EQ(Next("cron(0 2 * * *)", "2024-03-10T06:00:00+05:00"), "2024-03-10T02:00:00Z");
  // 02:00 on the US DST change day exists in UTC.
  EXPECT_EQ(Next("cron(0 2 * * *)", "2024-03-10T00:00:00Z"), "2024-03-10T02:00:00Z");
  EXPECT_EQ(Next("cron(30 2 * * *)", "2024-10-27T02:00:00Z"), "2024-10-27T02:30:00Z");
}

TEST(CronScheduleTest, NextDueIsStrictlyAfterLastRotation) {
  Schedule s = S("cron(0 2 * * SUN)");
  ScheduleInput in;
  in.created = T("2024-01-01T08:00:00Z");
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-01-07T02:00:00Z");
  in.last_rotated = T("2024-01-07T02:00:00Z");
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-01-14T02:00:00Z");
  EXPECT_THAT(s.NextDue(ScheduleInput{}), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- cron, AWS 6 fields ----

TEST(AwsCronScheduleTest, QuestionMarkAndOneBasedWeekdays) {
  EXPECT_EQ(Next("cron(0 16 1,15 * ? *)", "2024-01-01T17:00:00Z"), "2024-01-15T16:00:00Z");
  EXPECT_EQ(Next("cron(0 10 ? * 2 *)", "2024-01-02T00:00:00Z"), "2024-01-08T10:00:00Z");  // MON
  EXPECT_EQ(Next("cron(0 0 ? * 1 *)", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");   // SUN
  EXPECT_EQ(Next("cron(0 0 ? * 7 *)", "2024-01-01T00:00:00Z"), "2024-01-06T00:00:00Z");   // SAT
  EXPECT_EQ(Next("cron(0 10 ? * MON-FRI *)", "2024-01-05T11:00:00Z"), "2024-01-08T10:00:00Z");
  EXPECT_EQ(Next("cron(0 10 ? * SUN *)", "2024-01-01T00:00:00Z"), "2024-01-07T10:00:00Z");
}

TEST(AwsCronScheduleTest, YearField) {
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2025-2026)", "2024-06-01T00:00:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2025-2026)", "2025-01-01T00:00:00Z"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2025-2026)", "2026-01-01T00:00:00Z"), "never");
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2030/10)", "2024-01-01T00:00:00Z"), "2030-01-01T00:00:00Z");
  EXPECT_EQ(Next("cron(0 0 1 1 ? 2030/10)", "2030-01-01T00:00:00Z"), "2040-01-01T00:00:00Z");
  ScheduleInput in;
  in.last_rotated = T("2026-06-01T00:00:00Z");
  EXPECT_THAT(S("cron(0 0 1 1 ? 2025-2026)").NextDue(in),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("no occurrence after")));
}

TEST(AwsCronScheduleTest, NeedsQuestionMarkInExactlyOneDayField) {
  EXPECT_THAT(ParseError("cron(0 10 * * MON *)"),
              HasSubstr("needs '?' in exactly one of day-of-month (field 3) and day-of-week"));
  EXPECT_THAT(ParseError("cron(0 10 ? * ? *)"), HasSubstr("exactly one"));
  EXPECT_EQ(ParseError("cron(0 0 ? * 0 *)"), "cron field 5 (day-of-week): 0 is out of range 1-7");
  EXPECT_EQ(ParseError("cron(0 0 1 1 ? 2200)"),
            "cron field 6 (year): 2200 is out of range 1970-2199");
  EXPECT_EQ(ParseError("cron(15 10 ? * 6L 2024)"),
            "cron field 5 (day-of-week): '6L': 'L' is not supported in day-of-week");
}

// ---- cron errors ----

TEST(CronParseTest, ErrorsNameTheFieldAndValue) {
  EXPECT_EQ(ParseError("cron(0 25 * * *)"), "cron field 2 (hour): 25 is out of range 0-23");
  EXPECT_EQ(ParseError("cron(60 * * * *)"), "cron field 1 (minute): 60 is out of range 0-59");
  EXPECT_EQ(ParseError("cron(0 0 0 * *)"), "cron field 3 (day-of-month): 0 is out of range 1-31");
  EXPECT_EQ(ParseError("cron(0 0 * 13 *)"), "cron field 4 (month): 13 is out of range 1-12");
  EXPECT_EQ(ParseError("cron(0 0 * 0 *)"), "cron field 4 (month): 0 is out of range 1-12");
  EXPECT_EQ(ParseError("cron(0 0 * FOO *)"),
            "cron field 4 (month): 'FOO' is not a number or a month name (JAN-DEC)");
  EXPECT_EQ(ParseError("cron(0 0 * * 8)"), "cron field 5 (day-of-week): 8 is out of range 0-7");
  EXPECT_EQ(ParseError("cron(0 0 * * FUN)"),
            "cron field 5 (day-of-week): 'FUN' is not a number or a day name (SUN-SAT)");
  EXPECT_EQ(ParseError("cron(x * * * *)"), "cron field 1 (minute): 'X' is not a number");
  EXPECT_EQ(ParseError("cron(*/0 * * * *)"), "cron field 1 (minute): step 0 is out of range 1-60");
  EXPECT_EQ(ParseError("cron(*/x * * * *)"), "cron field 1 (minute): step 'X' is not a number");
  EXPECT_EQ(ParseError("cron(5-3 * * * *)"), "cron field 1 (minute): range 5-3 is reversed");
  EXPECT_EQ(ParseError("cron(1,,2 * * * *)"), "cron field 1 (minute): empty list element");
  EXPECT_EQ(ParseError("cron(0 ? * * *)"),
            "cron field 2 (hour): '?' is only allowed in day-of-month and day-of-week");
  EXPECT_EQ(ParseError("cron(0 0 1,? * *)"),
            "cron field 3 (day-of-month): '?' must be the whole field");
  EXPECT_EQ(ParseError("cron(0 0 15W * *)"),
            "cron field 3 (day-of-month): '15W': 'W' is not supported");
  EXPECT_EQ(ParseError("cron(0 0 * * 1#6)"),
            "cron field 5 (day-of-week): '1#6': the n in '#n' must be 1-5");
  EXPECT_EQ(ParseError("cron(0 0#1 * * *)"),
            "cron field 2 (hour): '#' is only allowed in day-of-week");
  EXPECT_THAT(ParseError("cron(0 0 * *)"), HasSubstr("has 4 fields; expected 5"));
  EXPECT_THAT(ParseError("cron(0 0 * * * * *)"), HasSubstr("has 7 fields"));
  EXPECT_THAT(ParseError("cron()"), HasSubstr("has 0 fields"));
}

TEST(CronParseTest, RejectsSpecsThatNeverFire) {
  EXPECT_EQ(ParseError("cron(0 0 31 2 *)"),
            "cron(0 0 31 2 *) never fires: no date matches its day-of-month, month and "
            "day-of-week fields");
  EXPECT_THAT(ParseError("cron(0 0 30 2 *)"), HasSubstr("never fires"));
  EXPECT_THAT(ParseError("cron(0 0 31 4,6,9,11 *)"), HasSubstr("never fires"));
  EXPECT_THAT(ParseError("cron(0 0 29 2 ? 2025)"), HasSubstr("never fires"));
  EXPECT_THAT(ParseError("cron(0 0 ? 2 2#5 2017-2020)"), HasSubstr("never fires"));
  // But these do fire: Feb 29 in leap years, and "the 31st or a Friday" in February.
  EXPECT_OK(Schedule::Parse("cron(0 0 29 2 *)"));
  EXPECT_OK(Schedule::Parse("cron(0 0 29 2 ? 2028)"));
  EXPECT_OK(Schedule::Parse("cron(0 0 31 2 FRI)"));
}

// ---- before_expiry / at_fraction ----

TEST(BeforeExpiryScheduleTest, DueBeforeNotAfter) {
  Schedule s = S("before_expiry(30d)");
  EXPECT_EQ(s.kind(), Schedule::Kind::kBeforeExpiry);
  EXPECT_TRUE(s.lifetime_based());
  ScheduleInput in;
  in.created = T("2024-01-01T00:00:00Z");
  in.not_after = T("2024-06-30T12:00:00Z");
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-05-31T12:00:00Z");
  EXPECT_EQ(Fmt(*S("before_expiry(1d12h)").NextDue(in)), "2024-06-29T00:00:00Z");
  EXPECT_EQ(s.NextOccurrenceAfter(in.created, in.created), absl::InfiniteFuture());
}

TEST(BeforeExpiryScheduleTest, NeedsNotAfter) {
  ScheduleInput in;
  in.created = T("2024-01-01T00:00:00Z");
  EXPECT_THAT(S("before_expiry(30d)").NextDue(in),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not_after")));
}

TEST(BeforeExpiryScheduleTest, ParseErrorsAndCanonicalForm) {
  EXPECT_EQ(S("before_expiry(36h)").ToString(), "before_expiry(1d12h)");
  EXPECT_EQ(S("before_expiry( 90m )").ToString(), "before_expiry(1h30m)");
  EXPECT_THAT(ParseError("before_expiry(0d)"), HasSubstr("must be more than 0"));
  EXPECT_THAT(ParseError("before_expiry(3651d)"), HasSubstr("at most 3650d"));
  EXPECT_EQ(ParseError("before_expiry(abc)"),
            "before_expiry(abc): duration 'abc': expected a number at 'abc'");
}

TEST(AtFractionScheduleTest, DueAtTheFractionOfTheLifetime) {
  Schedule s = S("at_fraction(2/3)");
  EXPECT_EQ(s.kind(), Schedule::Kind::kAtFraction);
  ScheduleInput in;
  in.created = T("2023-01-01T00:00:00Z");
  in.not_before = T("2024-01-01T00:00:00Z");
  in.not_after = T("2024-01-01T00:00:00Z") + absl::Hours(24 * 90);
  EXPECT_EQ(Fmt(*s.NextDue(in)), "2024-03-01T00:00:00Z");  // +60 days
}

TEST(AtFractionScheduleTest, WithoutNotBeforeCountsFromLastRotation) {
  ScheduleInput in;
  in.created = T("2023-01-01T00:00:00Z");
  in.last_rotated = T("2024-01-01T00:00:00Z");
  in.not_after = T("2024-01-31T00:00:00Z");
  EXPECT_EQ(Fmt(*S("at_fraction(1/2)").NextDue(in)), "2024-01-16T00:00:00Z");
}

TEST(AtFractionScheduleTest, Errors) {
  ScheduleInput in;
  in.created = T("2024-01-01T00:00:00Z");
  EXPECT_THAT(S("at_fraction(1/2)").NextDue(in), StatusIs(absl::StatusCode::kFailedPrecondition));
  in.not_before = T("2024-02-01T00:00:00Z");
  in.not_after = T("2024-02-01T00:00:00Z");
  EXPECT_THAT(S("at_fraction(1/2)").NextDue(in),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not after")));
  EXPECT_EQ(ParseError("at_fraction(3/2)"), "at_fraction(3/2): need 0 < p < q <= 1000000");
  EXPECT_THAT(ParseError("at_fraction(0/3)"), HasSubstr("need 0 < p < q"));
  EXPECT_THAT(ParseError("at_fraction(1/1)"), HasSubstr("need 0 < p < q"));
  EXPECT_THAT(ParseError("at_fraction(1/2000000)"), HasSubstr("<= 1000000"));
  EXPECT_THAT(ParseError("at_fraction(0.5)"), HasSubstr("expected p/q"));
  EXPECT_THAT(ParseError("at_fraction(-1/2)"), HasSubstr("expected p/q"));
}

TEST(AtFractionScheduleTest, CanonicalFormIsInLowestTerms) {
  EXPECT_EQ(S("at_fraction(2/4)").ToString(), "at_fraction(1/2)");
  EXPECT_EQ(S("at_fraction( 2 / 3 )").ToString(), "at_fraction(2/3)");
}

// ---- general ----

TEST(ScheduleParseTest, RejectsUnknownForms) {
  EXPECT_EQ(ParseError("weekly"),
            "schedule 'weekly' is not one of rate(N m|h|d), cron(...), before_expiry(D) or "
            "at_fraction(p/q)");
  EXPECT_THAT(ParseError(""), HasSubstr("is not one of"));
  EXPECT_THAT(ParseError("rate(1d"), HasSubstr("is not one of"));
  EXPECT_THAT(ParseError("RATE(1d)"), HasSubstr("is not one of"));
  EXPECT_THAT(ParseError("cron(" + std::string(600, '1') + ")"), HasSubstr("too long"));
}

TEST(ScheduleParseTest, ToStringRoundTrips) {
  for (const char* text :
       {"rate(30d)", "rate(1 day)", "rate(90 minutes)", "rate(36h)", "cron(0 2 * * SUN)",
        "cron(0   2 * *   sun)", "cron(*/15 8-18/2 1,15 jan-mar,OCT mon-fri)",
        "cron(0 16 1,15 * ? *)", "cron(0 10 ? * MON#2 2025-2030)", "cron(0 0 L * *)",
        "before_expiry(30d)", "before_expiry(1d12h)", "at_fraction(2/3)", "at_fraction(6/9)"}) {
    Schedule s = S(text);
    ASSERT_OK_AND_ASSIGN(Schedule again, Schedule::Parse(s.ToString()));
    EXPECT_EQ(again.ToString(), s.ToString()) << text;
    EXPECT_TRUE(again == s) << text;
  }
  EXPECT_EQ(S("cron(0   2 * *   sun)").ToString(), "cron(0 2 * * SUN)");
}

// ---- Decide ----

TEST(DecideTest, NotDueBeforeTheDueTime) {
  const absl::Time due = T("2024-01-01T10:00:00Z");
  DueDecision d = Decide(S("rate(1h)"), due, absl::Minutes(30), due - absl::Nanoseconds(1));
  EXPECT_EQ(d.kind, DueDecision::kNotDue);
  EXPECT_EQ(d.due, due);
  EXPECT_EQ(d.next_due, due);
}

TEST(DecideTest, StartsWithinTheWindowAndAtItsEdge) {
  const absl::Time due = T("2024-01-01T10:00:00Z");
  const Schedule s = S("rate(1h)");
  EXPECT_EQ(Decide(s, due, absl::Minutes(30), due).kind, DueDecision::kStart);
  EXPECT_EQ(Decide(s, due, absl::Minutes(30), due + absl::Minutes(10)).kind, DueDecision::kStart);
  EXPECT_EQ(Decide(s, due, absl::Minutes(30), due + absl::Minutes(30)).kind, DueDecision::kStart);
  EXPECT_EQ(Decide(s, due, absl::Minutes(30), due + absl::Minutes(30) + absl::Nanoseconds(1)).kind,
            DueDecision::kMissed);
}

TEST(DecideTest, WithoutAWindowALateRotationStillStarts) {
  const absl::Time due = T("2024-01-01T10:00:00Z");
  EXPECT_EQ(Decide(S("rate(1h)"), due, absl::ZeroDuration(), due + absl::Hours(24 * 1000)).kind,
            DueDecision::kStart);
}

TEST(DecideTest, MissedRateWaitsForTheNextPointOfItsGrid) {
  const absl::Time due = T("2024-01-01T10:00:00Z");
  DueDecision d = Decide(S("rate(1h)"), due, absl::Minutes(30), T("2024-01-01T12:45:00Z"));
  EXPECT_EQ(d.kind, DueDecision::kMissed);
  EXPECT_EQ(Fmt(d.next_due), "2024-01-01T13:00:00Z");
}

TEST(DecideTest, MissedCronWaitsForItsNextMatch) {
  DueDecision d = Decide(S("cron(0 2 * * *)"), T("2024-01-01T02:00:00Z"), absl::Hours(1),
                         T("2024-01-01T05:00:00Z"));
  EXPECT_EQ(d.kind, DueDecision::kMissed);
  EXPECT_EQ(Fmt(d.next_due), "2024-01-02T02:00:00Z");
}

TEST(DecideTest, MissedLifetimeScheduleStartsNow) {
  const absl::Time now = T("2024-06-01T00:00:00Z");
  DueDecision d = Decide(S("before_expiry(30d)"), T("2024-05-01T00:00:00Z"), absl::Hours(1), now);
  EXPECT_EQ(d.kind, DueDecision::kMissed);
  EXPECT_EQ(d.next_due, now);
  EXPECT_EQ(Decide(S("at_fraction(2/3)"), T("2024-05-01T00:00:00Z"), absl::Hours(1), now).next_due,
            now);
}

// A scheduler that was down for 100 intervals decides once, then waits for the next interval.
int DecisionsAfterRestart(absl::Duration window) {
  const Schedule s = S("rate(1h)");
  ScheduleInput in;
  in.created = T("2024-01-01T00:00:00Z");
  in.last_rotated = in.created;
  const absl::Time now = in.created + absl::Hours(101) + absl::Minutes(10);
  absl::Time due = *s.NextDue(in);
  int acted = 0;
  for (int i = 0; i < 1000; ++i) {  // the scheduler's loop at one instant
    DueDecision d = Decide(s, due, window, now);
    if (d.kind == DueDecision::kNotDue) break;
    ++acted;
    if (d.kind == DueDecision::kStart) {
      in.last_rotated = now;  // the rotation ran
      due = *s.NextDue(in);
    } else {
      due = d.next_due;
    }
  }
  return acted;
}

TEST(DecideTest, RestartAfterHundredMissedIntervalsDecidesOnce) {
  EXPECT_EQ(DecisionsAfterRestart(absl::ZeroDuration()), 1);
  EXPECT_EQ(DecisionsAfterRestart(absl::Minutes(30)), 1);
  DueDecision d = Decide(S("rate(1h)"), T("2024-01-01T01:00:00Z"), absl::Minutes(30),
                         T("2024-01-05T05:10:00Z"));
  EXPECT_EQ(d.kind, DueDecision::kMissed);
  EXPECT_EQ(Fmt(d.next_due), "2024-01-05T06:00:00Z");
}

}  // namespace
}  // namespace rekey::rotation
