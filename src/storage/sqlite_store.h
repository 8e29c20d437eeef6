// SqliteStore: the embedded durable Store. One SQLite file in WAL mode with synchronous=FULL;
// one writer thread group-commits queued batches (one fsync per group); reads run in parallel on
// a pool of read-only connections.
#ifndef REKEY_STORAGE_SQLITE_STORE_H_
#define REKEY_STORAGE_SQLITE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/store.h"

namespace rekey::storage {

namespace internal {
class SqliteConnection;
}  // namespace internal

struct SqliteStoreOptions {
  // Create and initialise the file when `path` does not exist.
  bool create_if_missing = false;
  // At most this many batches share one transaction (and one fsync). Must be >= 1.
  int max_batches_per_group = 512;
  // Cap on the read-only connection pool; readers beyond it wait for a free one. Must be >= 1.
  int read_connections = 8;
  // How long a connection waits for a lock held by another process, in milliseconds.
  int busy_timeout_ms = 5000;
};

// Thread-safe: every Store method may be called concurrently. Commit() blocks until its group is
// durable. Reads never wait for the writer (WAL) and see only committed data.
class SqliteStore final : public Store {
 public:
  // Counters of the writer since Open. A group is one transaction holding one or more batches.
  struct GroupCommitStats {
    uint64_t transactions = 0;  // committed transactions
    uint64_t batches = 0;       // batches those transactions carried (commits and aborts)
  };

  // Opens (or, with create_if_missing, creates) the store at `path`. kNotFound if `path` does
  // not exist and create_if_missing is false; kFailedPrecondition if the file is not a rekey
  // store (not SQLite, or SQLite without our format marker); kInvalidArgument for bad options;
  // kUnavailable if SQLite cannot open or configure it.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           const SqliteStoreOptions& options);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  // Close()s.
  ~SqliteStore() override;

  // Completes every queued commit, stops the writer thread, waits for reads in flight and closes
  // every connection. Afterwards every call fails with kFailedPrecondition (CommitIndex still
  // answers). Idempotent; must not be called from two threads at once.
  void Close();

  absl::StatusOr<std::optional<Record>> Get(std::string_view key) override;
  absl::StatusOr<std::vector<Record>> Scan(std::string_view prefix, std::string_view start_after,
                                           size_t limit) override;
  absl::StatusOr<std::vector<std::string>> ScanKeys(std::string_view prefix,
                                                    std::string_view start_after,
                                                    size_t limit) override;
  absl::StatusOr<uint64_t> Commit(const WriteBatch& batch) override;
  // Queues the batch for the writer thread; the notifier thread runs `done` after the commit.
  void CommitAsync(WriteBatch batch, CommitCallback done) override;
  uint64_t CommitIndex() override;

  GroupCommitStats Stats() const;

  // Test hooks. While paused the writer starts no new group (Close still drains the queue).
  // AwaitQueuedForTest blocks until at least `n` batches wait in the queue.
  void PauseWriterForTest(bool paused);
  void AwaitQueuedForTest(size_t n);

 private:
  struct PendingBatch;
  class ReaderLease;
  using Connection = internal::SqliteConnection;

  SqliteStore(std::string path, const SqliteStoreOptions& options,
              std::unique_ptr<Connection> writer, uint64_t commit_index);

  bool HasWorkOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  bool ReaderAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_);
  bool AllReadersIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_);

  // Writer thread: takes groups off queue_ until closing_ and the queue is empty.
  void WriterLoop();
  // Checkpoints the WAL into the main file once it is large; runs after waiters are woken so
  // they never wait for it.
  void MaybeCheckpoint();
  // Runs one group in one transaction and sets every batch's result.
  void CommitGroup(const std::vector<std::shared_ptr<PendingBatch>>& group);
  // Applies one batch inside the open transaction; sets `result` and advances `index` if it
  // wrote. Non-OK return: the transaction can no longer be trusted and must be rolled back.
  absl::Status ApplyBatch(const WriteBatch& batch, uint64_t& index,
                          absl::StatusOr<uint64_t>& result);
  absl::Status CheckConditions(const WriteBatch& batch);
  absl::Status ApplyOps(const WriteBatch& batch, uint64_t index);

  absl::StatusOr<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> connection);
  // Runs the range query for Scan (with_values) or ScanKeys; `emit` gets each row's statement.
  template <typename Emit>
  absl::Status ScanRange(std::string_view prefix, std::string_view start_after, size_t limit,
                         bool with_values, Emit emit);

  const std::string path_;
  const SqliteStoreOptions options_;

  // Owned by the writer thread once it runs (before that by Open, after Close's join by Close).
  std::unique_ptr<Connection> writer_;
  std::atomic<uint64_t> commit_index_;  // last durable index; written only by the writer
  std::atomic<uint64_t> stats_transactions_{0};
  std::atomic<uint64_t> stats_batches_{0};
  int wal_pages_ = 0;  // WAL size after the last commit (set by SQLite's WAL hook, writer only)

  // std::mutex rather than absl::Mutex so ThreadSanitizer sees every hand-off (Debian's Abseil
  // is not instrumented).
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // queue_, paused_ or closing_ changed
  std::deque<std::shared_ptr<PendingBatch>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool paused_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_thread_;
  // Notifier thread: completes committed groups (wakes Commit callers, runs CommitAsync
  // callbacks) in commit order, off the writer's critical path.
  void NotifierLoop();
  std::mutex finished_mu_;
  std::condition_variable finished_cv_;
  std::deque<std::vector<std::shared_ptr<PendingBatch>>> finished_ ABSL_GUARDED_BY(finished_mu_);
  bool notifier_stopping_ ABSL_GUARDED_BY(finished_mu_) = false;
  std::thread notifier_thread_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;  // a reader came back, a slot freed, or the pool closed
  std::vector<std::unique_ptr<Connection>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
  int open_readers_ ABSL_GUARDED_BY(pool_mu_) = 0;  // idle + leased + being opened
  bool pool_closed_ ABSL_GUARDED_BY(pool_mu_) = false;

  bool closed_ = false;  // touched only by Close
};

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_SQLITE_STORE_H_
