// Key wrapping: AES-256-GCM under one raw 32-byte key (the root key), for the storage keyring.
#ifndef REKEY_CRYPTO_KEY_WRAP_H_
#define REKEY_CRYPTO_KEY_WRAP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/random.h"
#include "core/secret_bytes.h"

namespace rekey::crypto {

inline constexpr size_t kWrapKeySize = 32;

// Output = 0x01 ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag (16), with `aad` authenticated.
// kInvalidArgument when `key` is not 32 bytes.
absl::StatusOr<std::string> WrapWithKey(const SecretBytes& key, std::string_view plaintext,
                                        std::string_view aad, Random& random);
// kInvalidArgument "decryption failed" for anything that does not authenticate under `key`.
absl::StatusOr<SecretBytes> UnwrapWithKey(const SecretBytes& key, std::string_view wrapped,
                                          std::string_view aad);

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_KEY_WRAP_H_
