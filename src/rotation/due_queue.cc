#include "rotation/due_queue.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "core/strings.h"

namespace rekey::rotation {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();
constexpr size_t kArity = 4;

int64_t ToNanos(absl::Time t) {
  static const absl::Time kMax = absl::FromUnixNanos(kMaxNs);
  static const absl::Time kMin = absl::FromUnixNanos(kNever);
  if (t >= kMax) return kMaxNs;
  if (t <= kMin) return kNever;
  return absl::ToUnixNanos(t);
}

absl::Time FromNanos(int64_t ns) {
  if (ns == kMaxNs) return absl::InfiniteFuture();
  if (ns == kNever) return absl::InfinitePast();
  return absl::FromUnixNanos(ns);
}

int64_t ToNanos(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  return absl::ToInt64Nanoseconds(d);  // saturates
}

// a + b for b >= 0, saturating at kMaxNs; "never" stays "never".
int64_t AddSat(int64_t a, int64_t b) {
  if (a == kNever) return kNever;
  return a > kMaxNs - b ? kMaxNs : a + b;
}

}  // namespace

size_t DueQueue::PathHash::operator()(uint32_t slot) const {
  return (*this)(std::string_view((*slots)[slot].path));
}
size_t DueQueue::PathHash::operator()(std::string_view path) const {
  return absl::Hash<absl::string_view>{}(ToAbsl(path));
}

DueQueue::DueQueue(DueQueueOptions options, Random* random)
    : spacing_ns_(ToNanos(options.min_target_spacing)),
      max_jitter_ns_(ToNanos(options.max_jitter)),
      random_(random),
      index_(0, PathHash{&slots_}, PathEq{&slots_}) {
  if (max_jitter_ns_ > 0 && random_ == nullptr) std::abort();  // a wiring bug
}

void DueQueue::Upsert(std::string_view path, absl::Time due, std::string_view target_key) {
  int64_t due_ns = ToNanos(due);
  if (max_jitter_ns_ > 0 && due_ns != kMaxNs) {
    due_ns = AddSat(due_ns, static_cast<int64_t>(random_->Uniform(max_jitter_ns_)));
  }
  absl::MutexLock lock(&mu_);
  const uint32_t target = target_key.empty() ? kNoTarget : InternTarget(target_key);
  auto it = index_.find(path);
  if (it != index_.end()) {
    Slot& slot = slots_[*it];
    const uint32_t old_target = slot.target;
    slot.target = target;
    slot.deferred_s = 0;
    if (old_target != kNoTarget) UnrefTarget(old_target);
    HeapSet(slot.heap_pos, due_ns);
    return;
  }
  uint32_t s;
  if (!free_slots_.empty()) {
    s = free_slots_.back();
    free_slots_.pop_back();
  } else {
    s = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[s].path = std::string(path);  // exact capacity: assign() into an empty string doubles it
  slots_[s].target = target;
  slots_[s].deferred_s = 0;
  index_.insert(s);
  heap_.push_back(HeapEntry{due_ns, s});
  slots_[s].heap_pos = static_cast<uint32_t>(heap_.size() - 1);
  SiftUp(heap_.size() - 1);
}

bool DueQueue::Remove(std::string_view path) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(path);
  if (it == index_.end()) return false;
  EraseSlot(*it, nullptr);
  return true;
}

size_t DueQueue::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

std::optional<absl::Time> DueQueue::NextDue() const {
  absl::MutexLock lock(&mu_);
  if (heap_.empty()) return std::nullopt;
  return FromNanos(heap_.front().due_ns);
}

std::optional<absl::Time> DueQueue::Due(std::string_view path) const {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(path);
  if (it == index_.end()) return std::nullopt;
  return FromNanos(heap_[slots_[*it].heap_pos].due_ns);
}

size_t DueQueue::target_count() const {
  absl::MutexLock lock(&mu_);
  return target_ids_.size();
}

std::vector<std::string> DueQueue::PopDue(absl::Time now, size_t max,
                                          std::vector<absl::Duration>* deferred) {
  const int64_t now_ns = ToNanos(now);
  std::vector<std::string> out;
  if (deferred != nullptr) deferred->clear();
  absl::MutexLock lock(&mu_);
  if (!retired_.empty()) SweepRetiredTargets(now_ns);
  while (!heap_.empty() && out.size() < max && heap_.front().due_ns <= now_ns) {
    const uint32_t s = heap_.front().slot;
    const uint32_t target = slots_[s].target;
    if (target != kNoTarget && spacing_ns_ > 0) {
      Target& t = targets_[target];
      const int64_t earliest = AddSat(t.last_release_ns, spacing_ns_);
      if (t.last_release_ns != kNever && now_ns < earliest) {
        // Too soon after this target's last release: take its next free release slot.
        const int64_t at = std::max(earliest, t.next_free_ns);
        t.next_free_ns = AddSat(at, spacing_ns_);
        const int64_t added_s = (at - heap_.front().due_ns) / 1000000000 + 1;
        slots_[s].deferred_s = static_cast<uint32_t>(
            std::min<int64_t>(UINT32_MAX, int64_t{slots_[s].deferred_s} + added_s));
        HeapSet(0, at);
        continue;
      }
      t.last_release_ns = now_ns;
    }
    if (deferred != nullptr) deferred->push_back(absl::Seconds(slots_[s].deferred_s));
    out.emplace_back();
    EraseSlot(s, &out.back());
  }
  return out;
}

