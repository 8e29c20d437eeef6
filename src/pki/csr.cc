// CSR construction and verification.
#include "pki/csr.h"

#include <openssl/pem.h>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::pki {
namespace {

using internal::OpenSslError;

}  // namespace

absl::StatusOr<std::string> BuildCsrPem(const CsrSpec& spec, const EVP_PKEY* key) {
  const std::string& common_name = spec.common_name;
  if (common_name.empty()) return absl::InvalidArgumentError("common_name is required");
  internal::X509ReqPtr req(X509_REQ_new());
  if (req == nullptr) return OpenSslError("X509_REQ_new");
  if (X509_REQ_set_version(req.get(), 0) != 1) return OpenSslError("X509_REQ_set_version");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("common_name cannot be encoded (at most 64 characters)");
  }
  if (!spec.dns_names.empty() || !spec.ip_addresses.empty()) {
    ASSIGN_OR_RETURN(internal::GeneralNamesPtr names,
                     internal::BuildGeneralNames(spec.dns_names, spec.ip_addresses));
    STACK_OF(X509_EXTENSION)* raw = nullptr;
    if (X509V3_add1_i2d(&raw, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return OpenSslError("X509V3_add1_i2d");
    }
    internal::ExtensionStackPtr exts(raw);
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
      return OpenSslError("X509_REQ_add_extensions");
    }
  }
  if (X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key)) != 1) {
    return OpenSslError("X509_REQ_set_pubkey");
  }
  if (X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(key), SigningDigestFor(key)) <= 0) {
    return OpenSslError("X509_REQ_sign");
  }
  internal::BioPtr bio = internal::NewMemBio();
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return OpenSslError("PEM_write_bio_X509_REQ");
  }
  return internal::BioContents(bio.get());
}

absl::StatusOr<CsrInfo> ParseCsrPem(std::string_view pem) {
  internal::BioPtr bio = internal::MemBio(pem);
  internal::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (req == nullptr) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("csr is not a PEM certificate request");
  }
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr || X509_REQ_verify(req.get(), pub) != 1) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("csr signature does not verify");
  }
  CsrInfo info;
  ASSIGN_OR_RETURN(info.key_type, KeyTypeOf(pub));
  EVP_PKEY_up_ref(pub);
  info.public_key.reset(pub);

  const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  if (const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); idx >= 0) {
    unsigned char* utf8 = nullptr;
    const int n =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (n >= 0) {
      info.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  internal::ExtensionStackPtr exts(X509_REQ_get_extensions(req.get()));
  if (exts != nullptr) {
    internal::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
    internal::ReadGeneralNames(names.get(), &info.dns_names, &info.ip_addresses);
  }
  internal::ClearOpenSslErrors();
  return info;
}

}  // namespace rekey::pki
