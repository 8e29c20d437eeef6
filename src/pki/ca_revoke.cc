// CaService: the certificate store, revocation, CRLs and tidy.
#include <algorithm>
#include <set>
#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/ca_service.h"
#include "pki/crl.h"
#include "pki/internal/ca_state.h"

namespace rekey::pki {
namespace {

constexpr size_t kPage = 256;

// Calls `visit(record)` for every record under `prefix`, a page at a time.
template <typename Visit>
absl::Status ForEach(storage::Store& store, std::string_view prefix, Visit visit) {
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page, store.Scan(prefix, after, kPage));
    for (const storage::Record& rec : page) RETURN_IF_ERROR(visit(rec));
    if (page.size() < kPage) return absl::OkStatus();
    after = page.back().key;
  }
}

}  // namespace

absl::StatusOr<CertificateEntry> CaService::ReadCertificate(std::string_view serial) {
  ASSIGN_OR_RETURN(std::string canonical, NormalizeSerial(serial));
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(internal::CertKey(canonical)));
  if (!rec.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no certificate with serial ", canonical));
  }
  ASSIGN_OR_RETURN(internal::CertRecord cert, internal::DecodeCert(rec->value));
  return CertificateEntry{canonical, std::move(cert.certificate), std::move(cert.issuer_id),
                          cert.not_after, cert.revoked_at};
}

absl::StatusOr<std::vector<std::string>> CaService::ListCertificates() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(internal::kCertPrefix, "", 0));
  for (std::string& key : keys) key = internal::SerialFromKey(key);
  return keys;
}

absl::StatusOr<absl::Time> CaService::Revoke(std::string_view serial) {
  ASSIGN_OR_RETURN(std::string canonical, NormalizeSerial(serial));
  absl::MutexLock lock(&admin_mu_);
  const std::string key = internal::CertKey(canonical);
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(key));
  if (!rec.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no certificate with serial ", canonical));
  }
  ASSIGN_OR_RETURN(internal::CertRecord cert, internal::DecodeCert(rec->value));
  absl::Time revoked_at;
  if (cert.revoked_at.has_value()) {
    // Revoked before: the CRL is rebuilt below all the same, so a retry after a failed rebuild
    // (the revocation was committed, the CRL was not) publishes it.
    revoked_at = *cert.revoked_at;
  } else {
    revoked_at = clock_.Now();
    cert.revoked_at = revoked_at;
    storage::WriteBatch batch;
    batch.ExpectModIndex(key, rec->mod_index);
    batch.Put(key, internal::Encode(cert));
    batch.Put(internal::RevokedKey(cert.issuer_id, canonical),
              internal::Encode(internal::RevokedRecord{revoked_at, cert.not_after}));
    RETURN_IF_ERROR(store_.Commit(batch).status());
  }
  absl::StatusOr<IssuerPtr> issuer = LoadIssuer(cert.issuer_id);
  if (!issuer.ok()) {
    // An issuer that is gone publishes no CRL; any other failure must not pass for a published
    // revocation.
    if (issuer.status().code() == absl::StatusCode::kNotFound) return revoked_at;
    return issuer.status();
  }
  // A retired issuer signs no more CRLs: its last one is served as is (documented).
  if (!(*issuer)->active()) return revoked_at;
  RETURN_IF_ERROR(RebuildCrl(**issuer));
  return revoked_at;
}

absl::Status CaService::RebuildCrl(const LoadedIssuer& issuer) {
  if (!issuer.active()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", issuer.record.id, " is retired and cannot sign a CRL"));
  }
  CrlSpec spec;
  RETURN_IF_ERROR(ForEach(
      store_, internal::RevokedKey(issuer.record.id, ""),
      [&](const storage::Record& rec) -> absl::Status {
        ASSIGN_OR_RETURN(internal::RevokedRecord r, internal::DecodeRevoked(rec.value));
        spec.revoked.push_back(RevokedEntry{internal::SerialFromKey(rec.key), r.revoked_at});
        return absl::OkStatus();
      }));
  const std::string key = rekey::StrCat(internal::kCrlPrefix, issuer.record.id);
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(key));
  uint64_t last_number = 0;
  if (rec.has_value()) {
    ASSIGN_OR_RETURN(internal::CrlRecord old, internal::DecodeCrl(rec->value));
    last_number = old.number;
  }
  spec.crl_number = last_number + 1;
  spec.this_update = clock_.Now();
  spec.next_update = spec.this_update + options_.crl_expiry;
  ASSIGN_OR_RETURN(internal::X509CrlPtr crl, BuildCrl(spec, issuer.cert.get(), issuer.key.get()));
  internal::CrlRecord record;
  record.number = spec.crl_number;
  ASSIGN_OR_RETURN(record.der, CrlToDer(crl.get()));
  record.this_update = spec.this_update;
  record.next_update = spec.next_update;
  storage::WriteBatch batch;
  batch.ExpectModIndex(key, rec.has_value() ? rec->mod_index : 0);
  batch.Put(key, internal::Encode(record));
  return store_.Commit(batch).status();
}

