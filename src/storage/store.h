// Store: the ordered key/value interface every backend implements (SQLite now, PostgreSQL later)
// and the storage barrier wraps. Callers never know which backend is underneath.
#ifndef REKEY_STORAGE_STORE_H_
#define REKEY_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::storage {

// One stored entry. `mod_index` is the commit index of the batch that last wrote it (> 0).
struct Record {
  std::string key;
  SecretBytes value;
  uint64_t mod_index = 0;
};

// A set of writes applied atomically, guarded by compare-and-set preconditions.
class WriteBatch {
 public:
  struct Op {
    std::string key;
    std::optional<SecretBytes> value;  // nullopt = delete
  };
  struct Condition {
    std::string key;
    uint64_t mod_index = 0;  // the key's mod_index must equal this; 0 = the key must be absent
  };

  void Put(std::string key, SecretBytes value) {
    ops_.push_back(Op{std::move(key), std::move(value)});
  }
  void Delete(std::string key) { ops_.push_back(Op{std::move(key), std::nullopt}); }
  void ExpectModIndex(std::string key, uint64_t mod_index) {
    conditions_.push_back(Condition{std::move(key), mod_index});
  }

  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<Condition>& conditions() const { return conditions_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;  // applied in order; a later op on the same key wins
  std::vector<Condition> conditions_;
};

// Thread-safe: all methods may be called concurrently from any thread.
class Store {
 public:
  virtual ~Store() = default;

  // The record at `key`, or nullopt if absent. kUnavailable/kDataLoss on backend failure.
  virtual absl::StatusOr<std::optional<Record>> Get(std::string_view key) = 0;

  // Records whose key starts with `prefix`, in ascending byte order of key, beginning strictly
  // after `start_after` (when non-empty), at most `limit` of them (0 = no limit).
  virtual absl::StatusOr<std::vector<Record>> Scan(std::string_view prefix,
                                                   std::string_view start_after, size_t limit) = 0;

  // Like Scan, but only the keys (no value is read or decrypted).
  virtual absl::StatusOr<std::vector<std::string>> ScanKeys(std::string_view prefix,
                                                            std::string_view start_after,
                                                            size_t limit) = 0;

  // Applies `batch` atomically if every condition holds, and returns its commit index, which is
  // greater than that of every batch committed before it. When it returns OK the batch is
  // durable. kAborted if a condition did not hold (nothing was written); kUnavailable on an I/O
  // failure (nothing was written). An empty batch with no conditions commits nothing and
  // returns the current index. A batch with conditions but no ops checks them atomically
  // (kAborted if one fails) and returns the current index without writing.
  virtual absl::StatusOr<uint64_t> Commit(const WriteBatch& batch) = 0;

  // Called with a Commit's result. It may run on a storage thread: it must be quick, must not
  // block, and must not commit synchronously to the same store.
  using CommitCallback = std::function<void(absl::StatusOr<uint64_t>)>;

  // Commit without waiting: `done` runs exactly once with what Commit would have returned, either
  // before CommitAsync returns or later on another thread. Backends with a writer thread
  // override it so that no caller thread sits in the commit; this default commits synchronously.
  virtual void CommitAsync(WriteBatch batch, CommitCallback done) { done(Commit(batch)); }

  // The highest commit index made durable so far (0 for a new store). Every read that starts
  // after CommitIndex() returned N sees all batches up to N; a read may briefly see a batch
  // before CommitIndex() reports it, never the reverse.
  virtual uint64_t CommitIndex() = 0;
};

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_STORE_H_
