// CaService: issuers (roots, intermediates, imports, the default, retirement) and roles.
#include "pki/ca_service.h"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "pki/cert_builder.h"
#include "pki/csr.h"
#include "pki/internal/ca_state.h"
#include "pki/verify.h"

namespace rekey::pki {
namespace {

namespace json = boost::json;
using internal::CaConfigRecord;
using internal::IssuerRecord;

std::string IssuerKey(std::string_view id) { return rekey::StrCat(internal::kIssuerPrefix, id); }
std::string RoleKey(std::string_view name) { return rekey::StrCat(internal::kRolePrefix, name); }

}  // namespace

CaService::CaService(storage::Store& store, const Clock& clock, Random& random, CaOptions options)
    : store_(store), clock_(clock), random_(random), options_(options) {}

// ---------------------------------------------------------------------------------------------
// Loading issuers

absl::StatusOr<std::string> CaService::DefaultIssuerId() {
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(internal::kConfigKey));
  if (rec.has_value()) {
    ASSIGN_OR_RETURN(CaConfigRecord config, internal::DecodeConfig(rec->value));
    if (!config.default_issuer.empty()) return config.default_issuer;
  }
  return absl::FailedPreconditionError(
      "this CA has no issuer yet: generate a root or import a CA first");
}

absl::StatusOr<CaService::IssuerPtr> CaService::LoadIssuer(std::string_view ref) {
  std::string id;
  if (ref.empty() || ref == "default") {
    ASSIGN_OR_RETURN(id, DefaultIssuerId());
  } else {
    id = std::string(ref);
  }
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(IssuerKey(id)));
  if (!rec.has_value()) {
    // Not an id: look for an issuer of that name.
    ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
    for (IssuerPtr& issuer : all) {
      if (!issuer->record.name.empty() && issuer->record.name == ref) return issuer;
    }
    return absl::NotFoundError(rekey::StrCat("no issuer \"", ref.substr(0, 128), "\""));
  }
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(id);
    if (it != cache_.end() && it->second.first == rec->mod_index) return it->second.second;
  }
  auto issuer = std::make_shared<LoadedIssuer>();
  ASSIGN_OR_RETURN(issuer->record, internal::DecodeIssuer(rec->value));
  issuer->mod_index = rec->mod_index;
  absl::StatusOr<internal::X509Ptr> cert = ParseCertificatePem(issuer->record.certificate);
  if (!cert.ok()) {
    return absl::DataLossError(rekey::StrCat("issuer ", id, ": stored certificate is malformed"));
  }
  issuer->cert = std::move(*cert);
  ASSIGN_OR_RETURN(issuer->info, DescribeCertificate(issuer->cert.get()));
  if (!issuer->record.retired) {
    absl::StatusOr<internal::EvpPkeyPtr> key = ParsePrivateKeyPem(issuer->record.private_key);
    if (!key.ok()) {
      return absl::DataLossError(rekey::StrCat("issuer ", id, ": stored private key is malformed"));
    }
    issuer->key = std::move(*key);
  }
  IssuerPtr shared = std::move(issuer);
  absl::MutexLock lock(&cache_mu_);
  cache_[id] = {rec->mod_index, shared};
  return shared;
}

absl::StatusOr<std::vector<CaService::IssuerPtr>> CaService::LoadAllIssuers() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(internal::kIssuerPrefix, "", 0));
  std::vector<IssuerPtr> out;
  for (const std::string& key : keys) {
    absl::StatusOr<IssuerPtr> issuer = LoadIssuer(key.substr(internal::kIssuerPrefix.size()));
    if (absl::IsNotFound(issuer.status())) continue;  // deleted meanwhile
    RETURN_IF_ERROR(issuer.status());
    out.push_back(std::move(*issuer));
  }
  std::sort(out.begin(), out.end(), [](const IssuerPtr& a, const IssuerPtr& b) {
    return std::tie(a->record.created_at, a->record.id) <
           std::tie(b->record.created_at, b->record.id);
  });
  return out;
}

