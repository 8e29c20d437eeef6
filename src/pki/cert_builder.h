// Building and signing X.509 v3 certificates from a plain description, with OpenSSL's typed
// extension APIs (no hand-written ASN.1).
#ifndef REKEY_PKI_CERT_BUILDER_H_
#define REKEY_PKI_CERT_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pki/internal/openssl.h"
#include "pki/keys.h"

namespace rekey::pki {

// keyUsage bits (RFC 5280 4.2.1.3), combinable.
enum KeyUsageBit : uint32_t {
  kDigitalSignature = 1u << 0,
  kContentCommitment = 1u << 1,
  kKeyEncipherment = 1u << 2,
  kDataEncipherment = 1u << 3,
  kKeyAgreement = 1u << 4,
  kCertSign = 1u << 5,
  kCrlSign = 1u << 6,
  kEncipherOnly = 1u << 7,
  kDecipherOnly = 1u << 8,
};
// Vault's names ("DigitalSignature", "KeyEncipherment", "CertSign", ...); 0 when unknown.
uint32_t KeyUsageFromName(std::string_view name);
std::vector<std::string> KeyUsageNames(uint32_t bits);

enum class ExtKeyUsage {
  kServerAuth,
  kClientAuth,
  kCodeSigning,
  kEmailProtection,
  kTimeStamping,
  kOcspSigning
};
// Vault's names ("ServerAuth", "ClientAuth", ...); false when unknown.
bool ExtKeyUsageFromName(std::string_view name, ExtKeyUsage* out);
std::string_view ExtKeyUsageName(ExtKeyUsage usage);

// What a certificate says. Names are taken as given: callers validate them (see role.h).
struct CertificateSpec {
  std::string common_name;                // subject CN; required
  std::vector<std::string> dns_names;     // subjectAltName dNSName
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress (IPv4/IPv6 text)
  std::string serial;                     // big-endian, positive, 1..20 bytes (RandomSerial)
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;        // basicConstraints CA:TRUE (critical) with keyCertSign and cRLSign
  int max_path_length = -1;  // CA only: pathLenConstraint; -1 = none
  uint32_t key_usage = 0;    // leaf keyUsage (critical); 0 = no keyUsage extension
  std::vector<ExtKeyUsage> ext_key_usage;  // empty = no extendedKeyUsage extension
};

// Signs a certificate for `subject_key` (its public half is what is certified) as described by
// `spec`. With `issuer` null the certificate is self-signed: `issuer_key` must then be the
// private half of `subject_key`. Adds subjectKeyIdentifier and authorityKeyIdentifier.
// kInvalidArgument for an invalid spec (empty CN, bad serial, not_after <= not_before, a bad IP),
// kInternal when OpenSSL fails.
absl::StatusOr<internal::X509Ptr> SignCertificate(const CertificateSpec& spec,
                                                  const EVP_PKEY* subject_key, const X509* issuer,
                                                  const EVP_PKEY* issuer_key);

}  // namespace rekey::pki

#endif  // REKEY_PKI_CERT_BUILDER_H_
