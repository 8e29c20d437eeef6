#include "app/transit_schedules.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "core/strings.h"
#include "rotation/config.h"
#include "rotation/schedule.h"

namespace rekey::app {
namespace {

namespace json = boost::json;

json::object ConfigFor(const transit::KeyRotationStatus& key,
                       const absl::StatusOr<rotation::RotationConfig>& current) {
  // Keep what an operator set on the config (grace, notify, retry); own only rotator, params
  // and schedule.
  json::object config = current.ok() ? rotation::ToJson(*current) : json::object{{"grace", "0s"}};
  config["rotator"] = "transit";
  config["params"] = json::object{{"key", key.name}};
  if (key.auto_rotate_period > absl::ZeroDuration()) {
    config["schedule"] =
        StrCat("rate(", rotation::FormatScheduleDuration(key.auto_rotate_period), ")");
  } else {
    config.erase("schedule");
  }
  return config;
}

}  // namespace

std::string TransitRotationPath(std::string_view key) { return StrCat("transit/", key); }

absl::Status SyncTransitSchedules(transit::TransitService& transit,
                                  rotation::RotationEngine& engine, secrets::SecretsService& kv) {
  absl::StatusOr<std::vector<transit::KeyRotationStatus>> keys = transit.RotationStatuses();
  if (!keys.ok()) return keys.status();
  absl::Status first;
  for (const transit::KeyRotationStatus& key : *keys) {
    const std::string path = TransitRotationPath(key.name);
    absl::StatusOr<rotation::RotationConfig> current = engine.GetConfig(path);
    if (!current.ok() && current.status().code() != absl::StatusCode::kNotFound) {
      first.Update(current.status());
      continue;
    }
    const bool managed = current.ok() && current->rotator == "transit";
    const bool wanted = key.auto_rotate_period > absl::ZeroDuration() || key.usage_rotation_needed;
    // A config at that path for something else is the operator's: leave it alone.
    if (current.ok() && !managed) continue;
    if (!managed && !wanted) continue;
    if (!current.ok() && kv.GetMetadata(path).ok()) {
      spdlog::warn(
          "transit key {}: {} holds a secret without a transit rotation config; not "
          "scheduling it there",
          key.name, path);
      continue;
    }
    json::object desired = ConfigFor(key, current);
    if (!current.ok() || desired != rotation::ToJson(*current)) {
      if (absl::Status s = engine.SetConfig(path, desired); !s.ok()) {
        spdlog::warn("transit key {}: rotation config not set: {}", key.name, ToStd(s.message()));
        first.Update(s);
        continue;
      }
    }
    if (key.usage_rotation_needed) {
      absl::StatusOr<rotation::Run> run =
          engine.Rotate(path, rotation::RotateOptions{.trigger = "usage", .actor = "transit"});
      if (run.ok()) {
        spdlog::info(
            "transit key {}: version {} passed the usage threshold ({} encryptions); "
            "rotation {} started",
            key.name, key.latest_version, key.latest_version_encryptions, run->id);
      } else if (run.status().code() != absl::StatusCode::kAborted) {  // kAborted: one runs
        first.Update(run.status());
      }
    }
  }
  return first;
}

TransitSchedules::TransitSchedules(transit::TransitService& transit,
                                   rotation::RotationEngine& engine, secrets::SecretsService& kv,
                                   absl::Duration interval)
    : transit_(transit), engine_(engine), kv_(kv), interval_(interval) {}

TransitSchedules::~TransitSchedules() { Stop(); }

void TransitSchedules::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void TransitSchedules::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TransitSchedules::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    if (absl::Status s = SyncTransitSchedules(transit_, engine_, kv_); !s.ok()) {
      spdlog::warn("transit schedules: {}", ToStd(s.message()));
    }
    lock.lock();
    cv_.wait_for(lock, absl::ToChronoSeconds(interval_), [this] { return stop_; });
  }
}

}  // namespace rekey::app
