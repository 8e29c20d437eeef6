#include "audit/fields.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "core/strings.h"

namespace rekey::audit {
namespace {

using enum FieldClass;
using enum FieldScope;

// The one table. Adding a field here is a review decision: a sensitive value declared kSafe would
// be written in clear. When unsure, declare it kSensitive.
constexpr FieldSpec kFields[] = {
    // Envelope: the keys of every line, in the order they are written.
    {"sequence", kEnvelope, kSafe},
    {"type", kEnvelope, kSafe},
    {"time", kEnvelope, kSafe},
    {"node", kEnvelope, kSafe},
    {"actor", kEnvelope, kSafe},
    {"accessor_hmac", kEnvelope, kSafe},  // the actor's token accessor, already HMAC'd
    {"policies", kEnvelope, kSafe},
    {"remote_addr", kEnvelope, kSafe},
    {"operation", kEnvelope, kSafe},
    {"path", kEnvelope, kSafe},
    {"status", kEnvelope, kSafe},
    {"error", kEnvelope, kSafe},
    {"request_id", kEnvelope, kSafe},
    {"data", kEnvelope, kSafe},
    {"prev", kEnvelope, kSafe},

    // Data: sensitive. Secret values, tokens, keys and whole bodies.
    {"accessor", kData, kSensitive},
    {"ciphertext", kData, kSensitive},
    {"client_token", kData, kSensitive},
    {"custom_metadata", kData, kSensitive},  // user-defined keys and values
    {"data", kData, kSensitive},             // KV payloads and other bodies
    {"hmac_key", kData, kSensitive},
    {"key", kData, kSensitive},
    {"password", kData, kSensitive},
    {"pem_bundle", kData, kSensitive},  // pki/config/ca: a CA's private key and certificate
    {"plaintext", kData, kSensitive},
    {"private_key", kData, kSensitive},
    {"secret", kData, kSensitive},
    {"secret_access_key", kData, kSensitive},
    {"secret_binary", kData, kSensitive},
    {"secret_key", kData, kSensitive},
    {"secret_string", kData, kSensitive},
    {"session_token", kData, kSensitive},
    {"token", kData, kSensitive},
    {"unlisted_fields", kData, kSensitive},  // request body fields not declared here
    {"value", kData, kSensitive},

    // Data: safe metadata.
    {"attempt", kData, kSafe},
    {"cas", kData, kSafe},
    {"certificate", kData, kSafe},  // public
    {"count", kData, kSafe},
    {"created_time", kData, kSafe},
    {"current_version", kData, kSafe},
    {"delete_version_after", kData, kSafe},
    {"deleted", kData, kSafe},
    {"deletion_time", kData, kSafe},
    {"destroyed", kData, kSafe},
    {"device", kData, kSafe},
    {"device_id", kData, kSafe},
    {"display_name", kData, kSafe},
    {"duration_ms", kData, kSafe},
    {"engine", kData, kSafe},
    {"explicit_max_ttl", kData, kSafe},
    {"from_state", kData, kSafe},
    {"key_id", kData, kSafe},
    {"key_version", kData, kSafe},
    {"keys", kData, kSafe},  // list results: names, not values
    {"last_hash", kData, kSafe},
    {"lease_duration", kData, kSafe},
    {"lease_id", kData, kSafe},
    {"max_ttl", kData, kSafe},
    {"max_versions", kData, kSafe},
    {"mount", kData, kSafe},
    {"name", kData, kSafe},
    {"next_run", kData, kSafe},
    {"no_default_policy", kData, kSafe},
    {"no_parent", kData, kSafe},
    {"num_uses", kData, kSafe},
    {"options", kData, kSafe},
    {"orphan", kData, kSafe},
    {"period", kData, kSafe},
    {"policies", kData, kSafe},
    {"previous_closed", kData, kSafe},
    {"public_key", kData, kSafe},
    {"reason", kData, kSafe},
    {"renewable", kData, kSafe},
    {"rotation_id", kData, kSafe},
    {"rotator", kData, kSafe},
    {"signature", kData, kSafe},  // checkpoint and transit signatures are public
    {"state", kData, kSafe},
    {"step", kData, kSafe},
    {"threshold", kData, kSafe},
    {"to_state", kData, kSafe},
    {"truncated_bytes", kData, kSafe},
    {"ttl", kData, kSafe},
    {"usage_count", kData, kSafe},
    {"version", kData, kSafe},
    {"versions", kData, kSafe},
    {"warnings", kData, kSafe},

    // Data: the request fields of /v1/pki/ (Vault PKI): names, key types, lifetimes, flags, and
    // public material (a CSR holds no secret). Keys arrive only as private_key or pem_bundle.
    {"allow_any_name", kData, kSafe},
    {"allow_bare_domains", kData, kSafe},
    {"allow_glob_domains", kData, kSafe},
    {"allow_ip_sans", kData, kSafe},
    {"allow_localhost", kData, kSafe},
    {"allow_subdomains", kData, kSafe},
    {"allow_wildcard_certificates", kData, kSafe},
    {"allowed_domains", kData, kSafe},
    {"alt_names", kData, kSafe},
    {"client_flag", kData, kSafe},
    {"common_name", kData, kSafe},
    {"csr", kData, kSafe},
    {"default", kData, kSafe},  // pki/config/issuers: an issuer id or name
    {"enforce_hostnames", kData, kSafe},
    {"exclude_cn_from_sans", kData, kSafe},
    {"ext_key_usage", kData, kSafe},
    {"force", kData, kSafe},
    {"format", kData, kSafe},
    {"ip_sans", kData, kSafe},
    {"issuer_name", kData, kSafe},
    {"issuer_ref", kData, kSafe},
    {"key_bits", kData, kSafe},
    {"key_type", kData, kSafe},
    {"key_usage", kData, kSafe},
    {"max_path_length", kData, kSafe},
    {"no_store", kData, kSafe},
    {"not_before_duration", kData, kSafe},
    {"private_key_format", kData, kSafe},
    {"require_cn", kData, kSafe},
    {"safety_buffer", kData, kSafe},
    {"serial_number", kData, kSafe},
    {"server_flag", kData, kSafe},
    {"tidy_cert_store", kData, kSafe},
    {"tidy_revoked_certs", kData, kSafe},
    {"use_csr_common_name", kData, kSafe},
    {"use_csr_sans", kData, kSafe},

    // Data: the request fields of /v1/jwt/ (JWT keysets). Claims may carry personal data and
    // tokens are credentials ("token" above): both only as fingerprints.
    {"alg", kData, kSafe},
    {"audience", kData, kSafe},
    {"claims", kData, kSensitive},
    {"issuer", kData, kSafe},
    {"jwks_cache_ttl", kData, kSafe},
    {"max_token_ttl", kData, kSafe},
    {"prepublish", kData, kSafe},
};

const absl::flat_hash_map<std::string, FieldClass>& DataFields() {
  static const auto* fields = [] {
    auto* m = new absl::flat_hash_map<std::string, FieldClass>();
    for (const FieldSpec& f : kFields) {
      if (f.scope == kData) m->emplace(std::string(f.name), f.field_class);
    }
    return m;
  }();
  return *fields;
}

}  // namespace

absl::Span<const FieldSpec> AuditFieldTable() { return kFields; }

absl::StatusOr<FieldClass> ClassifyDataField(std::string_view name) {
  const auto& fields = DataFields();
  auto it = fields.find(ToAbsl(name));
  if (it == fields.end()) {
    return absl::InvalidArgumentError(
        StrCat("audit field \"", absl::CHexEscape(ToAbsl(name)),
               "\" is not declared in the audit field table (audit/fields.cc)"));
  }
  return it->second;
}

bool IsEnvelopeField(std::string_view name) {
  for (const FieldSpec& f : kFields) {
    if (f.scope == kEnvelope && f.name == name) return true;
  }
  return false;
}

}  // namespace rekey::audit
