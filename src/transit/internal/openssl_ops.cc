// Transit's OpenSSL primitives over EVP (ciphers, digests, MACs, keys, encoders).
#include "transit/internal/openssl_ops.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/escaping.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/internal/openssl_util.h"

namespace rekey::transit::internal {
namespace {

using crypto::internal::ClearOpenSslErrors;
using crypto::internal::EvpCipherCtxPtr;
using crypto::internal::EvpMacCtxPtr;
using crypto::internal::EvpMacPtr;
using crypto::internal::EvpMdCtxPtr;
using crypto::internal::EvpPkeyCtxPtr;
using crypto::internal::EvpPkeyPtr;
using crypto::internal::OpenSslDeleter;
using crypto::internal::OpenSslError;

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<&BIO_free_all>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<&ECDSA_SIG_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<&BN_free>>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, OpenSslDeleter<&OSSL_ENCODER_CTX_free>>;

// EVP takes int lengths; larger inputs are fed in chunks of this size.
constexpr size_t kMaxChunk = size_t{1} << 30;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status DecryptionFailed() { return absl::InvalidArgumentError("decryption failed"); }

// The cipher of a symmetric type, fetched once (immutable afterwards; never freed).
absl::StatusOr<const EVP_CIPHER*> CipherFor(KeyType type) {
  static const EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static const EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static const EVP_CIPHER* const chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  const EVP_CIPHER* cipher = nullptr;
  switch (type) {
    case KeyType::kAes128Gcm96:
      cipher = aes128;
      break;
    case KeyType::kAes256Gcm96:
      cipher = aes256;
      break;
    case KeyType::kChaCha20Poly1305:
      cipher = chacha;
      break;
    default:
      return absl::InternalError("not a symmetric key type");
  }
  if (cipher == nullptr) return OpenSslError("EVP_CIPHER_fetch");
  return cipher;
}

template <typename UpdateFn>
absl::Status Feed(EVP_CIPHER_CTX* ctx, std::string_view in, unsigned char* out, UpdateFn update) {
  while (!in.empty()) {
    const size_t n = std::min(in.size(), kMaxChunk);
    int out_len = 0;
    if (update(ctx, out, &out_len, Bytes(in), static_cast<int>(n)) != 1) {
      return OpenSslError("AEAD update");
    }
    if (out != nullptr) {
      if (static_cast<size_t>(out_len) != n) return OpenSslError("AEAD update length");
      out += n;
    }
    in.remove_prefix(n);
  }
  return absl::OkStatus();
}

const char* DigestName(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::kSha1:
      return "SHA1";
    case HashAlgorithm::kSha2_224:
      return "SHA2-224";
    case HashAlgorithm::kSha2_256:
      return "SHA2-256";
    case HashAlgorithm::kSha2_384:
      return "SHA2-384";
    case HashAlgorithm::kSha2_512:
      return "SHA2-512";
    case HashAlgorithm::kSha3_224:
      return "SHA3-224";
    case HashAlgorithm::kSha3_256:
      return "SHA3-256";
    case HashAlgorithm::kSha3_384:
      return "SHA3-384";
    case HashAlgorithm::kSha3_512:
      return "SHA3-512";
  }
  return "SHA2-256";
}

// The digest of an algorithm, fetched once per algorithm (immutable; never freed).
absl::StatusOr<const EVP_MD*> MdFor(HashAlgorithm a) {
  static const std::array<const EVP_MD*, 9> mds = [] {
    std::array<const EVP_MD*, 9> out{};
    for (int i = 0; i < 9; ++i) {
      out[i] = EVP_MD_fetch(nullptr, DigestName(static_cast<HashAlgorithm>(i)), nullptr);
    }
    return out;
  }();
  const EVP_MD* md = mds[static_cast<int>(a)];
  if (md == nullptr) return OpenSslError(rekey::StrCat("EVP_MD_fetch(", DigestName(a), ")"));
  return md;
}

// Reads everything written to a memory BIO.
std::string_view BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string_view(data, static_cast<size_t>(len));
}

