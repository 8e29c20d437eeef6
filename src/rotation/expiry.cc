#include "rotation/expiry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/x509.h"
#include "rotation/schedule.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;

constexpr char kExpiryPrefix[] = "rot/cx/";  // + path: the secret's ExpiryRecord
constexpr std::string_view kPemCertificate = "-----BEGIN CERTIFICATE-----";
constexpr int kMaxDepth = 4;         // JSON nesting looked into
constexpr int kMaxFolderDepth = 64;  // KV folder nesting walked

std::string ExpiryKey(std::string_view path) { return rekey::StrCat(kExpiryPrefix, path); }

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The not_after of the first certificate in `pem`; nullopt when it has none or is malformed.
std::optional<absl::Time> LeafNotAfter(std::string_view pem) {
  absl::StatusOr<pki::X509Ptr> cert = pki::ParseCertificatePem(pem);
  if (!cert.ok()) return std::nullopt;
  absl::StatusOr<pki::CertificateInfo> info = pki::DescribeCertificate(cert->get());
  if (!info.ok()) return std::nullopt;
  return info->not_after;
}

std::optional<absl::Time> ParseNotAfter(const json::value& f) {
  if (f.is_int64()) return absl::FromUnixSeconds(f.get_int64());
  if (f.is_uint64()) return absl::FromUnixSeconds(static_cast<int64_t>(f.get_uint64()));
  if (f.is_string()) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, std::string(f.get_string()), &t, &err)) return t;
  }
  return std::nullopt;
}

void Earliest(std::optional<absl::Time> t, absl::Time& out) {
  if (t.has_value()) out = std::min(out, *t);
}

// Visits `v` (depth-limited), lowering `out` to every certificate expiry found, and wipes the
// parsed strings (they are copies of the value).
void Visit(json::value& v, int depth, absl::Time& out) {
  if (v.is_string()) {
    json::string& s = v.get_string();
    std::string_view text(s.data(), s.size());
    if (text.find(kPemCertificate) != std::string_view::npos) Earliest(LeafNotAfter(text), out);
    SecureWipe(s.data(), s.size());
    return;
  }
  if (depth >= kMaxDepth) return;
  if (v.is_object()) {
    for (auto& [key, f] : v.get_object()) {
      if (std::string_view(key.data(), key.size()) == "not_after") Earliest(ParseNotAfter(f), out);
      Visit(f, depth + 1, out);
    }
  } else if (v.is_array()) {
    for (json::value& f : v.get_array()) Visit(f, depth + 1, out);
  }
}

std::string FormatThreshold(absl::Duration d) { return FormatScheduleDuration(d); }

}  // namespace

absl::Time CertificateNotAfter(const SecretBytes& value) {
  absl::Time out = absl::InfiniteFuture();
  std::string_view bytes = value.Reveal();
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(bytes.data(), bytes.size()), ec);
  if (ec) {
    // Not JSON: a value that is PEM text itself.
    if (bytes.find(kPemCertificate) != std::string_view::npos) Earliest(LeafNotAfter(bytes), out);
    return out;
  }
  Visit(v, 0, out);
  return out;
}

std::vector<absl::Duration> DefaultExpiryWarnings() {
  return {absl::Hours(24 * 30), absl::Hours(24 * 7), absl::Hours(24)};
}

std::string EncodeExpiryRecord(const ExpiryRecord& record) {
  json::object o;
  o["not_after"] = record.not_after == absl::InfiniteFuture()
                       ? int64_t{-1}
                       : absl::ToUnixSeconds(record.not_after);
  o["warned_s"] =
      record.warned == absl::InfiniteDuration() ? int64_t{-1} : absl::ToInt64Seconds(record.warned);
  o["expired"] = record.expired;
  return json::serialize(o);
}

absl::StatusOr<ExpiryRecord> DecodeExpiryRecord(std::string_view data) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(data.data(), data.size()), ec);
  if (ec || !v.is_object()) return absl::DataLossError("certificate expiry record is malformed");
  const json::object& o = v.get_object();
  const json::value* na = o.if_contains("not_after");
  const json::value* w = o.if_contains("warned_s");
  const json::value* e = o.if_contains("expired");
  if (na == nullptr || !na->is_int64() || w == nullptr || !w->is_int64() || e == nullptr ||
      !e->is_bool()) {
    return absl::DataLossError("certificate expiry record is malformed");
  }
  ExpiryRecord r;
  r.not_after =
      na->get_int64() < 0 ? absl::InfiniteFuture() : absl::FromUnixSeconds(na->get_int64());
  r.warned = w->get_int64() < 0 ? absl::InfiniteDuration() : absl::Seconds(w->get_int64());
  r.expired = e->get_bool();
  return r;
}

