// The private types CaService's source files share. Internal to src/pki/.
#ifndef REKEY_PKI_INTERNAL_CA_STATE_H_
#define REKEY_PKI_INTERNAL_CA_STATE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pki/ca_service.h"
#include "pki/internal/openssl.h"
#include "pki/internal/records.h"
#include "pki/x509.h"

namespace rekey::pki {

// An issuer record parsed for use: immutable once built (shared between threads).
struct CaService::LoadedIssuer {
  internal::IssuerRecord record;
  uint64_t mod_index = 0;
  internal::X509Ptr cert;
  internal::EvpPkeyPtr key;  // null once retired
  CertificateInfo info;

  bool active() const { return !record.retired && key != nullptr; }
  // The certificate, then its parents (PEM).
  std::vector<std::string> Chain() const {
    std::vector<std::string> chain{record.certificate};
    chain.insert(chain.end(), record.parents.begin(), record.parents.end());
    return chain;
  }
};

struct CaService::Prepared {
  IssuerPtr issuer;
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  absl::Time not_before;
  absl::Time not_after;
  std::vector<std::string> warnings;
};

}  // namespace rekey::pki

#endif  // REKEY_PKI_INTERNAL_CA_STATE_H_
