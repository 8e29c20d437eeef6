// CaService: issuing leaf certificates (issue/:role with a new key, sign/:role from a CSR).
#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/ca_service.h"
#include "pki/cert_builder.h"
#include "pki/csr.h"
#include "pki/internal/ca_state.h"

namespace rekey::pki {
namespace {

void AddUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

absl::StatusOr<CaService::Prepared> CaService::Prepare(const Role& role, std::string common_name,
                                                       std::vector<std::string> alt_names,
                                                       std::vector<std::string> ip_sans,
                                                       absl::Duration ttl,
                                                       bool exclude_cn_from_sans,
                                                       std::string_view issuer_ref) {
  Prepared p;
  p.common_name = std::move(common_name);
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  for (std::string& name : alt_names) {
    if (absl::StatusOr<std::string> ip = CanonicalIp(name); ip.ok()) {
      AddUnique(ips, *ip);
    } else {
      AddUnique(dns, std::move(name));
    }
  }
  std::vector<std::string> problems;
  for (const std::string& ip : ip_sans) {
    absl::StatusOr<std::string> canonical = CanonicalIp(ip);
    AddUnique(ips, canonical.ok() ? *canonical : ip);  // bad ones are reported by CheckNames
  }
  problems = CheckNames(role, p.common_name, dns, ips);
  if (ttl < absl::ZeroDuration()) problems.push_back("ttl: must not be negative");
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));

  // The CN is also a SAN (RFC 6125 clients ignore the CN) unless excluded.
  if (!p.common_name.empty() && !exclude_cn_from_sans) {
    if (absl::StatusOr<std::string> ip = CanonicalIp(p.common_name); ip.ok()) {
      ips.insert(ips.begin(), *ip);
    } else {
      dns.insert(dns.begin(), p.common_name);
    }
  }
  for (std::string& d : dns) AddUnique(p.dns_names, std::move(d));
  for (std::string& i : ips) AddUnique(p.ip_addresses, std::move(i));

  ASSIGN_OR_RETURN(p.issuer, LoadIssuer(issuer_ref.empty() ? role.issuer_ref : issuer_ref));
  if (!p.issuer->active()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", p.issuer->record.id, " is retired and cannot sign"));
  }
  const absl::Time now = clock_.Now();
  if (now >= p.issuer->info.not_after) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", p.issuer->record.id, " has expired"));
  }

  absl::Duration lifetime = ttl > absl::ZeroDuration()        ? ttl
                            : role.ttl > absl::ZeroDuration() ? role.ttl
                                                              : options_.default_ttl;
  const absl::Duration max = role.max_ttl > absl::ZeroDuration() ? role.max_ttl : options_.max_ttl;
  if (lifetime > max) {
    lifetime = max;
    p.warnings.push_back(
        rekey::StrCat("the TTL was capped at the maximum of ", absl::ToInt64Seconds(max), "s"));
  }
  p.not_before = std::max(now - role.not_before_duration, p.issuer->info.not_before);
  p.not_after = now + lifetime;
  if (p.not_after > p.issuer->info.not_after) {
    p.not_after = p.issuer->info.not_after;
    p.warnings.push_back("the TTL was capped at the issuer's expiry");
  }
  return p;
}

