// JSON encoding of the CA's stored records.
#include "pki/internal/records.h"

#include <boost/json.hpp>

#include "absl/strings/escaping.h"
#include "core/strings.h"

namespace rekey::pki::internal {
namespace {

namespace json = boost::json;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

// Zeroes every string inside `v` before it is freed (records that held a private key).
void WipeStrings(json::value& v) {
  if (v.is_string()) {
    SecureWipe(v.get_string().data(), v.get_string().size());
  } else if (v.is_object()) {
    for (auto& [k, item] : v.get_object()) WipeStrings(item);
  } else if (v.is_array()) {
    for (json::value& item : v.get_array()) WipeStrings(item);
  }
}

SecretBytes Serialize(json::value& v) {
  std::string text = json::serialize(v);
  WipeStrings(v);
  return SecretBytes::TakeFrom(text);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(rekey::StrCat("stored PKI ", what, " record does not decode"));
}

// A parsed record whose strings are wiped when it goes away.
class Parsed {
 public:
  explicit Parsed(const SecretBytes& b) {
    boost::system::error_code ec;
    value_ = json::parse(J(b.Reveal()), ec);
    ok_ = !ec && value_.is_object();
  }
  ~Parsed() { WipeStrings(value_); }
  bool ok() const { return ok_; }

  bool Str(std::string_view key, std::string* out) const {
    const json::value* v = value_.get_object().if_contains(J(key));
    if (v == nullptr || !v->is_string()) return false;
    *out = std::string(S(v->get_string()));
    return true;
  }
  bool Secret(std::string_view key, SecretBytes* out) const {
    const json::value* v = value_.get_object().if_contains(J(key));
    if (v == nullptr || !v->is_string()) return false;
    *out = SecretBytes(S(v->get_string()));
    return true;
  }
  bool Int(std::string_view key, int64_t* out) const {
    const json::value* v = value_.get_object().if_contains(J(key));
    if (v == nullptr || !v->is_int64()) return false;
    *out = v->get_int64();
    return true;
  }
  bool Time(std::string_view key, absl::Time* out) const {
    int64_t s = 0;
    if (!Int(key, &s)) return false;
    *out = absl::FromUnixSeconds(s);
    return true;
  }
  bool Bool(std::string_view key, bool* out) const {
    const json::value* v = value_.get_object().if_contains(J(key));
    if (v == nullptr || !v->is_bool()) return false;
    *out = v->get_bool();
    return true;
  }
  bool Strings(std::string_view key, std::vector<std::string>* out) const {
    const json::value* v = value_.get_object().if_contains(J(key));
    if (v == nullptr || !v->is_array()) return false;
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) return false;
      out->emplace_back(S(item.get_string()));
    }
    return true;
  }
  bool Has(std::string_view key) const { return value_.get_object().contains(J(key)); }

 private:
  json::value value_;
  bool ok_ = false;
};

}  // namespace

std::string CertKey(std::string_view serial) {
  std::string key = rekey::StrCat(kCertPrefix, serial);
  for (size_t i = kCertPrefix.size(); i < key.size(); ++i) {
    if (key[i] == ':') key[i] = '-';
  }
  return key;
}

std::string RevokedKey(std::string_view issuer_id, std::string_view serial) {
  std::string key = rekey::StrCat(kRevokedPrefix, issuer_id, "/");
  const size_t start = key.size();
  key.append(serial);
  for (size_t i = start; i < key.size(); ++i) {
    if (key[i] == ':') key[i] = '-';
  }
  return key;
}

std::string SerialFromKey(std::string_view key) {
  const size_t slash = key.rfind('/');
  std::string serial(key.substr(slash == std::string_view::npos ? 0 : slash + 1));
  for (char& c : serial) {
    if (c == '-') c = ':';
  }
  return serial;
}

SecretBytes Encode(const CaConfigRecord& r) {
  json::value v = json::object{{"default_issuer", J(r.default_issuer)}};
  return Serialize(v);
}

SecretBytes Encode(const IssuerRecord& r) {
  json::array parents;
  for (const std::string& p : r.parents) parents.emplace_back(J(p));
  json::value v = json::object{{"id", J(r.id)},
                               {"name", J(r.name)},
                               {"certificate", J(r.certificate)},
                               {"parents", std::move(parents)},
                               {"private_key", J(r.private_key.Reveal())},
                               {"retired", r.retired},
                               {"created_at", absl::ToUnixSeconds(r.created_at)}};
  return Serialize(v);
}

