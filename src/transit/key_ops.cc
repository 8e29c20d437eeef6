#include "transit/key_ops.h"

#include <algorithm>
#include <limits>
#include <variant>

#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"
#include "transit/internal/codec.h"

namespace rekey::transit {
namespace {

using internal::AeadOpen;
using internal::AeadSeal;
using internal::AsymmetricKey;
using internal::kAeadNonceSize;

constexpr std::string_view kPrefix = "vault:v";
constexpr size_t kConvergentHmacKeySize = 32;

absl::Status InvalidCiphertext() { return absl::InvalidArgumentError(ToAbsl(kInvalidCiphertext)); }

// "vault:v<N>:<rest>" split into N and rest. nullopt if the shape is wrong. Version "0" means 1
// (Vault's compatibility with its first releases).
struct Prefixed {
  uint32_t version;
  std::string_view rest;
};
enum class PrefixError { kNoPrefix, kFields, kVersion };
std::variant<Prefixed, PrefixError> SplitPrefixed(std::string_view value) {
  if (!value.starts_with(kPrefix)) return PrefixError::kNoPrefix;
  value.remove_prefix(kPrefix.size());
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return PrefixError::kFields;
  uint32_t version = 0;
  const std::string_view digits = value.substr(0, colon);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(ToAbsl(digits), &version)) {
    return PrefixError::kVersion;
  }
  if (version == 0) version = 1;
  return Prefixed{version, value.substr(colon + 1)};
}

std::string WithPrefix(uint32_t version, std::string_view encoded) {
  return rekey::StrCat(kPrefix, version, ":", encoded);
}

// The key bytes for an operation: the version key itself, or for derived keys HKDF-SHA256 over
// it with the context as info (Vault's Kdf_hkdf_sha256; the ikm of an Ed25519 key is its
// 64-byte Go private key, seed ‖ public key).
absl::StatusOr<SecretBytes> KeyBytes(const KeyPolicy& key, const KeyVersion& v,
                                     std::string_view context, size_t length) {
  if (!key.derived) return v.key;
  if (context.empty()) return absl::InvalidArgumentError(ToAbsl(kMissingContext));
  if (key.type == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(std::string pub, v.asymmetric->PublicKeyBytes());
    std::string ikm_text = rekey::StrCat(v.key.Reveal(), pub);
    SecretBytes ikm = SecretBytes::TakeFrom(ikm_text);
    return crypto::HkdfSha256(ikm, "", context, length);
  }
  return crypto::HkdfSha256(v.key, "", context, length);
}

// The signing key of a version: its own, or for derived Ed25519 keys the one derived from
// `context`.
absl::StatusOr<std::shared_ptr<const AsymmetricKey>> SigningKey(const KeyPolicy& key,
                                                                const KeyVersion& v,
                                                                std::string_view context) {
  if (!(key.derived && key.type == KeyType::kEd25519)) return v.asymmetric;
  ASSIGN_OR_RETURN(SecretBytes seed, KeyBytes(key, v, context, 32));
  return AsymmetricKey::FromEd25519Seed(seed.Reveal());
}

internal::RsaSignOptions RsaOptions(const SignParams& params) {
  internal::RsaSignOptions o;
  o.hash = params.hash;
  o.padding = params.rsa_padding;
  o.salt_length = params.salt_length;
  return o;
}

// What ECDSA and RSA sign: the digest of the input, or the input if it is one already.
absl::StatusOr<std::string> SigningInput(const KeyPolicy& key, std::string_view input,
                                         const SignParams& params) {
  if (key.type == KeyType::kEd25519) {
    if (params.prehashed) {
      return absl::InvalidArgumentError("prehashed input is not supported for ed25519 keys");
    }
    return std::string(input);
  }
  if (params.prehashed) {
    if (IsRsa(key.type) && input.size() != internal::DigestSize(params.hash)) {
      return absl::InvalidArgumentError(
          "prehashed input must be a digest of the size of the hash algorithm");
    }
    return std::string(input);
  }
  return internal::Digest(params.hash, input);
}

}  // namespace

std::optional<uint32_t> PrefixVersion(std::string_view value) {
  auto split = SplitPrefixed(value);
  if (auto* p = std::get_if<Prefixed>(&split)) return p->version;
  return std::nullopt;
}

