// OpenSSL glue for the crypto module: owning pointers with OpenSSL's free functions as deleters,
// and the conversion of OpenSSL's error queue into an absl::Status. Internal to src/crypto/.
#ifndef REKEY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_
#define REKEY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace rekey::crypto::internal {

// Deleter calling OpenSSL's `FreeFn` (all of which accept nullptr).
template <auto FreeFn>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OpenSslDeleter<&EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<&EVP_CIPHER_CTX_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslDeleter<&EVP_MD_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<&EVP_MD_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<&EVP_PKEY_CTX_free>>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, OpenSslDeleter<&EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<&EVP_MAC_CTX_free>>;
using EvpKdfPtr = std::unique_ptr<EVP_KDF, OpenSslDeleter<&EVP_KDF_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslDeleter<&EVP_KDF_CTX_free>>;

// Returns kInternal "<operation>: <reasons from OpenSSL's error queue>" and clears this thread's
// error queue. OpenSSL's reason strings describe the library's state, never the data, so the
// message carries no secret. `operation` names what failed, e.g. "EVP_EncryptInit_ex".
absl::Status OpenSslError(std::string_view operation);

// Drops whatever this thread's OpenSSL error queue holds (after an expected failure, such as a
// tag mismatch, so that it cannot be blamed on a later, unrelated call).
void ClearOpenSslErrors();

}  // namespace rekey::crypto::internal

#endif  // REKEY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_