absl::StatusOr<IssuedCertificate> CaService::SignAndStore(const Prepared& prepared,
                                                          const Role& role,
                                                          const EVP_PKEY* subject_key,
                                                          KeyType key_type) {
  CertificateSpec spec;
  spec.common_name = prepared.common_name;
  spec.dns_names = prepared.dns_names;
  spec.ip_addresses = prepared.ip_addresses;
  spec.not_before = prepared.not_before;
  spec.not_after = prepared.not_after;
  spec.key_usage = LeafKeyUsage(role, key_type);
  spec.ext_key_usage = LeafExtKeyUsage(role);

  const LoadedIssuer& issuer = *prepared.issuer;
  IssuedCertificate out;
  out.issuing_ca = issuer.record.certificate;
  out.ca_chain = issuer.Chain();
  out.not_before = spec.not_before;
  out.expiration = spec.not_after;
  out.issuer_id = issuer.record.id;
  out.warnings = prepared.warnings;
  // A serial collision (2^-62 per pair) would fail the conditional write: draw again.
  for (int attempt = 0;; ++attempt) {
    spec.serial = RandomSerial(random_);
    ASSIGN_OR_RETURN(internal::X509Ptr cert,
                     SignCertificate(spec, subject_key, issuer.cert.get(), issuer.key.get()));
    ASSIGN_OR_RETURN(out.certificate, CertificateToPem(cert.get()));
    out.serial_number = FormatSerialBytes(spec.serial);
    if (role.no_store) return out;
    internal::CertRecord record{out.certificate, issuer.record.id, spec.not_after, std::nullopt};
    storage::WriteBatch batch;
    const std::string key = internal::CertKey(out.serial_number);
    batch.Put(key, internal::Encode(record));
    batch.ExpectModIndex(key, 0);
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.ok()) return out;
    if (!absl::IsAborted(committed.status()) || attempt >= 2) return committed.status();
  }
}

absl::StatusOr<IssuedCertificate> CaService::Issue(std::string_view role_name,
                                                   const IssueRequest& request) {
  ASSIGN_OR_RETURN(Role role, ReadRole(role_name));
  const std::optional<KeyType> key_type = role.GeneratedKeyType();
  if (!key_type.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "role \"", role.name, "\" has key_type any: it can sign CSRs but not generate keys"));
  }
  ASSIGN_OR_RETURN(Prepared prepared,
                   Prepare(role, request.common_name, request.alt_names, request.ip_sans,
                           request.ttl, request.exclude_cn_from_sans, request.issuer_ref));
  ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, GenerateKey(*key_type));
  ASSIGN_OR_RETURN(IssuedCertificate out, SignAndStore(prepared, role, key.get(), *key_type));
  ASSIGN_OR_RETURN(SecretBytes pem, PrivateKeyToPem(key.get()));
  out.private_key = std::move(pem);
  out.private_key_type = std::string(VaultKeyType(*key_type));
  return out;
}

absl::Status CaService::CheckIssue(std::string_view role_name, const IssueRequest& request) {
  ASSIGN_OR_RETURN(Role role, ReadRole(role_name));
  if (!role.GeneratedKeyType().has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "role \"", role.name, "\" has key_type any: it can sign CSRs but not generate keys"));
  }
  return Prepare(role, request.common_name, request.alt_names, request.ip_sans, request.ttl,
                 request.exclude_cn_from_sans, request.issuer_ref)
      .status();
}

absl::StatusOr<IssuedCertificate> CaService::Sign(std::string_view role_name,
                                                  const SignRequest& request) {
  ASSIGN_OR_RETURN(Role role, ReadRole(role_name));
  ASSIGN_OR_RETURN(CsrInfo csr, ParseCsrPem(request.csr));
  if (const std::optional<KeyType> want = role.GeneratedKeyType();
      want.has_value() && *want != csr.key_type) {
    return absl::InvalidArgumentError(rekey::StrCat("csr: its key is ", KeyTypeName(csr.key_type),
                                                    " but role \"", role.name, "\" requires ",
                                                    KeyTypeName(*want)));
  }
  std::string cn = request.common_name;
  if (cn.empty() && role.use_csr_common_name) cn = csr.common_name;
  std::vector<std::string> alt_names = request.alt_names;
  std::vector<std::string> ip_sans = request.ip_sans;
  if (role.use_csr_sans) {
    alt_names.insert(alt_names.end(), csr.dns_names.begin(), csr.dns_names.end());
    ip_sans.insert(ip_sans.end(), csr.ip_addresses.begin(), csr.ip_addresses.end());
  }
  ASSIGN_OR_RETURN(Prepared prepared,
                   Prepare(role, std::move(cn), std::move(alt_names), std::move(ip_sans),
                           request.ttl, request.exclude_cn_from_sans, request.issuer_ref));
  return SignAndStore(prepared, role, csr.public_key.get(), csr.key_type);
}

}  // namespace rekey::pki
