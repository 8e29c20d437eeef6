// Vault PKI wire shapes for CaService: request bodies → requests (every problem reported at
// once), results → the "data" object of Vault's responses. With these, a /v1/pki/ route is
// ParseBody → *FromJson → CaService → *ToJson → Envelope.
//
// Bodies use Vault's field names and lenient types (see internal/json_fields.h); fields rekey does
// not use are ignored. Request parsers return kInvalidArgument "<field>: <problem>; ..." and never
// quote a value.
//
// Objects that carry a private key (IssuedToJson, GeneratedRootToJson, IntermediateCsrToJson)
// take the storage to allocate in: pass a zeroing storage (api's ZeroingStorage()) and serialize
// with a wiping serializer, so the key does not linger in freed memory.
#ifndef REKEY_PKI_VAULT_JSON_H_
#define REKEY_PKI_VAULT_JSON_H_

#include <boost/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pki/ca_service.h"

namespace rekey::pki {

// pki/issue/:role: common_name, alt_names, ip_sans, ttl, exclude_cn_from_sans, issuer_ref;
// format must be "pem" (or absent); private_key_format "", "der", "pem" or "pkcs8" (keys are
// always PKCS#8 PEM).
absl::StatusOr<IssueRequest> IssueRequestFromJson(const boost::json::object& body);
// pki/sign/:role: csr (required) and the fields of IssueRequestFromJson.
absl::StatusOr<SignRequest> SignRequestFromJson(const boost::json::object& body);
// pki/root/generate/:type: common_name, key_type (default "rsa"), key_bits, ttl,
// max_path_length (-1 = none), issuer_name. `exported` comes from the path's type.
absl::StatusOr<GenerateRootRequest> RootRequestFromJson(const boost::json::object& body,
                                                        bool exported);
// pki/intermediate/generate/:type: common_name, key_type, key_bits.
absl::StatusOr<IntermediateCsrRequest> IntermediateRequestFromJson(const boost::json::object& body,
                                                                   bool exported);
// pki/root/sign-intermediate: csr, common_name, ttl, max_path_length, issuer_ref.
absl::StatusOr<SignIntermediateRequest> SignIntermediateRequestFromJson(
    const boost::json::object& body);
// pki/tidy: tidy_cert_store, tidy_revoked_certs, safety_buffer.
absl::StatusOr<TidyRequest> TidyRequestFromJson(const boost::json::object& body);

// {certificate, issuing_ca, ca_chain: [...], serial_number, expiration (Unix seconds),
//  private_key, private_key_type (issue only)}.
boost::json::object IssuedToJson(const IssuedCertificate& issued, boost::json::storage_ptr sp = {});
// {certificate, issuing_ca, ca_chain, serial_number, expiration, issuer_id, issuer_name,
//  key_type, private_key and private_key_type when exported}.
boost::json::object GeneratedRootToJson(const GeneratedIssuer& root,
                                        boost::json::storage_ptr sp = {});
// {csr, key_type, private_key and private_key_type when exported}.
boost::json::object IntermediateCsrToJson(const IntermediateCsr& csr,
                                          boost::json::storage_ptr sp = {});
// {issuer_id, issuer_name, certificate, ca_chain, key_type, serial_number, common_name,
//  not_before, not_after (RFC 3339), is_default, retired}.
boost::json::object IssuerToJson(const IssuerInfo& issuer);
// {certificate, issuer_id, revocation_time (Unix seconds, 0 when not revoked),
//  revocation_time_rfc3339 ("" when not revoked), expiration}.
boost::json::object CertificateEntryToJson(const CertificateEntry& entry);
// {revocation_time, revocation_time_rfc3339}.
boost::json::object RevocationToJson(absl::Time revoked_at);
// {certificates_deleted, revocations_deleted}.
boost::json::object TidyResultToJson(const TidyResult& result);

}  // namespace rekey::pki

#endif  // REKEY_PKI_VAULT_JSON_H_
