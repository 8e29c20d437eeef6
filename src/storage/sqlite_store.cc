// SqliteStore: open, the group-commit writer, the read-only connection pool and the queries.
#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"
#include "storage/internal/condition_error.h"
#include "storage/internal/sqlite_connection.h"
#include "storage/internal/sqlite_schema.h"

namespace rekey::storage {
namespace {

using internal::BindBlob;
using internal::BindText;
using internal::ColumnBytes;
using internal::ScopedReset;
using internal::SqliteError;

// SQLite's own auto-checkpoint threshold, but run by the writer after it has woken the waiters.
constexpr int kCheckpointPages = 1000;

constexpr char kSelectModIndex[] = "SELECT mod_index FROM entries WHERE key = ?1";
constexpr char kUpsert[] =
    "INSERT INTO entries(key, value, mod_index) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_index = excluded.mod_index";
constexpr char kDelete[] = "DELETE FROM entries WHERE key = ?1";
constexpr char kGet[] = "SELECT value, mod_index FROM entries WHERE key = ?1";
// ?1 inclusive lower bound, ?2 exclusive upper bound, ?3 limit (-1 = none).
constexpr char kScanBounded[] =
    "SELECT key, mod_index, value FROM entries WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
constexpr char kScanOpen[] =
    "SELECT key, mod_index, value FROM entries WHERE key >= ?1 ORDER BY key LIMIT ?3";
constexpr char kScanKeysBounded[] =
    "SELECT key FROM entries WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
constexpr char kScanKeysOpen[] = "SELECT key FROM entries WHERE key >= ?1 ORDER BY key LIMIT ?3";

absl::Status ClosedError(const std::string& path) {
  return absl::FailedPreconditionError(rekey::StrCat("store '", path, "' is closed"));
}

// The smallest string greater than every string starting with `prefix`, or nullopt if none
// (empty prefix, or all bytes 0xff).
std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xff) out.pop_back();
  if (out.empty()) return std::nullopt;
  out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

// The inclusive lower bound of a scan: `prefix`, or the successor of `start_after` (itself
// followed by a zero byte) when that is greater.
std::string ScanLowerBound(std::string_view prefix, std::string_view start_after) {
  if (start_after.empty() || start_after < prefix) return std::string(prefix);
  std::string lower(start_after);
  lower.push_back('\0');
  return lower;
}

}  // namespace

// Shared by the committing thread and the writer, so the writer may notify after the committer
// has seen `done` and returned. Each has its own mutex: waking committers do not convoy on
// queue_mu_.
struct SqliteStore::PendingBatch {
  explicit PendingBatch(const WriteBatch* b) : batch(b) {}
  const WriteBatch* batch;  // points at `owned` for CommitAsync
  WriteBatch owned;
  CommitCallback callback;  // set for CommitAsync: called instead of notifying `cv`
  absl::StatusOr<uint64_t> result = absl::InternalError("batch not run");  // written before done
  std::mutex mu;
  bool done = false;  // guarded by mu
  std::condition_variable cv;
};

// A read-only connection borrowed from the pool, returned on destruction.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
  }
  Connection* operator->() const { return connection_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Connection> connection_;
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               const SqliteStoreOptions& options) {
  if (options.max_batches_per_group < 1 || options.read_connections < 1 ||
      options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError(
        "SqliteStoreOptions: max_batches_per_group and read_connections must be >= 1, "
        "busy_timeout_ms >= 0");
  }
  // Readers open the same file separately, so in-memory and URI names cannot work.
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return absl::InvalidArgumentError(
        rekey::StrCat("SqliteStore needs a plain file path, got '", path, "'"));
  }
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error && status.type() != std::filesystem::file_type::not_found) {
    return absl::UnavailableError(rekey::StrCat("cannot stat '", path, "': ", error.message()));
  }
  if (status.type() == std::filesystem::file_type::not_found && !options.create_if_missing) {
    return absl::NotFoundError(
        rekey::StrCat("no rekey store at '", path, "' and create_if_missing is off"));
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return absl::FailedPreconditionError(
        rekey::StrCat("'", path, "' is a directory, not a rekey store"));
  }
  const int flags = SQLITE_OPEN_READWRITE | (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                   Connection::Open(path, flags, options.busy_timeout_ms));
  ASSIGN_OR_RETURN(uint64_t commit_index,
                   internal::PrepareWriterConnection(*writer, options.create_if_missing));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(path, options, std::move(writer), commit_index));
}

