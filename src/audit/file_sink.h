// FileAuditSink: appends audit lines to a file (mode 0600), rotates it by size, and fsyncs per a
// policy. StdoutAuditSink: writes them to a file descriptor (standard output by default).
#ifndef REKEY_AUDIT_FILE_SINK_H_
#define REKEY_AUDIT_FILE_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/sink.h"
#include "core/clock.h"

namespace rekey::audit {

enum class FsyncPolicy {
  kEveryBatch,  // fdatasync after every group commit: an acknowledged entry survives a crash
  kInterval,    // fdatasync when `fsync_interval` has passed since the last one, on a background
                //   thread (a group commit never waits for the disk); a failed background sync
                //   fails the next batch. A quiet log holds unsynced entries until its next batch
                //   or Close.
  kNever,       // leave it to the kernel
};

struct FileAuditSinkOptions {
  FsyncPolicy fsync = FsyncPolicy::kEveryBatch;
  absl::Duration fsync_interval = absl::Seconds(1);
  // Rotate once the file holds at least this many bytes: it is renamed to "<path>.<n>" (n one
  // more than the highest existing) and a new file is started. 0: never rotate.
  uint64_t max_file_bytes = 0;
};

// Not thread-safe (AuditLog serializes calls). On a failed write or sync the file is truncated
// back to its length after the last successful Flush(); if even that fails, it is retried before
// the next write, which fails until it succeeds.
class FileAuditSink final : public AuditSink {
 public:
  // Opens (creating with mode 0600) `path` for appending. `clock` (for the interval policy) must
  // outlive the sink. kInvalidArgument for an empty path; errno-derived errors otherwise.
  static absl::StatusOr<std::unique_ptr<FileAuditSink>> Open(std::string path,
                                                             FileAuditSinkOptions options,
                                                             const Clock& clock);
  ~FileAuditSink() override;

  absl::Status Write(std::string_view lines) override;
  absl::Status Flush() override;
  absl::Status Sync() override;
  // Reads the last line (from the newest rotated file if the current one is empty) and the first
  // line of the file it is in. An incomplete last line is truncated away.
  absl::StatusOr<SinkTail> Recover() override;
  bool WantsRotation() const override;
  absl::Status Rotate() override;
  std::string Describe() const override;

  const std::string& path() const { return path_; }

 private:
  FileAuditSink(std::string path, FileAuditSinkOptions options, const Clock& clock, int fd,
                uint64_t size, uint64_t next_index);
  absl::Status EnsureOpen();
  absl::Status Rollback(int saved_errno, std::string_view what);
  absl::Status DoSync();
  // Waits for a background sync of fd_ in progress and forgets fd_ (before it is closed).
  void DetachSyncer();

  class BackgroundSyncer;  // kInterval: runs fdatasync off the writing thread

  const std::string path_;
  const FileAuditSinkOptions options_;
  const Clock& clock_;
  int fd_;                   // -1 after a rotation whose new file could not be created yet
  uint64_t committed_size_;  // length after the last successful Flush
  uint64_t written_size_;    // length after the last successful Write
  bool dirty_ = false;       // bytes past committed_size_ may remain from a failed write
  uint64_t next_index_;      // suffix for the next rotation
  absl::Time last_sync_;
  std::unique_ptr<BackgroundSyncer> syncer_;  // kInterval only
};

// The files of the chain `path` is the head of, oldest first: "<path>.1" .. "<path>.<n>" (those
// that exist, by number), then `path` if it exists. kNotFound if there is none.
absl::StatusOr<std::vector<std::string>> AuditFileChain(const std::string& path);

// Not thread-safe. Flush does nothing (pipes and terminals cannot be synced). After a failed
// write that may have left part of a line, the next write starts with "\n" so that a reader sees
// one malformed line rather than a corrupted next one.
class StdoutAuditSink final : public AuditSink {
 public:
  explicit StdoutAuditSink(int fd = 1) : fd_(fd) {}
  absl::Status Write(std::string_view lines) override;
  absl::Status Flush() override { return absl::OkStatus(); }
  std::string Describe() const override;

 private:
  int fd_;
  bool broken_line_ = false;
};

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_FILE_SINK_H_
