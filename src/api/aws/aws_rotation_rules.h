// AWS RotationRules <-> rekey schedules. Pure conversions, no storage.
//
//   AutomaticallyAfterDays N          <-> schedule "rate(Nd)"
//   ScheduleExpression "rate(N days)" ->  "rate(Nd)"   ("rate(N hours)" -> "rate(Nh)")
//   ScheduleExpression "cron(...)"    <-> "cron(...)"  (AWS 6-field cron, which rekey parses)
//   Duration "Nh"                     <-> window "Nh"
#ifndef REKEY_API_AWS_AWS_ROTATION_RULES_H_
#define REKEY_API_AWS_AWS_ROTATION_RULES_H_

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::api::aws {

struct RotationRulesSpec {
  std::string schedule;               // rekey schedule text; "" = the rules named none
  std::optional<std::string> window;  // rekey duration text, e.g. "3h"
};

// Parses a RotationRules structure. kInvalidArgument (with AWS's wording, naming the member) for
// both AutomaticallyAfterDays and ScheduleExpression, days outside 1..1000, an expression that is
// not rate(...) or cron(...) or longer than 256 characters, or a Duration not of 1h..24h.
absl::StatusOr<RotationRulesSpec> ParseRotationRules(const boost::json::object& rules);

// The RotationRules DescribeSecret shows for a rekey schedule and window (window zero = none).
// Schedules AWS has no form for (before_expiry, at_fraction) are shown as their text in
// ScheduleExpression.
boost::json::object RotationRulesJson(std::string_view schedule, absl::Duration window);

// The function name of a RotationLambdaARN: "arn:aws:lambda:<region>:<account>:function:<name>"
// (optionally ":<qualifier>" after it) or "function:<name>" -> "<name>". kInvalidArgument for
// text without "function:<name>".
absl::StatusOr<std::string> LambdaFunctionName(std::string_view arn);

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_AWS_ROTATION_RULES_H_
