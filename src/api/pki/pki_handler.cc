#include "api/pki/pki_handler.h"

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/data_response.h"
#include "api/vault/json_fields.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/secret_bytes.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/role.h"
#include "pki/vault_json.h"
#include "pki/x509.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kPemType = "application/pem-file";
constexpr std::string_view kCertDerType = "application/pkix-cert";
constexpr std::string_view kCrlDerType = "application/pkix-crl";

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// --- responses --------------------------------------------------------------------------------

// A bare body (PEM or DER), as Vault serves pki/ca, pki/ca/pem, pki/ca_chain and the CRLs.
http::Response Raw(std::string body, std::string_view content_type) {
  http::Response res;
  res.status = 200;
  res.content_type = std::string(content_type);
  res.body = std::move(body);
  return res;
}

http::Response BadRequest(std::string_view message) { return ErrorResponse(400, message); }

// Vault answers an unknown role or serial on issue, sign and revoke with 400, not 404.
http::Response FailAs400(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kNotFound) return BadRequest(ToStd(s.message()));
  return ErrorFromStatus(s);
}

// A LIST answer: {"keys": [...]} (plus `key_info` when given); Vault's 404 {"errors":[]} when
// there is nothing to list.
http::Response ListResponse(const http::Request& req, const std::vector<std::string>& keys,
                            std::optional<json::object> key_info = std::nullopt) {
  if (keys.empty()) return ErrorResponse(404, "");
  json::array arr;
  for (const std::string& k : keys) arr.emplace_back(J(k));
  json::object data;
  data["keys"] = std::move(arr);
  if (key_info.has_value()) data["key_info"] = std::move(*key_info);
  return DataResponse(req, std::move(data));
}

// --- request fields ---------------------------------------------------------------------------

absl::StatusOr<json::object> BodyObject(const http::Request& req) {
  ASSIGN_OR_RETURN(json::value body, ParseBody(req.body));
  if (!body.is_object()) {
    return absl::InvalidArgumentError("invalid request body: expected a JSON object");
  }
  return std::move(body.get_object());
}

// A string field; "" when absent or null.
absl::StatusOr<std::string_view> StringField(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(J(field));
  if (v == nullptr || v->is_null()) return std::string_view();
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid value for \"", field, "\": expected a string"));
  }
  return std::string_view(v->get_string().data(), v->get_string().size());
}

std::string_view Segment(const VaultRequest& vreq, size_t i) {
  return i < vreq.segments.size() ? std::string_view(vreq.segments[i]) : std::string_view();
}

// `root/generate/:type` and `intermediate/generate/:type`: "internal" or "exported".
absl::StatusOr<bool> ExportedFromType(std::string_view type) {
  if (type == "internal") return false;
  if (type == "exported") return true;
  return absl::InvalidArgumentError(rekey::StrCat("unsupported type \"", type.substr(0, 32),
                                                  "\": use \"internal\" or \"exported\""));
}

// Vault's answer to importing issuers (config/ca, intermediate/set-signed), with rekey's
// issuer_id and issuer_name beside it.
json::object ImportedJson(const pki::IssuerInfo& issuer) {
  json::object data;
  json::array imported;
  imported.emplace_back(J(issuer.issuer_id));
  data["imported_issuers"] = std::move(imported);
  data["imported_keys"] = nullptr;
  data["existing_issuers"] = nullptr;
  data["existing_keys"] = nullptr;
  json::object mapping;
  mapping[J(issuer.issuer_id)] = "";
  data["mapping"] = std::move(mapping);
  data["issuer_id"] = J(issuer.issuer_id);
  data["issuer_name"] = J(issuer.issuer_name);
  return data;
}