SqliteStore::SqliteStore(std::string path, const SqliteStoreOptions& options,
                         std::unique_ptr<Connection> writer, uint64_t commit_index)
    : path_(std::move(path)),
      options_(options),
      writer_(std::move(writer)),
      commit_index_(commit_index) {
  // Replaces SQLite's auto-checkpoint, which would run inside COMMIT before waiters are woken.
  sqlite3_wal_hook(
      writer_->db(),
      [](void* pages, sqlite3*, const char*, int wal_pages) {
        *static_cast<int*>(pages) = wal_pages;
        return SQLITE_OK;
      },
      &wal_pages_);
  writer_thread_ = std::thread([this] { WriterLoop(); });
  notifier_thread_ = std::thread([this] { NotifierLoop(); });
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard lock(queue_mu_);
    closing_ = true;
  }
  queue_cv_.notify_all();
  writer_thread_.join();
  {
    std::lock_guard lock(finished_mu_);
    notifier_stopping_ = true;
  }
  finished_cv_.notify_all();
  notifier_thread_.join();  // after every finished group was completed
  {
    std::unique_lock lock(pool_mu_);
    pool_closed_ = true;
    pool_cv_.notify_all();
    pool_cv_.wait(lock, [this] { return AllReadersIdle(); });
    idle_readers_.clear();
    open_readers_ = 0;
  }
  writer_.reset();
}

// ---- Writes -------------------------------------------------------------------------------------

absl::StatusOr<uint64_t> SqliteStore::Commit(const WriteBatch& batch) {
  if (batch.empty() && batch.conditions().empty()) return commit_index_.load();
  auto pending = std::make_shared<PendingBatch>(&batch);
  {
    std::lock_guard lock(queue_mu_);
    if (closing_) return ClosedError(path_);
    queue_.push_back(pending);
  }
  queue_cv_.notify_all();  // the writer, and AwaitQueuedForTest
  std::unique_lock lock(pending->mu);
  pending->cv.wait(lock, [&pending] { return pending->done; });
  return std::move(pending->result);
}

void SqliteStore::CommitAsync(WriteBatch batch, CommitCallback done) {
  if (batch.empty() && batch.conditions().empty()) {
    done(commit_index_.load());
    return;
  }
  auto pending = std::make_shared<PendingBatch>(nullptr);
  pending->owned = std::move(batch);
  pending->batch = &pending->owned;
  pending->callback = std::move(done);
  bool closing = false;
  {
    std::lock_guard lock(queue_mu_);
    closing = closing_;
    if (!closing) queue_.push_back(pending);
  }
  if (closing) {
    pending->callback(ClosedError(path_));  // outside queue_mu_
    return;
  }
  queue_cv_.notify_all();
}

uint64_t SqliteStore::CommitIndex() { return commit_index_.load(std::memory_order_acquire); }

SqliteStore::GroupCommitStats SqliteStore::Stats() const {
  return GroupCommitStats{stats_transactions_.load(), stats_batches_.load()};
}

bool SqliteStore::HasWorkOrClosing() const { return closing_ || (!paused_ && !queue_.empty()); }

void SqliteStore::PauseWriterForTest(bool paused) {
  {
    std::lock_guard lock(queue_mu_);
    paused_ = paused;
  }
  queue_cv_.notify_all();
}

void SqliteStore::AwaitQueuedForTest(size_t n) {
  std::unique_lock lock(queue_mu_);
  queue_cv_.wait(lock, [this, n] { return queue_.size() >= n; });
}

void SqliteStore::WriterLoop() {
  const size_t max_group = static_cast<size_t>(options_.max_batches_per_group);
  for (;;) {
    std::vector<std::shared_ptr<PendingBatch>> group;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return HasWorkOrClosing(); });
      if (queue_.empty()) return;  // closing, and every queued batch is done
      const size_t n = std::min(queue_.size(), max_group);
      group.assign(queue_.begin(), queue_.begin() + n);
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    CommitGroup(group);
    // Waking committers and running callbacks is the notifier's job, so the writer can start
    // on the next group at once.
    {
      std::lock_guard lock(finished_mu_);
      finished_.push_back(std::move(group));
    }
    finished_cv_.notify_one();
    MaybeCheckpoint();
  }
}

