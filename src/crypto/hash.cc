// SHA-256 via EVP_Digest, HMAC via EVP_MAC, HKDF via EVP_KDF.
#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "crypto/internal/openssl_util.h"

namespace rekey::crypto {
namespace {

using internal::EvpKdfCtxPtr;
using internal::EvpKdfPtr;
using internal::EvpMacCtxPtr;
using internal::OpenSslError;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// OSSL_PARAM octet strings take a non-const pointer but are only read by the setters used here.
OSSL_PARAM OctetParam(const char* name, std::string_view value) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<char*>(value.data()), value.size());
}

// The "digest" parameter (same name for EVP_MAC and EVP_KDF) selecting SHA-256; read only.
OSSL_PARAM DigestParam() {
  return OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
}

// Fetched once: OpenSSL 3 looks an implementation up (under a lock) on every implicit fetch, a
// large share of hashing a short input. Both objects are immutable and thread-safe to share;
// they live as long as the process.
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
EVP_MAC* HmacMac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int out_len = 0;
  if (Sha256Md() == nullptr ||
      EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &out_len,
                 Sha256Md(), nullptr) != 1 ||
      out_len != kSha256Size) {
    std::fprintf(stderr, "FATAL: %s\n", OpenSslError("EVP_Digest(SHA256)").ToString().c_str());
    std::abort();
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return absl::BytesToHexString(Sha256(data)); }

absl::StatusOr<std::string> HmacSha256(std::string_view key, std::string_view data) {
  if (HmacMac() == nullptr) return OpenSslError("EVP_MAC_fetch(HMAC)");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(HmacMac()));
  if (ctx == nullptr) return OpenSslError("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {DigestParam(), OSSL_PARAM_construct_end()};
  // A null key means "keep the previous key" to EVP_MAC_init; an empty key needs a real pointer.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_ptr = key.empty() ? &kEmpty : Bytes(key);
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) {
    return OpenSslError("EVP_MAC_init");
  }
  if (EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1) {
    return OpenSslError("EVP_MAC_update");
  }
  std::string out(kSha256Size, '\0');
  size_t out_len = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len,
                    out.size()) != 1 ||
      out_len != kSha256Size) {
    return OpenSslError("EVP_MAC_final");
  }
  return out;
}

absl::StatusOr<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view salt,
                                       std::string_view info, size_t length) {
  if (ikm.empty()) return absl::InvalidArgumentError("HKDF input key material must not be empty");
  if (length == 0 || length > 255 * kSha256Size) {
    return absl::InvalidArgumentError("HKDF length must be between 1 and 8160 bytes");
  }
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (kdf == nullptr) return OpenSslError("EVP_KDF_fetch(HKDF)");
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) return OpenSslError("EVP_KDF_CTX_new");

  std::vector<OSSL_PARAM> params;
  params.push_back(DigestParam());
  params.push_back(OctetParam(OSSL_KDF_PARAM_KEY, ikm.Reveal()));
  // Omitted salt and info are equivalent to empty ones (RFC 5869 section 2.2).
  if (!salt.empty()) params.push_back(OctetParam(OSSL_KDF_PARAM_SALT, salt));
  if (!info.empty()) params.push_back(OctetParam(OSSL_KDF_PARAM_INFO, info));
  params.push_back(OSSL_PARAM_construct_end());

  SecretBytes out = SecretBytes::Zeroed(length);
  if (EVP_KDF_derive(ctx.get(), out.MutableData(), out.size(), params.data()) != 1) {
    return OpenSslError("EVP_KDF_derive(HKDF)");
  }
  return out;
}

}  // namespace rekey::crypto
