// Vault PKI request parsing and response rendering.
#include "pki/vault_json.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/internal/json_fields.h"
#include "pki/keys.h"

namespace rekey::pki {
namespace {

namespace json = boost::json;
using internal::FieldReader;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

absl::StatusOr<std::monostate> Done(const std::vector<std::string>& problems) {
  if (problems.empty()) return std::monostate{};
  return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// The leaf fields issue and sign share.
void ReadLeafFields(FieldReader& r, std::string* common_name, std::vector<std::string>* alt_names,
                    std::vector<std::string>* ip_sans, absl::Duration* ttl,
                    bool* exclude_cn_from_sans, std::string* issuer_ref) {
  r.String("common_name", common_name);
  if (auto names = r.List("alt_names")) *alt_names = std::move(*names);
  if (auto ips = r.List("ip_sans")) *ip_sans = std::move(*ips);
  r.Duration("ttl", ttl);
  r.Bool("exclude_cn_from_sans", exclude_cn_from_sans);
  // The role's issuer signs: a body may not pick another one (any issuer of the mount, the root
  // included, would otherwise sign for whoever may use the role). Vault takes an issuer only in
  // the path of issuer/:ref/issue/:role, which has its own policy path.
  std::string requested_issuer;
  r.String("issuer_ref", &requested_issuer);
  if (!requested_issuer.empty() && requested_issuer != "default") {
    r.Problem("issuer_ref", "not accepted here: the role's issuer_ref decides which issuer signs");
  }
  issuer_ref->clear();
  std::string format = "pem";
  r.String("format", &format);
  if (format != "pem") r.Problem("format", "only \"pem\" is supported");
  std::string key_format;
  r.String("private_key_format", &key_format);
  if (!key_format.empty() && key_format != "der" && key_format != "pem" && key_format != "pkcs8") {
    r.Problem("private_key_format", "must be \"der\", \"pem\" or \"pkcs8\"");
  }
}

// key_type + key_bits into `out` (default rsa 2048).
void ReadKeyType(FieldReader& r, KeyType* out) {
  std::string type = "rsa";
  int bits = 0;
  r.String("key_type", &type);
  r.Int("key_bits", &bits);
  absl::StatusOr<KeyType> t = KeyTypeFromVault(type, bits);
  if (t.ok()) {
    *out = *t;
  } else {
    r.Problem(r.Has("key_bits") ? "key_bits" : "key_type", ToStd(t.status().message()));
  }
}

// max_path_length: -1 (Vault's "no limit", the default) or a non-negative integer.
void ReadPathLength(FieldReader& r, const json::object& body, int* out) {
  *out = -1;
  const json::value* v = body.if_contains("max_path_length");
  if (v == nullptr || v->is_null()) return;
  if ((v->is_int64() && v->get_int64() == -1) || (v->is_string() && v->get_string() == "-1")) {
    return;
  }
  r.Int("max_path_length", out);
}

json::array Array(const std::vector<std::string>& items, json::storage_ptr sp) {
  json::array out(sp);
  for (const std::string& s : items) out.emplace_back(J(s));
  return out;
}

}  // namespace

absl::StatusOr<IssueRequest> IssueRequestFromJson(const json::object& body) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  IssueRequest req;
  ReadLeafFields(r, &req.common_name, &req.alt_names, &req.ip_sans, &req.ttl,
                 &req.exclude_cn_from_sans, &req.issuer_ref);
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

absl::StatusOr<SignRequest> SignRequestFromJson(const json::object& body) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  SignRequest req;
  r.String("csr", &req.csr);
  if (req.csr.empty()) r.Problem("csr", "is required");
  ReadLeafFields(r, &req.common_name, &req.alt_names, &req.ip_sans, &req.ttl,
                 &req.exclude_cn_from_sans, &req.issuer_ref);
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

absl::StatusOr<GenerateRootRequest> RootRequestFromJson(const json::object& body, bool exported) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  GenerateRootRequest req;
  req.exported = exported;
  r.String("common_name", &req.common_name);
  if (req.common_name.empty()) r.Problem("common_name", "is required");
  ReadKeyType(r, &req.key_type);
  r.Duration("ttl", &req.ttl);
  ReadPathLength(r, body, &req.max_path_length);
  r.String("issuer_name", &req.issuer_name);
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

absl::StatusOr<IntermediateCsrRequest> IntermediateRequestFromJson(const json::object& body,
                                                                   bool exported) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  IntermediateCsrRequest req;
  req.exported = exported;
  r.String("common_name", &req.common_name);
  if (req.common_name.empty()) r.Problem("common_name", "is required");
  ReadKeyType(r, &req.key_type);
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

absl::StatusOr<SignIntermediateRequest> SignIntermediateRequestFromJson(const json::object& body) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  SignIntermediateRequest req;
  r.String("csr", &req.csr);
  if (req.csr.empty()) r.Problem("csr", "is required");
  r.String("common_name", &req.common_name);
  r.Duration("ttl", &req.ttl);
  ReadPathLength(r, body, &req.max_path_length);
  r.String("issuer_ref", &req.issuer_ref);
  if (req.issuer_ref.empty()) req.issuer_ref = "default";
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

absl::StatusOr<TidyRequest> TidyRequestFromJson(const json::object& body) {
  std::vector<std::string> problems;
  FieldReader r(body, &problems);
  TidyRequest req;
  r.Bool("tidy_cert_store", &req.tidy_cert_store);
  r.Bool("tidy_revoked_certs", &req.tidy_revoked_certs);
  r.Duration("safety_buffer", &req.safety_buffer);
  RETURN_IF_ERROR(Done(problems).status());
  return req;
}

json::object IssuedToJson(const IssuedCertificate& issued, json::storage_ptr sp) {
  json::object o(sp);
  o["certificate"] = J(issued.certificate);
  o["issuing_ca"] = J(issued.issuing_ca);
  o["ca_chain"] = Array(issued.ca_chain, sp);
  o["serial_number"] = J(issued.serial_number);
  o["expiration"] = absl::ToUnixSeconds(issued.expiration);
  if (issued.private_key.has_value()) {
    o["private_key"] = J(issued.private_key->Reveal());
    o["private_key_type"] = J(issued.private_key_type);
  }
  return o;
}

json::object GeneratedRootToJson(const GeneratedIssuer& root, json::storage_ptr sp) {
  json::object o(sp);
  o["certificate"] = J(root.issuer.certificate);
  o["issuing_ca"] = J(root.issuer.certificate);
  o["ca_chain"] = Array(root.issuer.ca_chain, sp);
  o["serial_number"] = J(root.issuer.serial_number);
  o["expiration"] = absl::ToUnixSeconds(root.issuer.not_after);
  o["issuer_id"] = J(root.issuer.issuer_id);
  o["issuer_name"] = J(root.issuer.issuer_name);
  o["key_type"] = J(root.issuer.key_type);
  if (root.private_key.has_value()) {
    o["private_key"] = J(root.private_key->Reveal());
    absl::StatusOr<KeyType> t = ParseKeyType(root.issuer.key_type);
    o["private_key_type"] = t.ok() ? J(VaultKeyType(*t)) : J("");
  }
  return o;
}

json::object IntermediateCsrToJson(const IntermediateCsr& csr, json::storage_ptr sp) {
  json::object o(sp);
  o["csr"] = J(csr.csr);
  o["key_type"] = J(csr.key_type);
  if (csr.private_key.has_value()) {
    o["private_key"] = J(csr.private_key->Reveal());
    absl::StatusOr<KeyType> t = ParseKeyType(csr.key_type);
    o["private_key_type"] = t.ok() ? J(VaultKeyType(*t)) : J("");
  }
  return o;
}

json::object IssuerToJson(const IssuerInfo& issuer) {
  json::object o;
  o["issuer_id"] = J(issuer.issuer_id);
  o["issuer_name"] = J(issuer.issuer_name);
  o["certificate"] = J(issuer.certificate);
  o["ca_chain"] = Array(issuer.ca_chain, {});
  o["key_type"] = J(issuer.key_type);
  o["serial_number"] = J(issuer.serial_number);
  o["common_name"] = J(issuer.common_name);
  o["not_before"] = J(Rfc3339(issuer.not_before));
  o["not_after"] = J(Rfc3339(issuer.not_after));
  o["is_default"] = issuer.is_default;
  o["retired"] = issuer.retired;
  return o;
}

json::object CertificateEntryToJson(const CertificateEntry& entry) {
  json::object o;
  o["certificate"] = J(entry.certificate);
  o["issuer_id"] = J(entry.issuer_id);
  o["serial_number"] = J(entry.serial_number);
  o["expiration"] = absl::ToUnixSeconds(entry.not_after);
  o["revocation_time"] = entry.revoked_at ? absl::ToUnixSeconds(*entry.revoked_at) : 0;
  o["revocation_time_rfc3339"] = J(entry.revoked_at ? Rfc3339(*entry.revoked_at) : "");
  return o;
}

json::object RevocationToJson(absl::Time revoked_at) {
  json::object o;
  o["revocation_time"] = absl::ToUnixSeconds(revoked_at);
  o["revocation_time_rfc3339"] = J(Rfc3339(revoked_at));
  return o;
}

json::object TidyResultToJson(const TidyResult& result) {
  json::object o;
  o["certificates_deleted"] = result.certificates_deleted;
  o["revocations_deleted"] = result.revocations_deleted;
  return o;
}

}  // namespace rekey::pki