// A BIO whose buffer is wiped when freed, for private key material.
BioPtr SecretBio() { return BioPtr(BIO_new(BIO_s_secmem())); }

const char* CurveFor(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return "P-256";
    case KeyType::kEcdsaP384:
      return "P-384";
    case KeyType::kEcdsaP521:
      return "P-521";
    default:
      return nullptr;
  }
}

size_t RsaBits(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048:
      return 2048;
    case KeyType::kRsa3072:
      return 3072;
    case KeyType::kRsa4096:
      return 4096;
    default:
      return 0;
  }
}

// Whether `pkey` is a key of `type` (algorithm, curve or modulus size).
bool MatchesType(EVP_PKEY* pkey, KeyType type) {
  if (type == KeyType::kEd25519) return EVP_PKEY_is_a(pkey, "ED25519") == 1;
  if (IsEcdsa(type)) {
    if (EVP_PKEY_is_a(pkey, "EC") != 1) return false;
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) return false;
    const std::string_view name(group, len);
    // OpenSSL names the curves prime256v1 / secp384r1 / secp521r1.
    switch (type) {
      case KeyType::kEcdsaP256:
        return name == "prime256v1" || name == "P-256";
      case KeyType::kEcdsaP384:
        return name == "secp384r1" || name == "P-384";
      default:
        return name == "secp521r1" || name == "P-521";
    }
  }
  if (IsRsa(type)) {
    return EVP_PKEY_is_a(pkey, "RSA") == 1 &&
           static_cast<size_t>(EVP_PKEY_get_bits(pkey)) == RsaBits(type);
  }
  return false;
}

}  // namespace

// --- AEAD -----------------------------------------------------------------------------------

namespace {

// Encrypts with a context whose cipher and key are set: nonce, aad, plaintext, tag.
absl::Status SealWith(EVP_CIPHER_CTX* ctx, std::string_view nonce, std::string_view plaintext,
                      std::string_view aad, std::string* out) {
  if (nonce.size() != kAeadNonceSize) return absl::InvalidArgumentError("bad nonce size");
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, Bytes(nonce), nullptr) != 1) {
    return OpenSslError("EVP_EncryptInit_ex2");
  }
  RETURN_IF_ERROR(Feed(ctx, aad, nullptr, EVP_EncryptUpdate));
  const size_t start = out->size();
  out->resize(start + plaintext.size() + kAeadTagSize);
  auto* dest = reinterpret_cast<unsigned char*>(out->data()) + start;
  RETURN_IF_ERROR(Feed(ctx, plaintext, dest, EVP_EncryptUpdate));
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx, dest + plaintext.size(), &final_len) != 1 || final_len != 0) {
    return OpenSslError("EVP_EncryptFinal_ex");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagSize),
                          dest + plaintext.size()) != 1) {
    return OpenSslError("EVP_CTRL_AEAD_GET_TAG");
  }
  return absl::OkStatus();
}

}  // namespace

struct AeadSealer::Ctx {
  EvpCipherCtxPtr ctx;
};

AeadSealer::AeadSealer(std::unique_ptr<Ctx> ctx) : ctx_(std::move(ctx)) {}
AeadSealer::AeadSealer(AeadSealer&&) noexcept = default;
AeadSealer& AeadSealer::operator=(AeadSealer&&) noexcept = default;
AeadSealer::~AeadSealer() = default;  // EVP_CIPHER_CTX_free clears the key schedule

absl::StatusOr<AeadSealer> AeadSealer::Create(KeyType type, std::string_view key) {
  ASSIGN_OR_RETURN(const EVP_CIPHER* cipher, CipherFor(type));
  if (key.size() != SymmetricKeySize(type)) return absl::InvalidArgumentError("bad key size");
  auto ctx = std::make_unique<Ctx>();
  ctx->ctx.reset(EVP_CIPHER_CTX_new());
  if (ctx->ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex2(ctx->ctx.get(), cipher, Bytes(key), nullptr, nullptr) != 1) {
    return OpenSslError("EVP_EncryptInit_ex2");
  }
  return AeadSealer(std::move(ctx));
}

