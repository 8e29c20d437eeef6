#include "api/aws/aws_rotation_rules.h"

#include <boost/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotation/schedule.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;

// "rate(10 days)" / "rate(1 day)" / "rate(4 hours)" (AWS) or "rate(10d)" (rekey) -> "rate(10d)".
absl::StatusOr<std::string> RateFromAws(std::string_view inner) {
  std::string_view number = inner;
  std::string_view unit;
  if (size_t space = inner.find(' '); space != std::string_view::npos) {
    number = inner.substr(0, space);
    unit = inner.substr(space + 1);
  } else {
    size_t digits = 0;
    while (digits < inner.size() && absl::ascii_isdigit(inner[digits])) ++digits;
    number = inner.substr(0, digits);
    unit = inner.substr(digits);
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(ToAbsl(number), &n) || n <= 0) {
    return absl::InvalidArgumentError("ScheduleExpression rate(...) needs a positive number");
  }
  std::string_view letter;
  if (unit == "day" || unit == "days" || unit == "d") letter = "d";
  if (unit == "hour" || unit == "hours" || unit == "h") letter = "h";
  if (letter.empty()) {
    return absl::InvalidArgumentError(
        "ScheduleExpression rate(...) must be in days or hours, e.g. rate(10 days)");
  }
  if (letter == "d" && n > 1000) {
    return absl::InvalidArgumentError("ScheduleExpression rate(...) may be at most 1000 days");
  }
  return StrCat("rate(", n, letter, ")");
}

}  // namespace

absl::StatusOr<RotationRulesSpec> ParseRotationRules(const json::object& rules) {
  RotationRulesSpec spec;
  const json::value* days = rules.if_contains("AutomaticallyAfterDays");
  const json::value* expr = rules.if_contains("ScheduleExpression");
  const json::value* duration = rules.if_contains("Duration");
  if (days != nullptr && days->is_null()) days = nullptr;
  if (expr != nullptr && expr->is_null()) expr = nullptr;
  if (duration != nullptr && duration->is_null()) duration = nullptr;
  if (days != nullptr && expr != nullptr) {
    return absl::InvalidArgumentError(
        "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.");
  }
  if (days != nullptr) {
    if (!days->is_int64() && !days->is_uint64()) {
      return absl::InvalidArgumentError("RotationRules.AutomaticallyAfterDays must be an integer");
    }
    const int64_t n = days->is_int64() ? days->as_int64() : static_cast<int64_t>(days->as_uint64());
    if (n < 1 || n > 1000) {
      return absl::InvalidArgumentError(
          "RotationRules.AutomaticallyAfterDays must be between 1 and 1000");
    }
    spec.schedule = StrCat("rate(", n, "d)");
  }
  if (expr != nullptr) {
    if (!expr->is_string()) {
      return absl::InvalidArgumentError("RotationRules.ScheduleExpression must be a string");
    }
    std::string_view text(expr->as_string().data(), expr->as_string().size());
    if (text.empty() || text.size() > 256) {
      return absl::InvalidArgumentError(
          "RotationRules.ScheduleExpression must be 1 to 256 characters long");
    }
    if (text.starts_with("rate(") && text.ends_with(")")) {
      ASSIGN_OR_RETURN(spec.schedule, RateFromAws(text.substr(5, text.size() - 6)));
    } else if (text.starts_with("cron(") && text.ends_with(")")) {
      spec.schedule = std::string(text);
    } else {
      return absl::InvalidArgumentError(
          "RotationRules.ScheduleExpression must be rate(...) or cron(...)");
    }
  }
  if (duration != nullptr) {
    if (!duration->is_string()) {
      return absl::InvalidArgumentError("RotationRules.Duration must be a string such as \"3h\"");
    }
    std::string_view text(duration->as_string().data(), duration->as_string().size());
    absl::StatusOr<absl::Duration> d = rotation::ParseScheduleDuration(text);
    absl::Duration part_hour = absl::ZeroDuration();
    if (d.ok()) absl::IDivDuration(*d, absl::Hours(1), &part_hour);
    if (!d.ok() || *d < absl::Hours(1) || *d > absl::Hours(24) ||
        part_hour != absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "RotationRules.Duration must be a whole number of hours from 1h to 24h, e.g. \"3h\"");
    }
    spec.window = std::string(text);
  }
  return spec;
}

json::object RotationRulesJson(std::string_view schedule, absl::Duration window) {
  json::object out;
  if (schedule.starts_with("rate(") && schedule.ends_with("d)")) {
    int64_t days = 0;
    if (absl::SimpleAtoi(ToAbsl(schedule.substr(5, schedule.size() - 7)), &days)) {
      out["AutomaticallyAfterDays"] = days;
    }
  }
  if (!out.contains("AutomaticallyAfterDays") && !schedule.empty()) {
    std::string text(schedule);
    if (schedule.starts_with("rate(") && schedule.ends_with("h)")) {
      text = StrCat("rate(", schedule.substr(5, schedule.size() - 7), " hours)");
    }
    out["ScheduleExpression"] = text;
  }
  if (window > absl::ZeroDuration()) {
    absl::Duration rest;
    const int64_t hours = absl::IDivDuration(window, absl::Hours(1), &rest);
    out["Duration"] = rest == absl::ZeroDuration() ? StrCat(hours, "h")
                                                   : rotation::FormatScheduleDuration(window);
  }
  return out;
}

absl::StatusOr<std::string> LambdaFunctionName(std::string_view arn) {
  constexpr std::string_view kFunction = "function:";
  const size_t at = arn.rfind(kFunction);
  if (at == std::string_view::npos || (at > 0 && arn[at - 1] != ':')) {
    return absl::InvalidArgumentError(
        "RotationLambdaARN must end in function:<name>, where <name> is a rekey rotator or the "
        "path of a secret whose rotation config to use");
  }
  std::string_view name = arn.substr(at + kFunction.size());
  if (size_t colon = name.find(':'); colon != std::string_view::npos) name = name.substr(0, colon);
  if (name.empty()) return absl::InvalidArgumentError("RotationLambdaARN names no function");
  return std::string(name);
}

}  // namespace rekey::api::aws
