// Certificate construction and signing with OpenSSL's typed X.509 v3 APIs.
#include "pki/cert_builder.h"

#include <openssl/sha.h>

#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::pki {
namespace {

using internal::OpenSslError;

constexpr std::pair<std::string_view, uint32_t> kKeyUsageNames[] = {
    {"DigitalSignature", kDigitalSignature},
    {"ContentCommitment", kContentCommitment},
    {"KeyEncipherment", kKeyEncipherment},
    {"DataEncipherment", kDataEncipherment},
    {"KeyAgreement", kKeyAgreement},
    {"CertSign", kCertSign},
    {"CRLSign", kCrlSign},
    {"EncipherOnly", kEncipherOnly},
    {"DecipherOnly", kDecipherOnly},
};

// Bit positions in the keyUsage BIT STRING, in the order of KeyUsageBit.
constexpr int kKeyUsageBitIndex[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

constexpr std::pair<std::string_view, ExtKeyUsage> kExtKeyUsageNames[] = {
    {"ServerAuth", ExtKeyUsage::kServerAuth},
    {"ClientAuth", ExtKeyUsage::kClientAuth},
    {"CodeSigning", ExtKeyUsage::kCodeSigning},
    {"EmailProtection", ExtKeyUsage::kEmailProtection},
    {"TimeStamping", ExtKeyUsage::kTimeStamping},
    {"OcspSigning", ExtKeyUsage::kOcspSigning},
};

int ExtKeyUsageNid(ExtKeyUsage u) {
  switch (u) {
    case ExtKeyUsage::kServerAuth:
      return NID_server_auth;
    case ExtKeyUsage::kClientAuth:
      return NID_client_auth;
    case ExtKeyUsage::kCodeSigning:
      return NID_code_sign;
    case ExtKeyUsage::kEmailProtection:
      return NID_email_protect;
    case ExtKeyUsage::kTimeStamping:
      return NID_time_stamp;
    case ExtKeyUsage::kOcspSigning:
      return NID_OCSP_sign;
  }
  return NID_undef;
}

absl::Status AddExtension(X509* x, int nid, void* value, bool critical, std::string_view what) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError(rekey::StrCat("adding the ", what, " extension"));
  }
  return absl::OkStatus();
}

absl::Status AddBasicConstraints(X509* x, const CertificateSpec& spec) {
  std::unique_ptr<BASIC_CONSTRAINTS, internal::OpenSslDeleter<&BASIC_CONSTRAINTS_free>> bc(
      BASIC_CONSTRAINTS_new());
  if (bc == nullptr) return OpenSslError("BASIC_CONSTRAINTS_new");
  bc->ca = spec.is_ca ? 0xff : 0;
  if (spec.is_ca && spec.max_path_length >= 0) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, spec.max_path_length) != 1) {
      return OpenSslError("ASN1_INTEGER_set");
    }
  }
  return AddExtension(x, NID_basic_constraints, bc.get(), true, "basicConstraints");
}

absl::Status AddKeyUsage(X509* x, uint32_t bits) {
  if (bits == 0) return absl::OkStatus();
  std::unique_ptr<ASN1_BIT_STRING, internal::OpenSslDeleter<&ASN1_BIT_STRING_free>> bs(
      ASN1_BIT_STRING_new());
  if (bs == nullptr) return OpenSslError("ASN1_BIT_STRING_new");
  for (size_t i = 0; i < std::size(kKeyUsageBitIndex); ++i) {
    if ((bits & (1u << i)) != 0 &&
        ASN1_BIT_STRING_set_bit(bs.get(), kKeyUsageBitIndex[i], 1) != 1) {
      return OpenSslError("ASN1_BIT_STRING_set_bit");
    }
  }
  return AddExtension(x, NID_key_usage, bs.get(), true, "keyUsage");
}

absl::Status AddExtKeyUsage(X509* x, const std::vector<ExtKeyUsage>& usages) {
  if (usages.empty()) return absl::OkStatus();
  struct Free {
    void operator()(EXTENDED_KEY_USAGE* e) const { sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free); }
  };
  std::unique_ptr<EXTENDED_KEY_USAGE, Free> eku(sk_ASN1_OBJECT_new_null());
  if (eku == nullptr) return OpenSslError("sk_ASN1_OBJECT_new_null");
  for (ExtKeyUsage u : usages) {
    ASN1_OBJECT* obj = OBJ_nid2obj(ExtKeyUsageNid(u));
    if (obj == nullptr || sk_ASN1_OBJECT_push(eku.get(), obj) <= 0) {
      return OpenSslError("extendedKeyUsage");
    }
  }
  return AddExtension(x, NID_ext_key_usage, eku.get(), false, "extendedKeyUsage");
}

absl::Status AddSubjectAltNames(X509* x, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(internal::GeneralNamesPtr names,
                   internal::BuildGeneralNames(spec.dns_names, spec.ip_addresses));
  return AddExtension(x, NID_subject_alt_name, names.get(), false, "subjectAltName");
}

