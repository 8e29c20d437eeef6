#include "secrets/metadata_codec.h"

#include <cstring>
#include <map>
#include <vector>

namespace rekey::secrets::internal {
namespace {

constexpr char kMagic[] = {'R', 'K', 'M', 0x01};
constexpr size_t kMaxCount = 1 << 20;  // bounds every count read from a record

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void U(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
  void S(std::string_view s) {
    U(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const uint8_t b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool I64(int64_t& v) {
    if (in_.size() < 8) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    v = static_cast<int64_t>(u);
    return true;
  }
  bool S(std::string& s) {
    uint64_t n = 0;
    if (!U(n) || n > in_.size()) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool Count(uint64_t& n) { return U(n) && n <= kMaxCount; }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

absl::Status Corrupt() { return absl::DataLossError("stored metadata record is malformed"); }

}  // namespace

int64_t ToNanos(absl::Time t) {
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  if (t == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixNanos(t);
}

absl::Time FromNanos(int64_t n) {
  if (n == INT64_MAX) return absl::InfiniteFuture();
  if (n == INT64_MIN) return absl::InfinitePast();
  return absl::FromUnixNanos(n);
}

bool IsMetadataBinary(std::string_view data) {
  return data.size() >= sizeof(kMagic) && std::memcmp(data.data(), kMagic, sizeof(kMagic)) == 0;
}

std::string EncodeMetadataBinary(const SecretMetadata& meta) {
  std::string out(kMagic, sizeof(kMagic));
  out.reserve(64 + meta.versions.size() * 64);
  Writer w(out);
  w.I64(ToNanos(meta.created));
  w.I64(ToNanos(meta.updated));
  w.U(meta.max_versions);
  w.U(meta.cas_required ? 1 : 0);
  w.I64(absl::ToInt64Nanoseconds(meta.delete_version_after));
  w.U(meta.custom_metadata.size());
  for (const auto& [k, v] : meta.custom_metadata) {
    w.S(k);
    w.S(v);
  }
  w.S(meta.description);
  w.U(meta.last_version);
  std::vector<std::string_view> actors;
  std::map<std::string_view, uint64_t> actor_index;
  for (const auto& [n, v] : meta.versions) {
    if (actor_index.emplace(v.created_by, actors.size()).second) actors.push_back(v.created_by);
  }
  w.U(actors.size());
  for (std::string_view a : actors) w.S(a);
  w.U(meta.versions.size());
  for (const auto& [n, v] : meta.versions) {
    w.U(n);
    w.S(v.id);
    w.I64(ToNanos(v.created));
    w.U(actor_index[v.created_by]);
    const bool deleted = v.deletion_time != absl::InfiniteFuture();
    w.U((v.destroyed ? 1 : 0) | (deleted ? 2 : 0));
    if (deleted) w.I64(ToNanos(v.deletion_time));
  }
  w.U(meta.labels.size());
  for (const auto& [label, version] : meta.labels) {
    w.S(label);
    w.U(version);
  }
  return out;
}

absl::StatusOr<SecretMetadata> DecodeMetadataBinary(std::string_view data) {
  if (!IsMetadataBinary(data)) return Corrupt();
  Reader r(data.substr(sizeof(kMagic)));
  SecretMetadata meta;
  int64_t i = 0;
  uint64_t u = 0, count = 0;
  if (!r.I64(i)) return Corrupt();
  meta.created = FromNanos(i);
  if (!r.I64(i)) return Corrupt();
  meta.updated = FromNanos(i);
  if (!r.U(meta.max_versions) || !r.U(u) || u > 1) return Corrupt();
  meta.cas_required = u == 1;
  if (!r.I64(i)) return Corrupt();
  meta.delete_version_after = absl::Nanoseconds(i);
  if (!r.Count(count)) return Corrupt();
  for (uint64_t k = 0; k < count; ++k) {
    std::string key, value;
    if (!r.S(key) || !r.S(value)) return Corrupt();
    meta.custom_metadata[std::move(key)] = std::move(value);
  }
  if (!r.S(meta.description) || !r.U(meta.last_version)) return Corrupt();
  std::vector<std::string> actors;
  if (!r.Count(count)) return Corrupt();
  actors.resize(count);
  for (std::string& a : actors) {
    if (!r.S(a)) return Corrupt();
  }
  if (!r.Count(count)) return Corrupt();
  for (uint64_t k = 0; k < count; ++k) {
    VersionInfo v;
    uint64_t actor = 0, flags = 0;
    if (!r.U(v.number) || v.number == 0 || !r.S(v.id) || !r.I64(i)) return Corrupt();
    v.created = FromNanos(i);
    if (!r.U(actor) || actor >= actors.size() || !r.U(flags) || flags > 3) return Corrupt();
    v.created_by = actors[actor];
    v.destroyed = (flags & 1) != 0;
    if ((flags & 2) != 0) {
      if (!r.I64(i)) return Corrupt();
      v.deletion_time = FromNanos(i);
    }
    if (!meta.versions.emplace(v.number, std::move(v)).second) return Corrupt();
  }
  if (!r.Count(count)) return Corrupt();
  for (uint64_t k = 0; k < count; ++k) {
    std::string label;
    uint64_t version = 0;
    if (!r.S(label) || !r.U(version)) return Corrupt();
    meta.labels[std::move(label)] = version;
  }
  if (!r.done()) return Corrupt();
  return meta;
}

}  // namespace rekey::secrets::internal
