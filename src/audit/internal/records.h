// The two kinds of lines AuditLog writes itself: "open" (the first line of a file or of a run)
// and "checkpoint" (signed). Both are fully re-serialized by the verifier and compared byte for
// byte, so no field of theirs can change unnoticed even when nothing is chained after them.
#ifndef REKEY_AUDIT_INTERNAL_RECORDS_H_
#define REKEY_AUDIT_INTERNAL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::audit::internal {

inline constexpr std::string_view kReasonNew = "new";            // open: a new chain (genesis)
inline constexpr std::string_view kReasonRestart = "restart";    // open: a new run continues it
inline constexpr std::string_view kReasonRotate = "rotate";      // open and checkpoint
inline constexpr std::string_view kReasonPeriodic = "periodic";  // checkpoint
inline constexpr std::string_view kReasonClose = "close";        // checkpoint

struct OpenRecord {
  absl::Time time;
  std::string node;
  std::string device;
  std::string device_id;
  std::string public_key;               // base64 of the raw Ed25519 key
  std::string reason;                   // kReasonNew, kReasonRestart or kReasonRotate
  std::optional<bool> previous_closed;  // restart: whether the last run ended with a close
  int64_t truncated_bytes = 0;          // restart: incomplete bytes removed (not written if 0)
};

struct CheckpointRecord {
  absl::Time time;
  std::string node;
  int64_t count = 0;      // lines since the previous checkpoint or open entry (inclusive)
  std::string last_hash;  // "sha256:<hex>", equal to the line's prev
  std::string reason;     // kReasonPeriodic, kReasonRotate or kReasonClose
  std::string signature;  // base64 Ed25519 over CheckpointMessage(...)
};

// The line body (see line_format.h SerializeBody) of each record.
std::string OpenBody(const OpenRecord& r);
std::string CheckpointBody(const CheckpointRecord& r);

// The record in a line (without "\n") whose frame type is "open" / "checkpoint". The caller
// compares the re-serialized record with the line. kInvalidArgument with a short reason.
absl::StatusOr<OpenRecord> ParseOpenLine(std::string_view line);
absl::StatusOr<CheckpointRecord> ParseCheckpointLine(std::string_view line);

}  // namespace rekey::audit::internal

#endif  // REKEY_AUDIT_INTERNAL_RECORDS_H_
