// X.509 certificates: PEM/DER parsing and encoding, serial numbers in Vault's text form, and a
// plain description of a certificate (names, validity, CA flags).
#ifndef REKEY_PKI_X509_H_
#define REKEY_PKI_X509_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/random.h"
#include "pki/internal/openssl.h"
#include "pki/keys.h"

namespace rekey::pki {

using internal::X509Ptr;

// The first certificate in `pem`. kInvalidArgument when there is none or it is malformed.
absl::StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem);
// Every certificate in `pem`, in order (text between them is ignored). kInvalidArgument when
// there is none or one is malformed.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem);
absl::StatusOr<X509Ptr> ParseCertificateDer(std::string_view der);
absl::StatusOr<std::string> CertificateToPem(const X509* cert);
absl::StatusOr<std::string> CertificateToDer(const X509* cert);
// An independent reference to `cert` (up-referenced, not copied).
X509Ptr CopyCertificate(const X509* cert);

// A fresh serial: 16 random bytes, top bit clear (positive) and second bit set (so it is always
// 16 bytes long), big-endian.
std::string RandomSerial(Random& random);
// A serial in Vault's text form: lower-case hex bytes joined by ':' ("4f:0a:..."), without
// leading zero bytes.
std::string FormatSerial(const ASN1_INTEGER* serial);
std::string FormatSerialBytes(std::string_view big_endian);
// Accepts a serial as hex bytes separated by ':' or '-', or as bare hex (any case), and returns
// FormatSerial's form. kInvalidArgument for anything else (empty, odd digits, > 40 bytes).
absl::StatusOr<std::string> NormalizeSerial(std::string_view text);

// Canonical text for an IP address ("10.0.0.1", "2001:db8::1"); kInvalidArgument when `text` is
// not an IPv4 or IPv6 address.
absl::StatusOr<std::string> CanonicalIp(std::string_view text);
bool IsIpAddress(std::string_view text);

struct CertificateInfo {
  std::string serial_number;  // FormatSerial
  std::string common_name;    // subject CN ("" when absent)
  std::string subject;        // RFC 2253 one-line form
  std::string issuer;         // RFC 2253 one-line form
  absl::Time not_before;
  absl::Time not_after;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries, in order
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, canonical text
  bool is_ca = false;
  int max_path_length = -1;         // -1 = no pathLenConstraint
  std::optional<KeyType> key_type;  // unset for a key type rekey does not issue
  bool self_issued = false;         // subject == issuer and its own key verifies it
};
absl::StatusOr<CertificateInfo> DescribeCertificate(const X509* cert);

// True when `key` (a private key) belongs to `cert`.
bool CertificateMatchesKey(const X509* cert, const EVP_PKEY* key);
// True when `issuer` issued `cert`: names and key identifiers match and the signature verifies.
bool IssuedBy(const X509* cert, const X509* issuer);

}  // namespace rekey::pki

#endif  // REKEY_PKI_X509_H_
