// Fuzzes what users send as rotation configs and schedules: any bytes either fail with
// problems / a Status, or give a config whose JSON form parses back to the same JSON form, and
// a schedule whose canonical text parses back to itself with a next due time that never goes
// backwards.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rotation/config.h"
#include "rotation/schedule.h"
#include "rotators/generic/generic_rotator.h"

namespace {

const rekey::rotation::RotatorRegistry& Registry() {
  static rekey::rotation::RotatorRegistry* registry = [] {
    auto* r = new rekey::rotation::RotatorRegistry();
    if (!rekey::rotators::generic::RegisterGenericRotator(*r).ok()) std::abort();
    return r;
  }();
  return *registry;
}

void FuzzSchedule(std::string_view text) {
  absl::StatusOr<rekey::rotation::Schedule> schedule = rekey::rotation::Schedule::Parse(text);
  if (!schedule.ok()) return;
  absl::StatusOr<rekey::rotation::Schedule> again =
      rekey::rotation::Schedule::Parse(schedule->ToString());
  if (!again.ok() || !(*again == *schedule)) std::abort();
  rekey::rotation::ScheduleInput in;
  in.created = absl::FromUnixSeconds(1767225600);
  in.not_before = in.created;
  in.not_after = in.created + absl::Hours(24 * 90);
  absl::StatusOr<absl::Time> due = schedule->NextDue(in);
  if (due.ok() && !schedule->lifetime_based() && *due <= in.created) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  FuzzSchedule(in);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(in.data(), in.size()), ec);
  if (ec || !v.is_object()) return 0;
  std::vector<rekey::rotation::Problem> problems;
  rekey::rotation::RotationConfig config =
      rekey::rotation::ParseRotationConfig(v.get_object(), Registry(), problems);
  if (!problems.empty()) return 0;
  const boost::json::object once = rekey::rotation::ToJson(config);
  std::vector<rekey::rotation::Problem> again_problems;
  rekey::rotation::RotationConfig again =
      rekey::rotation::ParseRotationConfig(once, Registry(), again_problems);
  if (!again_problems.empty() || rekey::rotation::ToJson(again) != once) std::abort();
  return 0;
}
