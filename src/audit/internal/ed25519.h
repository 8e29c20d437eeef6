// Ed25519 signing and verification over OpenSSL's EVP interface, for the audit trail's signed
// checkpoints. The only audit file that calls OpenSSL; its errors become an absl::Status here.
#ifndef REKEY_AUDIT_INTERNAL_ED25519_H_
#define REKEY_AUDIT_INTERNAL_ED25519_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::audit::internal {

inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// A private key. Immutable after Create(); Sign is thread-safe.
class Ed25519Signer {
 public:
  // The key whose 32-byte RFC 8032 seed is `seed`. kInvalidArgument for another size; kInternal
  // on an OpenSSL failure.
  static absl::StatusOr<Ed25519Signer> Create(const SecretBytes& seed);

  Ed25519Signer(Ed25519Signer&&) noexcept;
  Ed25519Signer& operator=(Ed25519Signer&&) noexcept;
  ~Ed25519Signer();

  // The 64-byte signature of `message`. kInternal on an OpenSSL failure.
  absl::StatusOr<std::string> Sign(std::string_view message) const;

  // The raw 32-byte public key.
  const std::string& public_key() const { return public_key_; }

 private:
  struct Key;
  Ed25519Signer(std::unique_ptr<Key> key, std::string public_key);

  std::unique_ptr<Key> key_;
  std::string public_key_;
};

// OK if `signature` is a valid Ed25519 signature of `message` under the raw 32-byte
// `public_key`; kInvalidArgument for a malformed key or signature size; kDataLoss("signature
// does not verify") otherwise. Thread-safe.
absl::Status Ed25519Verify(std::string_view public_key, std::string_view message,
                           std::string_view signature);

}  // namespace rekey::audit::internal

#endif  // REKEY_AUDIT_INTERNAL_ED25519_H_