void SqliteStore::NotifierLoop() {
  for (;;) {
    std::deque<std::vector<std::shared_ptr<PendingBatch>>> groups;
    {
      std::unique_lock lock(finished_mu_);
      finished_cv_.wait(lock, [this] { return notifier_stopping_ || !finished_.empty(); });
      if (finished_.empty()) return;  // stopping, and everything was completed
      groups.swap(finished_);
    }
    for (auto& group : groups) {
      for (const std::shared_ptr<PendingBatch>& pending : group) {
        if (pending->callback) {
          pending->callback(std::move(pending->result));
          continue;
        }
        {
          std::lock_guard lock(pending->mu);
          pending->done = true;
        }
        pending->cv.notify_one();
      }
    }
  }
}

void SqliteStore::MaybeCheckpoint() {
  if (wal_pages_ < kCheckpointPages) return;
  // PASSIVE never waits for readers; whatever it cannot copy now is copied on a later call.
  sqlite3_wal_checkpoint_v2(writer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  wal_pages_ = 0;
}

void SqliteStore::CommitGroup(const std::vector<std::shared_ptr<PendingBatch>>& group) {
  absl::Status failure = writer_->Run("BEGIN IMMEDIATE");
  // Read inside the transaction: the file, not memory, is the authority on the last index.
  absl::StatusOr<uint64_t> durable = failure.ok() ? internal::ReadCommitIndex(*writer_) : failure;
  if (!durable.ok()) failure = durable.status();
  uint64_t index = durable.ok() ? std::max(*durable, commit_index_.load()) : 0;
  const uint64_t start_index = index;
  for (size_t i = 0; failure.ok() && i < group.size(); ++i) {
    failure = ApplyBatch(*group[i]->batch, index, group[i]->result);
  }
  if (failure.ok() && index != start_index) failure = internal::WriteCommitIndex(*writer_, index);
  if (failure.ok()) failure = writer_->Run("COMMIT");
  if (!failure.ok()) {
    if (!sqlite3_get_autocommit(writer_->db())) writer_->Exec("ROLLBACK").IgnoreError();
    const absl::Status status = absl::UnavailableError(rekey::StrCat(
        "group commit on '", path_, "' failed, nothing written: ", failure.message()));
    for (const auto& pending : group) pending->result = status;
    return;
  }
  commit_index_.store(index, std::memory_order_release);
  stats_transactions_.fetch_add(1);
  stats_batches_.fetch_add(group.size());
}

absl::Status SqliteStore::ApplyBatch(const WriteBatch& batch, uint64_t& index,
                                     absl::StatusOr<uint64_t>& result) {
  // Conditions only read, so a failed one needs no savepoint to undo.
  if (absl::Status checked = CheckConditions(batch); !checked.ok()) {
    result = checked;
    return sqlite3_get_autocommit(writer_->db()) ? checked : absl::OkStatus();
  }
  if (batch.empty()) {
    result = index;
    return absl::OkStatus();
  }
  // Upserts and deletes by primary key fail only when SQLite itself does (I/O, disk full), so
  // no savepoint per batch: a failed op fails the whole group, which rolls back, and a batch is
  // never half-applied.
  absl::Status applied = ApplyOps(batch, index + 1);
  if (!applied.ok()) {
    result = applied;
    return applied;
  }
  result = ++index;
  return absl::OkStatus();
}

absl::Status SqliteStore::CheckConditions(const WriteBatch& batch) {
  for (const WriteBatch::Condition& condition : batch.conditions()) {
    ASSIGN_OR_RETURN(std::optional<int64_t> found,
                     writer_->QueryInt(kSelectModIndex, condition.key));
    const uint64_t actual = static_cast<uint64_t>(found.value_or(0));
    if (actual != condition.mod_index) {
      return internal::ConditionFailedError(condition.key, condition.mod_index, actual);
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::ApplyOps(const WriteBatch& batch, uint64_t index) {
  for (const WriteBatch::Op& op : batch.ops()) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, writer_->Prepare(op.value ? kUpsert : kDelete));
    ScopedReset reset(stmt);
    RETURN_IF_ERROR(BindText(stmt, 1, op.key));
    if (op.value) {
      RETURN_IF_ERROR(BindBlob(stmt, 2, op.value->Reveal()));
      const int rc = sqlite3_bind_int64(stmt, 3, static_cast<int64_t>(index));
      if (rc != SQLITE_OK) return SqliteError(writer_->db(), rc, "bind mod_index");
    }
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      return SqliteError(writer_->db(), rc, rekey::StrCat("write key '", op.key, "'"));
    }
  }
  return absl::OkStatus();
}

// ---- Reads --------------------------------------------------------------------------------------

bool SqliteStore::ReaderAvailable() const {
  return pool_closed_ || !idle_readers_.empty() || open_readers_ < options_.read_connections;
}

bool SqliteStore::AllReadersIdle() const {
  return static_cast<int>(idle_readers_.size()) == open_readers_;
}

absl::StatusOr<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [this] { return ReaderAvailable(); });
    if (pool_closed_) return ClosedError(path_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(connection));
    }
    ++open_readers_;  // reserve the slot; open outside the lock
  }
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(path_, SQLITE_OPEN_READONLY, options_.busy_timeout_ms);
  if (!opened.ok()) {
    {
      std::lock_guard lock(pool_mu_);
      --open_readers_;
    }
    pool_cv_.notify_all();
    return opened.status();
  }
  // Readers map the file instead of pread()ing every page (one syscall less per page read).
  (*opened)->Exec(internal::kMmapPragma).IgnoreError();
  return ReaderLease(this, *std::move(opened));
}