absl::Status AeadSealer::Seal(std::string_view nonce, std::string_view plaintext,
                              std::string_view aad, std::string* out) {
  return SealWith(ctx_->ctx.get(), nonce, plaintext, aad, out);
}

absl::Status AeadSeal(KeyType type, std::string_view key, std::string_view nonce,
                      std::string_view plaintext, std::string_view aad, std::string* out) {
  if (nonce.size() != kAeadNonceSize) return absl::InvalidArgumentError("bad nonce size");
  ASSIGN_OR_RETURN(AeadSealer sealer, AeadSealer::Create(type, key));
  return sealer.Seal(nonce, plaintext, aad, out);
}

absl::StatusOr<SecretBytes> AeadOpen(KeyType type, std::string_view key, std::string_view nonce,
                                     std::string_view ciphertext_and_tag, std::string_view aad) {
  ASSIGN_OR_RETURN(const EVP_CIPHER* cipher, CipherFor(type));
  if (key.size() != SymmetricKeySize(type) || nonce.size() != kAeadNonceSize ||
      ciphertext_and_tag.size() < kAeadTagSize) {
    return DecryptionFailed();
  }
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAeadTagSize);
  const std::string_view tag = ciphertext_and_tag.substr(ciphertext.size());
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex2(ctx.get(), cipher, Bytes(key), Bytes(nonce), nullptr) != 1) {
    return OpenSslError("EVP_DecryptInit_ex2");
  }
  // The ctrl takes a non-const pointer but only reads the tag.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize),
                          const_cast<char*>(tag.data())) != 1) {
    return OpenSslError("EVP_CTRL_AEAD_SET_TAG");
  }
  RETURN_IF_ERROR(Feed(ctx.get(), aad, nullptr, EVP_DecryptUpdate));
  SecretBytes plaintext = SecretBytes::Zeroed(ciphertext.size());
  RETURN_IF_ERROR(Feed(ctx.get(), ciphertext, plaintext.MutableData(), EVP_DecryptUpdate));
  unsigned char final_block[32];
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), final_block, &final_len) != 1) {
    ClearOpenSslErrors();  // a tag mismatch is expected input, not an internal error
    return DecryptionFailed();
  }
  return plaintext;
}

// --- Digests and MACs -----------------------------------------------------------------------

absl::StatusOr<std::string> Digest(HashAlgorithm algorithm, std::string_view data) {
  ASSIGN_OR_RETURN(const EVP_MD* md, MdFor(algorithm));
  std::string out(DigestSize(algorithm), '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, md,
                 nullptr) != 1 ||
      len != out.size()) {
    return OpenSslError("EVP_Digest");
  }
  return out;
}

absl::StatusOr<std::string> Hmac(HashAlgorithm algorithm, std::string_view key,
                                 std::string_view data) {
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (mac == nullptr) return OpenSslError("EVP_MAC_fetch(HMAC)");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (ctx == nullptr) return OpenSslError("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                             OSSL_MAC_PARAM_DIGEST, const_cast<char*>(DigestName(algorithm)), 0),
                         OSSL_PARAM_construct_end()};
  static const unsigned char kEmpty = 0;
  const unsigned char* key_ptr = key.empty() ? &kEmpty : Bytes(key);
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) {
    return OpenSslError("EVP_MAC_init");
  }
  if (EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1) {
    return OpenSslError("EVP_MAC_update");
  }
  std::string out(DigestSize(algorithm), '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1 ||
      len != out.size()) {
    return OpenSslError("EVP_MAC_final");
  }
  return out;
}

// --- Asymmetric keys ------------------------------------------------------------------------

