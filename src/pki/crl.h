// Certificate revocation lists: building a v2 CRL signed by an issuer, encoding it (PEM, DER), and
// reading one back with its signature checked.
#ifndef REKEY_PKI_CRL_H_
#define REKEY_PKI_CRL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pki/internal/openssl.h"

namespace rekey::pki {

struct RevokedEntry {
  std::string serial_number;  // FormatSerial form ("4f:0a:...")
  absl::Time revoked_at;
};

struct CrlSpec {
  std::vector<RevokedEntry> revoked;
  absl::Time this_update;
  absl::Time next_update;
  uint64_t crl_number = 0;  // the cRLNumber extension; increases with every CRL of an issuer
};

// A CRL for `issuer`, signed with `issuer_key`, with an authorityKeyIdentifier and a cRLNumber.
// kInvalidArgument for a malformed serial or next_update <= this_update.
absl::StatusOr<internal::X509CrlPtr> BuildCrl(const CrlSpec& spec, const X509* issuer,
                                              const EVP_PKEY* issuer_key);
absl::StatusOr<std::string> CrlToPem(const X509_CRL* crl);
absl::StatusOr<std::string> CrlToDer(const X509_CRL* crl);
absl::StatusOr<internal::X509CrlPtr> ParseCrlPem(std::string_view pem);
absl::StatusOr<internal::X509CrlPtr> ParseCrlDer(std::string_view der);

struct CrlInfo {
  std::string issuer;  // RFC 2253
  absl::Time this_update;
  absl::Time next_update;
  uint64_t crl_number = 0;
  std::vector<RevokedEntry> revoked;
};
// Describes `crl` after checking that `issuer`'s key signed it; kInvalidArgument when it did not.
absl::StatusOr<CrlInfo> DescribeCrl(const X509_CRL* crl, const X509* issuer);

}  // namespace rekey::pki

#endif  // REKEY_PKI_CRL_H_
