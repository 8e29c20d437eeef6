// DueQueue: the scheduler's in-memory index of when each secret is next due, ordered by due time,
// with per-target spacing (secrets that rotate against the same system are released at least
// `min_target_spacing` apart) and jitter (secrets due at the same moment spread out). Sized for
// a million secrets: about 100 bytes each with short paths (see bench/scheduler_bench.cc).
#ifndef REKEY_ROTATION_DUE_QUEUE_H_
#define REKEY_ROTATION_DUE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/random.h"

namespace rekey::rotation {

struct DueQueueOptions {
  // Entries with the same non-empty target key are released at least this far apart; one that
  // comes due sooner is re-queued for a later release slot. Zero disables spacing.
  absl::Duration min_target_spacing = absl::Seconds(30);
  // Upsert adds a uniform jitter in [0, max_jitter) to each due time. Zero disables jitter.
  absl::Duration max_jitter = absl::Seconds(10);
};

// Thread-safe: every method takes an internal mutex. Due times are kept as int64 Unix
// nanoseconds: times outside 1677..2262 saturate (absl::InfiniteFuture() stays "never").
class DueQueue {
 public:
  // `random` draws the jitter; not owned, must outlive the queue; may be null only when
  // options.max_jitter is zero.
  DueQueue(DueQueueOptions options, Random* random);
  DueQueue(const DueQueue&) = delete;
  DueQueue& operator=(const DueQueue&) = delete;

  // Inserts `path` or replaces its entry: it becomes due at `due` + jitter, against
  // `target_key` ("" = no spacing). O(log n).
  void Upsert(std::string_view path, absl::Time due, std::string_view target_key);
  // Removes `path`; false when it was not queued. O(log n).
  bool Remove(std::string_view path);

  size_t size() const;
  // The earliest due time in the queue (jittered, and pushed back by spacing where that
  // happened), or nullopt when empty. O(1).
  std::optional<absl::Time> NextDue() const;
  // The due time queued for `path` (as NextDue reports it), or nullopt.
  std::optional<absl::Time> Due(std::string_view path) const;

  // Removes and returns up to `max` paths due at or before `now`, in due order. An entry whose
  // target released another entry less than min_target_spacing before `now` is not returned:
  // it is re-queued for the target's next free release slot (>= last release + spacing) and
  // comes out of a later call. A call with nothing due is O(1) and allocates nothing.
  // When `deferred` is given, it receives, for each path returned, how long per-target spacing
  // held the entry back beyond its (jittered) due time, so a caller judging lateness can tell
  // the queue's own delay from a missed deadline.
  std::vector<std::string> PopDue(absl::Time now, size_t max,
                                  std::vector<absl::Duration>* deferred = nullptr);

  // How many distinct target keys are interned (for tests and metrics).
  size_t target_count() const;

 private:
  static constexpr uint32_t kNoTarget = UINT32_MAX;

  struct Slot {
    std::string path;
    uint32_t target = kNoTarget;  // index into targets_
    uint32_t heap_pos = 0;        // index into heap_
    uint32_t deferred_s = 0;      // seconds spacing held it back (saturating); reset by Upsert
  };
  struct HeapEntry {
    int64_t due_ns;
    uint32_t slot;
  };
  struct Target {
    std::string key;
    int64_t last_release_ns;  // INT64_MIN: never released
    int64_t next_free_ns;     // first release slot not yet handed to a re-queued entry
    uint32_t refs = 0;        // queued entries with this target
    uint32_t generation = 0;  // bumped when it is retired (refs reached 0)
  };
  struct Retired {
    int64_t expires_ns;  // last release + spacing: the spacing no longer matters after this
    uint32_t target;
    uint32_t generation;
  };
  // The path index holds slot numbers and hashes/compares them by their slot's path, so each
  // path is stored once. Heterogeneous: looks up by std::string_view.
  struct PathHash {
    using is_transparent = void;
    const std::vector<Slot>* slots;
    size_t operator()(uint32_t slot) const;
    size_t operator()(std::string_view path) const;
  };
  struct PathEq {
    using is_transparent = void;
    const std::vector<Slot>* slots;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, std::string_view b) const { return (*slots)[a].path == b; }
    bool operator()(std::string_view a, uint32_t b) const { return a == (*slots)[b].path; }
  };

  uint32_t InternTarget(std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnrefTarget(uint32_t target) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SweepRetiredTargets(int64_t now_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops `slot` from the index, the heap and its target, and frees it; its path is moved to
  // `*path_out` when that is not null.
  void EraseSlot(uint32_t slot, std::string* path_out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  bool Less(const HeapEntry& a, const HeapEntry& b) const {
    return a.due_ns < b.due_ns || (a.due_ns == b.due_ns && a.slot < b.slot);
  }
  void Place(size_t pos, const HeapEntry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SiftUp(size_t pos) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SiftDown(size_t pos) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HeapSet(size_t pos, int64_t due_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HeapErase(size_t pos) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t spacing_ns_;
  const int64_t max_jitter_ns_;
  Random* const random_;

  mutable absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint32_t, PathHash, PathEq> index_ ABSL_GUARDED_BY(mu_);
  std::vector<HeapEntry> heap_ ABSL_GUARDED_BY(mu_);  // 4-ary min-heap by (due, slot)
  std::vector<Target> targets_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_targets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> target_ids_ ABSL_GUARDED_BY(mu_);
  // Targets whose last entry left the queue, freed once their spacing has run out.
  std::deque<Retired> retired_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_DUE_QUEUE_H_
