// CaService: rekey's internal certificate authority, shaped after Vault's PKI secrets engine so
// that /v1/pki/... is a thin mapping onto it:
//
//   POST pki/root/generate/:type          GenerateRoot (type "exported" = exported = true)
//   POST pki/intermediate/generate/:type  GenerateIntermediateCsr
//   POST pki/root/sign-intermediate       SignIntermediate
//   POST pki/intermediate/set-signed      SetSignedIntermediate
//   POST pki/config/ca                    ImportIssuer (pem_bundle with the private key)
//   GET  pki/issuers, pki/issuer/:ref     ListIssuers, ReadIssuer
//   POST pki/config/issuers               SetDefaultIssuer ({"default": ref})
//   GET  pki/ca/pem, pki/ca               CaPem, CaDer: the default issuer's certificate
//   GET  pki/ca_chain, pki/cert/ca_chain  CaChainPem: the trust bundle of every active issuer
//   POST/GET/LIST/DELETE pki/roles/:name  WriteRole / ReadRole / ListRoles / DeleteRole
//   POST pki/issue/:role                  Issue
//   POST pki/sign/:role                   Sign
//   GET  pki/cert/:serial, LIST pki/certs ReadCertificate, ListCertificates
//   POST pki/revoke                       Revoke ({"serial_number": ...})
//   GET  pki/crl, pki/crl/pem             CrlDer, CrlPem (default issuer); pki/issuer/:ref/crl
//   GET  pki/crl/rotate                   RotateCrl
//   POST pki/tidy                         Tidy
//
// Issuers: a mount holds several issuers (roots, intermediates, imported CAs). One is the
// default; it signs for roles whose issuer_ref is "default". The first issuer created becomes the
// default; later ones do not until SetDefaultIssuer, so a CA rotation adds the new issuer beside
// the old one, moves the default (new leaves come from it) while the trust bundle carries both,
// and retires the old one once its last leaf has expired (RetireIssuer).
//
// Errors (mapped to HTTP by the API layer): kInvalidArgument for a bad request, listing every
// problem joined by "; " (role refusals name each refused name); kNotFound for an unknown role,
// issuer or serial; kFailedPrecondition when the state does not allow it (no issuer yet, the
// issuer retired or expired, no pending intermediate key); kAlreadyExists for a duplicate issuer
// name; kUnavailable / kDataLoss from the store. No message carries private key material.
//
// Thread-safe. Issue and Sign run concurrently (key generation and signing outside any lock);
// issuer, CRL and configuration changes are serialized.
#ifndef REKEY_PKI_CA_SERVICE_H_
#define REKEY_PKI_CA_SERVICE_H_

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "pki/keys.h"
#include "pki/role.h"
#include "storage/store.h"