void SqliteStore::ReleaseReader(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(pool_mu_);
    idle_readers_.push_back(std::move(connection));
    if (pool_closed_) {
      pool_cv_.notify_all();  // Close() waits on the same condition for every reader
      return;
    }
  }
  pool_cv_.notify_one();
}

absl::StatusOr<std::optional<Record>> SqliteStore::Get(std::string_view key) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, reader->Prepare(kGet));
  ScopedReset reset(stmt);
  RETURN_IF_ERROR(BindText(stmt, 1, key));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(reader->db(), rc, rekey::StrCat("read key '", key, "'"));
  return Record{std::string(key), SecretBytes(ColumnBytes(stmt, 0)),
                static_cast<uint64_t>(sqlite3_column_int64(stmt, 1))};
}

template <typename Emit>
absl::Status SqliteStore::ScanRange(std::string_view prefix, std::string_view start_after,
                                    size_t limit, bool with_values, Emit emit) {
  const std::string lower = ScanLowerBound(prefix, start_after);
  const std::optional<std::string> upper = PrefixSuccessor(prefix);
  const char* sql =
      with_values ? (upper ? kScanBounded : kScanOpen) : (upper ? kScanKeysBounded : kScanKeysOpen);
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, reader->Prepare(sql));
  ScopedReset reset(stmt);
  RETURN_IF_ERROR(BindText(stmt, 1, lower));
  if (upper) RETURN_IF_ERROR(BindText(stmt, 2, *upper));
  int rc = sqlite3_bind_int64(stmt, 3, limit == 0 ? -1 : static_cast<int64_t>(limit));
  if (rc != SQLITE_OK) return SqliteError(reader->db(), rc, "bind limit");
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) emit(stmt);
  if (rc != SQLITE_DONE) {
    return SqliteError(reader->db(), rc, rekey::StrCat("scan prefix '", prefix, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Record>> SqliteStore::Scan(std::string_view prefix,
                                                      std::string_view start_after, size_t limit) {
  std::vector<Record> out;
  RETURN_IF_ERROR(
      ScanRange(prefix, start_after, limit, /*with_values=*/true, [&](sqlite3_stmt* stmt) {
        out.push_back(Record{std::string(ColumnBytes(stmt, 0)), SecretBytes(ColumnBytes(stmt, 2)),
                             static_cast<uint64_t>(sqlite3_column_int64(stmt, 1))});
      }));
  return out;
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ScanKeys(std::string_view prefix,
                                                               std::string_view start_after,
                                                               size_t limit) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(ScanRange(prefix, start_after, limit, /*with_values=*/false,
                            [&](sqlite3_stmt* stmt) { out.emplace_back(ColumnBytes(stmt, 0)); }));
  return out;
}

}  // namespace rekey::storage
