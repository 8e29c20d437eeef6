// Ed25519 via EVP_DigestSign / EVP_DigestVerify (one-shot; Ed25519 takes no digest).
#include "audit/internal/ed25519.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <utility>

#include "core/strings.h"

namespace rekey::audit::internal {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// kInternal "<operation>: <OpenSSL reasons>", clearing this thread's error queue. OpenSSL's
// reason strings describe the library's state, never key material.
absl::Status OpenSslError(std::string_view operation) {
  std::string reasons;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!reasons.empty()) reasons += "; ";
    reasons += buf;
  }
  if (reasons.empty()) reasons = "unknown error";
  return absl::InternalError(StrCat(operation, ": ", reasons));
}

}  // namespace

struct Ed25519Signer::Key {
  PkeyPtr pkey;
};

Ed25519Signer::Ed25519Signer(std::unique_ptr<Key> key, std::string public_key)
    : key_(std::move(key)), public_key_(std::move(public_key)) {}
Ed25519Signer::Ed25519Signer(Ed25519Signer&&) noexcept = default;
Ed25519Signer& Ed25519Signer::operator=(Ed25519Signer&&) noexcept = default;
Ed25519Signer::~Ed25519Signer() = default;

absl::StatusOr<Ed25519Signer> Ed25519Signer::Create(const SecretBytes& seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("Ed25519 private key seed must be 32 bytes");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (pkey == nullptr) return OpenSslError("EVP_PKEY_new_raw_private_key(ED25519)");
  std::string public_key(kEd25519PublicKeySize, '\0');
  size_t len = public_key.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(public_key.data()),
                                  &len) != 1 ||
      len != kEd25519PublicKeySize) {
    return OpenSslError("EVP_PKEY_get_raw_public_key");
  }
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return Ed25519Signer(std::move(key), std::move(public_key));
}

absl::StatusOr<std::string> Ed25519Signer::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1) {
    return OpenSslError("EVP_DigestSignInit(ED25519)");
  }
  std::string signature(kEd25519SignatureSize, '\0');
  size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     Bytes(message), message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    return OpenSslError("EVP_DigestSign(ED25519)");
  }
  return signature;
}

absl::Status Ed25519Verify(std::string_view public_key, std::string_view message,
                           std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError("Ed25519 signature must be 64 bytes");
  }
  PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key), public_key.size()));
  if (pkey == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("malformed Ed25519 public key");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return OpenSslError("EVP_DigestVerifyInit(ED25519)");
  }
  int rc = EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                            message.size());
  if (rc != 1) {
    ERR_clear_error();
    return absl::DataLossError("signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace rekey::audit::internal