namespace rekey::pki {

struct CaOptions {
  // A leaf's lifetime when neither the request nor the role sets one (Vault's 768h).
  absl::Duration default_ttl = absl::Hours(768);
  // The longest leaf lifetime when the role's max_ttl is 0 (Vault's 768h).
  absl::Duration max_ttl = absl::Hours(768);
  // A CA certificate's lifetime when GenerateRoot / SignIntermediate get ttl 0 (10 years).
  absl::Duration default_ca_ttl = absl::Hours(24 * 3650);
  // A CRL's nextUpdate is thisUpdate + crl_expiry; CrlPem/CrlDer rebuild a stored CRL once less
  // than half of it is left.
  absl::Duration crl_expiry = absl::Hours(72);
};

struct IssuerInfo {
  std::string issuer_id;              // UUID
  std::string issuer_name;            // "" when unnamed
  std::string certificate;            // PEM
  std::vector<std::string> ca_chain;  // PEM: the certificate, then its issuers up to the root
  std::string key_type;               // KeyTypeName, or "" for a type rekey does not issue
  std::string serial_number;          // "4f:0a:..."
  std::string common_name;
  absl::Time not_before;
  absl::Time not_after;
  bool is_default = false;
  bool retired = false;  // no longer signs and no longer in the trust bundle
};

struct GenerateRootRequest {
  std::string common_name;  // required
  KeyType key_type = KeyType::kRsa2048;
  absl::Duration ttl = absl::ZeroDuration();  // 0 = CaOptions::default_ca_ttl
  int max_path_length = -1;                   // -1 = unconstrained
  std::string issuer_name;  // optional; unique, 1..64 of [A-Za-z0-9_-], not "default"
  bool exported = false;    // return the private key (only now; it is never readable later)
};

struct GeneratedIssuer {
  IssuerInfo issuer;
  std::optional<SecretBytes> private_key;  // PEM, when exported
};

struct IntermediateCsrRequest {
  std::string common_name;  // required
  KeyType key_type = KeyType::kRsa2048;
  bool exported = false;
};

struct IntermediateCsr {
  std::string csr;                         // PEM
  std::string key_type;                    // KeyTypeName
  std::optional<SecretBytes> private_key;  // PEM, when exported
};

struct SignIntermediateRequest {
  std::string csr;                            // PEM
  std::string common_name;                    // "" = the CSR's
  absl::Duration ttl = absl::ZeroDuration();  // 0 = default_ca_ttl; capped by the issuer's
  int max_path_length = -1;
  std::string issuer_ref = "default";
};

struct IssueRequest {
  std::string common_name;
  std::vector<std::string> alt_names;  // DNS names (IP addresses here are taken as ip_sans)
  std::vector<std::string> ip_sans;
  absl::Duration ttl = absl::ZeroDuration();  // 0 = the role's ttl, else default_ttl
  bool exclude_cn_from_sans = false;
  std::string issuer_ref;  // "" = the role's issuer_ref
};

struct SignRequest {
  std::string csr;  // PEM
  // Override the CSR's names (when empty, the CSR's are used if the role allows: see Role).
  std::string common_name;
  std::vector<std::string> alt_names;
  std::vector<std::string> ip_sans;
  absl::Duration ttl = absl::ZeroDuration();
  bool exclude_cn_from_sans = false;
  std::string issuer_ref;
};

// Vault's issue/sign response.
struct IssuedCertificate {
  std::string certificate;                 // PEM
  std::string issuing_ca;                  // PEM
  std::vector<std::string> ca_chain;       // PEM: the issuing CA, then its issuers up to the root
  std::optional<SecretBytes> private_key;  // PEM (PKCS#8); issue only
  std::string private_key_type;            // "rsa", "ec", "ed25519"; issue only
  std::string serial_number;               // "4f:0a:..."
  absl::Time not_before;
  absl::Time expiration;  // notAfter
  std::string issuer_id;
  std::vector<std::string> warnings;  // e.g. the TTL was capped
};

struct CertificateEntry {
  std::string serial_number;
  std::string certificate;  // PEM
  std::string issuer_id;
  absl::Time not_after;
  std::optional<absl::Time> revoked_at;
};

struct TidyRequest {
  bool tidy_cert_store = true;     // delete stored certificates expired for safety_buffer
  bool tidy_revoked_certs = true;  // drop revocations of certificates expired for safety_buffer
  absl::Duration safety_buffer = absl::Hours(72);
};

struct TidyResult {
  int certificates_deleted = 0;
  int revocations_deleted = 0;
};

class CaService {
 public:
  // `store` (normally the encrypting barrier), `clock` and `random` must outlive the service.
  // `random` draws serial numbers and issuer ids; keys come from OpenSSL's CSPRNG.
  CaService(storage::Store& store, const Clock& clock, Random& random, CaOptions options = {});
  CaService(const CaService&) = delete;
  CaService& operator=(const CaService&) = delete;

  // --- issuers ---

  // A new self-signed root issuer. It becomes the default when there is none.
  absl::StatusOr<GeneratedIssuer> GenerateRoot(const GenerateRootRequest& request);
  // A new key and a CSR for an intermediate CA. The key waits (one at a time: a new call
  // replaces it) for SetSignedIntermediate.
  absl::StatusOr<IntermediateCsr> GenerateIntermediateCsr(const IntermediateCsrRequest& request);
  // Signs an intermediate CA certificate from a CSR with the issuer `request.issuer_ref`.
  // The certificate is stored (and can be revoked) like a leaf.
  absl::StatusOr<IssuedCertificate> SignIntermediate(const SignIntermediateRequest& request);
  // Completes GenerateIntermediateCsr: `certificate_pem` (the signed CA certificate, optionally
  // followed by its issuers) must certify the pending key. Parents missing from the PEM are taken
  // from this mount's issuers. kFailedPrecondition without a pending key or when the certificate
  // is for another key; kInvalidArgument when it is not a CA certificate.
  absl::StatusOr<IssuerInfo> SetSignedIntermediate(std::string_view certificate_pem,
                                                   std::string_view issuer_name = "");
  // Imports an existing CA: `pem_bundle` holds its private key (PKCS#8 or traditional PEM), its
  // certificate, and optionally its issuers. kInvalidArgument when the key matches no CA
  // certificate of the bundle.
  absl::StatusOr<IssuerInfo> ImportIssuer(const SecretBytes& pem_bundle,
                                          std::string_view issuer_name = "");

  // Every issuer (retired ones too), oldest first.
  absl::StatusOr<std::vector<IssuerInfo>> ListIssuers();
  // `ref` is "default", an issuer id or an issuer name. kNotFound when none matches.
  absl::StatusOr<IssuerInfo> ReadIssuer(std::string_view ref);
  // kFailedPrecondition for a retired issuer.
  absl::Status SetDefaultIssuer(std::string_view ref);
  // The latest notAfter among the unrevoked certificates the issuer signed that are still
  // stored; absl::InfinitePast() when there is none.
  absl::StatusOr<absl::Time> LastLeafExpiry(std::string_view ref);
  // Retires an issuer: it stops signing (its private key is erased), leaves the trust bundle, and
  // its last CRL is served as is. kFailedPrecondition for the default issuer, and, without
  // `force`, while a certificate it signed (unrevoked, stored) is still valid.
  absl::Status RetireIssuer(std::string_view ref, bool force);

