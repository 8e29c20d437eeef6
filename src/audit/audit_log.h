// AuditLog: one audit device's hash-chained, checkpoint-signed log. Appends from many threads
// are grouped into one sink write + flush (a group commit); Append returns once its entry is
// written and flushed per the sink's policy, or with kUnavailable if the sink failed, which is
// what lets the server fail closed.
#ifndef REKEY_AUDIT_AUDIT_LOG_H_
#define REKEY_AUDIT_AUDIT_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/device_keys.h"
#include "audit/entry.h"
#include "audit/internal/ed25519.h"
#include "audit/internal/line_format.h"
#include "audit/sink.h"
#include "core/clock.h"

namespace rekey::audit {

struct AuditLogOptions {
  std::string device;                // the device's name (e.g. "file"); part of the chain's genesis
  std::string node;                  // this server's node name, written in every line
  uint64_t checkpoint_every = 1000;  // a signed checkpoint after this many lines (>= 1)
  size_t max_batch_entries = 1024;   // most entries one group commit writes
  // AppendAsync on an idle log writes the group on the calling thread instead of waking the
  // committer thread (saves two thread hand-offs per entry). Only for sinks whose Flush is cheap
  // (no fsync per batch): the caller is usually an I/O thread.
  bool lead_async_inline = false;
};

// The chain's newest line actually written.
struct ChainHead {
  uint64_t sequence = 0;  // 0 before anything was written
  std::string hash;       // "sha256:<hex>" of that line (the genesis hash before anything)
};

// Thread-safe.
class AuditLog {
 public:
  // Opens the device's log on `sink`: recovers the sink's tail so the chain continues (from the
  // genesis for an empty sink), then tries to write the "open" entry (if that fails it is
  // written before the next Append's entry; the log is returned anyway and recovers by itself).
  // kInvalidArgument for bad options or keys; kFailedPrecondition if the sink's file was written
  // by another device key; kDataLoss if its last line is not an audit line; the sink's error if
  // it cannot be read. `clock` must outlive the log.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(AuditLogOptions options,
                                                        const DeviceKeys& keys,
                                                        std::unique_ptr<AuditSink> sink,
                                                        const Clock& clock);

  // Close()s the log if that was not done (errors are dropped).
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Chains `entry` (its time stamped now if unset) and writes it. Returns once it is written and
  // flushed per the sink's policy. kUnavailable if the sink failed: the entry is then not part
  // of the chain, and the next Append tries the sink again. kInvalidArgument for an entry of
  // type kCheckpoint or kOpen; kFailedPrecondition after Close().
  absl::Status Append(const AuditEntry& entry);

  // The same without blocking the caller (for I/O threads): `done` is called exactly once with
  // what Append would have returned, once the entry is durable or has failed. It runs on the
  // thread that wrote the group (the log's committer thread or a thread inside Append), or on
  // the caller's thread for an immediate error, with no lock held; it must not block. Entries
  // are chained in the order of the Append/AppendAsync calls, whatever the mix.
  void AppendAsync(const AuditEntry& entry, std::function<void(absl::Status)> done);

  // Writes a "close" checkpoint and syncs the sink. Later Appends fail. If it fails, a later
  // Close() tries again. OK if already closed.
  absl::Status Close();

  // "hmac-sha256:<hex>" of `value` under the device's HMAC key (for /v1/sys/audit-hash).
  std::string Fingerprint(std::string_view value) const;

  // The Ed25519 public key that verifies this log's checkpoints.
  const std::string& public_key() const { return signer_.public_key(); }  // 32 raw bytes
  std::string PublicKeyBase64() const;
  std::string PublicKeyPem() const;
  const std::string& device_id() const { return device_id_; }
  const std::string& device() const { return options_.device; }

  ChainHead Head() const;
  // False after a failed write until a write succeeds.
  bool healthy() const;

  // Appends and closes waiting for, or being in, a group commit.
  size_t QueuedForTest() const;

 private:
  struct Writer;
  struct ChainState {
    uint64_t next_sequence = 1;
    std::string prev;  // raw digest of the last line written
    uint64_t since_checkpoint = 0;
    bool needs_open = true;
    std::string open_reason;
    std::optional<bool> previous_closed;
    int64_t truncated_bytes = 0;
    bool rotate_pending = false;  // a rotate checkpoint was written; the sink was not rotated
    bool closed = false;          // a close checkpoint was written
  };

  AuditLog(AuditLogOptions options, std::string device_id, internal::Ed25519Signer signer,
           internal::Fingerprinter fingerprinter, std::unique_ptr<AuditSink> sink,
           const Clock& clock, ChainState state);

  // Enqueues `w` and waits until a group commit wrote it, leading one if `w` reaches the front of
  // the queue. Takes mu_.
  absl::Status Submit(Writer& w);
  // Writes the group at the front of the queue. Called with `lock` held on mu_ by the thread
  // whose turn it is; returns with the lock released. Then the next writer in the queue is woken
  // (a waiting Append, or the committer for asynchronous entries when `hand_off_async`);
  // returns true when asynchronous entries are next and were left for the caller to lead.
  bool LeadGroup(std::unique_lock<std::mutex>& lock, bool hand_off_async);
  // The committer thread: leads when the front of the queue is an asynchronous entry.
  void CommitterLoop();
  // Writes one group (the leader only, without mu_). Updates `state` only when OK.
  absl::Status CommitGroup(const std::deque<Writer*>& group, ChainState& state);
  absl::Status RotateIfNeeded(ChainState& state);
  void AppendOpen(std::string* buf, ChainState& s);
  absl::Status AppendCheckpoint(std::string* buf, ChainState& s, std::string_view reason);
  void AppendChained(std::string* buf, ChainState& s, std::string_view body);
  absl::Status Unavailable(const absl::Status& cause) const;

  const AuditLogOptions options_;
  const std::string device_id_;
  const internal::Ed25519Signer signer_;
  const internal::Fingerprinter fingerprinter_;
  const Clock& clock_;
  const std::unique_ptr<AuditSink> sink_;  // used by the group leader only

  mutable std::mutex mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);
  ChainState state_ ABSL_GUARDED_BY(mu_);  // as of the last successful commit
  bool close_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // A group is being written (by the committer, a Submit caller or an inline AppendAsync).
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable committer_cv_;  // the front of the queue is asynchronous, or stop_
  std::thread committer_;
};

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_AUDIT_LOG_H_
