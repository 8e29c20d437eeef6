// MemoryStore: std::map under one mutex.
#include "storage/memory_store.h"

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "storage/internal/condition_error.h"

namespace rekey::storage {

absl::StatusOr<std::optional<Record>> MemoryStore::Get(std::string_view key) {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return Record{it->first, it->second.value, it->second.mod_index};
}

template <typename Visit>
void MemoryStore::ForEachInRange(std::string_view prefix, std::string_view start_after,
                                 size_t limit, Visit visit) const {
  auto it = entries_.lower_bound(prefix);
  if (!start_after.empty() && start_after >= prefix) it = entries_.upper_bound(start_after);
  for (size_t n = 0; it != entries_.end() && (limit == 0 || n < limit); ++it, ++n) {
    if (!it->first.starts_with(prefix)) break;
    visit(it->first, it->second);
  }
}

absl::StatusOr<std::vector<Record>> MemoryStore::Scan(std::string_view prefix,
                                                      std::string_view start_after, size_t limit) {
  std::shared_lock lock(mu_);
  std::vector<Record> out;
  ForEachInRange(prefix, start_after, limit, [&](const std::string& key, const Entry& entry) {
    out.push_back(Record{key, entry.value, entry.mod_index});
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> MemoryStore::ScanKeys(std::string_view prefix,
                                                               std::string_view start_after,
                                                               size_t limit) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  ForEachInRange(prefix, start_after, limit,
                 [&](const std::string& key, const Entry&) { out.push_back(key); });
  return out;
}

absl::StatusOr<uint64_t> MemoryStore::Commit(const WriteBatch& batch) {
  std::unique_lock lock(mu_);
  for (const WriteBatch::Condition& condition : batch.conditions()) {
    auto it = entries_.find(condition.key);
    const uint64_t actual = it == entries_.end() ? 0 : it->second.mod_index;
    if (actual != condition.mod_index) {
      return internal::ConditionFailedError(condition.key, condition.mod_index, actual);
    }
  }
  if (batch.empty()) return commit_index_;
  const uint64_t index = ++commit_index_;
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.value.has_value()) {
      entries_.insert_or_assign(op.key, Entry{*op.value, index});
    } else {
      entries_.erase(op.key);
    }
  }
  return index;
}

uint64_t MemoryStore::CommitIndex() {
  std::shared_lock lock(mu_);
  return commit_index_;
}

}  // namespace rekey::storage
