#include "transit/usage_counter.h"

#include <boost/json.hpp>
#include <optional>

#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::transit {
namespace {

namespace json = boost::json;

constexpr int kMaxCasAttempts = 16;

struct StoredTotals {
  std::map<uint32_t, uint64_t> totals;
  uint64_t mod_index = 0;  // 0: no record yet
};

absl::StatusOr<StoredTotals> ReadTotals(storage::Store& store, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store.Get(key));
  StoredTotals out;
  if (!rec.has_value()) return out;
  out.mod_index = rec->mod_index;
  boost::system::error_code ec;
  json::value v =
      json::parse(json::string_view(rec->value.Reveal().data(), rec->value.Reveal().size()), ec);
  if (ec || !v.is_object()) {
    return absl::DataLossError(rekey::StrCat("usage record ", key, " is not a JSON object"));
  }
  for (const auto& kv : v.get_object()) {
    uint32_t version = 0;
    if (!absl::SimpleAtoi(absl::string_view(kv.key().data(), kv.key().size()), &version) ||
        !kv.value().is_number()) {
      return absl::DataLossError(rekey::StrCat("usage record ", key, " is malformed"));
    }
    boost::system::error_code num_ec;
    const uint64_t n = kv.value().to_number<uint64_t>(num_ec);
    if (num_ec) return absl::DataLossError(rekey::StrCat("usage record ", key, " is malformed"));
    out.totals[version] = n;
  }
  return out;
}

SecretBytes EncodeTotals(const std::map<uint32_t, uint64_t>& totals) {
  json::object o;
  for (const auto& [version, n] : totals) o[std::to_string(version)] = n;
  return SecretBytes(json::serialize(o));
}

}  // namespace

UsageCounter::UsageCounter(storage::Store& store, std::string record_key, UsageLimits limits)
    : store_(store), record_key_(std::move(record_key)), limits_(limits) {}

absl::Status UsageCounter::Load() {
  ASSIGN_OR_RETURN(StoredTotals stored, ReadTotals(store_, record_key_));
  absl::MutexLock lock(&mu_);
  for (const auto& [version, n] : stored.totals) versions_[version].stored_total = n;
  return absl::OkStatus();
}

absl::Status UsageCounter::AddToStore(const std::map<uint32_t, int64_t>& delta) {
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    ASSIGN_OR_RETURN(StoredTotals stored, ReadTotals(store_, record_key_));
    for (const auto& [version, d] : delta) {
      uint64_t& total = stored.totals[version];
      if (d >= 0) {
        // Overflow-safe: a total read from the store may already be past the limit.
        if (total > limits_.hard_limit || static_cast<uint64_t>(d) > limits_.hard_limit - total) {
          return absl::FailedPreconditionError(
              rekey::StrCat("key version ", version, " has reached its limit of ",
                            limits_.hard_limit, " encryptions; rotate the key"));
        }
        total += static_cast<uint64_t>(d);
      } else {
        const uint64_t back = static_cast<uint64_t>(-d);
        total = total > back ? total - back : 0;
      }
    }
    storage::WriteBatch batch;
    batch.Put(record_key_, EncodeTotals(stored.totals));
    batch.ExpectModIndex(record_key_, stored.mod_index);
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.ok()) {
      for (const auto& [version, n] : stored.totals) versions_[version].stored_total = n;
      return absl::OkStatus();
    }
    if (committed.status().code() != absl::StatusCode::kAborted) return committed.status();
  }
  return absl::AbortedError(
      rekey::StrCat("usage record ", record_key_, " kept changing; try again"));
}

absl::Status UsageCounter::Take(uint32_t version, uint64_t n, bool* crossed) {
  if (crossed != nullptr) *crossed = false;
  absl::MutexLock lock(&mu_);
  Version& v = versions_[version];
  if (v.remaining < n) {
    const uint64_t short_by = n - v.remaining;
    if (v.stored_total > limits_.hard_limit || short_by > limits_.hard_limit - v.stored_total) {
      return absl::FailedPreconditionError(
          rekey::StrCat("key version ", version, " has reached its limit of ", limits_.hard_limit,
                        " encryptions; rotate the key"));
    }
    // A full block when the limit allows it, else exactly what is missing.
    uint64_t want = std::max(short_by, limits_.block);
    if (want > limits_.hard_limit - v.stored_total) want = short_by;
    RETURN_IF_ERROR(AddToStore({{version, static_cast<int64_t>(want)}}));
    versions_[version].remaining += want;
  }
  Version& now = versions_[version];
  now.remaining -= n;
  if (!now.notified && now.stored_total >= limits_.rotation_threshold) {
    now.notified = true;
    if (crossed != nullptr) *crossed = true;
  }
  return absl::OkStatus();
}

bool UsageCounter::CanTakeWithoutWrite(uint32_t version, uint64_t n) const {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(version);
  return it != versions_.end() && it->second.remaining >= n;
}

uint64_t UsageCounter::Count(uint32_t version) const {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(version);
  if (it == versions_.end()) return 0;
  return it->second.stored_total - std::min(it->second.remaining, it->second.stored_total);
}

bool UsageCounter::RotationNeeded(uint32_t version) const {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(version);
  return it != versions_.end() && it->second.stored_total >= limits_.rotation_threshold;
}

absl::Status UsageCounter::Release() {
  absl::MutexLock lock(&mu_);
  std::map<uint32_t, int64_t> delta;
  for (const auto& [version, v] : versions_) {
    if (v.remaining > 0) delta[version] = -static_cast<int64_t>(v.remaining);
  }
  if (delta.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(AddToStore(delta));
  for (auto& [version, v] : versions_) v.remaining = 0;
  return absl::OkStatus();
}

}  // namespace rekey::transit
