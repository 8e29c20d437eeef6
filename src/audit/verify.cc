#include "audit/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "audit/internal/ed25519.h"
#include "audit/internal/line_format.h"
#include "audit/internal/records.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::audit {
namespace {

constexpr size_t kMaxLineBytes = 16 << 20;
constexpr char kHexDigits[] = "0123456789abcdef";

void HexInto(std::string_view raw, std::array<char, 64>* out) {
  for (size_t i = 0; i < 32; ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    (*out)[2 * i] = kHexDigits[c >> 4];
    (*out)[2 * i + 1] = kHexDigits[c & 0xF];
  }
}

std::string_view HexView(const std::array<char, 64>& hex) {
  return std::string_view(hex.data(), hex.size());
}

// `line` + "\n" rebuilt from `body`, to compare with what was read.
bool SameAsRebuilt(std::string_view line, uint64_t sequence, std::string_view body,
                   std::string_view prev_hex) {
  std::string rebuilt;
  internal::AppendLine(&rebuilt, sequence, body, absl::HexStringToBytes(ToAbsl(prev_hex)));
  return rebuilt.size() == line.size() + 1 &&
         std::memcmp(rebuilt.data(), line.data(), line.size()) == 0;
}

}  // namespace

ChainVerifier::ChainVerifier(VerifyOptions options) : options_(std::move(options)) {}

void ChainVerifier::StartFile(std::string_view name) {
  state_.file = std::string(name);
  state_.line = 0;
  state_.pending.clear();
  ++state_.report.files;
}

bool ChainVerifier::Fail(std::string reason, uint64_t sequence, uint64_t line) {
  if (!failed()) {
    BadEntry bad;
    bad.file = state_.file;
    bad.line = line;
    bad.sequence = sequence;
    bad.reason = std::move(reason);
    state_.report.first_bad = std::move(bad);
  }
  return false;
}

bool ChainVerifier::Feed(std::string_view bytes) {
  if (failed()) return false;
  size_t pos = 0;
  if (!state_.pending.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) {
      state_.pending.append(bytes);
      if (state_.pending.size() > kMaxLineBytes) {
        return Fail("line too long", 0, state_.line + 1);
      }
      return true;
    }
    size_t len = static_cast<const char*>(nl) - bytes.data();
    state_.pending.append(bytes.substr(0, len));
    std::string line = std::move(state_.pending);
    state_.pending.clear();
    if (!Line(line)) return false;
    pos = len + 1;
  }
  while (pos < bytes.size()) {
    const void* nl = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
    if (nl == nullptr) {
      state_.pending.assign(bytes.substr(pos));
      break;
    }
    size_t end = static_cast<const char*>(nl) - bytes.data();
    if (!Line(bytes.substr(pos, end - pos))) return false;
    pos = end + 1;
  }
  return true;
}

bool ChainVerifier::EndFile() {
  if (failed()) return false;
  if (!state_.pending.empty()) {
    return Fail("the last line is incomplete (no newline at the end of the file)", 0,
                state_.line + 1);
  }
  if (state_.line == 0) return Fail("empty file", 0, 0);
  return true;
}

