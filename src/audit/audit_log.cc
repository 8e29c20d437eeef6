#include "audit/audit_log.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "audit/internal/records.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::audit {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

// One queued append (or close). A synchronous writer lives on its caller's stack and is woken
// through `cv`; an asynchronous one (with `callback`) is heap-allocated, owned by the queue, and
// deleted by the thread that wrote it after calling back.
struct AuditLog::Writer {
  enum class Kind { kEntry, kClose, kNoop };
  Kind kind = Kind::kEntry;
  std::string body;
  absl::Status status;
  bool done = false;
  std::condition_variable cv;
  std::function<void(absl::Status)> callback;

  bool is_async() const { return callback != nullptr; }
};

AuditLog::AuditLog(AuditLogOptions options, std::string device_id, internal::Ed25519Signer signer,
                   internal::Fingerprinter fingerprinter, std::unique_ptr<AuditSink> sink,
                   const Clock& clock, ChainState state)
    : options_(std::move(options)),
      device_id_(std::move(device_id)),
      signer_(std::move(signer)),
      fingerprinter_(std::move(fingerprinter)),
      clock_(clock),
      sink_(std::move(sink)),
      state_(std::move(state)) {
  committer_ = std::thread([this] { CommitterLoop(); });
}

AuditLog::~AuditLog() {
  (void)Close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  committer_cv_.notify_one();
  committer_.join();
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options,
                                                         const DeviceKeys& keys,
                                                         std::unique_ptr<AuditSink> sink,
                                                         const Clock& clock) {
  if (options.device.empty()) return absl::InvalidArgumentError("audit device name is empty");
  if (options.checkpoint_every == 0 || options.max_batch_entries == 0) {
    return absl::InvalidArgumentError("audit checkpoint_every and max_batch_entries must be >= 1");
  }
  if (keys.device_id.size() != 32 || !IsLowerHex(keys.device_id)) {
    return absl::InvalidArgumentError("audit device id must be 32 lower-case hex characters");
  }
  if (keys.hmac_key.size() < 16) {
    return absl::InvalidArgumentError("audit HMAC key must be at least 16 bytes");
  }
  if (sink == nullptr) return absl::InvalidArgumentError("audit sink is null");
  ASSIGN_OR_RETURN(internal::Ed25519Signer signer,
                   internal::Ed25519Signer::Create(keys.signing_key));

  ASSIGN_OR_RETURN(SinkTail tail, sink->Recover());
  ChainState state;
  if (tail.last_line.empty()) {
    state.prev = internal::GenesisHash(options.device, keys.device_id);
    state.open_reason = std::string(internal::kReasonNew);
  } else {
    internal::LineFrame last;
    if (internal::ParseLineFrame(tail.last_line, &last) != nullptr) {
      return absl::DataLossError(StrCat("audit ", sink->Describe(),
                                        ": the last line is not an audit record; move the file "
                                        "aside to start a new chain"));
    }
    internal::LineFrame first;
    absl::StatusOr<internal::OpenRecord> open = absl::InvalidArgumentError("not an open entry");
    if (internal::ParseLineFrame(tail.first_line, &first) == nullptr && first.type == "open") {
      open = internal::ParseOpenLine(tail.first_line);
    }
    if (!open.ok()) {
      return absl::DataLossError(StrCat("audit ", sink->Describe(),
                                        ": the first line is not an audit open entry; move the "
                                        "file aside to start a new chain"));
    }
    if (open->device_id != keys.device_id || open->device != options.device ||
        open->public_key != PublicKeyToBase64(signer.public_key())) {
      return absl::FailedPreconditionError(
          StrCat("audit ", sink->Describe(), " was written by another audit device (", open->device,
                 " ", open->device_id, "); move it aside to start a new chain"));
    }
    state.prev = crypto::Sha256(tail.last_line);
    state.next_sequence = last.sequence + 1;
    state.open_reason = std::string(internal::kReasonRestart);
    bool closed = false;
    if (last.type == "checkpoint") {
      absl::StatusOr<internal::CheckpointRecord> cp = internal::ParseCheckpointLine(tail.last_line);
      closed = cp.ok() && cp->reason == internal::kReasonClose;
    }
    state.previous_closed = closed;
    state.truncated_bytes = static_cast<int64_t>(tail.discarded_bytes);
  }
  std::string device_id = keys.device_id;
  std::unique_ptr<AuditLog> log(new AuditLog(
      std::move(options), std::move(device_id), std::move(signer),
      internal::Fingerprinter(keys.hmac_key), std::move(sink), clock, std::move(state)));
  // Write the open entry now if the sink allows; otherwise the next Append writes it first.
  Writer noop;
  noop.kind = Writer::Kind::kNoop;
  (void)log->Submit(noop);
  return log;
}

