// DeviceKeys: the secrets of one audit device: its id, its HMAC key (for fingerprints) and its
// Ed25519 signing key (for checkpoints). They outlive the process (stored by the caller, e.g. in
// the encrypted barrier), since a restarted server continues the device's chain.
#ifndef REKEY_AUDIT_DEVICE_KEYS_H_
#define REKEY_AUDIT_DEVICE_KEYS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/random.h"
#include "core/secret_bytes.h"

namespace rekey::audit {

struct DeviceKeys {
  std::string device_id;    // 32 lower-case hex characters (16 random bytes); not secret
  SecretBytes hmac_key;     // 32 bytes
  SecretBytes signing_key;  // the 32-byte Ed25519 private key (RFC 8032 seed)

  // Fresh keys from `random`.
  static DeviceKeys Generate(Random& random);

  // A self-describing encoding (JSON with base64 keys) for storage, and its inverse.
  // Decode: kInvalidArgument for anything Encode would not produce.
  SecretBytes Encode() const;
  static absl::StatusOr<DeviceKeys> Decode(const SecretBytes& encoded);

  // The raw 32-byte Ed25519 public key. kInvalidArgument if signing_key is malformed.
  absl::StatusOr<std::string> PublicKey() const;
};

// Public key text forms. Base64: the 32 raw bytes in standard base64 (44 characters, as written
// in "open" entries). PEM: a "PUBLIC KEY" (SubjectPublicKeyInfo) block, as `openssl pkey` makes.
std::string PublicKeyToBase64(std::string_view raw);
std::string PublicKeyToPem(std::string_view raw);
// Either form (surrounding whitespace ignored) to the 32 raw bytes; kInvalidArgument otherwise.
absl::StatusOr<std::string> ParsePublicKey(std::string_view text);

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_DEVICE_KEYS_H_
