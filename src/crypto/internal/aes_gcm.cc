// AES-256-GCM seal/open over EVP_CIPHER_CTX.
#include "crypto/internal/aes_gcm.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <utility>

#include "core/status_macros.h"

namespace rekey::crypto::internal {
namespace {

// EVP takes int lengths; larger inputs are fed in chunks of this size.
constexpr size_t kMaxChunk = size_t{1} << 30;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status DecryptionFailed() { return absl::InvalidArgumentError("decryption failed"); }

// Feeds every AAD part to `ctx` (Encrypt and Decrypt Update are the same for AAD in GCM, but EVP
// insists on the one matching the context's direction).
template <typename UpdateFn>
absl::Status FeedAad(EVP_CIPHER_CTX* ctx, std::initializer_list<std::string_view> aad_parts,
                     UpdateFn update) {
  for (std::string_view part : aad_parts) {
    while (!part.empty()) {
      const size_t n = std::min(part.size(), kMaxChunk);
      int out_len = 0;
      if (update(ctx, nullptr, &out_len, Bytes(part), static_cast<int>(n)) != 1) {
        return OpenSslError("AES-GCM AAD update");
      }
      part.remove_prefix(n);
    }
  }
  return absl::OkStatus();
}

// Runs `update` over `in` writing to `out`, which has room for in.size() bytes (GCM is a stream
// mode: output length equals input length).
template <typename UpdateFn>
absl::Status FeedData(EVP_CIPHER_CTX* ctx, std::string_view in, unsigned char* out,
                      UpdateFn update) {
  while (!in.empty()) {
    const size_t n = std::min(in.size(), kMaxChunk);
    int out_len = 0;
    if (update(ctx, out, &out_len, Bytes(in), static_cast<int>(n)) != 1 ||
        static_cast<size_t>(out_len) != n) {
      return OpenSslError("AES-GCM update");
    }
    out += n;
    in.remove_prefix(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AesGcm256> AesGcm256::Create() {
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  if (cipher == nullptr) return OpenSslError("EVP_CIPHER_fetch(AES-256-GCM)");
  return AesGcm256(std::move(cipher));
}

absl::Status AesGcm256::Seal(std::string_view key, std::string_view nonce,
                             std::string_view plaintext,
                             std::initializer_list<std::string_view> aad_parts,
                             std::string* out) const {
  if (key.size() != kAesGcmKeySize)
    return absl::InvalidArgumentError("AES-GCM key must be 32 bytes");
  if (nonce.size() != kAesGcmNonceSize) {
    return absl::InvalidArgumentError("AES-GCM nonce must be 12 bytes");
  }
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  // The default GCM IV length is 12 bytes, which is ours, so no IVLEN control is needed.
  if (EVP_EncryptInit_ex2(ctx.get(), cipher_.get(), Bytes(key), Bytes(nonce), nullptr) != 1) {
    return OpenSslError("EVP_EncryptInit_ex2");
  }
  RETURN_IF_ERROR(FeedAad(ctx.get(), aad_parts, EVP_EncryptUpdate));

  const size_t start = out->size();
  out->resize(start + plaintext.size() + kAesGcmTagSize);
  auto* dest = reinterpret_cast<unsigned char*>(out->data()) + start;
  RETURN_IF_ERROR(FeedData(ctx.get(), plaintext, dest, EVP_EncryptUpdate));

  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), dest + plaintext.size(), &final_len) != 1 || final_len != 0) {
    return OpenSslError("EVP_EncryptFinal_ex");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAesGcmTagSize),
                          dest + plaintext.size()) != 1) {
    return OpenSslError("EVP_CTRL_GCM_GET_TAG");
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> AesGcm256::Open(
    std::string_view key, std::string_view nonce, std::string_view ciphertext_and_tag,
    std::initializer_list<std::string_view> aad_parts) const {
  if (key.size() != kAesGcmKeySize || nonce.size() != kAesGcmNonceSize ||
      ciphertext_and_tag.size() < kAesGcmTagSize) {
    return DecryptionFailed();
  }
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAesGcmTagSize);
  const std::string_view tag = ciphertext_and_tag.substr(ciphertext.size());

  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex2(ctx.get(), cipher_.get(), Bytes(key), Bytes(nonce), nullptr) != 1) {
    return OpenSslError("EVP_DecryptInit_ex2");
  }
  RETURN_IF_ERROR(FeedAad(ctx.get(), aad_parts, EVP_DecryptUpdate));

  // Decrypt straight into wiped-on-destruction memory; it is dropped unless the tag verifies.
  SecretBytes plaintext = SecretBytes::Zeroed(ciphertext.size());
  RETURN_IF_ERROR(FeedData(ctx.get(), ciphertext, plaintext.MutableData(), EVP_DecryptUpdate));

  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads the tag.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAesGcmTagSize),
                          const_cast<char*>(tag.data())) != 1) {
    return OpenSslError("EVP_CTRL_GCM_SET_TAG");
  }
  unsigned char final_block[16];
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), final_block, &final_len) != 1) {
    // A tag mismatch is expected input, not an internal error.
    ClearOpenSslErrors();
    return DecryptionFailed();
  }
  return plaintext;
}

}  // namespace rekey::crypto::internal
