// Certificate signing requests: building one (for an intermediate CA's key) and reading one
// (for sign/:role and sign-intermediate), with its signature checked.
#ifndef REKEY_PKI_CSR_H_
#define REKEY_PKI_CSR_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pki/internal/openssl.h"
#include "pki/keys.h"

namespace rekey::pki {

struct CsrSpec {
  std::string common_name;                // required
  std::vector<std::string> dns_names;     // requested subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // requested subjectAltName iPAddress entries
};

// A PEM CSR ("-----BEGIN CERTIFICATE REQUEST-----") for `spec`, signed by `key`.
// kInvalidArgument for an empty or unencodable CN or a bad IP; kInternal when OpenSSL fails.
absl::StatusOr<std::string> BuildCsrPem(const CsrSpec& spec, const EVP_PKEY* key);

// What a verified CSR asks for.
struct CsrInfo {
  std::string common_name;                // "" when the subject has no CN
  std::vector<std::string> dns_names;     // requested subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // requested subjectAltName iPAddress entries
  internal::EvpPkeyPtr public_key;
  KeyType key_type;
};

// Parses a PEM CSR and checks its self-signature. kInvalidArgument when it is not a CSR, its
// signature does not verify, or its key is not one of KeyType.
absl::StatusOr<CsrInfo> ParseCsrPem(std::string_view pem);

}  // namespace rekey::pki

#endif  // REKEY_PKI_CSR_H_
