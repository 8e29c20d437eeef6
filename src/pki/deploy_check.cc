#include "pki/deploy_check.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/keys.h"
#include "pki/tls_probe.h"
#include "pki/verify.h"

namespace rekey::pki {
namespace {

absl::Status Failed(std::string_view what) { return absl::FailedPreconditionError(ToAbsl(what)); }

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string DefaultServerName(const CertificateInfo& info) {
  for (const std::string& d : info.dns_names) {
    if (d.substr(0, 2) != "*.") return d;
  }
  if (!info.ip_addresses.empty()) return info.ip_addresses.front();
  return "";
}

bool Contains(const std::vector<std::string>& have, const std::string& want) {
  return std::find(have.begin(), have.end(), want) != have.end();
}

}  // namespace

absl::StatusOr<DeployCheckResult> CheckForDeployment(const DeployCheck& check) {
  if (check.private_key == nullptr) return Failed("the value holds no private key");
  absl::StatusOr<X509Ptr> cert = ParseCertificatePem(check.certificate);
  if (!cert.ok()) return Failed("the value holds no readable certificate");
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKeyPem(*check.private_key);
  if (!key.ok()) return Failed("the value holds no readable private key");
  if (!CertificateMatchesKey(cert->get(), key->get())) {
    return Failed("the private key does not match the certificate");
  }
  DeployCheckResult out;
  ASSIGN_OR_RETURN(out.info, DescribeCertificate(cert->get()));
  const CertificateInfo& info = out.info;

  out.checked_at = check.now;
  if (check.now < info.not_before && info.not_before - check.now <= check.start_skew) {
    out.checked_at = info.not_before;
  }
  if (out.checked_at < info.not_before || out.checked_at >= info.not_after) {
    return Failed(rekey::StrCat("now is outside its validity ", Rfc3339(info.not_before), " to ",
                                Rfc3339(info.not_after)));
  }

  std::vector<std::string> missing;
  if (!check.common_name.empty() && info.common_name != check.common_name) {
    missing.push_back(rekey::StrCat("common name \"", check.common_name, "\""));
  }
  for (const std::string& name : check.names) {
    if (IsIpAddress(name)) {
      if (!Contains(info.ip_addresses, CanonicalIp(name).value_or(name))) {
        missing.push_back(rekey::StrCat("IP SAN \"", name, "\""));
      }
    } else if (!Contains(info.dns_names, name)) {
      missing.push_back(rekey::StrCat("SAN \"", name, "\""));
    }
  }
  if (!missing.empty()) return Failed(rekey::StrCat("it lacks ", absl::StrJoin(missing, ", ")));

  VerifyOptions verify;
  verify.at = out.checked_at;
  if (absl::Status s =
          VerifyCertificatePem(check.certificate, check.chain, check.trust_bundle, verify);
      !s.ok()) {
    return Failed(rekey::StrCat("it does not chain to ", check.trust_name, ": ", s.message()));
  }

  TlsProbe probe;
  probe.certificate = std::string(check.certificate);
  probe.chain = std::string(check.chain);
  probe.private_key = check.private_key;
  probe.trust_bundle = std::string(check.trust_bundle);
  probe.server_name = check.server_name.empty() ? DefaultServerName(info) : check.server_name;
  probe.at = out.checked_at;
  if (absl::Status s = TlsHandshakeInMemory(probe); !s.ok()) return Failed(ToStd(s.message()));
  out.server_name = probe.server_name;
  return out;
}

}  // namespace rekey::pki