absl::StatusOr<std::string> CaService::CurrentCrlDer(std::string_view issuer_ref) {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(issuer_ref));
  const std::string key = rekey::StrCat(internal::kCrlPrefix, issuer->record.id);
  auto fresh = [&](const internal::CrlRecord& crl) {
    return !issuer->active() || clock_.Now() < crl.next_update - options_.crl_expiry / 2;
  };
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(key));
  if (rec.has_value()) {
    ASSIGN_OR_RETURN(internal::CrlRecord crl, internal::DecodeCrl(rec->value));
    if (fresh(crl)) return std::move(crl.der);
  }
  if (!issuer->active()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", issuer->record.id, " is retired and has no CRL"));
  }
  absl::MutexLock lock(&admin_mu_);
  // Another caller may have rebuilt it while this one waited.
  ASSIGN_OR_RETURN(rec, store_.Get(key));
  if (rec.has_value()) {
    ASSIGN_OR_RETURN(internal::CrlRecord crl, internal::DecodeCrl(rec->value));
    if (fresh(crl)) return std::move(crl.der);
  }
  RETURN_IF_ERROR(RebuildCrl(*issuer));
  ASSIGN_OR_RETURN(rec, store_.Get(key));
  if (!rec.has_value()) return absl::InternalError("the rebuilt CRL is missing");
  ASSIGN_OR_RETURN(internal::CrlRecord crl, internal::DecodeCrl(rec->value));
  return std::move(crl.der);
}

absl::StatusOr<std::string> CaService::CrlDer(std::string_view issuer_ref) {
  return CurrentCrlDer(issuer_ref);
}

absl::StatusOr<std::string> CaService::CrlPem(std::string_view issuer_ref) {
  ASSIGN_OR_RETURN(std::string der, CurrentCrlDer(issuer_ref));
  ASSIGN_OR_RETURN(internal::X509CrlPtr crl, ParseCrlDer(der));
  return CrlToPem(crl.get());
}

absl::Status CaService::RotateCrl() {
  absl::MutexLock lock(&admin_mu_);
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  for (const IssuerPtr& issuer : all) {
    if (issuer->active()) RETURN_IF_ERROR(RebuildCrl(*issuer));
  }
  return absl::OkStatus();
}

absl::StatusOr<TidyResult> CaService::Tidy(const TidyRequest& request) {
  if (request.safety_buffer < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("safety_buffer: must not be negative");
  }
  absl::MutexLock lock(&admin_mu_);
  const absl::Time cutoff = clock_.Now() - request.safety_buffer;
  TidyResult result;
  if (request.tidy_cert_store) {
    std::vector<std::string> expired;
    RETURN_IF_ERROR(
        ForEach(store_, internal::kCertPrefix, [&](const storage::Record& rec) -> absl::Status {
          ASSIGN_OR_RETURN(internal::CertRecord cert, internal::DecodeCert(rec.value));
          if (cert.not_after < cutoff) expired.push_back(rec.key);
          return absl::OkStatus();
        }));
    for (size_t i = 0; i < expired.size(); i += kPage) {
      storage::WriteBatch batch;
      for (size_t j = i; j < std::min(expired.size(), i + kPage); ++j) batch.Delete(expired[j]);
      RETURN_IF_ERROR(store_.Commit(batch).status());
    }
    result.certificates_deleted = static_cast<int>(expired.size());
  }
  if (request.tidy_revoked_certs) {
    std::vector<std::string> expired;
    std::set<std::string> issuers;
    RETURN_IF_ERROR(
        ForEach(store_, internal::kRevokedPrefix, [&](const storage::Record& rec) -> absl::Status {
          ASSIGN_OR_RETURN(internal::RevokedRecord r, internal::DecodeRevoked(rec.value));
          if (r.not_after < cutoff) {
            expired.push_back(rec.key);
            const std::string_view rest =
                std::string_view(rec.key).substr(internal::kRevokedPrefix.size());
            issuers.insert(std::string(rest.substr(0, rest.find('/'))));
          }
          return absl::OkStatus();
        }));
    for (size_t i = 0; i < expired.size(); i += kPage) {
      storage::WriteBatch batch;
      for (size_t j = i; j < std::min(expired.size(), i + kPage); ++j) batch.Delete(expired[j]);
      RETURN_IF_ERROR(store_.Commit(batch).status());
    }
    result.revocations_deleted = static_cast<int>(expired.size());
    for (const std::string& id : issuers) {
      absl::StatusOr<IssuerPtr> issuer = LoadIssuer(id);
      if (issuer.ok() && (*issuer)->active()) RETURN_IF_ERROR(RebuildCrl(**issuer));
    }
  }
  return result;
}

}  // namespace rekey::pki