absl::StatusOr<IssuerInfo> CaService::InfoOf(const LoadedIssuer& issuer,
                                             std::string_view default_id) {
  IssuerInfo info;
  info.issuer_id = issuer.record.id;
  info.issuer_name = issuer.record.name;
  info.certificate = issuer.record.certificate;
  info.ca_chain = issuer.Chain();
  info.key_type =
      issuer.info.key_type.has_value() ? std::string(KeyTypeName(*issuer.info.key_type)) : "";
  info.serial_number = issuer.info.serial_number;
  info.common_name = issuer.info.common_name;
  info.not_before = issuer.info.not_before;
  info.not_after = issuer.info.not_after;
  info.is_default = issuer.record.id == default_id;
  info.retired = issuer.record.retired;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Creating issuers

absl::Status CaService::CheckIssuerName(std::string_view name) {
  if (name.empty()) return absl::OkStatus();
  const bool ok =
      name.size() <= 64 && name != "default" && std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (!ok) {
    return absl::InvalidArgumentError(
        "issuer_name must be 1 to 64 characters of letters, digits, '_' and '-', not \"default\"");
  }
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  for (const IssuerPtr& issuer : all) {
    if (issuer->record.name == name) {
      return absl::AlreadyExistsError(rekey::StrCat("an issuer is already named \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<IssuerInfo> CaService::AddIssuer(const X509* cert, std::vector<std::string> parents,
                                                const EVP_PKEY* key, std::string_view issuer_name) {
  RETURN_IF_ERROR(CheckIssuerName(issuer_name));
  IssuerRecord record;
  record.id = crypto::GenerateUuidV4(random_);
  record.name = std::string(issuer_name);
  ASSIGN_OR_RETURN(record.certificate, CertificateToPem(cert));
  record.parents = std::move(parents);
  ASSIGN_OR_RETURN(record.private_key, PrivateKeyToPem(key));
  record.created_at = clock_.Now();

  storage::WriteBatch batch;
  const std::string key_name = IssuerKey(record.id);
  batch.Put(key_name, internal::Encode(record));
  batch.ExpectModIndex(key_name, 0);
  ASSIGN_OR_RETURN(std::optional<storage::Record> config_rec, store_.Get(internal::kConfigKey));
  CaConfigRecord config;
  if (config_rec.has_value()) {
    ASSIGN_OR_RETURN(config, internal::DecodeConfig(config_rec->value));
  }
  batch.ExpectModIndex(std::string(internal::kConfigKey),
                       config_rec.has_value() ? config_rec->mod_index : 0);
  if (config.default_issuer.empty()) {
    config.default_issuer = record.id;
    batch.Put(std::string(internal::kConfigKey), internal::Encode(config));
  }
  RETURN_IF_ERROR(store_.Commit(batch).status());
  ASSIGN_OR_RETURN(IssuerPtr loaded, LoadIssuer(record.id));
  return InfoOf(*loaded, config.default_issuer);
}

absl::StatusOr<GeneratedIssuer> CaService::GenerateRoot(const GenerateRootRequest& request) {
  std::vector<std::string> problems;
  if (request.common_name.empty()) problems.push_back("common_name: is required");
  if (request.ttl < absl::ZeroDuration()) problems.push_back("ttl: must not be negative");
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));

  ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, GenerateKey(request.key_type));
  const absl::Time now = clock_.Now();
  CertificateSpec spec;
  spec.common_name = request.common_name;
  spec.serial = RandomSerial(random_);
  spec.not_before = now - absl::Seconds(30);
  spec.not_after =
      now + (request.ttl > absl::ZeroDuration() ? request.ttl : options_.default_ca_ttl);
  spec.is_ca = true;
  spec.max_path_length = request.max_path_length;
  ASSIGN_OR_RETURN(internal::X509Ptr cert, SignCertificate(spec, key.get(), nullptr, key.get()));

  GeneratedIssuer out;
  {
    absl::MutexLock lock(&admin_mu_);
    ASSIGN_OR_RETURN(out.issuer, AddIssuer(cert.get(), {}, key.get(), request.issuer_name));
  }
  if (request.exported) {
    ASSIGN_OR_RETURN(SecretBytes pem, PrivateKeyToPem(key.get()));
    out.private_key = std::move(pem);
  }
  return out;
}

absl::StatusOr<IntermediateCsr> CaService::GenerateIntermediateCsr(
    const IntermediateCsrRequest& request) {
  if (request.common_name.empty()) {
    return absl::InvalidArgumentError("common_name: is required");
  }
  ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, GenerateKey(request.key_type));
  IntermediateCsr out;
  ASSIGN_OR_RETURN(out.csr, BuildCsrPem(CsrSpec{request.common_name, {}, {}}, key.get()));
  out.key_type = std::string(KeyTypeName(request.key_type));
  internal::PendingKeyRecord pending;
  ASSIGN_OR_RETURN(pending.private_key, PrivateKeyToPem(key.get()));
  pending.common_name = request.common_name;
  storage::WriteBatch batch;
  batch.Put(std::string(internal::kPendingIntermediateKey), internal::Encode(pending));
  {
    absl::MutexLock lock(&admin_mu_);
    RETURN_IF_ERROR(store_.Commit(batch).status());
  }
  if (request.exported) out.private_key = std::move(pending.private_key);
  return out;
}

absl::StatusOr<IssuedCertificate> CaService::SignIntermediate(
    const SignIntermediateRequest& request) {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(request.issuer_ref));
  if (!issuer->active()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", issuer->record.id, " is retired and cannot sign"));
  }
  ASSIGN_OR_RETURN(CsrInfo csr, ParseCsrPem(request.csr));
  const std::string cn = request.common_name.empty() ? csr.common_name : request.common_name;
  if (cn.empty()) {
    return absl::InvalidArgumentError("common_name: is required (the CSR has none)");
  }
  const absl::Time now = clock_.Now();
  if (now >= issuer->info.not_after) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", issuer->record.id, " has expired"));
  }
  CertificateSpec spec;
  spec.common_name = cn;
  spec.serial = RandomSerial(random_);
  spec.not_before = std::max(now - absl::Seconds(30), issuer->info.not_before);
  spec.not_after =
      now + (request.ttl > absl::ZeroDuration() ? request.ttl : options_.default_ca_ttl);
  spec.is_ca = true;
  IssuedCertificate out;
  if (spec.not_after > issuer->info.not_after) {
    spec.not_after = issuer->info.not_after;
    out.warnings.push_back("the TTL was capped at the issuer's expiry");
  }
  const int parent_len = issuer->info.max_path_length;
  if (parent_len == 0) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "issuer ", issuer->record.id, " has a path length of 0 and cannot sign a CA"));
  }
  spec.max_path_length = request.max_path_length;
  if (parent_len > 0 && (spec.max_path_length < 0 || spec.max_path_length >= parent_len)) {
    spec.max_path_length = parent_len - 1;
  }
  ASSIGN_OR_RETURN(internal::X509Ptr cert, SignCertificate(spec, csr.public_key.get(),
                                                           issuer->cert.get(), issuer->key.get()));
  ASSIGN_OR_RETURN(out.certificate, CertificateToPem(cert.get()));
  out.issuing_ca = issuer->record.certificate;
  out.ca_chain = issuer->Chain();
  out.serial_number = FormatSerialBytes(spec.serial);
  out.not_before = spec.not_before;
  out.expiration = spec.not_after;
  out.issuer_id = issuer->record.id;

  internal::CertRecord record{out.certificate, issuer->record.id, spec.not_after, std::nullopt};
  storage::WriteBatch batch;
  const std::string key = internal::CertKey(out.serial_number);
  batch.Put(key, internal::Encode(record));
  batch.ExpectModIndex(key, 0);
  RETURN_IF_ERROR(store_.Commit(batch).status());
  return out;
}

