// Transit key types (Vault's names) and what each can do.
#ifndef REKEY_TRANSIT_KEY_TYPE_H_
#define REKEY_TRANSIT_KEY_TYPE_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace rekey::transit {

enum class KeyType {
  kAes128Gcm96,
  kAes256Gcm96,
  kChaCha20Poly1305,
  kEd25519,
  kEcdsaP256,
  kEcdsaP384,
  kEcdsaP521,
  kRsa2048,
  kRsa3072,
  kRsa4096,
};

// "aes256-gcm96", "ecdsa-p256", ... (Vault's spelling).
std::string_view KeyTypeName(KeyType type);
// nullopt for a name Vault's transit does not know or rekey does not implement.
std::optional<KeyType> ParseKeyType(std::string_view name);

bool IsSymmetric(KeyType type);  // the three AEADs
bool IsEcdsa(KeyType type);
bool IsRsa(KeyType type);
bool SupportsEncryption(KeyType type);  // AEADs and RSA (OAEP)
bool SupportsSigning(KeyType type);     // ed25519, ECDSA, RSA
bool SupportsDerivation(KeyType type);  // AEADs and ed25519
// Key bytes of a symmetric type (16 for aes128-gcm96, else 32); 0 for asymmetric types.
size_t SymmetricKeySize(KeyType type);

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_KEY_TYPE_H_
