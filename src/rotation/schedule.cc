#include "rotation/schedule.h"

#include <bit>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::rotation {
namespace {

using internal::CronSpec;

constexpr size_t kMaxScheduleLength = 512;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMaxDurationDays = 36500;  // ParseScheduleDuration's upper bound
constexpr int64_t kMaxRateDays = 3650;       // rate and before_expiry: 10 years
constexpr int64_t kMaxFractionDenominator = 1000000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A decimal number of at most `max_digits` digits (so it cannot overflow).
std::optional<int64_t> ParseNumber(std::string_view s, size_t max_digits = 9) {
  if (!AllDigits(s) || s.size() > max_digits) return std::nullopt;
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(message); }

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, UTC).

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// 0 = Sunday .. 6 = Saturday. 1970-01-01 was a Thursday.
int WeekdayOf(int64_t days_since_epoch) {
  int64_t w = (days_since_epoch + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

// ---------------------------------------------------------------------------------------------
// Cron matching.

bool YearMatches(const CronSpec& c, int64_t y) {
  if (c.any_year) return true;
  return y >= CronSpec::kMinYear && y <= CronSpec::kMaxYear && c.years[y - CronSpec::kMinYear];
}

bool DayMatches(const CronSpec& c, int d, int days_in_month, int weekday) {
  const bool dom = ((c.days >> d) & 1) || (c.last_day && d == days_in_month);
  const bool dow =
      ((c.weekdays >> weekday) & 1) || ((c.nth_weekdays[weekday] >> ((d - 1) / 7 + 1)) & 1);
  // Standard cron: when both are restricted either may match; an unrestricted field matches
  // every day, so AND leaves the decision to the other one.
  if (c.days_restricted && c.weekdays_restricted) return dom || dow;
  return dom && dow;
}

// The first matching minute at or after `from`. Skips whole years, months, days and hours that
// cannot match, so the cost is bounded by (years searched x 12 + matching months x 31 + ...),
// never minute by minute. Searches 400 years (a full Gregorian cycle) for a cron without a year
// field, up to CronSpec::kMaxYear otherwise.
std::optional<absl::CivilMinute> FirstMatchAtOrAfter(const CronSpec& c, absl::CivilMinute from) {
  int64_t y = from.year();
  int mo = from.month(), d = from.day(), h = from.hour(), mi = from.minute();
  const int64_t last_year = c.any_year ? y + 400 : CronSpec::kMaxYear;
  if (!c.any_year && y < CronSpec::kMinYear) {
    y = CronSpec::kMinYear;
    mo = d = 1;
    h = mi = 0;
  }
  for (; y <= last_year; ++y, mo = 1, d = 1, h = 0, mi = 0) {
    if (!YearMatches(c, y)) continue;
    for (; mo <= 12; ++mo, d = 1, h = 0, mi = 0) {
      if (!((c.months >> mo) & 1)) continue;
      const int dim = DaysInMonth(y, mo);
      const int64_t first_day = DaysFromCivil(y, mo, 1);
      for (; d <= dim; ++d, h = 0, mi = 0) {
        if (!DayMatches(c, d, dim, WeekdayOf(first_day + d - 1))) continue;
        for (; h < 24; ++h, mi = 0) {
          if (!((c.hours >> h) & 1)) continue;
          const uint64_t minutes = c.minutes & (~uint64_t{0} << mi);
          if (minutes != 0) return absl::CivilMinute(y, mo, d, h, std::countr_zero(minutes));
        }
      }
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Cron parsing.

enum class Names { kNone, kMonths, kWeekdays };

struct FieldDef {
  int number;        // 1-based position in the expression
  const char* name;  // as in error messages
  int min, max;      // values as written
  Names names;
  bool question_ok;  // '?' allowed
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// One parsed field: bit (v - def.min) for each written value v.
struct ParsedField {
  std::bitset<256> values;
  bool question = false;
  bool star = false;
  bool last_day = false;            // day-of-month 'L'
  std::array<uint8_t, 8> nth = {};  // day-of-week 'v#n': bit n of [v], v as written
};

absl::Status FieldError(const FieldDef& f, std::string_view what) {
  return Invalid(StrCat("cron field ", f.number, " (", f.name, "): ", what));
}

absl::StatusOr<int> ParseFieldValue(const FieldDef& f, std::string_view token) {
  if (AllDigits(token)) {
    std::optional<int64_t> v = ParseNumber(token);
    if (!v || *v < f.min || *v > f.max) {
      return FieldError(f, StrCat(token, " is out of range ", f.min, "-", f.max));
    }
    return static_cast<int>(*v);
  }
  if (f.names == Names::kMonths) {
    for (int i = 0; i < 12; ++i) {
      if (token == kMonthNames[i]) return i + 1;
    }
    return FieldError(f, StrCat("'", token, "' is not a number or a month name (JAN-DEC)"));
  }
  if (f.names == Names::kWeekdays) {
    for (int i = 0; i < 7; ++i) {
      if (token == kDayNames[i]) return f.min + i;  // SUN is 0 (standard) or 1 (AWS)
    }
    return FieldError(f, StrCat("'", token, "' is not a number or a day name (SUN-SAT)"));
  }
  if (token.empty()) return FieldError(f, "a value is missing");
  return FieldError(f, StrCat("'", token, "' is not a number"));
}

absl::Status ParseElement(const FieldDef& f, std::string_view e, ParsedField* out) {
  if (e.empty()) return FieldError(f, "empty list element");
  if (e.find('?') != std::string_view::npos) {
    return FieldError(f, f.question_ok ? "'?' must be the whole field"
                                       : "'?' is only allowed in day-of-month and day-of-week");
  }
  if (f.number == 3) {  // day-of-month
    if (e == "L") {
      out->last_day = true;
      return absl::OkStatus();
    }
    if (e.back() == 'W') return FieldError(f, StrCat("'", e, "': 'W' is not supported"));
    if (e.find('L') != std::string_view::npos) {
      return FieldError(f, StrCat("'", e, "': only a plain 'L' (last day) is supported"));
    }
  }
  if (f.names == Names::kWeekdays) {
    if (e.back() == 'L') {
      return FieldError(f, StrCat("'", e, "': 'L' is not supported in day-of-week"));
    }
    const size_t hash = e.find('#');
    if (hash != std::string_view::npos) {
      ASSIGN_OR_RETURN(int v, ParseFieldValue(f, e.substr(0, hash)));
      std::optional<int64_t> n = ParseNumber(e.substr(hash + 1));
      if (!n || *n < 1 || *n > 5) {
        return FieldError(f, StrCat("'", e, "': the n in '#n' must be 1-5"));
      }
      out->nth[v] |= static_cast<uint8_t>(1u << *n);
      return absl::OkStatus();
    }
  } else if (e.find('#') != std::string_view::npos) {
    return FieldError(f, "'#' is only allowed in day-of-week");
  }

  std::string_view range = e;
  int step = 1;
  bool has_step = false;
  if (const size_t slash = e.find('/'); slash != std::string_view::npos) {
    range = e.substr(0, slash);
    std::string_view step_text = e.substr(slash + 1);
    std::optional<int64_t> s = ParseNumber(step_text);
    const int span = f.max - f.min + 1;
    if (!AllDigits(step_text))
      return FieldError(f, StrCat("step '", step_text, "' is not a number"));
    if (!s || *s < 1 || *s > span) {
      return FieldError(f, StrCat("step ", step_text, " is out of range 1-", span));
    }
    step = static_cast<int>(*s);
    has_step = true;
  }
  int lo, hi;
  if (range == "*") {
    lo = f.min;
    hi = f.max;
  } else if (const size_t dash = range.find('-'); dash != std::string_view::npos) {
    ASSIGN_OR_RETURN(lo, ParseFieldValue(f, range.substr(0, dash)));
    ASSIGN_OR_RETURN(hi, ParseFieldValue(f, range.substr(dash + 1)));
    if (lo > hi) return FieldError(f, StrCat("range ", range, " is reversed"));
  } else {
    ASSIGN_OR_RETURN(lo, ParseFieldValue(f, range));
    hi = has_step ? f.max : lo;  // 'a/n': from a to the maximum
  }
  for (int v = lo; v <= hi; v += step) out->values.set(v - f.min);
  return absl::OkStatus();
}

absl::StatusOr<ParsedField> ParseField(const FieldDef& f, std::string_view text) {
  ParsedField out;
  if (text == "?") {
    if (!f.question_ok) return FieldError(f, "'?' is only allowed in day-of-month and day-of-week");
    out.question = true;
    for (int v = f.min; v <= f.max; ++v) out.values.set(v - f.min);
    return out;
  }
  out.star = text == "*";
  for (absl::string_view e : absl::StrSplit(ToAbsl(text), ',')) {
    RETURN_IF_ERROR(ParseElement(f, ToStd(e), &out));
  }
  return out;
}

template <typename T>
T Bits(const ParsedField& p, const FieldDef& f, int shift) {
  T bits = 0;
  for (int v = f.min; v <= f.max; ++v) {
    if (p.values[v - f.min]) bits |= static_cast<T>(T{1} << (v + shift));
  }
  return bits;
}

absl::StatusOr<CronSpec> ParseCron(std::string_view body, std::string* canonical) {
  std::string upper = absl::AsciiStrToUpper(ToAbsl(body));
  std::vector<std::string> fields =
      absl::StrSplit(upper, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty());
  if (fields.size() != 5 && fields.size() != 6) {
    return Invalid(
        StrCat("cron(", Trim(body), ") has ", fields.size(),
               " fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (AWS: minute "
               "hour day-of-month month day-of-week year)"));
  }
  const bool aws = fields.size() == 6;
  const FieldDef defs[] = {
      {1, "minute", 0, 59, Names::kNone, false},
      {2, "hour", 0, 23, Names::kNone, false},
      {3, "day-of-month", 1, 31, Names::kNone, true},
      {4, "month", 1, 12, Names::kMonths, false},
      {5, "day-of-week", aws ? 1 : 0, 7, Names::kWeekdays, true},
      {6, "year", CronSpec::kMinYear, CronSpec::kMaxYear, Names::kNone, false},
  };
  ParsedField parsed[6];
  for (size_t i = 0; i < fields.size(); ++i) {
    ASSIGN_OR_RETURN(parsed[i], ParseField(defs[i], fields[i]));
  }
  if (aws && parsed[2].question == parsed[4].question) {
    return Invalid(StrCat("cron(", absl::StrJoin(fields, " "),
                          "): the AWS 6-field form needs '?' in exactly one of day-of-month "
                          "(field 3) and day-of-week (field 5)"));
  }

  CronSpec c;
  c.minutes = Bits<uint64_t>(parsed[0], defs[0], 0);
  c.hours = Bits<uint32_t>(parsed[1], defs[1], 0);
  c.days = Bits<uint32_t>(parsed[2], defs[2], 0);
  c.last_day = parsed[2].last_day;
  c.months = Bits<uint16_t>(parsed[3], defs[3], 0);
  const FieldDef& dow = defs[4];
  for (int v = dow.min; v <= dow.max; ++v) {
    const int weekday = aws ? v - 1 : v % 7;
    if (parsed[4].values[v - dow.min]) c.weekdays |= static_cast<uint8_t>(1u << weekday);
    c.nth_weekdays[weekday] |= parsed[4].nth[v];
  }
  constexpr uint32_t kAllDays = 0xFFFFFFFEu;  // bits 1-31
  c.days_restricted = c.days != kAllDays;
  c.weekdays_restricted = c.weekdays != 0x7F;
  if (aws && !parsed[5].star) {
    c.any_year = false;
    for (int y = CronSpec::kMinYear; y <= CronSpec::kMaxYear; ++y) {
      c.years[y - CronSpec::kMinYear] = parsed[5].values[y - CronSpec::kMinYear];
    }
  }
  *canonical = absl::StrJoin(fields, " ");
  // Reject what can never fire; this also bounds every later search.
  if (!FirstMatchAtOrAfter(c, absl::CivilMinute(CronSpec::kMinYear, 1, 1, 0, 0))) {
    return Invalid(StrCat("cron(", *canonical,
                          ") never fires: no date matches its day-of-month, month",
                          aws ? ", day-of-week and year" : " and day-of-week", " fields"));
  }
  return c;
}

// `rate(N unit)`: the period.
absl::StatusOr<absl::Duration> ParseRate(std::string_view body) {
  std::string_view s = Trim(body);
  size_t i = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
  std::string_view number = s.substr(0, i);
  std::string unit = absl::AsciiStrToLower(ToAbsl(Trim(s.substr(i))));
  if (number.empty()) {
    return Invalid(StrCat("rate(", s, "): expected a whole number and a unit, e.g. rate(30d)"));
  }
  int64_t unit_minutes;
  if (unit.empty()) {
    return Invalid(StrCat("rate(", s, "): missing unit (use m, h, d, minutes, hours or days)"));
  } else if (unit == "m" || unit == "minute" || unit == "minutes") {
    unit_minutes = 1;
  } else if (unit == "h" || unit == "hour" || unit == "hours") {
    unit_minutes = 60;
  } else if (unit == "d" || unit == "day" || unit == "days") {
    unit_minutes = 1440;
  } else {
    return Invalid(
        StrCat("rate(", s, "): unknown unit '", unit, "' (use m, h, d, minutes, hours or days)"));
  }
  std::optional<int64_t> n = ParseNumber(number);
  if (n && *n < 1) return Invalid(StrCat("rate(", s, "): the rate must be at least 1 minute"));
  if (!n || *n * unit_minutes > kMaxRateDays * 1440) {
    return Invalid(
        StrCat("rate(", s, "): the rate must be at most 10 years (", kMaxRateDays, "d)"));
  }
  return absl::Minutes(*n * unit_minutes);
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseFraction(std::string_view body) {
  std::string_view s = Trim(body);
  const size_t slash = s.find('/');
  std::optional<int64_t> p, q;
  if (slash != std::string_view::npos) {
    p = ParseNumber(Trim(s.substr(0, slash)), 7);
    q = ParseNumber(Trim(s.substr(slash + 1)), 7);
  }
  if (!p || !q) {
    return Invalid(StrCat("at_fraction(", s, "): expected p/q with whole numbers, e.g. 2/3"));
  }
  if (*p < 1 || *p >= *q || *q > kMaxFractionDenominator) {
    return Invalid(StrCat("at_fraction(", s, "): need 0 < p < q <= ", kMaxFractionDenominator));
  }
  const int64_t g = std::gcd(*p, *q);
  return std::make_pair(*p / g, *q / g);
}

// Splits `name(body)`; false when `text` is not of that shape.
bool SplitCall(std::string_view text, std::string_view name, std::string_view* body) {
  if (text.size() < name.size() + 2 || text.substr(0, name.size()) != name) return false;
  std::string_view rest = Trim(text.substr(name.size()));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
  *body = rest.substr(1, rest.size() - 2);
  return true;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseScheduleDuration(std::string_view text) {
  const std::string_view s = Trim(text);
  if (s.empty()) return Invalid("duration is empty (expected e.g. 30d, 12h, 90m, 1d12h)");
  if (s == "0") return absl::ZeroDuration();
  static constexpr struct {
    char unit;
    int64_t seconds;
  } kUnits[] = {{'d', kSecondsPerDay}, {'h', 3600}, {'m', 60}, {'s', 1}};
  int64_t total = 0;
  size_t next_unit = 0;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) {
      return Invalid(StrCat("duration '", s, "': expected a number at '", s.substr(start), "'"));
    }
    std::optional<int64_t> n = ParseNumber(s.substr(start, i - start));
    if (!n) return Invalid(StrCat("duration '", s, "' is longer than ", kMaxDurationDays, "d"));
    if (i == s.size()) {
      return Invalid(StrCat("duration '", s, "': the number ", s.substr(start),
                            " has no unit (use d, h, m or s)"));
    }
    size_t u = 0;
    while (u < 4 && kUnits[u].unit != s[i]) ++u;
    if (u == 4) {
      return Invalid(
          StrCat("duration '", s, "': unknown unit '", s.substr(i, 1), "' (use d, h, m or s)"));
    }
    if (u < next_unit) {
      return Invalid(StrCat("duration '", s,
                            "': units must go from largest to smallest (d, h, m, s), each at "
                            "most once"));
    }
    next_unit = u + 1;
    total += *n * kUnits[u].seconds;
    ++i;
  }
  if (total > kMaxDurationDays * kSecondsPerDay) {
    return Invalid(StrCat("duration '", s, "' is longer than ", kMaxDurationDays, "d"));
  }
  return absl::Seconds(total);
}

std::string FormatScheduleDuration(absl::Duration d) {
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration() ||
      absl::Trunc(d, absl::Seconds(1)) != d) {
    return std::string(absl::FormatDuration(d));
  }
  int64_t s = absl::ToInt64Seconds(d);
  if (s == 0) return "0s";
  std::string out;
  const int64_t days = s / kSecondsPerDay, hours = s % kSecondsPerDay / 3600,
                minutes = s % 3600 / 60, seconds = s % 60;
  if (days) absl::StrAppend(&out, days, "d");
  if (hours) absl::StrAppend(&out, hours, "h");
  if (minutes) absl::StrAppend(&out, minutes, "m");
  if (seconds) absl::StrAppend(&out, seconds, "s");
  return out;
}

absl::StatusOr<Schedule> Schedule::Parse(std::string_view text) {
  const std::string_view s = Trim(text);
  if (s.size() > kMaxScheduleLength) {
    return Invalid(StrCat("schedule is too long (", s.size(), " characters; at most ",
                          kMaxScheduleLength, ")"));
  }
  Schedule out;
  std::string_view body;
  if (SplitCall(s, "rate", &body)) {
    out.kind_ = Kind::kRate;
    ASSIGN_OR_RETURN(out.duration_, ParseRate(body));
  } else if (SplitCall(s, "cron", &body)) {
    out.kind_ = Kind::kCron;
    ASSIGN_OR_RETURN(out.cron_, ParseCron(body, &out.cron_text_));
  } else if (SplitCall(s, "before_expiry", &body)) {
    out.kind_ = Kind::kBeforeExpiry;
    absl::StatusOr<absl::Duration> d = ParseScheduleDuration(body);
    if (!d.ok()) return Invalid(StrCat("before_expiry(", Trim(body), "): ", d.status().message()));
    if (*d <= absl::ZeroDuration() || *d > absl::Hours(24 * kMaxRateDays)) {
      return Invalid(StrCat("before_expiry(", Trim(body),
                            "): the lead time must be more than 0 "
                            "and at most ",
                            kMaxRateDays, "d"));
    }
    out.duration_ = *d;
  } else if (SplitCall(s, "at_fraction", &body)) {
    out.kind_ = Kind::kAtFraction;
    ASSIGN_OR_RETURN(auto fraction, ParseFraction(body));
    out.numerator_ = fraction.first;
    out.denominator_ = fraction.second;
  } else {
    return Invalid(StrCat("schedule '", s,
                          "' is not one of rate(N m|h|d), cron(...), before_expiry(D) or "
                          "at_fraction(p/q)"));
  }
  return out;
}

std::string Schedule::ToString() const {
  switch (kind_) {
    case Kind::kRate: {
      const int64_t minutes = absl::ToInt64Minutes(duration_);
      if (minutes % 1440 == 0) return absl::StrCat("rate(", minutes / 1440, "d)");
      if (minutes % 60 == 0) return absl::StrCat("rate(", minutes / 60, "h)");
      return absl::StrCat("rate(", minutes, "m)");
    }
    case Kind::kCron:
      return StrCat("cron(", cron_text_, ")");
    case Kind::kBeforeExpiry:
      return StrCat("before_expiry(", FormatScheduleDuration(duration_), ")");
    case Kind::kAtFraction:
      return absl::StrCat("at_fraction(", numerator_, "/", denominator_, ")");
  }
  return "";
}

absl::Time Schedule::NextOccurrenceAfter(absl::Time anchor, absl::Time t) const {
  if (t == absl::InfiniteFuture()) return absl::InfiniteFuture();
  switch (kind_) {
    case Kind::kRate: {
      if (anchor == absl::InfinitePast() || anchor == absl::InfiniteFuture()) {
        return absl::InfiniteFuture();
      }
      if (anchor > t) return anchor;
      absl::Duration rem;
      const int64_t k = absl::IDivDuration(t - anchor, duration_, &rem) + 1;
      return anchor + duration_ * k;
    }
    case Kind::kCron: {
      const absl::CivilMinute from =
          t == absl::InfinitePast()
              ? absl::CivilMinute(CronSpec::kMinYear, 1, 1, 0, 0)
              : absl::ToCivilMinute(t, absl::UTCTimeZone()) + 1;  // strictly after t
      std::optional<absl::CivilMinute> match = FirstMatchAtOrAfter(cron_, from);
      if (!match) return absl::InfiniteFuture();
      return absl::FromCivil(*match, absl::UTCTimeZone());
    }
    case Kind::kBeforeExpiry:
    case Kind::kAtFraction:
      break;
  }
  return absl::InfiniteFuture();
}

absl::StatusOr<absl::Time> Schedule::NextDue(const ScheduleInput& in) const {
  const absl::Time base = in.last_rotated == absl::InfinitePast() ? in.created : in.last_rotated;
  const bool base_finite = base != absl::InfinitePast() && base != absl::InfiniteFuture();
  switch (kind_) {
    case Kind::kRate:
    case Kind::kCron: {
      if (!base_finite) {
        return Invalid(StrCat("schedule ", ToString(),
                              ": the secret has neither a last rotation nor a creation time"));
      }
      if (kind_ == Kind::kRate) return base + duration_;
      const absl::Time next = NextOccurrenceAfter(base, base);
      if (next == absl::InfiniteFuture()) {
        return absl::OutOfRangeError(
            StrCat("schedule ", ToString(), " has no occurrence after ", FormatUtc(base)));
      }
      return next;
    }
    case Kind::kBeforeExpiry:
    case Kind::kAtFraction: {
      if (!in.not_after) {
        return absl::FailedPreconditionError(
            StrCat("schedule ", ToString(),
                   " needs the current value's expiry time (not_after); it has none"));
      }
      if (kind_ == Kind::kBeforeExpiry) return *in.not_after - duration_;
      const absl::Time start = in.not_before ? *in.not_before : base;
      if (start == absl::InfinitePast() || start == absl::InfiniteFuture()) {
        return Invalid(StrCat("schedule ", ToString(),
                              ": the value has no not_before and the secret no rotation or "
                              "creation time"));
      }
      if (*in.not_after <= start) {
        return absl::FailedPreconditionError(
            StrCat("schedule ", ToString(), ": the value's not_after ", FormatUtc(*in.not_after),
                   " is not after its start ", FormatUtc(start)));
      }
      return start + (*in.not_after - start) * numerator_ / denominator_;
    }
  }
  return absl::InternalError("unknown schedule kind");
}

DueDecision Decide(const Schedule& schedule, absl::Time due, absl::Duration window,
                   absl::Time now) {
  DueDecision d;
  d.due = due;
  d.next_due = due;
  if (now < due) {
    d.kind = DueDecision::kNotDue;
  } else if (window <= absl::ZeroDuration() || now <= due + window) {
    d.kind = DueDecision::kStart;
  } else {
    d.kind = DueDecision::kMissed;
    d.next_due = schedule.lifetime_based() ? now : schedule.NextOccurrenceAfter(due, now);
  }
  return d;
}

}  // namespace rekey::rotation
