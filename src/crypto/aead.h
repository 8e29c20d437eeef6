// Aead: authenticated encryption with associated data, the interface the storage barrier and
// other consumers encrypt through.
#ifndef REKEY_CRYPTO_AEAD_H_
#define REKEY_CRYPTO_AEAD_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::crypto {

// Thread-safe.
class Aead {
 public:
  virtual ~Aead() = default;
  // Encrypts `plaintext`, binding it to `aad`. Fails only on an internal crypto error.
  virtual absl::StatusOr<std::string> Encrypt(std::string_view plaintext, std::string_view aad) = 0;
  // Decrypts `ciphertext` made by Encrypt with the same `aad`. Any ciphertext that does not
  // authenticate (tampered, truncated, other AAD, unknown or destroyed key) yields
  // kInvalidArgument "decryption failed", which names no key.
  virtual absl::StatusOr<SecretBytes> Decrypt(std::string_view ciphertext,
                                              std::string_view aad) = 0;
};

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_AEAD_H_
