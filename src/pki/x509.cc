// Certificate parsing, encoding and description.
#include "pki/x509.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cctype>

#include "absl/strings/ascii.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::pki {
namespace {

using internal::BioPtr;
using internal::OpenSslError;

X509* Mut(const X509* x) { return const_cast<X509*>(x); }

std::string NameOneLine(const X509_NAME* name) {
  BioPtr bio = internal::NewMemBio();
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    internal::ClearOpenSslErrors();
    return "";
  }
  return internal::BioContents(bio.get());
}

std::string CommonNameOf(const X509_NAME* name) {
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, idx);
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) {
    internal::ClearOpenSslErrors();
    return "";
  }
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace

absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  std::vector<X509Ptr> certs;
  for (;;) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) {
      const unsigned long err = ERR_peek_last_error();
      internal::ClearOpenSslErrors();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return absl::InvalidArgumentError(
          rekey::StrCat("certificate ", certs.size() + 1, " in the PEM text is malformed"));
    }
    certs.emplace_back(x);
  }
  if (certs.empty()) return absl::InvalidArgumentError("no PEM certificate found");
  return certs;
}

absl::StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem) {
  ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseCertificatesPem(pem));
  return std::move(certs.front());
}

absl::StatusOr<X509Ptr> ParseCertificateDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a DER certificate");
  }
  return x;
}

absl::StatusOr<std::string> CertificateToPem(const X509* cert) {
  BioPtr bio = internal::NewMemBio();
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("PEM_write_bio_X509");
  return internal::BioContents(bio.get());
}

absl::StatusOr<std::string> CertificateToDer(const X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  if (n <= 0) return OpenSslError("i2d_X509");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

X509Ptr CopyCertificate(const X509* cert) {
  X509_up_ref(Mut(cert));
  return X509Ptr(Mut(cert));
}

std::string RandomSerial(Random& random) {
  std::string serial(16, '\0');
  random.Fill(absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(serial.data()), serial.size()));
  serial[0] = static_cast<char>((static_cast<uint8_t>(serial[0]) & 0x3f) | 0x40);
  return serial;
}

std::string FormatSerialBytes(std::string_view big_endian) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (big_endian.size() > 1 && big_endian.front() == '\0') big_endian.remove_prefix(1);
  if (big_endian.empty()) return "00";
  std::string out;
  for (unsigned char c : big_endian) {
    if (!out.empty()) out.push_back(':');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string FormatSerial(const ASN1_INTEGER* serial) {
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr) {
    internal::ClearOpenSslErrors();
    return "";
  }
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return FormatSerialBytes(bytes);
}

absl::StatusOr<std::string> NormalizeSerial(std::string_view text) {
  std::string hex;
  const bool separated = text.find_first_of(":-") != std::string_view::npos;
  size_t group = 0;  // digits in the current group (separated form)
  for (char c : text) {
    if (c == ':' || c == '-') {
      if (group == 0 || group > 2) return absl::InvalidArgumentError("malformed serial number");
      if (group == 1) hex.insert(hex.size() - 1, "0");
      group = 0;
      continue;
    }
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("serial number must be hex digits separated by ':' or '-'");
    }
    hex.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    ++group;
  }
  if (separated) {
    if (group == 0 || group > 2) return absl::InvalidArgumentError("malformed serial number");
    if (group == 1) hex.insert(hex.size() - 1, "0");
  } else if (hex.size() % 2 == 1) {
    hex.insert(0, "0");
  }
  if (hex.empty() || hex.size() > 80) {
    return absl::InvalidArgumentError("serial number must have 1 to 40 bytes");
  }
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    bytes.push_back(static_cast<char>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  }
  return FormatSerialBytes(bytes);
}

absl::StatusOr<std::string> CanonicalIp(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof(out));
    return std::string(out);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof(out));
    return std::string(out);
  }
  return absl::InvalidArgumentError(
      rekey::StrCat("\"", text.substr(0, 64), "\" is not an IP address"));
}

bool IsIpAddress(std::string_view text) { return CanonicalIp(text).ok(); }

absl::StatusOr<CertificateInfo> DescribeCertificate(const X509* cert) {
  CertificateInfo info;
  info.serial_number = FormatSerial(X509_get0_serialNumber(cert));
  info.common_name = CommonNameOf(X509_get_subject_name(cert));
  info.subject = NameOneLine(X509_get_subject_name(cert));
  info.issuer = NameOneLine(X509_get_issuer_name(cert));
  ASSIGN_OR_RETURN(info.not_before, internal::FromAsn1Time(X509_get0_notBefore(cert)));
  ASSIGN_OR_RETURN(info.not_after, internal::FromAsn1Time(X509_get0_notAfter(cert)));
  internal::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  internal::ReadGeneralNames(names.get(), &info.dns_names, &info.ip_addresses);
  const uint32_t flags = X509_get_extension_flags(Mut(cert));
  info.is_ca = (flags & EXFLAG_CA) != 0;
  info.max_path_length = info.is_ca ? static_cast<int>(X509_get_pathlen(Mut(cert))) : -1;
  if (absl::StatusOr<KeyType> t = KeyTypeOf(X509_get0_pubkey(cert)); t.ok()) info.key_type = *t;
  info.self_issued = IssuedBy(cert, cert);
  internal::ClearOpenSslErrors();
  return info;
}

bool CertificateMatchesKey(const X509* cert, const EVP_PKEY* key) {
  const bool ok = SamePublicKey(X509_get0_pubkey(cert), key);
  internal::ClearOpenSslErrors();
  return ok;
}

bool IssuedBy(const X509* cert, const X509* issuer) {
  if (X509_check_issued(Mut(issuer), Mut(cert)) != X509_V_OK) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  const bool ok = key != nullptr && X509_verify(Mut(cert), key) == 1;
  internal::ClearOpenSslErrors();
  return ok;
}

}  // namespace rekey::pki
