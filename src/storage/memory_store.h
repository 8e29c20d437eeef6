// MemoryStore: an in-memory Store with the exact semantics of the durable backends, for unit tests
// of upper layers. Nothing survives the object.
#ifndef REKEY_STORAGE_MEMORY_STORE_H_
#define REKEY_STORAGE_MEMORY_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "storage/store.h"

namespace rekey::storage {

// Thread-safe. Every call takes one mutex, so each Commit is atomic and each Scan is a consistent
// snapshot. Never returns kUnavailable or kDataLoss.
class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  absl::StatusOr<std::optional<Record>> Get(std::string_view key) override;
  absl::StatusOr<std::vector<Record>> Scan(std::string_view prefix, std::string_view start_after,
                                           size_t limit) override;
  absl::StatusOr<std::vector<std::string>> ScanKeys(std::string_view prefix,
                                                    std::string_view start_after,
                                                    size_t limit) override;
  absl::StatusOr<uint64_t> Commit(const WriteBatch& batch) override;
  uint64_t CommitIndex() override;

 private:
  struct Entry {
    SecretBytes value;
    uint64_t mod_index = 0;
  };
  using Map = std::map<std::string, Entry, std::less<>>;

  // Calls `visit` on each entry Scan would return, in order.
  template <typename Visit>
  void ForEachInRange(std::string_view prefix, std::string_view start_after, size_t limit,
                      Visit visit) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable std::shared_mutex mu_;
  Map entries_ ABSL_GUARDED_BY(mu_);
  uint64_t commit_index_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_MEMORY_STORE_H_
