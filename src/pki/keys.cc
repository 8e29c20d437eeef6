// Key generation and PEM encoding for the supported key types.
#include "pki/keys.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

#include "core/strings.h"

namespace rekey::pki {
namespace {

using internal::BioPtr;
using internal::OpenSslError;

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "ec-p256";
    case KeyType::kEcP384:
      return "ec-p384";
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa3072:
      return "rsa-3072";
    case KeyType::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

absl::StatusOr<KeyType> ParseKeyType(std::string_view name) {
  for (KeyType t : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048, KeyType::kRsa3072,
                    KeyType::kEd25519}) {
    if (KeyTypeName(t) == name) return t;
  }
  return absl::InvalidArgumentError(
      "key type must be one of ec-p256, ec-p384, rsa-2048, rsa-3072, ed25519");
}

absl::StatusOr<KeyType> KeyTypeFromVault(std::string_view key_type, int key_bits) {
  if (key_type == "ec") {
    if (key_bits == 0 || key_bits == 256) return KeyType::kEcP256;
    if (key_bits == 384) return KeyType::kEcP384;
    return absl::InvalidArgumentError("key_bits for key_type ec must be 256 or 384");
  }
  if (key_type == "rsa") {
    if (key_bits == 0 || key_bits == 2048) return KeyType::kRsa2048;
    if (key_bits == 3072) return KeyType::kRsa3072;
    return absl::InvalidArgumentError("key_bits for key_type rsa must be 2048 or 3072");
  }
  if (key_type == "ed25519") {
    if (key_bits == 0) return KeyType::kEd25519;
    return absl::InvalidArgumentError("key_bits for key_type ed25519 must be 0 or absent");
  }
  // Accept rekey's own names too ("ec-p384"), when no conflicting key_bits is given.
  if (absl::StatusOr<KeyType> t = ParseKeyType(key_type); t.ok()) {
    if (key_bits == 0 || key_bits == KeyBits(*t)) return *t;
    return absl::InvalidArgumentError(
        rekey::StrCat("key_bits ", key_bits, " contradicts key_type ", key_type));
  }
  return absl::InvalidArgumentError("key_type must be ec, rsa or ed25519");
}

std::string_view VaultKeyType(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
    case KeyType::kEcP384:
      return "ec";
    case KeyType::kRsa2048:
    case KeyType::kRsa3072:
      return "rsa";
    case KeyType::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

int KeyBits(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return 256;
    case KeyType::kEcP384:
      return 384;
    case KeyType::kRsa2048:
      return 2048;
    case KeyType::kRsa3072:
      return 3072;
    case KeyType::kEd25519:
      return 0;
  }
  return 0;
}

const EVP_MD* SigningDigestFor(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return nullptr;
  if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) >= 384) return EVP_sha384();
  return EVP_sha256();
}

absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
    case KeyType::kRsa3072:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(3072));
      break;
    case KeyType::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (key == nullptr)
    return OpenSslError(rekey::StrCat("generating a ", KeyTypeName(type), " key"));
  return EvpPkeyPtr(key);
}

absl::StatusOr<KeyType> KeyTypeOf(const EVP_PKEY* key) {
  if (key == nullptr) return absl::InvalidArgumentError("no key");
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::kEd25519;
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits == 2048) return KeyType::kRsa2048;
    if (bits == 3072) return KeyType::kRsa3072;
    return absl::InvalidArgumentError(
        rekey::StrCat("RSA keys must have 2048 or 3072 bits, not ", bits));
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
      internal::ClearOpenSslErrors();
      return absl::InvalidArgumentError("EC key without a named curve");
    }
    const std::string_view g(group, len);
    if (g == "prime256v1" || g == "P-256" || g == "secp256r1") return KeyType::kEcP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::kEcP384;
    return absl::InvalidArgumentError(rekey::StrCat("EC keys must be on P-256 or P-384, not ", g));
  }
  return absl::InvalidArgumentError("unsupported key algorithm (use EC, RSA or Ed25519)");
}

absl::StatusOr<SecretBytes> PrivateKeyToPem(const EVP_PKEY* key) {
  BioPtr bio = internal::NewSecretBio();
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  return internal::TakeSecretBioContents(bio.get());
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(const SecretBytes& pem) {
  BioPtr bio = internal::MemBio(pem.Reveal());
  // An empty passphrase callback: an encrypted key fails instead of prompting on a terminal.
  EVP_PKEY* key = PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  if (key == nullptr) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not an unencrypted PEM private key");
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<std::string> PublicKeyToPem(const EVP_PKEY* key) {
  BioPtr bio = internal::NewMemBio();
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) return OpenSslError("PEM_write_bio_PUBKEY");
  return internal::BioContents(bio.get());
}

bool SamePublicKey(const EVP_PKEY* a, const EVP_PKEY* b) {
  if (a == nullptr || b == nullptr) return false;
  const int r = EVP_PKEY_eq(a, b);
  internal::ClearOpenSslErrors();
  return r == 1;
}

}  // namespace rekey::pki