// {"default": id} ("" when there is no issuer yet).
absl::StatusOr<json::object> DefaultIssuerJson(pki::CaService& ca) {
  json::object data;
  absl::StatusOr<pki::IssuerInfo> issuer = ca.ReadIssuer("default");
  if (issuer.ok()) {
    data["default"] = J(issuer->issuer_id);
  } else if (issuer.status().code() == absl::StatusCode::kNotFound ||
             issuer.status().code() == absl::StatusCode::kFailedPrecondition) {
    data["default"] = "";
  } else {
    return issuer.status();
  }
  data["default_follows_latest_issuer"] = false;
  return data;
}

// A certificate in pki/cert/:serial's shape without a stored entry (cert/ca, cert/crl,
// cert/ca_chain).
json::object UnrevokedCertJson(std::string_view pem) {
  json::object data;
  data["certificate"] = J(pem);
  data["revocation_time"] = 0;
  data["revocation_time_rfc3339"] = "";
  return data;
}

}  // namespace

PkiHandler::PkiHandler(pki::CaService& ca, auth::Authorizer& authz) : ca_(ca), authz_(authz) {}

http::Response PkiHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());  // "pki", ...

  AuthorizeOptions options;
  // Vault's role existence check: writing a role that does not exist is a create.
  options.exists = [this](const Route& route, const VaultRequest& v) -> absl::StatusOr<bool> {
    if (route.id != RouteId::kPkiRole) return false;
    absl::StatusOr<pki::Role> role = ca_.ReadRole(Segment(v, 2));
    if (role.ok()) return true;
    if (role.status().code() == absl::StatusCode::kNotFound ||
        role.status().code() == absl::StatusCode::kInvalidArgument) {
      return false;
    }
    return role.status();
  };
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kPki, options);
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string& op = vreq.operation;

  // Bodies are parsed once, into zeroing storage (config/ca carries a private key).
  json::object body(ZeroingStorage());
  if (op == "POST" || op == "PUT") {
    absl::StatusOr<json::object> b = BodyObject(req);
    if (!b.ok()) return ErrorFromStatus(b.status());
    body = *std::move(b);
  }

  switch (route) {
    // --- issuers ----------------------------------------------------------------------------
    case RouteId::kPkiRootGenerate: {
      absl::StatusOr<bool> exported = ExportedFromType(Segment(vreq, 3));
      if (!exported.ok()) return ErrorFromStatus(exported.status());
      absl::StatusOr<pki::GenerateRootRequest> r = pki::RootRequestFromJson(body, *exported);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::GeneratedIssuer> root = ca_.GenerateRoot(*r);
      if (!root.ok()) return ErrorFromStatus(root.status());
      return DataResponse(req, pki::GeneratedRootToJson(*root, ZeroingStorage()));
    }
    case RouteId::kPkiIntermediateGenerate: {
      absl::StatusOr<bool> exported = ExportedFromType(Segment(vreq, 3));
      if (!exported.ok()) return ErrorFromStatus(exported.status());
      absl::StatusOr<pki::IntermediateCsrRequest> r =
          pki::IntermediateRequestFromJson(body, *exported);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::IntermediateCsr> csr = ca_.GenerateIntermediateCsr(*r);
      if (!csr.ok()) return ErrorFromStatus(csr.status());
      return DataResponse(req, pki::IntermediateCsrToJson(*csr, ZeroingStorage()));
    }
    case RouteId::kPkiRootSignIntermediate: {
      absl::StatusOr<pki::SignIntermediateRequest> r = pki::SignIntermediateRequestFromJson(body);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::IssuedCertificate> signed_ca = ca_.SignIntermediate(*r);
      if (!signed_ca.ok()) return ErrorFromStatus(signed_ca.status());
      return DataResponse(req, pki::IssuedToJson(*signed_ca), signed_ca->warnings);
    }
    case RouteId::kPkiIntermediateSetSigned: {
      absl::StatusOr<std::string_view> cert = StringField(body, "certificate");
      absl::StatusOr<std::string_view> name = StringField(body, "issuer_name");
      if (!cert.ok()) return ErrorFromStatus(cert.status());
      if (!name.ok()) return ErrorFromStatus(name.status());
      if (cert->empty()) return BadRequest("certificate: is required");
      absl::StatusOr<pki::IssuerInfo> issuer = ca_.SetSignedIntermediate(*cert, *name);
      if (!issuer.ok()) return ErrorFromStatus(issuer.status());
      return DataResponse(req, ImportedJson(*issuer));
    }
    case RouteId::kPkiConfigCa: {
      absl::StatusOr<std::string_view> bundle = StringField(body, "pem_bundle");
      absl::StatusOr<std::string_view> name = StringField(body, "issuer_name");
      if (!bundle.ok()) return ErrorFromStatus(bundle.status());
      if (!name.ok()) return ErrorFromStatus(name.status());
      if (bundle->empty()) return BadRequest("pem_bundle: is required");
      absl::StatusOr<pki::IssuerInfo> issuer = ca_.ImportIssuer(SecretBytes(*bundle), *name);
      if (!issuer.ok()) return ErrorFromStatus(issuer.status());
      return DataResponse(req, ImportedJson(*issuer));
    }
    case RouteId::kPkiIssuers: {
      absl::StatusOr<std::vector<pki::IssuerInfo>> issuers = ca_.ListIssuers();
      if (!issuers.ok()) return ErrorFromStatus(issuers.status());
      std::vector<std::string> keys;
      json::object info;
      for (const pki::IssuerInfo& i : *issuers) {
        keys.push_back(i.issuer_id);
        json::object o;
        o["issuer_name"] = J(i.issuer_name);
        o["is_default"] = i.is_default;
        o["retired"] = i.retired;
        o["common_name"] = J(i.common_name);
        o["serial_number"] = J(i.serial_number);
        o["key_type"] = J(i.key_type);
        o["not_after"] = J(Rfc3339(i.not_after));
        info[J(i.issuer_id)] = std::move(o);
      }
      return ListResponse(req, keys, std::move(info));
    }
    case RouteId::kPkiIssuer: {
      absl::StatusOr<pki::IssuerInfo> issuer = ca_.ReadIssuer(Segment(vreq, 2));
      if (!issuer.ok()) return ErrorFromStatus(issuer.status());
      json::object data = pki::IssuerToJson(*issuer);
      absl::StatusOr<absl::Time> last = ca_.LastLeafExpiry(issuer->issuer_id);
      if (!last.ok()) return ErrorFromStatus(last.status());
      if (*last == absl::InfinitePast()) {
        data["last_leaf_not_after"] = nullptr;
      } else {
        data["last_leaf_not_after"] = J(Rfc3339(*last));
      }
      return DataResponse(req, std::move(data));
    }
    case RouteId::kPkiIssuerRetire: {
      absl::StatusOr<std::optional<bool>> force = GetBool(body, "force");
      if (!force.ok()) return ErrorFromStatus(force.status());
      absl::StatusOr<pki::IssuerInfo> issuer = ca_.ReadIssuer(Segment(vreq, 2));
      if (!issuer.ok()) return ErrorFromStatus(issuer.status());
      if (absl::Status s = ca_.RetireIssuer(issuer->issuer_id, force->value_or(false)); !s.ok()) {
        return ErrorFromStatus(s);
      }
      issuer = ca_.ReadIssuer(issuer->issuer_id);
      if (!issuer.ok()) return ErrorFromStatus(issuer.status());
      return DataResponse(req, pki::IssuerToJson(*issuer));
    }
    case RouteId::kPkiIssuerCrl: {
      const std::string_view format = Segment(vreq, 4);
      if (format != "pem" && format != "der") {
        return ErrorResponse(404, "no such CRL format: use pki/issuer/<ref>/crl/pem or .../der");
      }
      absl::StatusOr<std::string> crl =
          format == "pem" ? ca_.CrlPem(Segment(vreq, 2)) : ca_.CrlDer(Segment(vreq, 2));
      if (!crl.ok()) return ErrorFromStatus(crl.status());
      return Raw(*std::move(crl), format == "pem" ? kPemType : kCrlDerType);
    }
    case RouteId::kPkiConfigIssuers: {
      if (op == "POST" || op == "PUT") {
        absl::StatusOr<std::string_view> ref = StringField(body, "default");
        if (!ref.ok()) return ErrorFromStatus(ref.status());
        if (ref->empty()) return BadRequest("default: is required (an issuer id or name)");
        if (absl::Status s = ca_.SetDefaultIssuer(*ref); !s.ok()) return ErrorFromStatus(s);
      }
      absl::StatusOr<json::object> data = DefaultIssuerJson(ca_);
      if (!data.ok()) return ErrorFromStatus(data.status());
      return DataResponse(req, *std::move(data));
    }

    // --- public reads -----------------------------------------------------------------------
    case RouteId::kPkiCaPem: {
      absl::StatusOr<std::string> pem = ca_.CaPem();
      if (!pem.ok()) return ErrorFromStatus(pem.status());
      return Raw(*std::move(pem), kPemType);
    }
    case RouteId::kPkiCaDer: {
      absl::StatusOr<std::string> der = ca_.CaDer();
      if (!der.ok()) return ErrorFromStatus(der.status());
      return Raw(*std::move(der), kCertDerType);
    }
    case RouteId::kPkiCaChain: {
      absl::StatusOr<std::string> chain = ca_.CaChainPem();
      if (!chain.ok()) return ErrorFromStatus(chain.status());
      return Raw(*std::move(chain), kPemType);
    }
    case RouteId::kPkiCertCaChain: {
      absl::StatusOr<std::string> chain = ca_.CaChainPem();
      if (!chain.ok()) return ErrorFromStatus(chain.status());
      json::object data = UnrevokedCertJson(*chain);
      data["ca_chain"] = J(*chain);
      return DataResponse(req, std::move(data));
    }
    case RouteId::kPkiCert: {
      const std::string_view serial = Segment(vreq, 2);
      // Vault's special serials.
      if (serial == "ca") {
        absl::StatusOr<std::string> pem = ca_.CaPem();
        if (!pem.ok()) return ErrorFromStatus(pem.status());
        return DataResponse(req, UnrevokedCertJson(*pem));
      }
      if (serial == "crl") {
        absl::StatusOr<std::string> pem = ca_.CrlPem();
        if (!pem.ok()) return ErrorFromStatus(pem.status());
        return DataResponse(req, UnrevokedCertJson(*pem));
      }
      absl::StatusOr<pki::CertificateEntry> entry = ca_.ReadCertificate(serial);
      if (!entry.ok()) return ErrorFromStatus(entry.status());
      return DataResponse(req, pki::CertificateEntryToJson(*entry));
    }
    case RouteId::kPkiCerts: {
      absl::StatusOr<std::vector<std::string>> serials = ca_.ListCertificates();
      if (!serials.ok()) return ErrorFromStatus(serials.status());
      // Vault lists serials with '-' between the bytes (its storage form).
      for (std::string& s : *serials) {
        for (char& c : s) {
          if (c == ':') c = '-';
        }
      }
      return ListResponse(req, *serials);
    }
    case RouteId::kPkiCrlDer: {
      absl::StatusOr<std::string> der = ca_.CrlDer();
      if (!der.ok()) return ErrorFromStatus(der.status());
      return Raw(*std::move(der), kCrlDerType);
    }
    case RouteId::kPkiCrlPem: {
      absl::StatusOr<std::string> pem = ca_.CrlPem();
      if (!pem.ok()) return ErrorFromStatus(pem.status());
      return Raw(*std::move(pem), kPemType);
    }

    // --- roles ------------------------------------------------------------------------------
    case RouteId::kPkiRoles: {
      absl::StatusOr<std::vector<std::string>> roles = ca_.ListRoles();
      if (!roles.ok()) return ErrorFromStatus(roles.status());
      return ListResponse(req, *roles);
    }
    case RouteId::kPkiRole: {
      const std::string_view name = Segment(vreq, 2);
      if (op == "DELETE") {
        if (absl::Status s = ca_.DeleteRole(name); !s.ok()) return ErrorFromStatus(s);
        return NoContent();
      }
      std::vector<std::string> warnings;
      if (op == "POST" || op == "PUT") {
        // The path names the role; a "name" in the body (hvac sends one) is ignored, as in Vault.
        body.erase("name");
        absl::StatusOr<std::vector<std::string>> written = ca_.WriteRoleJson(name, body);
        if (!written.ok()) return ErrorFromStatus(written.status());
        warnings = *std::move(written);
      }
      absl::StatusOr<pki::Role> role = ca_.ReadRole(name);
      if (role.status().code() == absl::StatusCode::kNotFound) return ErrorResponse(404, "");
      if (!role.ok()) return ErrorFromStatus(role.status());
      return DataResponse(req, pki::RoleToJson(*role), warnings);
    }

    // --- certificates -----------------------------------------------------------------------
    case RouteId::kPkiIssue: {
      absl::StatusOr<pki::IssueRequest> r = pki::IssueRequestFromJson(body);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::IssuedCertificate> issued = ca_.Issue(Segment(vreq, 2), *r);
      if (!issued.ok()) return FailAs400(issued.status());
      return DataResponse(req, pki::IssuedToJson(*issued, ZeroingStorage()), issued->warnings);
    }
    case RouteId::kPkiSign: {
      absl::StatusOr<pki::SignRequest> r = pki::SignRequestFromJson(body);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::IssuedCertificate> issued = ca_.Sign(Segment(vreq, 2), *r);
      if (!issued.ok()) return FailAs400(issued.status());
      return DataResponse(req, pki::IssuedToJson(*issued), issued->warnings);
    }
    case RouteId::kPkiRevoke: {
      absl::StatusOr<std::string_view> serial_field = StringField(body, "serial_number");
      absl::StatusOr<std::string_view> cert_field = StringField(body, "certificate");
      if (!serial_field.ok()) return ErrorFromStatus(serial_field.status());
      if (!cert_field.ok()) return ErrorFromStatus(cert_field.status());
      if (serial_field->empty() == cert_field->empty()) {
        return BadRequest("one of serial_number or certificate is required, not both");
      }
      std::string serial(*serial_field);
      if (serial.empty()) {
        absl::StatusOr<pki::X509Ptr> cert = pki::ParseCertificatePem(*cert_field);
        if (!cert.ok()) return BadRequest("certificate: not a PEM certificate");
        absl::StatusOr<pki::CertificateInfo> info = pki::DescribeCertificate(cert->get());
        if (!info.ok()) return BadRequest("certificate: not a readable certificate");
        serial = info->serial_number;
      }
      absl::StatusOr<absl::Time> revoked = ca_.Revoke(serial);
      if (!revoked.ok()) return FailAs400(revoked.status());
      json::object data = pki::RevocationToJson(*revoked);
      data["state"] = "revoked";
      return DataResponse(req, std::move(data));
    }

    // --- CRL and tidy -----------------------------------------------------------------------
    case RouteId::kPkiCrlRotate: {
      if (absl::Status s = ca_.RotateCrl(); !s.ok()) return ErrorFromStatus(s);
      json::object data;
      data["success"] = true;
      return DataResponse(req, std::move(data));
    }
    case RouteId::kPkiTidy: {
      absl::StatusOr<pki::TidyRequest> r = pki::TidyRequestFromJson(body);
      if (!r.ok()) return ErrorFromStatus(r.status());
      absl::StatusOr<pki::TidyResult> result = ca_.Tidy(*r);
      if (!result.ok()) return ErrorFromStatus(result.status());
      return DataResponse(req, pki::TidyResultToJson(*result));
    }
    default:
      break;
  }
  return ErrorResponse(404, "route entry not found");
}

}  // namespace rekey::api
