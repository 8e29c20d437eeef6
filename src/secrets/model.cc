#include "secrets/model.h"

#include <boost/json.hpp>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/strings.h"
#include "secrets/metadata_codec.h"

namespace rekey::secrets {
namespace json = boost::json;
using internal::FromNanos;
using internal::ToNanos;
namespace {

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(rekey::StrCat("stored ", what, " record is malformed"));
}

// Reads an integer field, accepting any JSON integer representation.
bool GetInt(const json::object& o, std::string_view key, int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return false;
  if (v->is_int64()) {
    out = v->get_int64();
    return true;
  }
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX) {
    out = static_cast<int64_t>(v->get_uint64());
    return true;
  }
  return false;
}

}  // namespace

uint64_t SecretMetadata::CurrentVersion() const {
  auto it = labels.find(kLabelCurrent);
  return it == labels.end() ? 0 : it->second;
}

std::vector<std::string> SecretMetadata::LabelsOf(uint64_t version) const {
  std::vector<std::string> out;
  for (const auto& [label, v] : labels) {
    if (v == version) out.push_back(label);
  }
  return out;
}

// The first stored format (JSON); still read, no longer written. Kept for the tests too.
std::string EncodeMetadataJson(const SecretMetadata& meta) {
  json::object o;
  o["created"] = ToNanos(meta.created);
  o["updated"] = ToNanos(meta.updated);
  o["max_versions"] = meta.max_versions;
  o["cas_required"] = meta.cas_required;
  o["dva"] = absl::ToInt64Nanoseconds(meta.delete_version_after);
  json::object custom;
  for (const auto& [k, v] : meta.custom_metadata) custom[k] = v;
  o["custom"] = std::move(custom);
  o["description"] = meta.description;
  o["last"] = meta.last_version;
  json::array versions;
  for (const auto& [n, v] : meta.versions) {
    json::object vo;
    vo["n"] = n;
    vo["id"] = v.id;
    vo["created"] = ToNanos(v.created);
    vo["by"] = v.created_by;
    vo["deleted"] = ToNanos(v.deletion_time);
    vo["destroyed"] = v.destroyed;
    versions.push_back(std::move(vo));
  }
  o["versions"] = std::move(versions);
  json::object labels;
  for (const auto& [label, n] : meta.labels) labels[label] = n;
  o["labels"] = std::move(labels);
  return json::serialize(o);
}

absl::StatusOr<SecretMetadata> DecodeMetadataJson(std::string_view data) {
  boost::system::error_code ec;
  json::value root = json::parse(data, ec);
  if (ec || !root.is_object()) return Corrupt("metadata");
  const json::object& o = root.get_object();
  SecretMetadata meta;
  int64_t n = 0;
  if (!GetInt(o, "created", n)) return Corrupt("metadata");
  meta.created = FromNanos(n);
  if (!GetInt(o, "updated", n)) return Corrupt("metadata");
  meta.updated = FromNanos(n);
  if (!GetInt(o, "max_versions", n) || n < 0) return Corrupt("metadata");
  meta.max_versions = static_cast<uint64_t>(n);
  if (const json::value* v = o.if_contains("cas_required"); v && v->is_bool()) {
    meta.cas_required = v->get_bool();
  }
  if (!GetInt(o, "dva", n)) return Corrupt("metadata");
  meta.delete_version_after = absl::Nanoseconds(n);
  if (const json::value* v = o.if_contains("custom"); v && v->is_object()) {
    for (const auto& kv : v->get_object()) {
      if (!kv.value().is_string()) return Corrupt("metadata");
      meta.custom_metadata[std::string(kv.key())] = std::string(kv.value().get_string());
    }
  }
  if (const json::value* v = o.if_contains("description"); v && v->is_string()) {
    meta.description = std::string(v->get_string());
  }
  if (!GetInt(o, "last", n) || n < 0) return Corrupt("metadata");
  meta.last_version = static_cast<uint64_t>(n);
  const json::value* versions = o.if_contains("versions");
  if (versions == nullptr || !versions->is_array()) return Corrupt("metadata");
  for (const json::value& vv : versions->get_array()) {
    if (!vv.is_object()) return Corrupt("metadata");
    const json::object& vo = vv.get_object();
    VersionInfo info;
    if (!GetInt(vo, "n", n) || n <= 0) return Corrupt("metadata");
    info.number = static_cast<uint64_t>(n);
    const json::value* id = vo.if_contains("id");
    if (id == nullptr || !id->is_string()) return Corrupt("metadata");
    info.id = std::string(id->get_string());
    if (!GetInt(vo, "created", n)) return Corrupt("metadata");
    info.created = FromNanos(n);
    if (const json::value* by = vo.if_contains("by"); by && by->is_string()) {
      info.created_by = std::string(by->get_string());
    }
    if (!GetInt(vo, "deleted", n)) return Corrupt("metadata");
    info.deletion_time = FromNanos(n);
    if (const json::value* d = vo.if_contains("destroyed"); d && d->is_bool()) {
      info.destroyed = d->get_bool();
    }
    meta.versions[info.number] = std::move(info);
  }
  if (const json::value* v = o.if_contains("labels"); v && v->is_object()) {
    for (const auto& kv : v->get_object()) {
      int64_t version = 0;
      if (kv.value().is_int64())
        version = kv.value().get_int64();
      else if (kv.value().is_uint64())
        version = static_cast<int64_t>(kv.value().get_uint64());
      else
        return Corrupt("metadata");
      meta.labels[std::string(kv.key())] = static_cast<uint64_t>(version);
    }
  }
  return meta;
}

