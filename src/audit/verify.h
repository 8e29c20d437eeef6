// Verification of audit logs: the hash chain (every byte of every line), sequence numbers,
// "open" entries, signed checkpoints, and (in strict mode) that the log ends with a signed close
// checkpoint, so that truncating it shows.
#ifndef REKEY_AUDIT_VERIFY_H_
#define REKEY_AUDIT_VERIFY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rekey::audit {

struct VerifyOptions {
  // The log must end with a "close" checkpoint (a cleanly closed log). Without it, lines after
  // the last checkpoint are reported as a warning ("truncated: N entries after the last
  // checkpoint") rather than as the first bad entry. A live log has no close yet: verify it
  // with strict = false and, to detect a truncation, expected_last_sequence / _hash.
  bool strict = true;
  // The expected Ed25519 public key (32 raw bytes; see ParsePublicKey). Empty: the key written
  // in the log's first "open" entry is trusted, which cannot detect a wholly forged log.
  std::string public_key;
  // The first file need not start at the chain's genesis (older rotated files not given).
  bool allow_partial_start = false;
  // If set, the log must end exactly here (e.g. the head the server reports).
  std::optional<uint64_t> expected_last_sequence;
  std::string expected_last_hash;  // "sha256:<hex>"; empty: not checked
};

struct BadEntry {
  std::string file;
  uint64_t line = 0;      // 1-based line number within `file`
  uint64_t sequence = 0;  // the line's sequence if it could be read, else 0
  std::string reason;

  friend bool operator==(const BadEntry&, const BadEntry&) = default;
};

struct VerifyReport {
  uint64_t entries = 0;      // lines verified good
  uint64_t checkpoints = 0;  // checkpoint signatures verified
  uint64_t files = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  std::string last_hash;  // "sha256:<hex>" of the last good line
  std::string device;
  std::string device_id;
  std::string public_key;      // base64 of the key checkpoints were verified with
  bool closed = false;         // the log ends with a close checkpoint
  uint64_t unsigned_tail = 0;  // lines after the last checkpoint
  std::vector<std::string> warnings;
  std::optional<BadEntry> first_bad;

  bool ok() const { return !first_bad.has_value(); }
  friend bool operator==(const VerifyReport&, const VerifyReport&) = default;
};

// Verifies a chain fed as bytes, file by file. Stops at the first bad entry. Copyable: a copy
// continues independently from the same point (tests snapshot verifiers). Not thread-safe.
class ChainVerifier {
 public:
  explicit ChainVerifier(VerifyOptions options);

  // Starts the next file of the chain (named `name` in reports).
  void StartFile(std::string_view name);
  // Feeds the next bytes of the current file; whole lines are verified as they complete.
  // Returns false once a bad entry has been found (later input is ignored).
  bool Feed(std::string_view bytes);
  // Ends the current file: an incomplete last line or an empty file is bad.
  bool EndFile();
  // Ends the chain (tail and expected-end checks) and returns the report.
  VerifyReport Finish();

  bool failed() const { return state_.report.first_bad.has_value(); }
  // True if this verifier and `other` are in the same state, so the same further input gives
  // the same report.
  bool SameStateForTest(const ChainVerifier& other) const { return state_ == other.state_; }

 private:
  struct State {
    VerifyReport report;
    std::string file;
    uint64_t line = 0;  // lines seen in the current file
    bool started = false;
    uint64_t next_sequence = 0;
    std::array<char, 64> last_hex{};  // hex SHA-256 of the last line
    uint64_t since_checkpoint = 0;    // lines since the last checkpoint or open entry
    std::string device_public_key;    // raw
    std::string pending;              // an incomplete line carried between Feed() calls
    friend bool operator==(const State&, const State&) = default;
  };

  bool Line(std::string_view line);
  bool CheckOpen(std::string_view line, uint64_t sequence, std::string_view prev_hex);
  bool CheckCheckpoint(std::string_view line, uint64_t sequence, std::string_view prev_hex);
  bool Fail(std::string reason, uint64_t sequence, uint64_t line);

  VerifyOptions options_;
  State state_;
};

// Verifies the files of one chain, oldest first (see AuditFileChain). Tamper findings are in the
// report; the Status is an error only when a file cannot be read.
absl::StatusOr<VerifyReport> Verify(const std::vector<std::string>& paths,
                                    const VerifyOptions& options);

// Verifies one in-memory log named `name`.
VerifyReport VerifyBuffer(std::string_view name, std::string_view data,
                          const VerifyOptions& options);

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_VERIFY_H_