  // The default issuer's certificate (PEM). kFailedPrecondition when there is no issuer.
  absl::StatusOr<std::string> CaPem();
  // The same certificate in DER (Vault's GET pki/ca).
  absl::StatusOr<std::string> CaDer();
  // The trust bundle: the chain of the default issuer, then those of every other active issuer,
  // each certificate once. Clients that trust it accept leaves from every active issuer.
  absl::StatusOr<std::string> CaChainPem();

  // --- roles ---

  // Creates or replaces the role. kInvalidArgument for an invalid name or issuer_ref "".
  absl::Status WriteRole(const Role& role);
  // Parses Vault's role fields (RoleFromJson) and writes the role; returns the warnings.
  absl::StatusOr<std::vector<std::string>> WriteRoleJson(std::string_view name,
                                                         const boost::json::object& fields);
  absl::StatusOr<Role> ReadRole(std::string_view name);  // kNotFound
  absl::StatusOr<std::vector<std::string>> ListRoles();  // sorted
  absl::Status DeleteRole(std::string_view name);        // OK when absent

  // --- certificates ---

  // A new key pair (the role's key type) and a certificate for it. The TTL is the request's,
  // else the role's, else default_ttl; it is capped by the role's max_ttl (else max_ttl) and by
  // the issuer's notAfter, with a warning each time. kInvalidArgument listing every refused
  // name; kFailedPrecondition for role key_type "any" or an unusable issuer.
  absl::StatusOr<IssuedCertificate> Issue(std::string_view role, const IssueRequest& request);
  // What Issue would refuse, without generating anything (dry runs).
  absl::Status CheckIssue(std::string_view role, const IssueRequest& request);
  // A certificate for the CSR's public key. The CSR's signature must verify and its key must be
  // of the role's key type (unless "any"); names are checked as for Issue.
  absl::StatusOr<IssuedCertificate> Sign(std::string_view role, const SignRequest& request);

  // `serial` in any form NormalizeSerial accepts. kNotFound when not stored.
  absl::StatusOr<CertificateEntry> ReadCertificate(std::string_view serial);
  // Serials of the stored certificates, in key order.
  absl::StatusOr<std::vector<std::string>> ListCertificates();
  // Revokes a stored certificate and rebuilds its issuer's CRL. Returns the revocation time
  // (the first one when already revoked). kNotFound for an unknown serial.
  absl::StatusOr<absl::Time> Revoke(std::string_view serial);

  // --- CRLs ---

  // The issuer's current CRL (rebuilt when absent or half expired). kFailedPrecondition for a
  // retired issuer that never had one.
  absl::StatusOr<std::string> CrlPem(std::string_view issuer_ref = "default");
  absl::StatusOr<std::string> CrlDer(std::string_view issuer_ref = "default");
  // Rebuilds the CRL of every active issuer.
  absl::Status RotateCrl();

  // Deletes expired certificates and revocations (see TidyRequest), then rebuilds affected CRLs.
  absl::StatusOr<TidyResult> Tidy(const TidyRequest& request);

 private:
  struct LoadedIssuer;
  using IssuerPtr = std::shared_ptr<const LoadedIssuer>;

  absl::StatusOr<std::string> DefaultIssuerId();
  absl::StatusOr<IssuerPtr> LoadIssuer(std::string_view ref);
  absl::StatusOr<std::vector<IssuerPtr>> LoadAllIssuers();
  absl::StatusOr<IssuerInfo> InfoOf(const LoadedIssuer& issuer, std::string_view default_id);
  absl::StatusOr<IssuerInfo> AddIssuer(const X509* cert, std::vector<std::string> parents,
                                       const EVP_PKEY* key, std::string_view issuer_name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(admin_mu_);
  absl::Status CheckIssuerName(std::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(admin_mu_);

  struct Prepared;  // a validated request: names, lifetime, issuer
  absl::StatusOr<Prepared> Prepare(const Role& role, std::string common_name,
                                   std::vector<std::string> alt_names,
                                   std::vector<std::string> ip_sans, absl::Duration ttl,
                                   bool exclude_cn_from_sans, std::string_view issuer_ref);
  absl::StatusOr<IssuedCertificate> SignAndStore(const Prepared& prepared, const Role& role,
                                                 const EVP_PKEY* subject_key, KeyType key_type);

  absl::Status RebuildCrl(const LoadedIssuer& issuer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(admin_mu_);
  absl::StatusOr<std::string> CurrentCrlDer(std::string_view issuer_ref);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const CaOptions options_;

  // Serializes changes to issuers, the configuration and CRLs.
  absl::Mutex admin_mu_;
  // Parsed issuers by id, with the mod_index of the record they were parsed from.
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::pair<uint64_t, IssuerPtr>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace rekey::pki

#endif  // REKEY_PKI_CA_SERVICE_H_
