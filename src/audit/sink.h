// AuditSink: where an audit device's lines go (a file, stdout, a test buffer).
#ifndef REKEY_AUDIT_SINK_H_
#define REKEY_AUDIT_SINK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rekey::audit {

// What a sink already holds from an earlier run, so that the chain continues.
struct SinkTail {
  std::string last_line;         // the last complete line, without "\n"; empty for a new sink
  std::string first_line;        // the first line of the file last_line is in, without "\n"
  uint64_t discarded_bytes = 0;  // bytes of an incomplete last line that Recover() removed
};

// Called by one AuditLog, from one thread at a time (the log serializes calls); implementations
// need not be thread-safe.
//
// Atomicity contract: AuditLog writes a batch with Write() then Flush(). If either fails, the
// batch is not part of the chain, so the sink must make sure that none of the bytes written since
// the last successful Flush() stay in front of later lines: it removes them at once (e.g.
// truncates a file back) or, if it cannot, before its next successful Write().
class AuditSink {
 public:
  virtual ~AuditSink() = default;

  // Appends `lines` (whole lines, each ending in "\n"). kUnavailable (or another error) when the
  // lines cannot be written; see the atomicity contract.
  virtual absl::Status Write(std::string_view lines) = 0;
  // Makes the lines written since the last Flush() durable as far as the sink's policy promises
  // (a file sink may fsync every batch, at an interval or never). Errors as for Write().
  virtual absl::Status Flush() = 0;
  // Makes everything written durable now, whatever the policy (used on close).
  virtual absl::Status Sync() { return Flush(); }

  // Called once, before the first Write(): the sink's existing tail. A sink that may hold an
  // incomplete last line (a crash mid-write) removes it and reports its size.
  virtual absl::StatusOr<SinkTail> Recover() { return SinkTail{}; }

  // Size-based rotation: true when the current file is full. AuditLog then ends the file with a
  // "rotate" checkpoint, calls Rotate() and starts the next file with an "open" entry that links
  // to it. Rotate() either fails leaving the sink as it was, or starts a new file (possibly
  // creating it only on the next Write()), after which WantsRotation() is false.
  virtual bool WantsRotation() const { return false; }
  virtual absl::Status Rotate() { return absl::OkStatus(); }

  // For messages, e.g. "file /var/log/rekey/audit.log". Never holds a secret.
  virtual std::string Describe() const = 0;
};

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_SINK_H_
