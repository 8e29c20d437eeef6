// OpenSSL glue for the pki module.
#include "pki/internal/openssl.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <time.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/strings.h"

namespace rekey::pki::internal {

absl::Status OpenSslErrorWithCode(absl::StatusCode code, std::string_view operation) {
  std::string reasons;
  constexpr int kMaxReasons = 4;
  int count = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (count++ >= kMaxReasons) continue;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", buf);
  }
  if (reasons.empty()) reasons = "no OpenSSL error reported";
  return absl::Status(code, absl::StrCat(ToAbsl(operation), " failed: ", reasons));
}

absl::Status OpenSslError(std::string_view operation) {
  return OpenSslErrorWithCode(absl::StatusCode::kInternal, operation);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

BioPtr MemBio(std::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) abort();  // allocation failure
  return bio;
}

BioPtr NewMemBio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) abort();
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

BioPtr NewSecretBio() {
  // BIO_s_secmem frees its buffer with OPENSSL_secure_clear_free (zeroed).
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr) abort();
  return bio;
}

SecretBytes TakeSecretBioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  SecretBytes out(n > 0 ? std::string_view(data, static_cast<size_t>(n)) : std::string_view());
  if (n > 0) SecureZero(data, static_cast<size_t>(n));
  return out;
}

absl::Status SetAsn1Time(ASN1_TIME* t, absl::Time when) {
  if (ASN1_TIME_set(t, static_cast<time_t>(absl::ToUnixSeconds(when))) == nullptr) {
    return OpenSslError("ASN1_TIME_set");
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("malformed ASN.1 time");
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

absl::StatusOr<GeneralNamesPtr> BuildGeneralNames(const std::vector<std::string>& dns_names,
                                                  const std::vector<std::string>& ip_addresses) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpenSslError("sk_GENERAL_NAME_new_null");
  for (const std::string& dns : dns_names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (gn == nullptr || s == nullptr ||
        ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(s);
      return OpenSslError("building a dNSName");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return OpenSslError("sk_GENERAL_NAME_push");
    }
  }
  for (const std::string& ip : ip_addresses) {
    Asn1OctetStringPtr octets(a2i_IPADDRESS(ip.c_str()));
    if (octets == nullptr) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", ToAbsl(std::string_view(ip).substr(0, 64)), "\" is not an IP address"));
    }
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr) return OpenSslError("GENERAL_NAME_new");
    GENERAL_NAME_set0_value(gn, GEN_IPADD, octets.release());
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return OpenSslError("sk_GENERAL_NAME_push");
    }
  }
  return names;
}

void ReadGeneralNames(const GENERAL_NAMES* names, std::vector<std::string>* dns_names,
                      std::vector<std::string>* ip_addresses) {
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      dns_names->emplace_back(Asn1Bytes(gn->d.dNSName));
    } else if (gn->type == GEN_IPADD) {
      const std::string_view raw = Asn1Bytes(gn->d.iPAddress);
      char out[INET6_ADDRSTRLEN];
      if (raw.size() == 4 || raw.size() == 16) {
        inet_ntop(raw.size() == 4 ? AF_INET : AF_INET6, raw.data(), out, sizeof(out));
        ip_addresses->emplace_back(out);
      }
    }
  }
}

std::string_view Asn1Bytes(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                          static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace rekey::pki::internal