absl::StatusOr<IssuerInfo> CaService::SetSignedIntermediate(std::string_view certificate_pem,
                                                            std::string_view issuer_name) {
  absl::MutexLock lock(&admin_mu_);
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec,
                   store_.Get(internal::kPendingIntermediateKey));
  if (!rec.has_value()) {
    return absl::FailedPreconditionError(
        "no pending intermediate key: generate an intermediate CSR first");
  }
  ASSIGN_OR_RETURN(internal::PendingKeyRecord pending, internal::DecodePendingKey(rec->value));
  ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, ParsePrivateKeyPem(pending.private_key));
  ASSIGN_OR_RETURN(std::vector<internal::X509Ptr> certs, ParseCertificatesPem(certificate_pem));
  if (!CertificateMatchesKey(certs.front().get(), key.get())) {
    return absl::FailedPreconditionError(
        "the signed certificate is not for the pending intermediate key");
  }
  ASSIGN_OR_RETURN(CertificateInfo info, DescribeCertificate(certs.front().get()));
  if (!info.is_ca) return absl::InvalidArgumentError("the signed certificate is not a CA");

  // Parents: from the PEM given, then from this mount's issuers.
  std::vector<internal::X509Ptr> pool;
  for (size_t i = 1; i < certs.size(); ++i) pool.push_back(CopyCertificate(certs[i].get()));
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  for (const IssuerPtr& issuer : all) {
    for (const std::string& pem : issuer->Chain()) {
      ASSIGN_OR_RETURN(internal::X509Ptr c, ParseCertificatePem(pem));
      pool.push_back(std::move(c));
    }
  }
  std::vector<std::string> parents;
  for (const internal::X509Ptr& c : BuildChain(certs.front().get(), pool)) {
    ASSIGN_OR_RETURN(std::string pem, CertificateToPem(c.get()));
    parents.push_back(std::move(pem));
  }
  ASSIGN_OR_RETURN(IssuerInfo out,
                   AddIssuer(certs.front().get(), std::move(parents), key.get(), issuer_name));
  storage::WriteBatch batch;
  batch.Delete(std::string(internal::kPendingIntermediateKey));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  return out;
}