absl::StatusOr<uint32_t> ResolveEncryptionVersion(const KeyPolicy& key, uint32_t requested) {
  if (requested == 0) return key.latest_version;
  if (requested > key.latest_version) {
    return absl::InvalidArgumentError(
        "requested version for encryption is higher than the latest key version");
  }
  if (requested < key.min_encryption_version) {
    return absl::InvalidArgumentError(
        "requested version for encryption is less than the minimum encryption key version");
  }
  if (key.Find(requested) == nullptr) return absl::InvalidArgumentError("no such key version");
  return requested;
}

absl::StatusOr<Ciphertext> Encrypt(const KeyPolicy& key, uint32_t version,
                                   std::string_view plaintext, const EncryptParams& params,
                                   Random& random) {
  EncryptSession session(key, random, 1);
  return session.Encrypt(version, plaintext, params);
}

EncryptSession::EncryptSession(const KeyPolicy& key, Random& random, size_t items)
    : key_(key), random_(random), batch_(std::clamp<size_t>(items, 1, 1024)) {}

EncryptSession::~EncryptSession() = default;

std::string_view EncryptSession::NextNonce() {
  if (next_nonce_ + kAeadNonceSize > nonces_.size()) {
    nonces_.assign(batch_ * kAeadNonceSize, '\0');
    random_.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(nonces_.data()), nonces_.size()));
    next_nonce_ = 0;
  }
  const std::string_view nonce = std::string_view(nonces_).substr(next_nonce_, kAeadNonceSize);
  next_nonce_ += kAeadNonceSize;
  return nonce;
}