SecretBytes Encode(const CertRecord& r) {
  json::object o{{"certificate", J(r.certificate)},
                 {"issuer_id", J(r.issuer_id)},
                 {"not_after", absl::ToUnixSeconds(r.not_after)}};
  if (r.revoked_at.has_value()) o["revoked_at"] = absl::ToUnixSeconds(*r.revoked_at);
  json::value v = std::move(o);
  return Serialize(v);
}

SecretBytes Encode(const RevokedRecord& r) {
  json::value v = json::object{{"revoked_at", absl::ToUnixSeconds(r.revoked_at)},
                               {"not_after", absl::ToUnixSeconds(r.not_after)}};
  return Serialize(v);
}

SecretBytes Encode(const CrlRecord& r) {
  const std::string b64 = absl::Base64Escape(ToAbsl(r.der));
  json::value v = json::object{{"number", static_cast<int64_t>(r.number)},
                               {"der", J(b64)},
                               {"this_update", absl::ToUnixSeconds(r.this_update)},
                               {"next_update", absl::ToUnixSeconds(r.next_update)}};
  return Serialize(v);
}

SecretBytes Encode(const PendingKeyRecord& r) {
  json::value v =
      json::object{{"private_key", J(r.private_key.Reveal())}, {"common_name", J(r.common_name)}};
  return Serialize(v);
}

absl::StatusOr<CaConfigRecord> DecodeConfig(const SecretBytes& b) {
  Parsed p(b);
  CaConfigRecord r;
  if (!p.ok() || !p.Str("default_issuer", &r.default_issuer)) return Corrupt("config");
  return r;
}

absl::StatusOr<IssuerRecord> DecodeIssuer(const SecretBytes& b) {
  Parsed p(b);
  IssuerRecord r;
  if (!p.ok() || !p.Str("id", &r.id) || !p.Str("name", &r.name) ||
      !p.Str("certificate", &r.certificate) || !p.Strings("parents", &r.parents) ||
      !p.Secret("private_key", &r.private_key) || !p.Bool("retired", &r.retired) ||
      !p.Time("created_at", &r.created_at)) {
    return Corrupt("issuer");
  }
  return r;
}

absl::StatusOr<CertRecord> DecodeCert(const SecretBytes& b) {
  Parsed p(b);
  CertRecord r;
  if (!p.ok() || !p.Str("certificate", &r.certificate) || !p.Str("issuer_id", &r.issuer_id) ||
      !p.Time("not_after", &r.not_after)) {
    return Corrupt("certificate");
  }
  if (p.Has("revoked_at")) {
    absl::Time t;
    if (!p.Time("revoked_at", &t)) return Corrupt("certificate");
    r.revoked_at = t;
  }
  return r;
}

absl::StatusOr<RevokedRecord> DecodeRevoked(const SecretBytes& b) {
  Parsed p(b);
  RevokedRecord r;
  if (!p.ok() || !p.Time("revoked_at", &r.revoked_at) || !p.Time("not_after", &r.not_after)) {
    return Corrupt("revocation");
  }
  return r;
}

absl::StatusOr<CrlRecord> DecodeCrl(const SecretBytes& b) {
  Parsed p(b);
  CrlRecord r;
  int64_t number = 0;
  std::string b64;
  if (!p.ok() || !p.Int("number", &number) || number < 0 || !p.Str("der", &b64) ||
      !p.Time("this_update", &r.this_update) || !p.Time("next_update", &r.next_update)) {
    return Corrupt("CRL");
  }
  std::string der;
  if (!absl::Base64Unescape(ToAbsl(b64), &der)) return Corrupt("CRL");
  r.number = static_cast<uint64_t>(number);
  r.der = std::move(der);
  return r;
}

absl::StatusOr<PendingKeyRecord> DecodePendingKey(const SecretBytes& b) {
  Parsed p(b);
  PendingKeyRecord r;
  if (!p.ok() || !p.Secret("private_key", &r.private_key) ||
      !p.Str("common_name", &r.common_name)) {
    return Corrupt("pending key");
  }
  return r;
}

}  // namespace rekey::pki::internal