absl::StatusOr<IssuerInfo> CaService::ImportIssuer(const SecretBytes& pem_bundle,
                                                   std::string_view issuer_name) {
  absl::StatusOr<internal::EvpPkeyPtr> key = ParsePrivateKeyPem(pem_bundle);
  if (!key.ok()) {
    return absl::InvalidArgumentError("pem_bundle: holds no unencrypted PEM private key");
  }
  absl::StatusOr<std::vector<internal::X509Ptr>> certs = ParseCertificatesPem(pem_bundle.Reveal());
  if (!certs.ok()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("pem_bundle: ", ToStd(certs.status().message())));
  }
  const X509* cert = nullptr;
  for (const internal::X509Ptr& c : *certs) {
    if (CertificateMatchesKey(c.get(), key->get())) {
      cert = c.get();
      break;
    }
  }
  if (cert == nullptr) {
    return absl::InvalidArgumentError("pem_bundle: no certificate matches the private key");
  }
  ASSIGN_OR_RETURN(CertificateInfo info, DescribeCertificate(cert));
  if (!info.is_ca) {
    return absl::InvalidArgumentError("pem_bundle: the key's certificate is not a CA");
  }

  absl::MutexLock lock(&admin_mu_);
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  ASSIGN_OR_RETURN(std::string cert_pem, CertificateToPem(cert));
  const std::string default_id = DefaultIssuerId().value_or("");
  for (const IssuerPtr& issuer : all) {
    if (issuer->record.certificate == cert_pem && !issuer->record.retired) {
      return InfoOf(*issuer, default_id);  // already imported
    }
  }
  std::vector<internal::X509Ptr> pool;
  for (const internal::X509Ptr& c : *certs) {
    if (c.get() != cert) pool.push_back(CopyCertificate(c.get()));
  }
  for (const IssuerPtr& issuer : all) {
    for (const std::string& pem : issuer->Chain()) {
      ASSIGN_OR_RETURN(internal::X509Ptr c, ParseCertificatePem(pem));
      pool.push_back(std::move(c));
    }
  }
  std::vector<std::string> parents;
  for (const internal::X509Ptr& c : BuildChain(cert, pool)) {
    ASSIGN_OR_RETURN(std::string pem, CertificateToPem(c.get()));
    parents.push_back(std::move(pem));
  }
  return AddIssuer(cert, std::move(parents), key->get(), issuer_name);
}

// ---------------------------------------------------------------------------------------------
// Reading and changing issuers

absl::StatusOr<std::vector<IssuerInfo>> CaService::ListIssuers() {
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  const std::string default_id = DefaultIssuerId().value_or("");
  std::vector<IssuerInfo> out;
  for (const IssuerPtr& issuer : all) {
    ASSIGN_OR_RETURN(IssuerInfo info, InfoOf(*issuer, default_id));
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<IssuerInfo> CaService::ReadIssuer(std::string_view ref) {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(ref));
  return InfoOf(*issuer, DefaultIssuerId().value_or(""));
}

absl::Status CaService::SetDefaultIssuer(std::string_view ref) {
  absl::MutexLock lock(&admin_mu_);
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(ref));
  if (!issuer->active()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("issuer ", issuer->record.id, " is retired and cannot be the default"));
  }
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(internal::kConfigKey));
  storage::WriteBatch batch;
  batch.ExpectModIndex(std::string(internal::kConfigKey), rec.has_value() ? rec->mod_index : 0);
  batch.Put(std::string(internal::kConfigKey), internal::Encode(CaConfigRecord{issuer->record.id}));
  return store_.Commit(batch).status();
}

absl::StatusOr<absl::Time> CaService::LastLeafExpiry(std::string_view ref) {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(ref));
  absl::Time last = absl::InfinitePast();
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page,
                     store_.Scan(internal::kCertPrefix, after, 256));
    for (const storage::Record& rec : page) {
      ASSIGN_OR_RETURN(internal::CertRecord cert, internal::DecodeCert(rec.value));
      if (cert.issuer_id == issuer->record.id && !cert.revoked_at.has_value()) {
        last = std::max(last, cert.not_after);
      }
    }
    if (page.size() < 256) break;
    after = page.back().key;
  }
  return last;
}

