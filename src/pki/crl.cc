// CRL construction, encoding and verification.
#include "pki/crl.h"

#include <openssl/pem.h>

#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/keys.h"
#include "pki/x509.h"

namespace rekey::pki {
namespace {

using internal::OpenSslError;

absl::StatusOr<internal::Asn1IntegerPtr> SerialToAsn1(std::string_view text) {
  ASSIGN_OR_RETURN(std::string canonical, NormalizeSerial(text));
  std::string hex;
  for (char c : canonical) {
    if (c != ':') hex.push_back(c);
  }
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return OpenSslError("BN_hex2bn");
  internal::BignumPtr bn(raw);
  internal::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr) return OpenSslError("BN_to_ASN1_INTEGER");
  return serial;
}

}  // namespace

absl::StatusOr<internal::X509CrlPtr> BuildCrl(const CrlSpec& spec, const X509* issuer,
                                              const EVP_PKEY* issuer_key) {
  if (spec.next_update <= spec.this_update) {
    return absl::InvalidArgumentError("next_update must be after this_update");
  }
  internal::X509CrlPtr crl(X509_CRL_new());
  if (crl == nullptr) return OpenSslError("X509_CRL_new");
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("X509_CRL_set_issuer_name");
  }
  internal::Asn1TimePtr t(ASN1_TIME_new());
  if (t == nullptr) return OpenSslError("ASN1_TIME_new");
  RETURN_IF_ERROR(internal::SetAsn1Time(t.get(), spec.this_update));
  if (X509_CRL_set1_lastUpdate(crl.get(), t.get()) != 1) return OpenSslError("lastUpdate");
  RETURN_IF_ERROR(internal::SetAsn1Time(t.get(), spec.next_update));
  if (X509_CRL_set1_nextUpdate(crl.get(), t.get()) != 1) return OpenSslError("nextUpdate");

  for (const RevokedEntry& entry : spec.revoked) {
    ASSIGN_OR_RETURN(internal::Asn1IntegerPtr serial, SerialToAsn1(entry.serial_number));
    internal::X509RevokedPtr rev(X509_REVOKED_new());
    if (rev == nullptr) return OpenSslError("X509_REVOKED_new");
    RETURN_IF_ERROR(internal::SetAsn1Time(t.get(), entry.revoked_at));
    if (X509_REVOKED_set_serialNumber(rev.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(rev.get(), t.get()) != 1) {
      return OpenSslError("X509_REVOKED_set");
    }
    if (X509_CRL_add0_revoked(crl.get(), rev.get()) != 1) {
      return OpenSslError("X509_CRL_add0_revoked");
    }
    rev.release();  // owned by the CRL now
  }
  if (X509_CRL_sort(crl.get()) != 1) return OpenSslError("X509_CRL_sort");

  internal::Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (number == nullptr || ASN1_INTEGER_set_uint64(number.get(), spec.crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding the cRLNumber extension");
  }
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(issuer));
      ski != nullptr) {
    std::unique_ptr<AUTHORITY_KEYID, internal::OpenSslDeleter<&AUTHORITY_KEYID_free>> aki(
        AUTHORITY_KEYID_new());
    if (aki == nullptr) return OpenSslError("AUTHORITY_KEYID_new");
    aki->keyid = ASN1_OCTET_STRING_dup(ski);
    if (aki->keyid == nullptr || X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier,
                                                       aki.get(), 0, X509V3_ADD_REPLACE) != 1) {
      return OpenSslError("adding the authorityKeyIdentifier extension");
    }
  }
  if (X509_CRL_sign(crl.get(), const_cast<EVP_PKEY*>(issuer_key), SigningDigestFor(issuer_key)) <=
      0) {
    return OpenSslError("X509_CRL_sign");
  }
  return crl;
}

absl::StatusOr<std::string> CrlToPem(const X509_CRL* crl) {
  internal::BioPtr bio = internal::NewMemBio();
  if (PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return OpenSslError("PEM_write_bio_X509_CRL");
  return internal::BioContents(bio.get());
}

absl::StatusOr<std::string> CrlToDer(const X509_CRL* crl) {
  unsigned char* der = nullptr;
  const int n = i2d_X509_CRL(crl, &der);
  if (n <= 0) return OpenSslError("i2d_X509_CRL");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<internal::X509CrlPtr> ParseCrlPem(std::string_view pem) {
  internal::BioPtr bio = internal::MemBio(pem);
  internal::X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (crl == nullptr) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a PEM CRL");
  }
  return crl;
}

absl::StatusOr<internal::X509CrlPtr> ParseCrlDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  internal::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (crl == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a DER CRL");
  }
  return crl;
}

absl::StatusOr<CrlInfo> DescribeCrl(const X509_CRL* crl, const X509* issuer) {
  X509_CRL* mut = const_cast<X509_CRL*>(crl);
  if (X509_CRL_verify(mut, X509_get0_pubkey(issuer)) != 1) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("the CRL's signature does not verify with the issuer's key");
  }
  CrlInfo info;
  internal::BioPtr bio = internal::NewMemBio();
  if (X509_NAME_print_ex(bio.get(), X509_CRL_get_issuer(crl), 0, XN_FLAG_RFC2253) >= 0) {
    info.issuer = internal::BioContents(bio.get());
  }
  ASSIGN_OR_RETURN(info.this_update, internal::FromAsn1Time(X509_CRL_get0_lastUpdate(crl)));
  ASSIGN_OR_RETURN(info.next_update, internal::FromAsn1Time(X509_CRL_get0_nextUpdate(crl)));
  internal::Asn1IntegerPtr number(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
  uint64_t n = 0;
  if (number != nullptr && ASN1_INTEGER_get_uint64(&n, number.get()) == 1) info.crl_number = n;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(mut);
  for (int i = 0; revoked != nullptr && i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    RevokedEntry e;
    e.serial_number = FormatSerial(X509_REVOKED_get0_serialNumber(r));
    ASSIGN_OR_RETURN(e.revoked_at, internal::FromAsn1Time(X509_REVOKED_get0_revocationDate(r)));
    info.revoked.push_back(std::move(e));
  }
  internal::ClearOpenSslErrors();
  return info;
}

}  // namespace rekey::pki
