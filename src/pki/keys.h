// Key pairs for certificates: the supported key types, generation, and PEM encoding of private
// keys (always held in SecretBytes).
#ifndef REKEY_PKI_KEYS_H_
#define REKEY_PKI_KEYS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "pki/internal/openssl.h"

namespace rekey::pki {

using internal::EvpPkeyPtr;

// The key types rekey issues and accepts.
enum class KeyType { kEcP256, kEcP384, kRsa2048, kRsa3072, kEd25519 };

// "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "ed25519".
std::string_view KeyTypeName(KeyType type);
// The inverse of KeyTypeName; kInvalidArgument for any other text.
absl::StatusOr<KeyType> ParseKeyType(std::string_view name);

// Vault's (key_type, key_bits) pair: "ec" with 0 (= 256), 256 or 384; "rsa" with 0 (= 2048), 2048
// or 3072; "ed25519" with 0. kInvalidArgument naming what is wrong otherwise.
absl::StatusOr<KeyType> KeyTypeFromVault(std::string_view key_type, int key_bits);
// "ec", "rsa" or "ed25519" (Vault's key_type and private_key_type).
std::string_view VaultKeyType(KeyType type);
// 256, 384, 2048, 3072, or 0 for ed25519 (Vault's key_bits).
int KeyBits(KeyType type);

// The digest to sign certificates, CSRs and CRLs with `key`: nullptr (built in) for EdDSA,
// SHA-384 for EC keys of 384 bits or more, SHA-256 otherwise.
const EVP_MD* SigningDigestFor(const EVP_PKEY* key);

// A fresh key pair from OpenSSL's CSPRNG. kInternal when OpenSSL fails.
absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type);

// The type of `key`; kInvalidArgument for anything not in KeyType (e.g. RSA-1024, secp256k1).
absl::StatusOr<KeyType> KeyTypeOf(const EVP_PKEY* key);

// `key`'s private half as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). The intermediate buffers are
// zeroed.
absl::StatusOr<SecretBytes> PrivateKeyToPem(const EVP_PKEY* key);
// Parses an unencrypted private key in PEM (PKCS#8, or the traditional RSA / EC forms).
// kInvalidArgument when it is not one; the message never quotes the input.
absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(const SecretBytes& pem);
// The public half as SubjectPublicKeyInfo PEM.
absl::StatusOr<std::string> PublicKeyToPem(const EVP_PKEY* key);

// True when `a` and `b` hold the same public key (e.g. a certificate's and a private key's).
bool SamePublicKey(const EVP_PKEY* a, const EVP_PKEY* b);

}  // namespace rekey::pki

#endif  // REKEY_PKI_KEYS_H_
