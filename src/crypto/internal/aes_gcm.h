// AES-256-GCM with a 12-byte nonce and a 16-byte tag, through OpenSSL's EVP interface. The
// building block of Keyset; it takes raw keys and caller-chosen nonces, so it stays internal.
#ifndef REKEY_CRYPTO_INTERNAL_AES_GCM_H_
#define REKEY_CRYPTO_INTERNAL_AES_GCM_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "crypto/internal/openssl_util.h"

namespace rekey::crypto::internal {

inline constexpr size_t kAesGcmKeySize = 32;
inline constexpr size_t kAesGcmNonceSize = 12;
inline constexpr size_t kAesGcmTagSize = 16;

// Holds the AES-256-GCM cipher fetched once from OpenSSL's default provider. Immutable after
// Create(), so one instance may be used from any number of threads; each call makes its own
// EVP_CIPHER_CTX.
class AesGcm256 {
 public:
  // kInternal if the OpenSSL providers loaded offer no AES-256-GCM.
  static absl::StatusOr<AesGcm256> Create();

  // Encrypts `plaintext` under `key` (kAesGcmKeySize bytes) and `nonce` (kAesGcmNonceSize bytes),
  // authenticating the concatenation of `aad_parts`, and appends ciphertext ‖ tag to `*out`.
  // The caller must never reuse a nonce with the same key. kInvalidArgument for a key or nonce of
  // the wrong size; kInternal on an OpenSSL failure (then `*out` is unspecified).
  absl::Status Seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                    std::initializer_list<std::string_view> aad_parts, std::string* out) const;

  // Decrypts `ciphertext_and_tag` as made by Seal with the same key, nonce and AAD.
  // kInvalidArgument "decryption failed" when it does not authenticate (or is shorter than a
  // tag, or key/nonce have the wrong size); kInternal on an OpenSSL failure. No partial plaintext
  // is ever returned.
  absl::StatusOr<SecretBytes> Open(std::string_view key, std::string_view nonce,
                                   std::string_view ciphertext_and_tag,
                                   std::initializer_list<std::string_view> aad_parts) const;

 private:
  explicit AesGcm256(EvpCipherPtr cipher) : cipher_(std::move(cipher)) {}
  EvpCipherPtr cipher_;
};

}  // namespace rekey::crypto::internal

#endif  // REKEY_CRYPTO_INTERNAL_AES_GCM_H_