struct AsymmetricKey::Impl {
  EvpPkeyPtr pkey;
};

AsymmetricKey::AsymmetricKey(KeyType type, std::unique_ptr<Impl> impl)
    : type_(type), impl_(std::move(impl)) {}

AsymmetricKey::~AsymmetricKey() = default;

absl::StatusOr<std::shared_ptr<const AsymmetricKey>> AsymmetricKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  if (type == KeyType::kEd25519) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else if (IsEcdsa(type)) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", CurveFor(type));
  } else if (IsRsa(type)) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", RsaBits(type));
  } else {
    return absl::InternalError("not an asymmetric key type");
  }
  if (raw == nullptr) return OpenSslError("EVP_PKEY_Q_keygen");
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  return std::shared_ptr<const AsymmetricKey>(new AsymmetricKey(type, std::move(impl)));
}

absl::StatusOr<std::shared_ptr<const AsymmetricKey>> AsymmetricKey::FromEd25519Seed(
    std::string_view seed) {
  if (seed.size() != 32) return absl::InvalidArgumentError("an Ed25519 seed is 32 bytes");
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, Bytes(seed), 32);
  if (raw == nullptr) return OpenSslError("EVP_PKEY_new_raw_private_key_ex");
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  return std::shared_ptr<const AsymmetricKey>(
      new AsymmetricKey(KeyType::kEd25519, std::move(impl)));
}

absl::StatusOr<std::shared_ptr<const AsymmetricKey>> AsymmetricKey::FromStoredForm(
    KeyType type, const SecretBytes& stored) {
  if (type == KeyType::kEd25519) {
    absl::StatusOr<std::shared_ptr<const AsymmetricKey>> key = FromEd25519Seed(stored.Reveal());
    if (!key.ok()) return absl::DataLossError("stored Ed25519 key is malformed");
    return key;
  }
  const unsigned char* p = stored.data();
  EVP_PKEY* raw = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(stored.size()));
  if (raw == nullptr) {
    ClearOpenSslErrors();
    return absl::DataLossError("stored private key is malformed");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  if (!MatchesType(raw, type)) {
    return absl::DataLossError(
        rekey::StrCat("stored private key is not a ", KeyTypeName(type), " key"));
  }
  return std::shared_ptr<const AsymmetricKey>(new AsymmetricKey(type, std::move(impl)));
}

absl::StatusOr<SecretBytes> AsymmetricKey::StoredForm() const {
  EVP_PKEY* pkey = impl_->pkey.get();
  if (type_ == KeyType::kEd25519) {
    SecretBytes seed = SecretBytes::Zeroed(32);
    size_t len = seed.size();
    if (EVP_PKEY_get_raw_private_key(pkey, seed.MutableData(), &len) != 1 || len != 32) {
      return OpenSslError("EVP_PKEY_get_raw_private_key");
    }
    return seed;
  }
  EncoderCtxPtr ectx(
      OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr));
  if (ectx == nullptr) return OpenSslError("OSSL_ENCODER_CTX_new_for_pkey");
  BioPtr bio = SecretBio();
  if (bio == nullptr) return OpenSslError("BIO_new(secmem)");
  if (OSSL_ENCODER_to_bio(ectx.get(), bio.get()) != 1) return OpenSslError("OSSL_ENCODER_to_bio");
  return SecretBytes(BioContents(bio.get()));
}

