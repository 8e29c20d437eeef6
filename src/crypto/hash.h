// Hashes, MACs and key derivation over OpenSSL: SHA-256, HMAC-SHA256 and HKDF-SHA256.
#ifndef REKEY_CRYPTO_HASH_H_
#define REKEY_CRYPTO_HASH_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::crypto {

inline constexpr size_t kSha256Size = 32;

// The raw 32-byte SHA-256 digest of `data`. Aborts if OpenSSL cannot hash (a broken invariant).
std::string Sha256(std::string_view data);

// The SHA-256 digest of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// The raw 32-byte HMAC-SHA256 of `data` under `key` (any length, empty included). kInternal on an
// OpenSSL failure. The result is a MAC, not a secret; compare MACs with ConstantTimeEquals.
absl::StatusOr<std::string> HmacSha256(std::string_view key, std::string_view data);

// HKDF-SHA256 (RFC 5869): `length` bytes derived from `ikm`, `salt` (empty means the RFC's
// all-zero salt) and `info`. kInvalidArgument if `ikm` is empty or `length` is not in
// 1..255*32; kInternal on an OpenSSL failure.
absl::StatusOr<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view salt,
                                       std::string_view info, size_t length);

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_HASH_H_