bool ChainVerifier::Line(std::string_view line) {
  uint64_t line_no = ++state_.line;
  internal::LineFrame f;
  if (const char* why = internal::ParseLineFrame(line, &f)) {
    return Fail(StrCat("malformed line: ", why), 0, line_no);
  }
  if (!state_.started) {
    if (f.type != "open")
      return Fail("the log does not start with an open entry", f.sequence, line_no);
  } else {
    if (f.sequence != state_.next_sequence) {
      return Fail(StrCat("sequence ", f.sequence, " where ", state_.next_sequence,
                         " was expected: an entry was deleted, inserted or moved"),
                  f.sequence, line_no);
    }
    if (f.prev_hex != HexView(state_.last_hex)) {
      return Fail(StrCat("prev is not the hash of the line before: that line or this one was "
                         "altered, or an entry was deleted, inserted or moved"),
                  f.sequence, line_no);
    }
  }
  if (line_no == 1 && f.type != "open") {
    return Fail("the file does not start with an open entry", f.sequence, line_no);
  }
  bool checkpoint = false;
  bool close = false;
  if (f.type == "open") {
    if (!CheckOpen(line, f.sequence, f.prev_hex)) return false;
    state_.since_checkpoint = 0;
  } else if (f.type == "checkpoint") {
    if (!CheckCheckpoint(line, f.sequence, f.prev_hex)) return false;
    checkpoint = true;
    close = state_.report.closed;  // set by CheckCheckpoint
  } else if (f.type != "request" && f.type != "response" && f.type != "event") {
    return Fail(StrCat("unknown entry type \"", f.type, "\""), f.sequence, line_no);
  }

  VerifyReport& r = state_.report;
  if (!state_.started) r.first_sequence = f.sequence;
  state_.started = true;
  state_.next_sequence = f.sequence + 1;
  HexInto(crypto::Sha256(line), &state_.last_hex);
  ++r.entries;
  r.last_sequence = f.sequence;
  r.closed = close;
  if (checkpoint) {
    state_.since_checkpoint = 0;
    r.unsigned_tail = 0;
  } else {
    ++state_.since_checkpoint;
    ++r.unsigned_tail;
  }
  return true;
}

bool ChainVerifier::CheckOpen(std::string_view line, uint64_t sequence, std::string_view prev_hex) {
  uint64_t line_no = state_.line;
  absl::StatusOr<internal::OpenRecord> rec = internal::ParseOpenLine(line);
  if (!rec.ok()) {
    return Fail(StrCat("malformed open entry: ", rec.status().message()), sequence, line_no);
  }
  if (!SameAsRebuilt(line, sequence, internal::OpenBody(*rec), prev_hex)) {
    return Fail("open entry is not in canonical form", sequence, line_no);
  }
  std::string key;
  if (!absl::Base64Unescape(rec->public_key, &key) || key.size() != 32) {
    return Fail("open entry holds a malformed public key", sequence, line_no);
  }
  VerifyReport& r = state_.report;
  if (!state_.started) {
    if (!options_.public_key.empty() && key != options_.public_key) {
      return Fail(
          "the log's public key is not the expected one: the log was not written by "
          "this audit device (forged?)",
          sequence, line_no);
    }
    if (options_.public_key.empty()) {
      r.warnings.push_back(
          "no expected public key given: checkpoints were verified with the key the log names, "
          "which cannot detect a wholly forged log");
    }
    r.device = rec->device;
    r.device_id = rec->device_id;
    r.public_key = rec->public_key;
    state_.device_public_key = key;
    std::string genesis = internal::Hex(internal::GenesisHash(rec->device, rec->device_id));
    if (prev_hex == genesis) {
      if (sequence != 1 || rec->reason != internal::kReasonNew) {
        return Fail("the genesis entry must be sequence 1 with reason \"new\"", sequence, line_no);
      }
    } else if (!options_.allow_partial_start) {
      return Fail("the log does not start at its genesis (older files missing?)", sequence,
                  line_no);
    } else {
      r.warnings.push_back(
          StrCat("the chain starts at sequence ", sequence, "; older entries were not verified"));
    }
    return true;
  }
  if (rec->device != r.device || rec->device_id != r.device_id || key != state_.device_public_key) {
    return Fail("open entry names another device or key than the chain's", sequence, line_no);
  }
  if (rec->reason != internal::kReasonRestart && rec->reason != internal::kReasonRotate) {
    return Fail(StrCat("open entry with reason \"", rec->reason, "\" in the middle of a chain"),
                sequence, line_no);
  }
  return true;
}