std::optional<ExpiryNotice> CheckExpiry(absl::Time not_after, absl::Time now,
                                        const std::vector<absl::Duration>& thresholds,
                                        ExpiryRecord& record) {
  if (not_after == absl::InfiniteFuture()) return std::nullopt;
  if (record.not_after != not_after) record = ExpiryRecord{.not_after = not_after};
  const absl::Duration left = not_after - now;
  if (left <= absl::ZeroDuration()) {
    if (record.expired) return std::nullopt;
    record.expired = true;
    return ExpiryNotice{"certificate.expired",
                        rekey::StrCat("certificate expired at ", FormatUtc(not_after))};
  }
  std::optional<absl::Duration> crossed;  // the smallest threshold `left` is within
  for (absl::Duration t : thresholds) {
    if (t > absl::ZeroDuration() && left <= t && (!crossed.has_value() || t < *crossed)) {
      crossed = t;
    }
  }
  if (!crossed.has_value() || *crossed >= record.warned) return std::nullopt;
  record.warned = *crossed;
  return ExpiryNotice{"certificate.expiring",
                      rekey::StrCat("certificate expires at ", FormatUtc(not_after), " (within ",
                                    FormatThreshold(*crossed), ")")};
}

CertificateWatch::CertificateWatch(storage::Store& store, secrets::SecretsService& kv,
                                   EventLog& events, std::vector<absl::Duration> thresholds,
                                   absl::Duration interval, size_t per_call)
    : store_(store),
      kv_(kv),
      events_(events),
      thresholds_(std::move(thresholds)),
      interval_(interval),
      per_call_(std::max<size_t>(per_call, 1)) {}

void CertificateWatch::MaybeScan(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);  // one caller at a time
  if (!in_pass_) {
    if (now < next_scan_) return;
    next_scan_ = now + interval_;
    in_pass_ = true;
    folders_.assign(1, "");
    paths_.clear();
  }
  size_t found = 0;
  for (size_t work = 0; work < per_call_; ++work) {
    if (!paths_.empty()) {
      const std::string path = std::move(paths_.front());
      paths_.pop_front();
      CheckOne(path, now, found);
      continue;
    }
    if (folders_.empty()) {
      in_pass_ = false;
      return;
    }
    const std::string folder = std::move(folders_.back());
    folders_.pop_back();
    absl::StatusOr<std::vector<std::string>> names = kv_.List(folder);
    if (!names.ok()) {
      spdlog::warn("rotation: certificate expiry scan could not list \"{}\": {}", folder,
                   ToStd(names.status().message()));
      continue;
    }
    const int depth = static_cast<int>(std::count(folder.begin(), folder.end(), '/'));
    for (const std::string& name : *names) {
      std::string path = rekey::StrCat(folder, name);
      if (!name.empty() && name.back() == '/') {
        if (depth < kMaxFolderDepth) folders_.push_back(std::move(path));
      } else {
        paths_.push_back(std::move(path));
      }
    }
  }
}

bool CertificateWatch::Scanning() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_pass_;
}

absl::StatusOr<size_t> CertificateWatch::ScanAll(absl::Time now) {
  size_t found = 0;
  RETURN_IF_ERROR(Walk("", now, 0, found));
  return found;
}

absl::Status CertificateWatch::Walk(const std::string& folder, absl::Time now, int depth,
                                    size_t& found) {
  if (depth > kMaxFolderDepth) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> names, kv_.List(folder));
  for (const std::string& name : names) {
    std::string path = rekey::StrCat(folder, name);
    if (!name.empty() && name.back() == '/') {
      RETURN_IF_ERROR(Walk(path, now, depth + 1, found));
      continue;
    }
    CheckOne(path, now, found);
  }
  return absl::OkStatus();
}

void CertificateWatch::CheckOne(const std::string& path, absl::Time now, size_t& found) {
  const absl::Time not_after = NotAfter(path);
  if (not_after == absl::InfiniteFuture()) return;
  ++found;
  if (absl::Status s = Note(path, not_after, now); !s.ok()) {
    spdlog::warn("rotation: certificate expiry check of {} failed: {}", path, ToStd(s.message()));
  }
}

absl::Time CertificateWatch::NotAfter(std::string_view path) {
  absl::StatusOr<secrets::ReadResult> current = kv_.Read(path, 0);
  if (!current.ok() || !current->value.has_value()) return absl::InfiniteFuture();
  return CertificateNotAfter(*current->value);
}

absl::Status CertificateWatch::Check(std::string_view path, absl::Time now) {
  const absl::Time not_after = NotAfter(path);
  if (not_after == absl::InfiniteFuture()) return absl::OkStatus();
  return Note(path, not_after, now);
}

absl::Status CertificateWatch::Note(std::string_view path, absl::Time not_after, absl::Time now) {
  ExpiryRecord record;
  ASSIGN_OR_RETURN(std::optional<storage::Record> stored, store_.Get(ExpiryKey(path)));
  if (stored.has_value()) {
    absl::StatusOr<ExpiryRecord> decoded = DecodeExpiryRecord(stored->value.Reveal());
    if (decoded.ok()) record = *decoded;  // a malformed record starts over
  }
  std::optional<ExpiryNotice> notice = CheckExpiry(not_after, now, thresholds_, record);
  if (!notice.has_value()) return absl::OkStatus();
  Event e;
  e.time = now;
  e.type = std::move(notice->type);
  e.path = std::string(path);
  e.message = std::move(notice->message);
  storage::WriteBatch batch;
  batch.Put(ExpiryKey(path), SecretBytes(EncodeExpiryRecord(record)));
  e = events_.Stage(std::move(e), batch);
  if (absl::StatusOr<uint64_t> committed = store_.Commit(batch); !committed.ok()) {
    events_.Cancel(e.seq);
    return committed.status();
  }
  events_.Publish(e);
  return absl::OkStatus();
}

}  // namespace rekey::rotation
