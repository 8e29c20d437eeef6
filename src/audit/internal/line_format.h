// The audit line format, shared by the writer (AuditLog) and the verifier. A line is one JSON
// object with a fixed key order, ending in "\n":
//
//   {"sequence":N,"type":"T","time":"2024-01-02T03:04:05.123456789Z","node":"n",
//    "actor":{...},"operation":"...","path":"...","status":200,"error":"...",
//    "request_id":"...","data":{...},"prev":"sha256:<64 hex>"}
//
// Optional keys (actor .. data) are left out when empty; "data" keys are sorted. "prev" is the
// SHA-256 of the previous line's exact bytes (without its "\n"), so verification hashes bytes
// as written and never re-serializes ordinary lines.
#ifndef REKEY_AUDIT_INTERNAL_LINE_FORMAT_H_
#define REKEY_AUDIT_INTERNAL_LINE_FORMAT_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/entry.h"
#include "core/secret_bytes.h"

namespace rekey::audit::internal {

inline constexpr std::string_view kHashPrefix = "sha256:";
inline constexpr std::string_view kFingerprintPrefix = "hmac-sha256:";

// `s` as a JSON string literal (with quotes). Control characters, '"' and '\' are escaped;
// invalid UTF-8 bytes become U+FFFD, so the line is always valid JSON and never holds a raw
// newline.
std::string JsonQuote(std::string_view s);
void AppendJsonQuoted(std::string* out, std::string_view s);

// Lower-case hex of raw bytes.
std::string Hex(std::string_view bytes);

// "sha256:<hex>" of raw digest bytes.
std::string HashString(std::string_view raw_digest);

// RFC 3339 UTC with nanoseconds: "2024-01-02T03:04:05.123456789Z" (always 30 characters).
std::string FormatAuditTime(absl::Time t);
// The inverse of FormatAuditTime; kInvalidArgument for anything it would not produce.
absl::StatusOr<absl::Time> ParseAuditTime(std::string_view s);

// The chain's starting point: SHA-256 (raw) of "rekey-audit-genesis\n<device>\n<device id>".
std::string GenesisHash(std::string_view device, std::string_view device_id);

// The message a checkpoint's Ed25519 signature covers: every field of the checkpoint line.
std::string CheckpointMessage(std::string_view device_id, uint64_t sequence,
                              std::string_view last_hash, std::string_view reason, int64_t count,
                              std::string_view time, std::string_view node);

// Computes "hmac-sha256:<hex>" fingerprints under a device's HMAC key. Thread-safe.
class Fingerprinter {
 public:
  explicit Fingerprinter(SecretBytes key) : key_(std::move(key)) {}
  Fingerprinter(const Fingerprinter& other) : key_(other.key_) {}
  Fingerprinter& operator=(const Fingerprinter& other) {
    key_ = other.key_;
    return *this;
  }
  // Aborts if OpenSSL cannot compute an HMAC (a broken invariant, as for crypto::Sha256).
  std::string Fingerprint(std::string_view value) const;
  // The same, remembered for the few values every entry carries (token accessors): each
  // request's actor costs a map lookup instead of an HMAC. At most 4,096 kept.
  std::string FingerprintCached(std::string_view value) const;

 private:
  SecretBytes key_;
  mutable std::mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, std::string> cache_;  // guarded by cache_mu_
};

// Everything between `{"sequence":N,` and `"prev":...`: `"type":...,` through `"data":{...},`
// (with the trailing comma). Sensitive values are fingerprinted with `fp`.
std::string SerializeBody(const AuditEntry& entry, absl::Time time, std::string_view node,
                          const Fingerprinter& fp);

// Appends `{"sequence":<sequence>,<body>"prev":"sha256:<hex of prev>"}` and "\n" to `out`.
// `prev` is the raw 32-byte digest.
void AppendLine(std::string* out, uint64_t sequence, std::string_view body, std::string_view prev);

// The fixed frame of a line (without its "\n"): sequence, type and prev, read without a JSON
// parse. Returns nullptr on success or a static description of what is malformed.
struct LineFrame {
  uint64_t sequence = 0;
  std::string_view type;      // as written, e.g. "request"
  std::string_view prev_hex;  // the 64 hex characters after "sha256:"
};
const char* ParseLineFrame(std::string_view line, LineFrame* frame);

}  // namespace rekey::audit::internal

#endif  // REKEY_AUDIT_INTERNAL_LINE_FORMAT_H_