void DueQueue::EraseSlot(uint32_t s, std::string* path_out) {
  Slot& slot = slots_[s];
  index_.erase(s);  // hashes slot.path, so before it moves
  HeapErase(slot.heap_pos);
  if (slot.target != kNoTarget) UnrefTarget(slot.target);
  slot.target = kNoTarget;
  if (path_out != nullptr) {
    *path_out = std::move(slot.path);
    slot.path = std::string();
  } else {
    std::string().swap(slot.path);  // give the memory back
  }
  free_slots_.push_back(s);
}

uint32_t DueQueue::InternTarget(std::string_view key) {
  auto it = target_ids_.find(ToAbsl(key));
  uint32_t id;
  if (it != target_ids_.end()) {
    id = it->second;
  } else {
    if (!free_targets_.empty()) {
      id = free_targets_.back();
      free_targets_.pop_back();
    } else {
      id = static_cast<uint32_t>(targets_.size());
      targets_.emplace_back();
    }
    Target& t = targets_[id];
    t.key.assign(key.data(), key.size());
    t.last_release_ns = kNever;
    t.next_free_ns = kNever;
    t.refs = 0;
    target_ids_.emplace(t.key, id);
  }
  ++targets_[id].refs;
  return id;
}

void DueQueue::UnrefTarget(uint32_t id) {
  Target& t = targets_[id];
  if (--t.refs > 0) return;
  // Keep it while its spacing still matters: an entry re-added soon must still be spaced.
  ++t.generation;
  retired_.push_back(Retired{AddSat(t.last_release_ns, spacing_ns_), id, t.generation});
}

void DueQueue::SweepRetiredTargets(int64_t now_ns) {
  // Expiry times are pushed in roughly increasing order; one that is out of order waits for
  // those before it, which only delays freeing.
  while (!retired_.empty() && retired_.front().expires_ns <= now_ns) {
    const Retired r = retired_.front();
    retired_.pop_front();
    Target& t = targets_[r.target];
    if (t.refs != 0 || t.generation != r.generation) continue;  // revived or retired again
    target_ids_.erase(t.key);
    std::string().swap(t.key);
    ++t.generation;  // stale Retired records for this id no longer match
    free_targets_.push_back(r.target);
  }
}

// ---- 4-ary min-heap of (due, slot), each slot knowing its position ----

void DueQueue::Place(size_t pos, const HeapEntry& e) {
  heap_[pos] = e;
  slots_[e.slot].heap_pos = static_cast<uint32_t>(pos);
}

void DueQueue::SiftUp(size_t pos) {
  const HeapEntry e = heap_[pos];
  while (pos > 0) {
    const size_t parent = (pos - 1) / kArity;
    if (!Less(e, heap_[parent])) break;
    Place(pos, heap_[parent]);
    pos = parent;
  }
  Place(pos, e);
}

void DueQueue::SiftDown(size_t pos) {
  const HeapEntry e = heap_[pos];
  const size_t n = heap_.size();
  for (;;) {
    const size_t first = pos * kArity + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t last = std::min(first + kArity, n);
    for (size_t c = first + 1; c < last; ++c) {
      if (Less(heap_[c], heap_[best])) best = c;
    }
    if (!Less(heap_[best], e)) break;
    Place(pos, heap_[best]);
    pos = best;
  }
  Place(pos, e);
}

void DueQueue::HeapSet(size_t pos, int64_t due_ns) {
  const int64_t old = heap_[pos].due_ns;
  heap_[pos].due_ns = due_ns;
  if (due_ns < old) {
    SiftUp(pos);
  } else {
    SiftDown(pos);
  }
}

void DueQueue::HeapErase(size_t pos) {
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;
  const HeapEntry removed = heap_[pos];
  Place(pos, last);
  if (Less(last, removed)) {
    SiftUp(pos);
  } else {
    SiftDown(pos);
  }
}

}  // namespace rekey::rotation
