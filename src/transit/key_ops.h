// The cryptographic operations on one transit key snapshot, exactly as Vault's transit performs
// them: ciphertexts "vault:v<N>:<base64(nonce ‖ ciphertext ‖ tag)>", context-derived keys
// (HKDF-SHA256 over the version key, no salt, info = context), convergent nonces (version 3),
// HMACs "vault:v<N>:<base64>" and signatures "vault:v<N>:<base64>". Pure functions of their
// inputs (plus randomness); thread-safe.
#ifndef REKEY_TRANSIT_KEY_OPS_H_
#define REKEY_TRANSIT_KEY_OPS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "transit/internal/openssl_ops.h"
#include "transit/key_policy.h"

namespace rekey::transit {

// The one error for every ciphertext that is malformed, truncated, tampered with, or made under
// another key or context (kInvalidArgument). It names no key and no version.
inline constexpr std::string_view kInvalidCiphertext = "cipher: message authentication failed";
// Vault's refusal of a ciphertext or signature below min_decryption_version (kInvalidArgument).
inline constexpr std::string_view kTooOld =
    "ciphertext or signature version is disallowed by policy (too old)";
// Vault's error for a derived key used without a context (kInvalidArgument).
inline constexpr std::string_view kMissingContext =
    "missing 'context' for key derivation; the key was created using a derived key, which means "
    "additional, per-request information must be included in order to perform operations with "
    "the key";

// Per-item inputs of encrypt, rewrap and datakey. Views must outlive the call.
struct EncryptParams {
  uint32_t key_version = 0;  // 0 = latest
  std::string_view context;  // decoded; required for derived keys
  std::string_view nonce;    // decoded; rekey keys never accept one (Vault: convergent v1 only)
  std::string_view associated_data;  // decoded; AEAD types only
};

struct DecryptParams {
  std::string_view context;
  std::string_view nonce;
  std::string_view associated_data;
};

struct Ciphertext {
  std::string text;  // "vault:v<N>:..."
  uint32_t version = 0;
};

// The version an encryption with `requested` (0 = latest) uses, or Vault's error for a version
// that is too new, below min_encryption_version, or trimmed (kInvalidArgument).
absl::StatusOr<uint32_t> ResolveEncryptionVersion(const KeyPolicy& key, uint32_t requested);

// Encrypts under version `version` (already resolved). kInvalidArgument for a user error (missing
// context, a nonce, associated data on RSA, plaintext too long for RSA); kInternal otherwise.
absl::StatusOr<Ciphertext> Encrypt(const KeyPolicy& key, uint32_t version,
                                   std::string_view plaintext, const EncryptParams& params,
                                   Random& random);

// Encrypt for many items under one key snapshot, as one request's batch does: each version's
// key schedule is set up once (non-derived AEAD keys) and nonces are drawn from `random` in
// bulk. Same results and errors as Encrypt. Not thread-safe; `key` and `random` must outlive it.
class EncryptSession {
 public:
  // `items` is how many encryptions to draw nonces for at once (a hint; more are fine).
  EncryptSession(const KeyPolicy& key, Random& random, size_t items);
  ~EncryptSession();

  absl::StatusOr<Ciphertext> Encrypt(uint32_t version, std::string_view plaintext,
                                     const EncryptParams& params);

 private:
  // The next random nonce from the pool (refilled when used up).
  std::string_view NextNonce();

  const KeyPolicy& key_;
  Random& random_;
  size_t batch_;
  std::string nonces_;  // pool of 12-byte nonces; not secret, but never reused
  size_t next_nonce_ = 0;
  std::map<uint32_t, internal::AeadSealer> sealers_;
};

// Decrypts `ciphertext`. On success `*version` (if non-null) is the version it was made under.
// kInvalidArgument with kInvalidCiphertext for anything that does not decrypt, kTooOld below
// min_decryption_version, kMissingContext for a derived key without context.
absl::StatusOr<SecretBytes> Decrypt(const KeyPolicy& key, std::string_view ciphertext,
                                    const DecryptParams& params, uint32_t* version = nullptr);

// The version number in a "vault:v<N>:..." value, or nullopt if it has no such prefix.
std::optional<uint32_t> PrefixVersion(std::string_view value);

// HMAC of `input` under version `key_version` (0 = latest) of the key's HMAC key:
// "vault:v<N>:<base64>". Vault's errors for a version too new or below min_encryption_version.
absl::StatusOr<std::string> ComputeHmac(const KeyPolicy& key, uint32_t key_version,
                                        HashAlgorithm algorithm, std::string_view input);
// Whether `hmac` ("vault:v<N>:<base64>") is the HMAC of `input`. Vault's errors for a malformed
// value, a version too new, or one below min_decryption_version.
absl::StatusOr<bool> VerifyHmac(const KeyPolicy& key, HashAlgorithm algorithm,
                                std::string_view input, std::string_view hmac);

enum class Marshaling { kAsn1, kJws };

struct SignParams {
  uint32_t key_version = 0;  // 0 = latest
  std::string_view context;  // derived Ed25519 keys
  HashAlgorithm hash = HashAlgorithm::kSha2_256;
  bool prehashed = false;  // ECDSA/RSA: `input` is already the digest
  RsaPadding rsa_padding = RsaPadding::kPss;
  int salt_length = kPssSaltAuto;
  Marshaling marshaling = Marshaling::kAsn1;
};

struct Signature {
  std::string text;  // "vault:v<N>:<base64>" (base64url without padding for JWS)
  uint32_t version = 0;
  std::string public_key;  // derived Ed25519 only: base64 of the derived public key
};

// Signs `input` with a signing key. kInvalidArgument for a user error (Vault's texts).
absl::StatusOr<Signature> Sign(const KeyPolicy& key, std::string_view input,
                               const SignParams& params);
// Whether `signature` is a valid signature of `input`; false for one that does not verify.
// kInvalidArgument for a malformed value or a version Vault would refuse (kTooOld below
// min_decryption_version).
absl::StatusOr<bool> Verify(const KeyPolicy& key, std::string_view input,
                            std::string_view signature, const SignParams& params);

// The digest of `data` (transit/hash). kInternal on an OpenSSL failure.
absl::StatusOr<std::string> HashData(HashAlgorithm algorithm, std::string_view data);

// For a derived Ed25519 key: the base64 public key of version `version` under `context`.
absl::StatusOr<std::string> DerivedEd25519PublicKey(const KeyPolicy& key, uint32_t version,
                                                    std::string_view context);

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_KEY_OPS_H_