std::string EncodeMetadata(const SecretMetadata& meta) {
  return internal::EncodeMetadataBinary(meta);
}

absl::StatusOr<SecretMetadata> DecodeMetadata(std::string_view data) {
  if (internal::IsMetadataBinary(data)) return internal::DecodeMetadataBinary(data);
  return DecodeMetadataJson(data);  // records written before the binary format
}

std::string EncodeMountConfig(const MountConfig& config) {
  json::object o;
  o["max_versions"] = config.max_versions;
  o["cas_required"] = config.cas_required;
  o["dva"] = absl::ToInt64Nanoseconds(config.delete_version_after);
  return json::serialize(o);
}

absl::StatusOr<MountConfig> DecodeMountConfig(std::string_view data) {
  boost::system::error_code ec;
  json::value root = json::parse(data, ec);
  if (ec || !root.is_object()) return Corrupt("mount config");
  const json::object& o = root.get_object();
  MountConfig config;
  int64_t n = 0;
  if (!GetInt(o, "max_versions", n) || n < 0) return Corrupt("mount config");
  config.max_versions = static_cast<uint64_t>(n);
  if (const json::value* v = o.if_contains("cas_required"); v && v->is_bool()) {
    config.cas_required = v->get_bool();
  }
  if (!GetInt(o, "dva", n)) return Corrupt("mount config");
  config.delete_version_after = absl::Nanoseconds(n);
  return config;
}

std::string FormatGoDuration(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  std::string out;
  if (d < absl::ZeroDuration()) {
    out = "-";
    d = -d;
  }
  int64_t hours = absl::IDivDuration(d, absl::Hours(1), &d);
  int64_t minutes = absl::IDivDuration(d, absl::Minutes(1), &d);
  double seconds = absl::FDivDuration(d, absl::Seconds(1));
  if (hours > 0) absl::StrAppend(&out, hours, "h");
  if (hours > 0 || minutes > 0) absl::StrAppend(&out, minutes, "m");
  absl::StrAppend(&out, seconds, "s");
  return out;
}

absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text) {
  if (text.empty()) return absl::ZeroDuration();
  int64_t plain = 0;
  if (absl::SimpleAtoi(ToAbsl(text), &plain)) {
    if (plain < 0) return absl::InvalidArgumentError("duration must not be negative");
    return absl::Seconds(plain);
  }
  absl::Duration d;
  // absl's parser accepts Go's syntax ("1h30m", "1.5h", "300ms"), plus "inf", which we refuse.
  if (!absl::ParseDuration(ToAbsl(text), &d) || d == absl::InfiniteDuration() ||
      d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(rekey::StrCat("invalid duration \"", text.substr(0, 40),
                                                    "\": use e.g. \"30s\", \"15m\", \"1h\""));
  }
  if (d < absl::ZeroDuration()) return absl::InvalidArgumentError("duration must not be negative");
  return d;
}

std::string FormatRfc3339(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return "";
  // What absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ") gives, without its general formatter (this is
  // on every audit entry's path).
  const absl::TimeZone::CivilInfo ci = absl::UTCTimeZone().At(t);
  const absl::CivilSecond& cs = ci.cs;
  if (cs.year() < 0 || cs.year() > 9999) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
  }
  char buf[40];
  int n =
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(cs.year()),
                    cs.month(), cs.day(), cs.hour(), cs.minute(), cs.second());
  int64_t nanos = absl::ToInt64Nanoseconds(ci.subsecond);
  if (nanos > 0) {
    int digits = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      --digits;
    }
    n += std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), ".%0*lld", digits,
                       static_cast<long long>(nanos));
  }
  buf[n++] = 'Z';
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace rekey::secrets
