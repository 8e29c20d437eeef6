// UsageCounter: how many encryptions each version of one transit key has made, kept in the store
// without a write per encryption. A node reserves a block of encryptions at a time by adding it
// to the stored total (compare-and-set, so several nodes add up), spends the block in memory,
// and gives back what it did not spend when it stops. The stored total is therefore always an
// upper bound of the encryptions made: a crash over-counts, it never under-counts, which is the
// safe side for AES-GCM's 2^32 random-nonce limit.
#ifndef REKEY_TRANSIT_USAGE_COUNTER_H_
#define REKEY_TRANSIT_USAGE_COUNTER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

namespace rekey::transit {

struct UsageLimits {
  // Encryptions reserved per store write.
  uint64_t block = 10000;
  // At this many encryptions a version should be rotated away from (reported once).
  uint64_t rotation_threshold = uint64_t{1} << 31;
  // No version ever makes more encryptions than this: Reserve fails instead.
  uint64_t hard_limit = uint64_t{1} << 32;
};

// Thread-safe. `store` must outlive the counter.
class UsageCounter {
 public:
  // Counts for the record at `record_key` (a JSON object of version -> total).
  UsageCounter(storage::Store& store, std::string record_key, UsageLimits limits);

  // Reads the stored totals. kDataLoss for an unreadable record; store errors as they come.
  absl::Status Load();

  // Takes `n` encryptions of `version` from this node's allowance, reserving a new block in the
  // store first when the allowance is short. kFailedPrecondition (naming the version and the
  // limit) when the version would pass the hard limit; store errors as they come (then nothing
  // was taken). `*crossed` (if non-null) is set when this call is the first to see the
  // version at or past the rotation threshold.
  absl::Status Take(uint32_t version, uint64_t n, bool* crossed = nullptr);

  // Whether Take(version, n) would be served from memory, without a store write.
  bool CanTakeWithoutWrite(uint32_t version, uint64_t n) const;

  // Encryptions of `version` (an upper bound: reserved by every node, minus what this node has
  // not spent yet).
  uint64_t Count(uint32_t version) const;
  // Whether `version` is at or past the rotation threshold.
  bool RotationNeeded(uint32_t version) const;

  // Gives this node's unspent allowances back to the store (graceful shutdown). Store errors as
  // they come; the allowance is then kept, so a retry may succeed.
  absl::Status Release();

 private:
  struct Version {
    uint64_t stored_total = 0;  // as of the last read or write of the record
    uint64_t remaining = 0;     // this node's unspent allowance
    bool notified = false;
  };
  // Adds `delta` (may be negative) to the stored totals of the given versions, compare-and-set
  // with retries, and refreshes stored_total of every version from the result.
  absl::Status AddToStore(const std::map<uint32_t, int64_t>& delta)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store& store_;
  const std::string record_key_;
  const UsageLimits limits_;
  mutable absl::Mutex mu_;
  std::map<uint32_t, Version> versions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_USAGE_COUNTER_H_
