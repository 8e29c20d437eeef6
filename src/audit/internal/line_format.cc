#include "audit/internal/line_format.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::audit::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kLinePrefix = "{\"sequence\":";
constexpr std::string_view kTypeKey = ",\"type\":\"";
constexpr std::string_view kPrevKey = ",\"prev\":\"sha256:";
constexpr size_t kHexHashSize = 64;

// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0 if it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void AppendNode(std::string* out, const AuditEntry::Node& node, const Fingerprinter& fp) {
  using Kind = AuditEntry::Node::Kind;
  switch (node.kind) {
    case Kind::kScalar:
      out->append(node.scalar_json);
      return;
    case Kind::kSecret:
      out->push_back('"');
      out->append(fp.Fingerprint(node.secret.Reveal()));
      out->push_back('"');
      return;
    case Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < node.values.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendNode(out, node.values[i], fp);
      }
      out->push_back(']');
      return;
    case Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < node.names.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJsonQuoted(out, node.names[i]);
        out->push_back(':');
        AppendNode(out, node.values[i], fp);
      }
      out->push_back('}');
      return;
  }
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

void AppendJsonQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  size_t i = 0;
  auto flush = [&](size_t end) {
    if (end > run) out->append(s.data() + run, end - run);
  };
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n > 0) {
        i += n;
        continue;
      }
      flush(i);
      out->append("\\ufffd");
      run = ++i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out->append(buf);
      }
    }
    run = ++i;
  }
  flush(i);
  out->push_back('"');
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonQuoted(&out, s);
  return out;
}

std::string Hex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[c >> 4];
    out[2 * i + 1] = kHexDigits[c & 0xF];
  }
  return out;
}

std::string HashString(std::string_view raw_digest) { return StrCat(kHashPrefix, Hex(raw_digest)); }

// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". Every entry carries one, so the seconds part is formatted
// once per second per thread and only the nanoseconds each time (absl::FormatTime's general
// formatter showed in the audited read path's profile).
std::string FormatAuditTime(absl::Time t) {
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char prefix[32];
  thread_local size_t prefix_len = 0;
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone());
  }
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t second = nanos / 1000000000;
  int64_t frac = nanos % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --second;
  }
  if (second != cached_second) {
    std::string p =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    if (p.size() >= sizeof(prefix)) {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone());
    }
    std::memcpy(prefix, p.data(), p.size());
    prefix_len = p.size();
    cached_second = second;
  }
  char buf[48];
  std::memcpy(buf, prefix, prefix_len);
  std::snprintf(buf + prefix_len, sizeof(buf) - prefix_len, ".%09lldZ",
                static_cast<long long>(frac));
  return std::string(buf);
}

absl::StatusOr<absl::Time> ParseAuditTime(std::string_view s) {
  absl::Time t;
  std::string err;
  if (s.size() != 30 ||
      !absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", ToAbsl(s), absl::UTCTimeZone(), &t, &err) ||
      FormatAuditTime(t) != s) {
    return absl::InvalidArgumentError("time is not RFC 3339 UTC with nanoseconds");
  }
  return t;
}

std::string GenesisHash(std::string_view device, std::string_view device_id) {
  return crypto::Sha256(StrCat("rekey-audit-genesis\n", device, "\n", device_id));
}

std::string CheckpointMessage(std::string_view device_id, uint64_t sequence,
                              std::string_view last_hash, std::string_view reason, int64_t count,
                              std::string_view time, std::string_view node) {
  return StrCat("rekey-audit-checkpoint\n", device_id, "\n", sequence, "\n", last_hash, "\n",
                reason, "\n", count, "\n", time, "\n", node);
}

std::string Fingerprinter::Fingerprint(std::string_view value) const {
  absl::StatusOr<std::string> mac = crypto::HmacSha256(key_.Reveal(), value);
  if (!mac.ok()) {
    std::fprintf(stderr, "FATAL: audit fingerprint: %s\n", mac.status().ToString().c_str());
    std::abort();
  }
  return StrCat(kFingerprintPrefix, Hex(*mac));
}

std::string Fingerprinter::FingerprintCached(std::string_view value) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(absl::string_view(value.data(), value.size()));
    if (it != cache_.end()) return it->second;
  }
  std::string fp = Fingerprint(value);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= 4096) cache_.clear();
  cache_.emplace(std::string(value), fp);
  return fp;
}