absl::Status AuditLog::Append(const AuditEntry& entry) {
  if (entry.type == EntryType::kCheckpoint || entry.type == EntryType::kOpen) {
    return absl::InvalidArgumentError("checkpoint and open audit entries are written by the log");
  }
  absl::Time time = entry.time == absl::InfinitePast() ? clock_.Now() : entry.time;
  Writer w;
  w.body = internal::SerializeBody(entry, time, options_.node, fingerprinter_);
  return Submit(w);
}

absl::Status AuditLog::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_.closed) return absl::OkStatus();
    close_requested_ = true;
  }
  Writer w;
  w.kind = Writer::Kind::kClose;
  return Submit(w);
}

void AuditLog::AppendAsync(const AuditEntry& entry, std::function<void(absl::Status)> done) {
  if (entry.type == EntryType::kCheckpoint || entry.type == EntryType::kOpen) {
    done(absl::InvalidArgumentError("checkpoint and open audit entries are written by the log"));
    return;
  }
  absl::Time time = entry.time == absl::InfinitePast() ? clock_.Now() : entry.time;
  auto w = std::make_unique<Writer>();
  w->body = internal::SerializeBody(entry, time, options_.node, fingerprinter_);
  w->callback = std::move(done);
  std::unique_lock<std::mutex> lock(mu_);
  if (close_requested_) {
    lock.unlock();
    w->callback(
        absl::FailedPreconditionError(StrCat("audit device \"", options_.device, "\" is closed")));
    return;
  }
  // An empty queue means no group is being written: this entry's turn is now, and the committer
  // takes it (or this thread, with lead_async_inline). Otherwise the thread writing the current
  // group hands over when it is done.
  bool idle = writers_.empty();
  writers_.push_back(w.release());
  if (!idle) return;
  if (options_.lead_async_inline) {
    // Write this group here, then (a few times at most) the asynchronous entries that queued
    // meanwhile, rather than waking the committer for them.
    for (int round = 0; round < 4; ++round) {
      const bool more = LeadGroup(lock, /*hand_off_async=*/round == 3);  // returns unlocked
      if (!more) return;
      lock.lock();
      if (leading_ || writers_.empty() || !writers_.front()->is_async()) return;
    }
    return;
  }
  committer_cv_.notify_one();
}

absl::Status AuditLog::Submit(Writer& w) {
  std::unique_lock<std::mutex> lock(mu_);
  if (w.kind == Writer::Kind::kEntry && close_requested_) {
    return absl::FailedPreconditionError(
        StrCat("audit device \"", options_.device, "\" is closed"));
  }
  writers_.push_back(&w);
  while (!w.done && writers_.front() != &w) w.cv.wait(lock);
  if (w.done) return w.status;
  LeadGroup(lock, /*hand_off_async=*/true);
  return w.status;
}

bool AuditLog::LeadGroup(std::unique_lock<std::mutex>& lock, bool hand_off_async) {
  // Take the writers queued so far (ending at a close); they stay queued while being written so
  // that no other thread leads meanwhile.
  std::deque<Writer*> group;
  for (Writer* next : writers_) {
    if (group.size() >= options_.max_batch_entries) break;
    group.push_back(next);
    if (next->kind == Writer::Kind::kClose) break;
  }
  ChainState state = state_;
  leading_ = true;
  lock.unlock();
  absl::Status status = CommitGroup(group, state);
  lock.lock();
  leading_ = false;
  state_ = std::move(state);
  healthy_ = status.ok();
  std::vector<std::unique_ptr<Writer>> async_done;
  for (Writer* w : group) {
    writers_.pop_front();
    w->status = status;
    w->done = true;
    if (w->is_async()) {
      async_done.emplace_back(w);
    } else {
      w->cv.notify_one();
    }
  }
  bool more_async = false;
  if (!writers_.empty()) {
    if (!writers_.front()->is_async()) {
      writers_.front()->cv.notify_one();
    } else if (hand_off_async) {
      committer_cv_.notify_one();
    } else {
      more_async = true;  // the caller leads it next
    }
  }
  lock.unlock();
  for (const auto& w : async_done) w->callback(w->status);
  return more_async;
}

void AuditLog::CommitterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // A group being written stays at the front of the queue: never lead it a second time.
    committer_cv_.wait(lock, [&] {
      return stop_ || (!leading_ && !writers_.empty() && writers_.front()->is_async());
    });
    if (!leading_ && !writers_.empty() && writers_.front()->is_async()) {
      LeadGroup(lock, /*hand_off_async=*/true);
      lock.lock();
    } else if (stop_) {
      return;
    }
  }
}