// SHA-1 of the subjectPublicKey bit string (RFC 5280 4.2.1.2 method 1).
absl::StatusOr<internal::Asn1OctetStringPtr> KeyIdOf(const X509* cert) {
  unsigned char md[SHA_DIGEST_LENGTH];
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1) {
    return OpenSslError("X509_pubkey_digest");
  }
  internal::Asn1OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (id == nullptr || ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1) {
    return OpenSslError("ASN1_OCTET_STRING_set");
  }
  return id;
}

absl::Status AddKeyIdentifiers(X509* x, const X509* issuer) {
  ASSIGN_OR_RETURN(internal::Asn1OctetStringPtr ski, KeyIdOf(x));
  RETURN_IF_ERROR(
      AddExtension(x, NID_subject_key_identifier, ski.get(), false, "subjectKeyIdentifier"));
  internal::Asn1OctetStringPtr aki_id;
  if (issuer == nullptr) {
    aki_id.reset(ASN1_OCTET_STRING_dup(ski.get()));
  } else if (const ASN1_OCTET_STRING* issuer_ski =
                 X509_get0_subject_key_id(const_cast<X509*>(issuer));
             issuer_ski != nullptr) {
    aki_id.reset(ASN1_OCTET_STRING_dup(issuer_ski));
  } else {
    ASSIGN_OR_RETURN(aki_id, KeyIdOf(issuer));
  }
  if (aki_id == nullptr) return OpenSslError("ASN1_OCTET_STRING_dup");
  std::unique_ptr<AUTHORITY_KEYID, internal::OpenSslDeleter<&AUTHORITY_KEYID_free>> aki(
      AUTHORITY_KEYID_new());
  if (aki == nullptr) return OpenSslError("AUTHORITY_KEYID_new");
  aki->keyid = aki_id.release();
  return AddExtension(x, NID_authority_key_identifier, aki.get(), false, "authorityKeyIdentifier");
}

}  // namespace

uint32_t KeyUsageFromName(std::string_view name) {
  for (const auto& [n, bit] : kKeyUsageNames) {
    if (n == name) return bit;
  }
  return 0;
}

std::vector<std::string> KeyUsageNames(uint32_t bits) {
  std::vector<std::string> names;
  for (const auto& [n, bit] : kKeyUsageNames) {
    if ((bits & bit) != 0) names.emplace_back(n);
  }
  return names;
}

bool ExtKeyUsageFromName(std::string_view name, ExtKeyUsage* out) {
  for (const auto& [n, u] : kExtKeyUsageNames) {
    if (n == name) {
      *out = u;
      return true;
    }
  }
  return false;
}

std::string_view ExtKeyUsageName(ExtKeyUsage usage) {
  for (const auto& [n, u] : kExtKeyUsageNames) {
    if (u == usage) return n;
  }
  return "";
}

absl::StatusOr<internal::X509Ptr> SignCertificate(const CertificateSpec& spec,
                                                  const EVP_PKEY* subject_key, const X509* issuer,
                                                  const EVP_PKEY* issuer_key) {
  if (spec.common_name.empty()) return absl::InvalidArgumentError("common_name is required");
  if (spec.serial.empty() || spec.serial.size() > 20 || (spec.serial[0] & 0x80) != 0) {
    return absl::InvalidArgumentError("serial must be 1 to 20 bytes and positive");
  }
  if (spec.not_after <= spec.not_before) {
    return absl::InvalidArgumentError("not_after must be after not_before");
  }
  if (subject_key == nullptr || issuer_key == nullptr) {
    return absl::InvalidArgumentError("a subject and an issuer key are required");
  }
  internal::X509Ptr x(X509_new());
  if (x == nullptr) return OpenSslError("X509_new");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1) return OpenSslError("X509_set_version");

  internal::BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(spec.serial.data()),
                                   static_cast<int>(spec.serial.size()), nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x.get())) == nullptr) {
    return OpenSslError("setting the serial number");
  }

  internal::X509NamePtr subject(X509_NAME_new());
  if (subject == nullptr ||
      X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("common_name cannot be encoded (at most 64 characters)");
  }
  if (X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(
          x.get(), issuer == nullptr ? subject.get() : X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("setting the names");
  }
  RETURN_IF_ERROR(internal::SetAsn1Time(X509_getm_notBefore(x.get()), spec.not_before));
  RETURN_IF_ERROR(internal::SetAsn1Time(X509_getm_notAfter(x.get()), spec.not_after));
  if (X509_set_pubkey(x.get(), const_cast<EVP_PKEY*>(subject_key)) != 1) {
    return OpenSslError("X509_set_pubkey");
  }

  RETURN_IF_ERROR(AddBasicConstraints(x.get(), spec));
  RETURN_IF_ERROR(AddKeyUsage(
      x.get(), spec.is_ca ? (kCertSign | kCrlSign | kDigitalSignature) : spec.key_usage));
  if (!spec.is_ca) RETURN_IF_ERROR(AddExtKeyUsage(x.get(), spec.ext_key_usage));
  RETURN_IF_ERROR(AddSubjectAltNames(x.get(), spec));
  RETURN_IF_ERROR(AddKeyIdentifiers(x.get(), issuer));

  if (X509_sign(x.get(), const_cast<EVP_PKEY*>(issuer_key), SigningDigestFor(issuer_key)) <= 0) {
    return OpenSslError("X509_sign");
  }
  return x;
}

}  // namespace rekey::pki