absl::StatusOr<std::string> AsymmetricKey::PublicKeyBytes() const {
  EVP_PKEY* pkey = impl_->pkey.get();
  if (type_ == KeyType::kEd25519) {
    std::string pub(32, '\0');
    size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pub.data()), &len) !=
            1 ||
        len != 32) {
      return OpenSslError("EVP_PKEY_get_raw_public_key");
    }
    return pub;
  }
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0 || der == nullptr) return OpenSslError("i2d_PUBKEY");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> AsymmetricKey::PublicKeyFormatted() const {
  if (type_ == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(std::string pub, PublicKeyBytes());
    return absl::Base64Escape(ToAbsl(pub));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return OpenSslError("BIO_new");
  if (PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) {
    return OpenSslError("PEM_write_bio_PUBKEY");
  }
  return std::string(BioContents(bio.get()));
}

absl::StatusOr<SecretBytes> AsymmetricKey::PrivateKeyExport() const {
  if (type_ == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(SecretBytes seed, StoredForm());
    ASSIGN_OR_RETURN(std::string pub, PublicKeyBytes());
    std::string joined = rekey::StrCat(seed.Reveal(), pub);
    std::string encoded = absl::Base64Escape(ToAbsl(joined));
    SecureWipe(joined);
    return SecretBytes::TakeFrom(encoded);
  }
  BioPtr bio = SecretBio();
  if (bio == nullptr) return OpenSslError("BIO_new(secmem)");
  if (PEM_write_bio_PrivateKey_traditional(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0,
                                           nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey_traditional");
  }
  return SecretBytes(BioContents(bio.get()));
}

namespace {

// Configures an RSA signing/verifying context.
absl::Status SetUpRsa(EVP_PKEY_CTX* ctx, const RsaSignOptions& rsa, bool signing) {
  ASSIGN_OR_RETURN(const EVP_MD* md, MdFor(rsa.hash));
  if (EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
    return OpenSslError("EVP_PKEY_CTX_set_signature_md");
  }
  if (rsa.padding == RsaPadding::kPkcs1v15) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) {
      return OpenSslError("EVP_PKEY_CTX_set_rsa_padding");
    }
    return absl::OkStatus();
  }
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1) {
    return OpenSslError("EVP_PKEY_CTX_set_rsa_padding(PSS)");
  }
  int salt = rsa.salt_length;
  if (salt == kPssSaltAuto) salt = signing ? RSA_PSS_SALTLEN_MAX : RSA_PSS_SALTLEN_AUTO;
  if (salt == kPssSaltDigest) salt = RSA_PSS_SALTLEN_DIGEST;
  if (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) != 1) {
    return OpenSslError("EVP_PKEY_CTX_set_rsa_pss_saltlen");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> AsymmetricKey::Sign(std::string_view message,
                                                const RsaSignOptions& rsa) const {
  EVP_PKEY* pkey = impl_->pkey.get();
  if (type_ == KeyType::kEd25519) {
    EvpMdCtxPtr mctx(EVP_MD_CTX_new());
    if (mctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
    if (EVP_DigestSignInit_ex(mctx.get(), nullptr, nullptr, nullptr, nullptr, pkey, nullptr) != 1) {
      return OpenSslError("EVP_DigestSignInit_ex");
    }
    std::string sig(64, '\0');
    size_t len = sig.size();
    if (EVP_DigestSign(mctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       Bytes(message), message.size()) != 1) {
      return OpenSslError("EVP_DigestSign");
    }
    sig.resize(len);
    return sig;
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_sign_init(ctx.get()) != 1) return OpenSslError("EVP_PKEY_sign_init");
  if (IsRsa(type_)) {
    if (message.size() != DigestSize(rsa.hash)) {
      return absl::InvalidArgumentError("input is not a digest of the hash algorithm's size");
    }
    RETURN_IF_ERROR(SetUpRsa(ctx.get(), rsa, /*signing=*/true));
  }
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, Bytes(message), message.size()) != 1) {
    return OpenSslError("EVP_PKEY_sign(size)");
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(message),
                    message.size()) != 1) {
    return OpenSslError("EVP_PKEY_sign");
  }
  sig.resize(len);
  return sig;
}