absl::Status CaService::RetireIssuer(std::string_view ref, bool force) {
  absl::MutexLock lock(&admin_mu_);
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer(ref));
  if (issuer->record.retired) return absl::OkStatus();
  if (issuer->record.id == DefaultIssuerId().value_or("")) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "issuer ", issuer->record.id, " is the default: make another issuer the default first"));
  }
  if (!force) {
    ASSIGN_OR_RETURN(absl::Time last, LastLeafExpiry(issuer->record.id));
    if (last > clock_.Now()) {
      return absl::FailedPreconditionError(
          rekey::StrCat("issuer ", issuer->record.id, " signed certificates valid until ",
                        absl::FormatTime(absl::RFC3339_sec, last, absl::UTCTimeZone()),
                        "; wait until then or force the retirement"));
    }
  }
  // A final CRL, so that its revocations stay published after the key is gone.
  RETURN_IF_ERROR(RebuildCrl(*issuer));
  IssuerRecord record = issuer->record;
  record.retired = true;
  record.private_key = SecretBytes();
  storage::WriteBatch batch;
  const std::string key = IssuerKey(record.id);
  batch.ExpectModIndex(key, issuer->mod_index);
  batch.Put(key, internal::Encode(record));
  return store_.Commit(batch).status();
}

absl::StatusOr<std::string> CaService::CaPem() {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer("default"));
  return issuer->record.certificate;
}

absl::StatusOr<std::string> CaService::CaDer() {
  ASSIGN_OR_RETURN(IssuerPtr issuer, LoadIssuer("default"));
  return CertificateToDer(issuer->cert.get());
}

absl::StatusOr<std::string> CaService::CaChainPem() {
  ASSIGN_OR_RETURN(std::string default_id, DefaultIssuerId());
  ASSIGN_OR_RETURN(std::vector<IssuerPtr> all, LoadAllIssuers());
  std::stable_partition(all.begin(), all.end(),
                        [&](const IssuerPtr& i) { return i->record.id == default_id; });
  std::vector<std::string> seen;
  std::string bundle;
  for (const IssuerPtr& issuer : all) {
    if (!issuer->active()) continue;
    for (const std::string& pem : issuer->Chain()) {
      if (std::find(seen.begin(), seen.end(), pem) != seen.end()) continue;
      seen.push_back(pem);
      bundle.append(pem);
      if (!bundle.empty() && bundle.back() != '\n') bundle.push_back('\n');
    }
  }
  return bundle;
}

// ---------------------------------------------------------------------------------------------
// Roles

absl::Status CaService::WriteRole(const Role& role) {
  RETURN_IF_ERROR(ValidateRoleName(role.name));
  if (role.issuer_ref.empty()) return absl::InvalidArgumentError("issuer_ref: must not be empty");
  storage::WriteBatch batch;
  json::value doc = RoleToJson(role);
  std::string text = json::serialize(doc);
  batch.Put(RoleKey(role.name), SecretBytes::TakeFrom(text));
  return store_.Commit(batch).status();
}

absl::StatusOr<std::vector<std::string>> CaService::WriteRoleJson(
    std::string_view name, const boost::json::object& fields) {
  std::vector<std::string> warnings;
  ASSIGN_OR_RETURN(Role role, RoleFromJson(name, fields, &warnings));
  RETURN_IF_ERROR(WriteRole(role));
  return warnings;
}

absl::StatusOr<Role> CaService::ReadRole(std::string_view name) {
  RETURN_IF_ERROR(ValidateRoleName(name));
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(RoleKey(name)));
  if (!rec.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no role \"", name, "\""));
  }
  boost::system::error_code ec;
  json::value doc =
      json::parse(json::string_view(rec->value.Reveal().data(), rec->value.Reveal().size()), ec);
  if (ec || !doc.is_object()) {
    return absl::DataLossError(rekey::StrCat("stored role \"", name, "\" does not decode"));
  }
  absl::StatusOr<Role> role = RoleFromJson(name, doc.get_object(), nullptr);
  if (!role.ok()) {
    return absl::DataLossError(rekey::StrCat(
        "stored role \"", name, "\" does not decode: ", ToStd(role.status().message())));
  }
  return role;
}

absl::StatusOr<std::vector<std::string>> CaService::ListRoles() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(internal::kRolePrefix, "", 0));
  for (std::string& key : keys) key.erase(0, internal::kRolePrefix.size());
  return keys;
}

absl::Status CaService::DeleteRole(std::string_view name) {
  RETURN_IF_ERROR(ValidateRoleName(name));
  storage::WriteBatch batch;
  batch.Delete(RoleKey(name));
  return store_.Commit(batch).status();
}

}  // namespace rekey::pki
