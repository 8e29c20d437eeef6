// KeyPolicy: one named transit key (Vault calls it a "policy"): its type, its settings and its
// numbered versions with their material, plus the stored (JSON) form of all that.
#ifndef REKEY_TRANSIT_KEY_POLICY_H_
#define REKEY_TRANSIT_KEY_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "transit/internal/openssl_ops.h"
#include "transit/key_type.h"

namespace rekey::transit {

// Vault's convergent-encryption scheme version 3: the nonce is HMAC-SHA256 over the plaintext
// under a second derived key (see key_ops.h). The only one rekey creates.
inline constexpr int kConvergentVersion = 3;

// Shortest non-zero auto_rotate_period Vault accepts.
inline constexpr absl::Duration kMinAutoRotatePeriod = absl::Hours(1);

// One version of a key. Copyable; copies share the parsed asymmetric key (immutable).
struct KeyVersion {
  uint32_t number = 0;
  absl::Time created;
  // Symmetric types: the raw key (SymmetricKeySize bytes). Ed25519: the 32-byte seed.
  // ECDSA and RSA: PKCS#8 DER.
  SecretBytes key;
  // 32 random bytes for /hmac (every type has one, as in Vault).
  SecretBytes hmac_key;
  // Asymmetric types: the parsed private key. Null for symmetric types.
  std::shared_ptr<const internal::AsymmetricKey> asymmetric;
  // Asymmetric types: the public key as Vault shows it (base64 for Ed25519, PEM otherwise).
  std::string public_key;
};

// Settings a key is created with.
struct KeyCreateOptions {
  KeyType type = KeyType::kAes256Gcm96;
  bool derived = false;
  bool convergent = false;
  bool exportable = false;
  bool allow_plaintext_backup = false;
  absl::Duration auto_rotate_period = absl::ZeroDuration();
};

// A transit key. Plain data: not thread-safe; the service hands out immutable snapshots.
struct KeyPolicy {
  std::string name;
  KeyType type = KeyType::kAes256Gcm96;
  // Derived keys need a `context` on every operation; each context gets its own key via
  // HKDF-SHA256 (Vault's kdf "hkdf_sha256").
  bool derived = false;
  bool convergent = false;  // deterministic encryption (implies derived)
  bool exportable = false;  // once true, never false again
  bool allow_plaintext_backup = false;
  bool deletion_allowed = false;
  uint32_t latest_version = 0;
  uint32_t min_decryption_version = 1;
  uint32_t min_encryption_version = 0;  // 0 = latest
  uint32_t min_available_version = 0;   // versions below it are trimmed (gone); 0 = none
  absl::Duration auto_rotate_period = absl::ZeroDuration();  // zero = off
  std::map<uint32_t, KeyVersion> versions;

  // A new key with version 1. kInvalidArgument for a setting its type does not allow (Vault's
  // messages: derivation of a signing-only type, convergent without derived, a too-short
  // auto_rotate_period). `random` makes symmetric, HMAC and Ed25519 material; ECDSA and RSA
  // keys come from OpenSSL's generator.
  static absl::StatusOr<KeyPolicy> Create(std::string_view name, const KeyCreateOptions& options,
                                          Random& random, const Clock& clock);

  // Adds version latest_version + 1 with fresh material; it becomes the encryption version.
  absl::Status Rotate(Random& random, const Clock& clock);

  // The version used when a caller asks for version 0 ("latest").
  const KeyVersion* Find(uint32_t version) const;
  // When the latest version was created (the last rotation, or the creation of the key).
  absl::Time LastRotated() const;

  // OK when the settings and versions are consistent (versions contiguous from
  // max(1, min_available_version) to latest_version, min versions in range, convergent only with
  // derived, derived only for derivable types); kDataLoss naming what is not.
  absl::Status Validate() const;

  // The stored form: JSON with the material base64-encoded, in wiped memory.
  SecretBytes Serialize() const;
  // kDataLoss for anything that is not a complete, consistent stored key.
  static absl::StatusOr<KeyPolicy> Deserialize(const SecretBytes& stored);
};

// Whether `name` is a valid key name: Vault's `\w(([\w-.]+)?\w)?`, at most 128 bytes.
bool IsValidKeyName(std::string_view name);

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_KEY_POLICY_H_