absl::Status AuditLog::CommitGroup(const std::deque<Writer*>& group, ChainState& state) {
  if (state.closed) {
    for (const Writer* w : group) {
      if (w->kind == Writer::Kind::kEntry) {
        return absl::FailedPreconditionError(
            StrCat("audit device \"", options_.device, "\" is closed"));
      }
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(RotateIfNeeded(state));

  ChainState next = state;
  std::string buf;
  if (next.needs_open) AppendOpen(&buf, next);
  bool close = false;
  for (const Writer* w : group) {
    switch (w->kind) {
      case Writer::Kind::kNoop:
        break;
      case Writer::Kind::kClose:
        close = true;
        break;
      case Writer::Kind::kEntry:
        AppendChained(&buf, next, w->body);
        if (next.since_checkpoint >= options_.checkpoint_every) {
          RETURN_IF_ERROR(AppendCheckpoint(&buf, next, internal::kReasonPeriodic));
        }
        break;
    }
  }
  if (close) {
    RETURN_IF_ERROR(AppendCheckpoint(&buf, next, internal::kReasonClose));
    next.closed = true;
  }
  if (buf.empty()) return absl::OkStatus();
  absl::Status status = sink_->Write(buf);
  if (status.ok()) status = close ? sink_->Sync() : sink_->Flush();
  if (!status.ok()) return Unavailable(status);
  state = std::move(next);
  return absl::OkStatus();
}

absl::Status AuditLog::RotateIfNeeded(ChainState& state) {
  if (!state.rotate_pending) {
    if (!sink_->WantsRotation()) return absl::OkStatus();
    // End the full file with a rotate checkpoint, synced before the file is renamed.
    ChainState next = state;
    std::string buf;
    if (next.needs_open) AppendOpen(&buf, next);
    RETURN_IF_ERROR(AppendCheckpoint(&buf, next, internal::kReasonRotate));
    absl::Status status = sink_->Write(buf);
    if (status.ok()) status = sink_->Sync();
    if (!status.ok()) return Unavailable(status);
    next.rotate_pending = true;
    state = std::move(next);
  }
  if (sink_->WantsRotation()) {
    absl::Status status = sink_->Rotate();
    if (!status.ok()) return Unavailable(status);
  }
  state.rotate_pending = false;
  state.needs_open = true;
  state.open_reason = std::string(internal::kReasonRotate);
  state.previous_closed.reset();
  state.truncated_bytes = 0;
  return absl::OkStatus();
}

void AuditLog::AppendOpen(std::string* buf, ChainState& s) {
  internal::OpenRecord r;
  r.time = clock_.Now();
  r.node = options_.node;
  r.device = options_.device;
  r.device_id = device_id_;
  r.public_key = PublicKeyBase64();
  r.reason = s.open_reason;
  r.previous_closed = s.previous_closed;
  r.truncated_bytes = s.truncated_bytes;
  s.since_checkpoint = 0;
  AppendChained(buf, s, internal::OpenBody(r));
  s.needs_open = false;
}

absl::Status AuditLog::AppendCheckpoint(std::string* buf, ChainState& s, std::string_view reason) {
  internal::CheckpointRecord r;
  r.time = clock_.Now();
  r.node = options_.node;
  r.count = static_cast<int64_t>(s.since_checkpoint);
  r.last_hash = internal::HashString(s.prev);
  r.reason = std::string(reason);
  std::string message =
      internal::CheckpointMessage(device_id_, s.next_sequence, r.last_hash, r.reason, r.count,
                                  internal::FormatAuditTime(r.time), r.node);
  absl::StatusOr<std::string> signature = signer_.Sign(message);
  if (!signature.ok()) return Unavailable(signature.status());
  r.signature = absl::Base64Escape(ToAbsl(*signature));
  AppendChained(buf, s, internal::CheckpointBody(r));
  s.since_checkpoint = 0;
  return absl::OkStatus();
}

void AuditLog::AppendChained(std::string* buf, ChainState& s, std::string_view body) {
  size_t start = buf->size();
  internal::AppendLine(buf, s.next_sequence, body, s.prev);
  s.prev = crypto::Sha256(std::string_view(*buf).substr(start, buf->size() - start - 1));
  ++s.next_sequence;
  ++s.since_checkpoint;
}

absl::Status AuditLog::Unavailable(const absl::Status& cause) const {
  return absl::UnavailableError(StrCat("audit device \"", options_.device, "\" (",
                                       sink_->Describe(), ") cannot record: ", cause.message()));
}

std::string AuditLog::Fingerprint(std::string_view value) const {
  return fingerprinter_.Fingerprint(value);
}

std::string AuditLog::PublicKeyBase64() const { return PublicKeyToBase64(public_key()); }
std::string AuditLog::PublicKeyPem() const { return PublicKeyToPem(public_key()); }

ChainHead AuditLog::Head() const {
  std::lock_guard<std::mutex> lock(mu_);
  ChainHead head;
  head.sequence = state_.next_sequence - 1;
  head.hash = internal::HashString(state_.prev);
  return head;
}

size_t AuditLog::QueuedForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writers_.size();
}

bool AuditLog::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return healthy_;
}

}  // namespace rekey::audit