absl::StatusOr<bool> AsymmetricKey::Verify(std::string_view message, std::string_view signature,
                                           const RsaSignOptions& rsa) const {
  EVP_PKEY* pkey = impl_->pkey.get();
  if (type_ == KeyType::kEd25519) {
    EvpMdCtxPtr mctx(EVP_MD_CTX_new());
    if (mctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
    if (EVP_DigestVerifyInit_ex(mctx.get(), nullptr, nullptr, nullptr, nullptr, pkey, nullptr) !=
        1) {
      return OpenSslError("EVP_DigestVerifyInit_ex");
    }
    const int ok = EVP_DigestVerify(mctx.get(), Bytes(signature), signature.size(), Bytes(message),
                                    message.size());
    ClearOpenSslErrors();
    return ok == 1;
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_verify_init(ctx.get()) != 1) return OpenSslError("EVP_PKEY_verify_init");
  if (IsRsa(type_)) {
    if (message.size() != DigestSize(rsa.hash)) return false;
    RETURN_IF_ERROR(SetUpRsa(ctx.get(), rsa, /*signing=*/false));
  }
  const int ok = EVP_PKEY_verify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                                 message.size());
  ClearOpenSslErrors();  // a malformed signature is expected input
  return ok == 1;
}

absl::StatusOr<std::string> AsymmetricKey::RsaOaepEncrypt(std::string_view plaintext) const {
  if (!IsRsa(type_)) return absl::InternalError("not an RSA key");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return OpenSslError("RSA-OAEP setup");
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, Bytes(plaintext), plaintext.size()) != 1) {
    return OpenSslError("EVP_PKEY_encrypt(size)");
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       Bytes(plaintext), plaintext.size()) != 1) {
    // Too long for the modulus is the only input-dependent failure.
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("plaintext is too long for RSA-OAEP with this key");
  }
  out.resize(len);
  return out;
}

absl::StatusOr<SecretBytes> AsymmetricKey::RsaOaepDecrypt(std::string_view ciphertext) const {
  if (!IsRsa(type_)) return absl::InternalError("not an RSA key");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return OpenSslError("RSA-OAEP setup");
  }
  size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, Bytes(ciphertext), ciphertext.size()) != 1) {
    ClearOpenSslErrors();
    return DecryptionFailed();
  }
  SecretBytes buf = SecretBytes::Zeroed(len);
  if (EVP_PKEY_decrypt(ctx.get(), buf.MutableData(), &len, Bytes(ciphertext), ciphertext.size()) !=
      1) {
    ClearOpenSslErrors();
    return DecryptionFailed();
  }
  return SecretBytes(buf.Reveal().substr(0, len));
}

size_t AsymmetricKey::EcdsaScalarSize() const {
  switch (type_) {
    case KeyType::kEcdsaP256:
      return 32;
    case KeyType::kEcdsaP384:
      return 48;
    case KeyType::kEcdsaP521:
      return 66;
    default:
      return 0;
  }
}

absl::StatusOr<std::string> EcdsaDerToJws(std::string_view der, size_t scalar_size) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a DER ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * scalar_size, '\0');
  auto* dest = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, dest, static_cast<int>(scalar_size)) < 0 ||
      BN_bn2binpad(s, dest + scalar_size, static_cast<int>(scalar_size)) < 0) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("ECDSA signature does not fit the curve");
  }
  return out;
}

absl::StatusOr<std::string> EcdsaJwsToDer(std::string_view jws) {
  if (jws.empty() || jws.size() % 2 != 0) {
    return absl::InvalidArgumentError("not a JWS ECDSA signature");
  }
  const size_t half = jws.size() / 2;
  BignumPtr r(BN_bin2bn(Bytes(jws), static_cast<int>(half), nullptr));
  BignumPtr s(BN_bin2bn(Bytes(jws) + half, static_cast<int>(half), nullptr));
  if (r == nullptr || s == nullptr) return OpenSslError("BN_bin2bn");
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (sig == nullptr) return OpenSslError("ECDSA_SIG_new");
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return OpenSslError("ECDSA_SIG_set0");
  r.release();  // now owned by sig
  s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0 || der == nullptr) return OpenSslError("i2d_ECDSA_SIG");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace rekey::transit::internal
