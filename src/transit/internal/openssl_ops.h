// The OpenSSL (EVP) primitives transit needs beyond src/crypto: AES-128/256-GCM and
// ChaCha20-Poly1305 with caller-given nonces, SHA-1/SHA-2/SHA-3 digests and HMACs, and
// Ed25519/ECDSA/RSA keys (generate, sign, verify, RSA-OAEP, encode). Internal to src/transit.
// Every OpenSSL failure becomes a Status here; nothing OpenSSL-shaped leaves this file.
#ifndef REKEY_TRANSIT_INTERNAL_OPENSSL_OPS_H_
#define REKEY_TRANSIT_INTERNAL_OPENSSL_OPS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "transit/algorithms.h"
#include "transit/key_type.h"

namespace rekey::transit::internal {

inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;

// Encrypts `plaintext` under the AEAD of `type` (a symmetric type) with `key`
// (SymmetricKeySize(type) bytes) and `nonce` (12 bytes), authenticating `aad`, and appends
// ciphertext ‖ tag to `*out`. The caller never reuses a nonce with a key. kInvalidArgument for a
// wrong key/nonce size; kInternal on an OpenSSL failure.
absl::Status AeadSeal(KeyType type, std::string_view key, std::string_view nonce,
                      std::string_view plaintext, std::string_view aad, std::string* out);

// AeadSeal for many messages under one key: the cipher and key schedule are set up once, each
// Seal only sets the nonce. Not thread-safe (one per thread or per batch).
class AeadSealer {
 public:
  // kInvalidArgument for a wrong key size; kInternal on an OpenSSL failure.
  static absl::StatusOr<AeadSealer> Create(KeyType type, std::string_view key);
  AeadSealer(AeadSealer&&) noexcept;
  AeadSealer& operator=(AeadSealer&&) noexcept;
  ~AeadSealer();

  // As AeadSeal with this sealer's type and key.
  absl::Status Seal(std::string_view nonce, std::string_view plaintext, std::string_view aad,
                    std::string* out);

 private:
  struct Ctx;
  explicit AeadSealer(std::unique_ptr<Ctx> ctx);
  std::unique_ptr<Ctx> ctx_;
};

// Decrypts ciphertext ‖ tag made by AeadSeal. kInvalidArgument "decryption failed" for anything
// that does not authenticate (or is shorter than a tag); no partial plaintext is returned.
absl::StatusOr<SecretBytes> AeadOpen(KeyType type, std::string_view key, std::string_view nonce,
                                     std::string_view ciphertext_and_tag, std::string_view aad);

using ::rekey::transit::DigestSize;
using ::rekey::transit::HashAlgorithm;
using ::rekey::transit::kPssSaltAuto;
using ::rekey::transit::kPssSaltDigest;
using ::rekey::transit::ParseHashAlgorithm;
using ::rekey::transit::RsaPadding;

// kInternal on an OpenSSL failure.
absl::StatusOr<std::string> Digest(HashAlgorithm algorithm, std::string_view data);
// The HMAC of `data` under `key` (any length). Not a secret; compare with ConstantTimeEquals.
absl::StatusOr<std::string> Hmac(HashAlgorithm algorithm, std::string_view key,
                                 std::string_view data);

struct RsaSignOptions {
  HashAlgorithm hash = HashAlgorithm::kSha2_256;
  RsaPadding padding = RsaPadding::kPss;
  int salt_length = kPssSaltAuto;
};

// An Ed25519, ECDSA or RSA private key. Immutable after creation, so one instance may be used
// from any number of threads (each operation makes its own OpenSSL context).
class AsymmetricKey {
 public:
  // A fresh key of `type` (an asymmetric type). kInternal on an OpenSSL failure.
  static absl::StatusOr<std::shared_ptr<const AsymmetricKey>> Generate(KeyType type);
  // An Ed25519 key from its 32-byte seed (RFC 8032 private key).
  static absl::StatusOr<std::shared_ptr<const AsymmetricKey>> FromEd25519Seed(
      std::string_view seed);
  // Parses StoredForm() output for `type`. kDataLoss if it is not a key of that type.
  static absl::StatusOr<std::shared_ptr<const AsymmetricKey>> FromStoredForm(
      KeyType type, const SecretBytes& stored);

  ~AsymmetricKey();
  AsymmetricKey(const AsymmetricKey&) = delete;
  AsymmetricKey& operator=(const AsymmetricKey&) = delete;

  KeyType type() const { return type_; }

  // Ed25519: the 32-byte seed; ECDSA and RSA: PKCS#8 DER.
  absl::StatusOr<SecretBytes> StoredForm() const;
  // Ed25519: the raw 32-byte public key; ECDSA/RSA: DER SubjectPublicKeyInfo.
  absl::StatusOr<std::string> PublicKeyBytes() const;
  // As Vault shows it: Ed25519 base64 of the raw key; ECDSA/RSA PEM "PUBLIC KEY".
  absl::StatusOr<std::string> PublicKeyFormatted() const;
  // As Vault exports it: Ed25519 base64(seed ‖ public key); ECDSA PEM "EC PRIVATE KEY";
  // RSA PEM "RSA PRIVATE KEY".
  absl::StatusOr<SecretBytes> PrivateKeyExport() const;

  // Ed25519: signs `message` (pure Ed25519). ECDSA: signs `message` as an already computed
  // digest, returning a DER signature. RSA: signs `message` as a digest of `rsa.hash`.
  absl::StatusOr<std::string> Sign(std::string_view message, const RsaSignOptions& rsa) const;
  // false for a signature that does not verify, including a malformed one.
  absl::StatusOr<bool> Verify(std::string_view message, std::string_view signature,
                              const RsaSignOptions& rsa) const;

  // RSA-OAEP with SHA-256 (and MGF1-SHA-256), as Vault's rsa-* keys encrypt.
  absl::StatusOr<std::string> RsaOaepEncrypt(std::string_view plaintext) const;
  // kInvalidArgument "decryption failed" for a ciphertext that does not decrypt.
  absl::StatusOr<SecretBytes> RsaOaepDecrypt(std::string_view ciphertext) const;

  // Bytes of each ECDSA signature half (r, s) for the JWS encoding: 32, 48 or 66.
  size_t EcdsaScalarSize() const;

 private:
  struct Impl;
  AsymmetricKey(KeyType type, std::unique_ptr<Impl> impl);
  KeyType type_;
  std::unique_ptr<Impl> impl_;
};

// ECDSA signature encodings: DER (ASN.1 SEQUENCE of r, s) <-> JWS (r ‖ s, each `scalar_size`
// bytes). kInvalidArgument for input that is not a signature.
absl::StatusOr<std::string> EcdsaDerToJws(std::string_view der, size_t scalar_size);
absl::StatusOr<std::string> EcdsaJwsToDer(std::string_view jws);

}  // namespace rekey::transit::internal

#endif  // REKEY_TRANSIT_INTERNAL_OPENSSL_OPS_H_