absl::StatusOr<Ciphertext> EncryptSession::Encrypt(uint32_t version, std::string_view plaintext,
                                                   const EncryptParams& params) {
  const KeyPolicy& key = key_;
  if (!SupportsEncryption(key.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("message encryption not supported for key type ", KeyTypeName(key.type)));
  }
  if (!params.nonce.empty()) {
    return absl::InvalidArgumentError("provided nonce not allowed for this key");
  }
  const KeyVersion* v = key.Find(version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  std::string raw;
  if (IsRsa(key.type)) {
    if (!params.associated_data.empty()) {
      return absl::InvalidArgumentError(rekey::StrCat(
          "'associated_data' provided for non-AEAD cipher suite ", KeyTypeName(key.type)));
    }
    ASSIGN_OR_RETURN(raw, v->asymmetric->RsaOaepEncrypt(plaintext));
  } else if (!key.derived) {
    // The common case: the version key itself, a random nonce, a cached key schedule.
    auto it = sealers_.find(version);
    if (it == sealers_.end()) {
      ASSIGN_OR_RETURN(internal::AeadSealer sealer,
                       internal::AeadSealer::Create(key.type, v->key.Reveal()));
      it = sealers_.emplace(version, std::move(sealer)).first;
    }
    const std::string_view nonce = NextNonce();
    raw.reserve(kAeadNonceSize + plaintext.size() + internal::kAeadTagSize);
    raw.assign(nonce);
    RETURN_IF_ERROR(it->second.Seal(nonce, plaintext, params.associated_data, &raw));
  } else {
    const size_t enc_size = SymmetricKeySize(key.type);
    const size_t derive_size = key.convergent ? enc_size + kConvergentHmacKeySize : enc_size;
    ASSIGN_OR_RETURN(SecretBytes material, KeyBytes(key, *v, params.context, derive_size));
    if (material.size() < enc_size) return absl::InternalError("derived key too short");
    const std::string_view enc_key = material.Reveal().substr(0, enc_size);
    std::string nonce;
    if (key.convergent) {
      // Convergent version 3: the nonce is HMAC-SHA256(second derived key, plaintext)[:12].
      ASSIGN_OR_RETURN(
          std::string mac,
          internal::Hmac(HashAlgorithm::kSha2_256, material.Reveal().substr(enc_size), plaintext));
      nonce = mac.substr(0, kAeadNonceSize);
    } else {
      nonce = NextNonce();
    }
    raw.reserve(kAeadNonceSize + plaintext.size() + internal::kAeadTagSize);
    raw = nonce;
    RETURN_IF_ERROR(AeadSeal(key.type, enc_key, nonce, plaintext, params.associated_data, &raw));
  }
  std::string text = WithPrefix(version, "");
  Base64EncodeAppend(raw, &text);
  return Ciphertext{std::move(text), version};
}

absl::StatusOr<SecretBytes> Decrypt(const KeyPolicy& key, std::string_view ciphertext,
                                    const DecryptParams& params, uint32_t* version_out) {
  if (!SupportsEncryption(key.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("message decryption not supported for key type ", KeyTypeName(key.type)));
  }
  auto split = SplitPrefixed(ciphertext);
  const Prefixed* p = std::get_if<Prefixed>(&split);
  if (p == nullptr || p->version > key.latest_version) return InvalidCiphertext();
  if (p->version < key.min_decryption_version) return absl::InvalidArgumentError(ToAbsl(kTooOld));
  if (!params.nonce.empty()) {
    return absl::InvalidArgumentError("provided nonce not allowed for this key");
  }
  const KeyVersion* v = key.Find(p->version);
  if (v == nullptr) return InvalidCiphertext();
  std::optional<std::string> raw = internal::Base64Decode(p->rest);
  if (!raw.has_value()) return InvalidCiphertext();
  if (IsRsa(key.type)) {
    if (!params.associated_data.empty()) {
      return absl::InvalidArgumentError(rekey::StrCat(
          "'associated_data' provided for non-AEAD cipher suite ", KeyTypeName(key.type)));
    }
    absl::StatusOr<SecretBytes> plain = v->asymmetric->RsaOaepDecrypt(*raw);
    if (!plain.ok() && plain.status().code() == absl::StatusCode::kInvalidArgument) {
      return InvalidCiphertext();
    }
    if (plain.ok() && version_out != nullptr) *version_out = p->version;
    return plain;
  }
  if (raw->size() < kAeadNonceSize + internal::kAeadTagSize) return InvalidCiphertext();
  ASSIGN_OR_RETURN(SecretBytes enc_key,
                   KeyBytes(key, *v, params.context, SymmetricKeySize(key.type)));
  const std::string_view nonce = std::string_view(*raw).substr(0, kAeadNonceSize);
  const std::string_view sealed = std::string_view(*raw).substr(kAeadNonceSize);
  absl::StatusOr<SecretBytes> plain =
      AeadOpen(key.type, enc_key.Reveal(), nonce, sealed, params.associated_data);
  if (!plain.ok()) {
    if (plain.status().code() == absl::StatusCode::kInvalidArgument) return InvalidCiphertext();
    return plain.status();
  }
  if (version_out != nullptr) *version_out = p->version;
  return plain;
}

absl::StatusOr<std::string> ComputeHmac(const KeyPolicy& key, uint32_t key_version,
                                        HashAlgorithm algorithm, std::string_view input) {
  const uint32_t version = key_version == 0 ? key.latest_version : key_version;
  if (version > key.latest_version) {
    return absl::InvalidArgumentError(
        rekey::StrCat("key version does not exist; latest key version is ", key.latest_version));
  }
  if (key.min_encryption_version > 0 && version < key.min_encryption_version) {
    return absl::InvalidArgumentError(
        "cannot generate HMAC: version is too old (disallowed by policy)");
  }
  const KeyVersion* v = key.Find(version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  ASSIGN_OR_RETURN(std::string mac, internal::Hmac(algorithm, v->hmac_key.Reveal(), input));
  return WithPrefix(version, internal::Base64Encode(mac));
}

absl::StatusOr<bool> VerifyHmac(const KeyPolicy& key, HashAlgorithm algorithm,
                                std::string_view input, std::string_view hmac) {
  auto split = SplitPrefixed(hmac);
  if (auto* err = std::get_if<PrefixError>(&split)) {
    switch (*err) {
      case PrefixError::kNoPrefix:
        return absl::InvalidArgumentError("invalid HMAC to verify: no prefix");
      case PrefixError::kFields:
        return absl::InvalidArgumentError("invalid HMAC: wrong number of fields");
      case PrefixError::kVersion:
        return absl::InvalidArgumentError("invalid HMAC: version number could not be decoded");
    }
  }
  const Prefixed& p = std::get<Prefixed>(split);
  std::optional<std::string> given = internal::Base64Decode(p.rest);
  if (!given.has_value()) {
    return absl::InvalidArgumentError("unable to decode verification HMAC as base64");
  }
  if (p.version > key.latest_version) {
    return absl::InvalidArgumentError("invalid HMAC: version is too new");
  }
  if (p.version < key.min_decryption_version) {
    return absl::InvalidArgumentError(
        "cannot verify HMAC: version is too old (disallowed by policy)");
  }
  const KeyVersion* v = key.Find(p.version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  ASSIGN_OR_RETURN(std::string mac, internal::Hmac(algorithm, v->hmac_key.Reveal(), input));
  return ConstantTimeEquals(mac, *given);
}

absl::StatusOr<Signature> Sign(const KeyPolicy& key, std::string_view input,
                               const SignParams& params) {
  if (!SupportsSigning(key.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("key type ", KeyTypeName(key.type), " does not support signing"));
  }
  uint32_t version = params.key_version;
  if (version == 0) {
    version = key.latest_version;
  } else if (version > key.latest_version) {
    return absl::InvalidArgumentError(
        "requested version for signing is higher than the latest key version");
  } else if (key.min_encryption_version > 0 && version < key.min_encryption_version) {
    return absl::InvalidArgumentError(
        "requested version for signing is less than the minimum encryption key version");
  }
  const KeyVersion* v = key.Find(version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  ASSIGN_OR_RETURN(std::shared_ptr<const AsymmetricKey> signer,
                   SigningKey(key, *v, params.context));
  ASSIGN_OR_RETURN(std::string message, SigningInput(key, input, params));
  ASSIGN_OR_RETURN(std::string sig, signer->Sign(message, RsaOptions(params)));
  Signature out;
  out.version = version;
  if (params.marshaling == Marshaling::kJws) {
    if (IsEcdsa(key.type)) {
      ASSIGN_OR_RETURN(sig, internal::EcdsaDerToJws(sig, signer->EcdsaScalarSize()));
    }
    out.text = WithPrefix(version, internal::Base64UrlEncode(sig));
  } else {
    out.text = WithPrefix(version, internal::Base64Encode(sig));
  }
  if (key.derived && key.type == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(out.public_key, signer->PublicKeyFormatted());
  }
  return out;
}

absl::StatusOr<bool> Verify(const KeyPolicy& key, std::string_view input,
                            std::string_view signature, const SignParams& params) {
  if (!SupportsSigning(key.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("message verification not supported for key type ", KeyTypeName(key.type)));
  }
  auto split = SplitPrefixed(signature);
  if (auto* err = std::get_if<PrefixError>(&split)) {
    switch (*err) {
      case PrefixError::kNoPrefix:
        return absl::InvalidArgumentError("invalid signature: no prefix");
      case PrefixError::kFields:
        return absl::InvalidArgumentError("invalid signature: wrong number of fields");
      case PrefixError::kVersion:
        return absl::InvalidArgumentError("invalid signature: version number could not be decoded");
    }
  }
  const Prefixed& p = std::get<Prefixed>(split);
  if (p.version > key.latest_version) {
    return absl::InvalidArgumentError("invalid signature: version is too new");
  }
  if (p.version < key.min_decryption_version) return absl::InvalidArgumentError(ToAbsl(kTooOld));
  std::optional<std::string> sig = params.marshaling == Marshaling::kJws
                                       ? internal::Base64UrlDecode(p.rest)
                                       : internal::Base64Decode(p.rest);
  if (!sig.has_value()) return absl::InvalidArgumentError("invalid base64 signature value");
  const KeyVersion* v = key.Find(p.version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  ASSIGN_OR_RETURN(std::shared_ptr<const AsymmetricKey> signer,
                   SigningKey(key, *v, params.context));
  ASSIGN_OR_RETURN(std::string message, SigningInput(key, input, params));
  if (IsEcdsa(key.type) && params.marshaling == Marshaling::kJws) {
    absl::StatusOr<std::string> der = internal::EcdsaJwsToDer(*sig);
    if (!der.ok()) return false;
    *sig = *std::move(der);
  }
  return signer->Verify(message, *sig, RsaOptions(params));
}

absl::StatusOr<std::string> HashData(HashAlgorithm algorithm, std::string_view data) {
  return internal::Digest(algorithm, data);
}

absl::StatusOr<std::string> DerivedEd25519PublicKey(const KeyPolicy& key, uint32_t version,
                                                    std::string_view context) {
  const KeyVersion* v = key.Find(version);
  if (v == nullptr) return absl::InvalidArgumentError("no such key version");
  ASSIGN_OR_RETURN(std::shared_ptr<const AsymmetricKey> signer, SigningKey(key, *v, context));
  return signer->PublicKeyFormatted();
}

}  // namespace rekey::transit
