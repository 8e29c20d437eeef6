// Keyset: a set of AES-256-GCM keys after Tink's model (random 32-bit ids, one primary), used for
// storage keys, and later transit and JWT keys.
//
// Ciphertext = 0x01 (format version) ‖ key id (4 bytes, big-endian) ‖ nonce (12 random bytes) ‖
// AES-256-GCM ciphertext ‖ tag (16 bytes). Decryption picks the key by id.
#ifndef REKEY_CRYPTO_KEYSET_H_
#define REKEY_CRYPTO_KEYSET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "crypto/aead.h"

namespace rekey::crypto {

enum class KeyStatus { kEnabled, kDisabled, kDestroyed };

// Public facts about one key (never its material).
struct KeyInfo {
  uint32_t id = 0;
  KeyStatus status = KeyStatus::kEnabled;
  bool primary = false;
  absl::Time created;
  // Number of encryptions made with this key since it was created (persisted by Serialize).
  uint64_t encryptions = 0;
};

// Thread-safe. Invariant: exactly one primary key, and it is ENABLED.
class Keyset final : public Aead {
 public:
  // A new keyset with one fresh primary key. `random` and `clock` must outlive the keyset.
  static std::unique_ptr<Keyset> Generate(Random& random, const Clock& clock);
  // Parses the output of Serialize(). kInvalidArgument on malformed input or a broken invariant.
  static absl::StatusOr<std::unique_ptr<Keyset>> Deserialize(const SecretBytes& serialized,
                                                             Random& random, const Clock& clock);
  // All keys, material included (wrap it before storing), and usage counters.
  SecretBytes Serialize() const;

  // Adds a new ENABLED, non-primary key and returns its id.
  uint32_t AddKey();
  // Makes an ENABLED key primary. kNotFound for an unknown id; kFailedPrecondition if not enabled.
  absl::Status Promote(uint32_t id);
  // DISABLED keys neither encrypt nor decrypt; the primary cannot be disabled or destroyed.
  absl::Status Disable(uint32_t id);
  absl::Status Enable(uint32_t id);
  // Wipes the key's material; ciphertexts under it can never be decrypted again.
  absl::Status Destroy(uint32_t id);

  uint32_t primary_id() const;
  std::vector<KeyInfo> Keys() const;

  absl::StatusOr<std::string> Encrypt(std::string_view plaintext, std::string_view aad) override;
  absl::StatusOr<SecretBytes> Decrypt(std::string_view ciphertext, std::string_view aad) override;

  ~Keyset() override;

 private:
  struct Key;
  Keyset(Random& random, const Clock& clock);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_KEYSET_H_
