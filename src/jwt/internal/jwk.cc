#include "jwt/internal/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "core/status_macros.h"
#include "crypto/internal/openssl_util.h"
#include "transit/base64.h"

namespace rekey::jwt::internal {
namespace {

using crypto::internal::EvpPkeyPtr;
using crypto::internal::OpenSslDeleter;
using crypto::internal::OpenSslError;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<&BN_free>>;
using transit::KeyType;

constexpr int kP256CoordinateSize = 32;

// The BIGNUM parameter `name` of `pkey`, big-endian: minimal (`width` 0) or left-padded to
// `width` octets.
absl::StatusOr<std::string> BignumParam(const EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return OpenSslError("EVP_PKEY_get_bn_param");
  BignumPtr bn(raw);
  const int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  unsigned char* to = reinterpret_cast<unsigned char*>(out.data());
  const int written = width > 0 ? BN_bn2binpad(bn.get(), to, width) : BN_bn2bin(bn.get(), to);
  if (written != size) return OpenSslError("BN_bn2bin");
  return out;
}

boost::json::string_view View(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::StatusOr<boost::json::object> PublicJwkOf(const transit::internal::AsymmetricKey& key) {
  ASSIGN_OR_RETURN(std::string pub, key.PublicKeyBytes());
  boost::json::object jwk;
  if (key.type() == KeyType::kEd25519) {
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = View(transit::Base64UrlEncode(pub));
    return jwk;
  }
  if (key.type() != KeyType::kEcdsaP256 && !transit::IsRsa(key.type())) {
    return absl::InvalidArgumentError("only RSA, P-256 and Ed25519 keys have a JWT JWK");
  }
  const unsigned char* der = reinterpret_cast<const unsigned char*>(pub.data());
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &der, static_cast<long>(pub.size())));
  if (pkey == nullptr) return OpenSslError("d2i_PUBKEY");
  if (key.type() == KeyType::kEcdsaP256) {
    ASSIGN_OR_RETURN(std::string x,
                     BignumParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, kP256CoordinateSize));
    ASSIGN_OR_RETURN(std::string y,
                     BignumParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, kP256CoordinateSize));
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = View(transit::Base64UrlEncode(x));
    jwk["y"] = View(transit::Base64UrlEncode(y));
    return jwk;
  }
  ASSIGN_OR_RETURN(std::string n, BignumParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0));
  ASSIGN_OR_RETURN(std::string e, BignumParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0));
  jwk["kty"] = "RSA";
  jwk["n"] = View(transit::Base64UrlEncode(n));
  jwk["e"] = View(transit::Base64UrlEncode(e));
  return jwk;
}

}  // namespace rekey::jwt::internal