bool ChainVerifier::CheckCheckpoint(std::string_view line, uint64_t sequence,
                                    std::string_view prev_hex) {
  uint64_t line_no = state_.line;
  absl::StatusOr<internal::CheckpointRecord> rec = internal::ParseCheckpointLine(line);
  if (!rec.ok()) {
    return Fail(StrCat("malformed checkpoint: ", rec.status().message()), sequence, line_no);
  }
  if (!SameAsRebuilt(line, sequence, internal::CheckpointBody(*rec), prev_hex)) {
    return Fail("checkpoint is not in canonical form", sequence, line_no);
  }
  if (rec->last_hash != StrCat(internal::kHashPrefix, prev_hex)) {
    return Fail("checkpoint last_hash differs from its prev", sequence, line_no);
  }
  if (rec->reason != internal::kReasonPeriodic && rec->reason != internal::kReasonRotate &&
      rec->reason != internal::kReasonClose) {
    return Fail(StrCat("checkpoint with unknown reason \"", rec->reason, "\""), sequence, line_no);
  }
  if (rec->count < 0 || static_cast<uint64_t>(rec->count) != state_.since_checkpoint) {
    return Fail(StrCat("checkpoint counts ", rec->count, " entries where ", state_.since_checkpoint,
                       " precede it"),
                sequence, line_no);
  }
  std::string signature;
  if (!absl::Base64Unescape(rec->signature, &signature)) {
    return Fail("checkpoint signature is not base64", sequence, line_no);
  }
  std::string message =
      internal::CheckpointMessage(state_.report.device_id, sequence, rec->last_hash, rec->reason,
                                  rec->count, internal::FormatAuditTime(rec->time), rec->node);
  absl::Status verified = internal::Ed25519Verify(state_.device_public_key, message, signature);
  if (!verified.ok()) {
    return Fail("checkpoint signature does not verify", sequence, line_no);
  }
  ++state_.report.checkpoints;
  state_.report.closed = rec->reason == internal::kReasonClose;
  return true;
}

VerifyReport ChainVerifier::Finish() {
  VerifyReport& r = state_.report;
  if (!failed()) {
    if (!state_.started) {
      Fail("no entries", 0, 0);
    } else {
      r.last_hash = StrCat(internal::kHashPrefix, HexView(state_.last_hex));
      if (options_.expected_last_sequence.has_value() &&
          *options_.expected_last_sequence != r.last_sequence) {
        Fail(StrCat("the log ends at sequence ", r.last_sequence, " where ",
                    *options_.expected_last_sequence, " was expected (truncated?)"),
             r.last_sequence, state_.line);
      } else if (!options_.expected_last_hash.empty() &&
                 options_.expected_last_hash != r.last_hash) {
        Fail("the log's last hash is not the expected one", r.last_sequence, state_.line);
      } else if (!r.closed) {
        std::string what =
            r.unsigned_tail > 0
                ? StrCat("truncated: ", r.unsigned_tail,
                         " entries after the last checkpoint, and no close checkpoint at the end")
                : std::string(
                      "the log does not end with a close checkpoint (truncated, or still "
                      "being written)");
        if (options_.strict) {
          Fail(what, r.last_sequence, state_.line);
        } else {
          r.warnings.push_back(what);
        }
      }
    }
  }
  if (r.last_hash.empty() && state_.started) {
    r.last_hash = StrCat(internal::kHashPrefix, HexView(state_.last_hex));
  }
  return r;
}

absl::StatusOr<VerifyReport> Verify(const std::vector<std::string>& paths,
                                    const VerifyOptions& options) {
  ChainVerifier verifier(options);
  std::string buf(1 << 20, '\0');
  for (const std::string& path : paths) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      std::string msg = StrCat("open ", path, ": ", strerror(err));
      return err == ENOENT ? absl::NotFoundError(msg) : absl::UnavailableError(msg);
    }
    verifier.StartFile(path);
    bool ok = true;
    while (ok) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        close(fd);
        return absl::UnavailableError(StrCat("read ", path, ": ", strerror(err)));
      }
      if (n == 0) break;
      ok = verifier.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    close(fd);
    if (!ok || !verifier.EndFile()) break;
  }
  return verifier.Finish();
}

VerifyReport VerifyBuffer(std::string_view name, std::string_view data,
                          const VerifyOptions& options) {
  ChainVerifier verifier(options);
  verifier.StartFile(name);
  if (verifier.Feed(data)) verifier.EndFile();
  return verifier.Finish();
}

}  // namespace rekey::audit
