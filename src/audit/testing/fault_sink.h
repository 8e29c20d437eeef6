// MemoryAuditSink: an in-memory AuditSink for tests, with fault injection (failed writes,
// partial writes, failed flushes, failed rotations) and simulated rotation into "files". Its
// contents live in a shared MemorySinkState so a test can read them after handing the sink to an
// AuditLog.
#ifndef REKEY_AUDIT_TESTING_FAULT_SINK_H_
#define REKEY_AUDIT_TESTING_FAULT_SINK_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "audit/sink.h"

namespace rekey::audit::testing {

// Thread-safe.
class MemorySinkState {
 public:
  // Everything durably written (after the last successful Flush) plus what is pending.
  std::string Contents() const {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_ + pending_;
  }
  std::string Committed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }
  // Until cleared, writes fail with kUnavailable("injected ...") after writing the first
  // `partial_bytes` bytes of the batch (which a failed batch then removes).
  void SetFailWrites(bool fail, size_t partial_bytes = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_writes_ = fail;
    partial_bytes_ = partial_bytes;
  }
  void SetFailFlushes(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_flushes_ = fail;
  }
  // Makes the removal of a failed batch's bytes fail too (like a truncate on a read-only
  // filesystem): they stay until the next write, which removes them first.
  void SetFailRollback(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_rollback_ = fail;
  }
  // Moves the committed bytes out (for large logs).
  std::string TakeCommitted() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(committed_);
  }
  // Called at the start of every Write, outside the state's lock (a test can block a writer).
  void SetWriteHook(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
  }
  // Rotation: WantsRotation() returns `wants` until a Rotate() succeeds; Rotate() fails while
  // `fail` is set. A successful Rotate() moves the committed bytes into RotatedFiles().
  void SetRotation(bool wants, bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    wants_rotation_ = wants;
    fail_rotate_ = fail;
  }
  std::vector<std::string> RotatedFiles() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rotated_;
  }
  int writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }
  int flushes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return flushes_;
  }

 private:
  friend class MemoryAuditSink;
  absl::Status Rollback() {
    if (fail_rollback_) return absl::UnavailableError("injected rollback failure");
    pending_.clear();
    return absl::OkStatus();
  }

  mutable std::mutex mu_;
  std::string committed_;
  std::string pending_;
  bool fail_writes_ = false;
  size_t partial_bytes_ = 0;
  bool fail_flushes_ = false;
  bool fail_rollback_ = false;
  int writes_ = 0;
  int flushes_ = 0;
  std::function<void()> hook_;
  bool wants_rotation_ = false;
  bool fail_rotate_ = false;
  std::vector<std::string> rotated_;
};

class MemoryAuditSink final : public AuditSink {
 public:
  explicit MemoryAuditSink(std::shared_ptr<MemorySinkState> state) : state_(std::move(state)) {}

  absl::Status Write(std::string_view lines) override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(state_->mu_);
      hook = state_->hook_;
    }
    if (hook) hook();
    std::lock_guard<std::mutex> lock(state_->mu_);
    ++state_->writes_;
    if (!state_->pending_.empty() && !state_->Rollback().ok()) {
      return absl::UnavailableError("injected: cannot remove a failed batch");
    }
    if (state_->fail_writes_) {
      state_->pending_.append(lines.substr(0, std::min(lines.size(), state_->partial_bytes_)));
      (void)state_->Rollback();
      return absl::UnavailableError("injected write failure");
    }
    state_->pending_.append(lines);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    ++state_->flushes_;
    if (state_->fail_flushes_) {
      (void)state_->Rollback();
      return absl::UnavailableError("injected flush failure");
    }
    state_->committed_ += state_->pending_;
    state_->pending_.clear();
    return absl::OkStatus();
  }
  absl::StatusOr<SinkTail> Recover() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    SinkTail tail;
    const std::string& c = state_->committed_;
    if (c.empty()) return tail;
    size_t end = c.size() - 1;  // the final "\n"
    size_t start = c.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    tail.last_line = c.substr(start, end - start);
    tail.first_line = c.substr(0, c.find('\n'));
    return tail;
  }
  bool WantsRotation() const override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    return state_->wants_rotation_;
  }
  absl::Status Rotate() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (state_->fail_rotate_) return absl::UnavailableError("injected rotate failure");
    state_->rotated_.push_back(std::move(state_->committed_));
    state_->committed_.clear();
    state_->wants_rotation_ = false;
    return absl::OkStatus();
  }
  std::string Describe() const override { return "memory"; }

 private:
  std::shared_ptr<MemorySinkState> state_;
};

}  // namespace rekey::audit::testing

#endif  // REKEY_AUDIT_TESTING_FAULT_SINK_H_