std::string SerializeBody(const AuditEntry& entry, absl::Time time, std::string_view node,
                          const Fingerprinter& fp) {
  std::string out;
  out.reserve(256);
  out.append("\"type\":\"");
  out.append(EntryTypeName(entry.type));
  out.append("\",\"time\":\"");
  out.append(FormatAuditTime(time));
  out.append("\",\"node\":");
  AppendJsonQuoted(&out, node);
  out.push_back(',');

  const Actor& actor = entry.actor;
  if (!actor.accessor.empty() || !actor.policies.empty() || !actor.remote_addr.empty()) {
    out.append("\"actor\":{");
    bool first = true;
    auto sep = [&] {
      if (!first) out.push_back(',');
      first = false;
    };
    if (!actor.accessor.empty()) {
      sep();
      out.append("\"accessor_hmac\":\"");
      out.append(fp.FingerprintCached(actor.accessor));
      out.push_back('"');
    }
    if (!actor.policies.empty()) {
      sep();
      out.append("\"policies\":[");
      for (size_t i = 0; i < actor.policies.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonQuoted(&out, actor.policies[i]);
      }
      out.push_back(']');
    }
    if (!actor.remote_addr.empty()) {
      sep();
      out.append("\"remote_addr\":");
      AppendJsonQuoted(&out, actor.remote_addr);
    }
    out.append("},");
  }
  auto string_field = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    out.push_back('"');
    out.append(key);
    out.append("\":");
    AppendJsonQuoted(&out, value);
    out.push_back(',');
  };
  string_field("operation", entry.operation);
  string_field("path", entry.path);
  if (entry.status != 0) out.append(StrCat("\"status\":", entry.status, ","));
  string_field("error", entry.error);
  string_field("request_id", entry.request_id);
  if (!entry.data_names().empty()) {
    out.append("\"data\":{");
    for (size_t i = 0; i < entry.data_names().size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonQuoted(&out, entry.data_names()[i]);
      out.push_back(':');
      AppendNode(&out, entry.data_values()[i], fp);
    }
    out.append("},");
  }
  return out;
}

void AppendLine(std::string* out, uint64_t sequence, std::string_view body, std::string_view prev) {
  out->append(kLinePrefix);
  out->append(StrCat(sequence));
  out->push_back(',');
  out->append(body);
  out->append("\"prev\":\"sha256:");
  size_t at = out->size();
  out->resize(at + prev.size() * 2);
  for (size_t i = 0; i < prev.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(prev[i]);
    (*out)[at + 2 * i] = kHexDigits[c >> 4];
    (*out)[at + 2 * i + 1] = kHexDigits[c & 0xF];
  }
  out->append("\"}\n");
}

const char* ParseLineFrame(std::string_view line, LineFrame* frame) {
  constexpr size_t kSuffixSize = kPrevKey.size() + kHexHashSize + 2;  // + "}
  if (line.substr(0, kLinePrefix.size()) != kLinePrefix) return "line does not start a record";
  size_t pos = kLinePrefix.size();
  uint64_t seq = 0;
  size_t digits_start = pos;
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9') {
    uint64_t d = static_cast<uint64_t>(line[pos] - '0');
    if (seq > (UINT64_MAX - d) / 10) return "sequence out of range";
    seq = seq * 10 + d;
    ++pos;
  }
  size_t digits = pos - digits_start;
  if (digits == 0 || (digits > 1 && line[digits_start] == '0')) return "malformed sequence";
  if (line.substr(pos, kTypeKey.size()) != kTypeKey) return "malformed type";
  pos += kTypeKey.size();
  size_t type_start = pos;
  while (pos < line.size() && line[pos] >= 'a' && line[pos] <= 'z') ++pos;
  if (pos == type_start || pos + 1 >= line.size() || line[pos] != '"' || line[pos + 1] != ',') {
    return "malformed type";
  }
  std::string_view type = line.substr(type_start, pos - type_start);
  pos += 2;
  if (line.size() < pos + kSuffixSize) return "line is too short";
  size_t suffix = line.size() - kSuffixSize;
  if (line.substr(suffix, kPrevKey.size()) != kPrevKey) return "malformed prev";
  std::string_view hex = line.substr(suffix + kPrevKey.size(), kHexHashSize);
  for (char c : hex) {
    if (!IsLowerHex(c)) return "malformed prev";
  }
  if (line.substr(line.size() - 2) != "\"}") return "malformed prev";
  frame->sequence = seq;
  frame->type = type;
  frame->prev_hex = hex;
  return nullptr;
}

}  // namespace rekey::audit::internal
