#include "acme/jws.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::acme {
namespace {

namespace json = boost::json;

constexpr size_t kCoordinateSize = 32;  // P-256

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, pki::internal::OpenSslDeleter<&ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, pki::internal::OpenSslDeleter<&EVP_MD_CTX_free>>;
using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD, pki::internal::OpenSslDeleter<&OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, pki::internal::OpenSslDeleter<&OSSL_PARAM_free>>;

// kInternal naming `what`; OpenSSL's queue is dropped (its reasons describe the library, but
// nothing here needs them).
absl::Status OpenSslFailure(std::string_view what) {
  ERR_clear_error();
  return absl::InternalError(rekey::StrCat("OpenSSL failed: ", what));
}

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

// A JSON string literal for `s` (quoted and escaped).
std::string Quoted(std::string_view s) { return json::serialize(json::value(J(s))); }

// The big-endian, zero-padded bytes of the EC public coordinate `name` of `key`.
absl::StatusOr<std::string> Coordinate(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return OpenSslFailure("reading the EC point");
  pki::internal::BignumPtr bn(raw);
  std::string out(kCoordinateSize, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), kCoordinateSize) !=
      static_cast<int>(kCoordinateSize)) {
    return OpenSslFailure("encoding an EC coordinate");
  }
  return out;
}

// A string member of a JWK, or kInvalidArgument naming it.
absl::StatusOr<std::string> Member(const json::object& jwk, std::string_view name) {
  const json::value* v = jwk.if_contains(J(name));
  if (v == nullptr || !v->is_string()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("JWK member \"", name, "\" is missing or not a string"));
  }
  return std::string(v->get_string());
}

// The P-256 public key at JWK (x, y). kInvalidArgument when it is not a point on the curve.
absl::StatusOr<pki::EvpPkeyPtr> PublicKeyFromJwk(const json::object& jwk) {
  ASSIGN_OR_RETURN(std::string kty, Member(jwk, "kty"));
  ASSIGN_OR_RETURN(std::string crv, Member(jwk, "crv"));
  if (kty != "EC" || crv != "P-256") {
    return absl::InvalidArgumentError("JWK is not an EC P-256 key");
  }
  ASSIGN_OR_RETURN(std::string x64, Member(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y64, Member(jwk, "y"));
  ASSIGN_OR_RETURN(std::string x, Base64UrlDecode(x64));
  ASSIGN_OR_RETURN(std::string y, Base64UrlDecode(y64));
  if (x.size() != kCoordinateSize || y.size() != kCoordinateSize) {
    return absl::InvalidArgumentError("JWK coordinates are not 32 bytes");
  }
  const std::string point = rekey::StrCat(std::string_view("\x04", 1), x, y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslFailure("building key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  pki::internal::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return OpenSslFailure("preparing key import");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("JWK is not a point on P-256");
  }
  pki::EvpPkeyPtr key(raw);
  // fromdata does not always check that the point is on the curve.
  pki::internal::EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("JWK is not a point on P-256");
  }
  return key;
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  return absl::WebSafeBase64Escape(ToAbsl(data));
}

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return absl::InvalidArgumentError("not base64url (unpadded, RFC 4648 section 5)");
  }
  // A single character left over after whole 4-character groups encodes no byte.
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("base64url text has a bad length");
  std::string out;
  if (!absl::WebSafeBase64Unescape(ToAbsl(text), &out)) {
    return absl::InvalidArgumentError("not base64url (unpadded, RFC 4648 section 5)");
  }
  return out;
}

absl::StatusOr<std::string> JwkThumbprint(const json::object& jwk) {
  ASSIGN_OR_RETURN(std::string kty, Member(jwk, "kty"));
  std::string canonical;
  if (kty == "EC") {
    ASSIGN_OR_RETURN(std::string crv, Member(jwk, "crv"));
    ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
    ASSIGN_OR_RETURN(std::string y, Member(jwk, "y"));
    canonical = rekey::StrCat("{\"crv\":", Quoted(crv), ",\"kty\":\"EC\",\"x\":", Quoted(x),
                              ",\"y\":", Quoted(y), "}");
  } else if (kty == "RSA") {
    ASSIGN_OR_RETURN(std::string e, Member(jwk, "e"));
    ASSIGN_OR_RETURN(std::string n, Member(jwk, "n"));
    canonical = rekey::StrCat("{\"e\":", Quoted(e), ",\"kty\":\"RSA\",\"n\":", Quoted(n), "}");
  } else if (kty == "OKP") {
    ASSIGN_OR_RETURN(std::string crv, Member(jwk, "crv"));
    ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
    canonical = rekey::StrCat("{\"crv\":", Quoted(crv), ",\"kty\":\"OKP\",\"x\":", Quoted(x), "}");
  } else {
    return absl::InvalidArgumentError(
        rekey::StrCat("JWK kty \"", kty.substr(0, 16), "\" has no thumbprint here"));
  }
  return Base64UrlEncode(crypto::Sha256(canonical));
}

absl::StatusOr<AccountKey> AccountKey::FromKey(pki::EvpPkeyPtr key) {
  absl::StatusOr<pki::KeyType> type = pki::KeyTypeOf(key.get());
  if (!type.ok() || *type != pki::KeyType::kEcP256) {
    return absl::InvalidArgumentError("the ACME account key must be an EC P-256 (ES256) key");
  }
  ASSIGN_OR_RETURN(std::string x, Coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  ASSIGN_OR_RETURN(std::string y, Coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  AccountKey out;
  out.key_ = std::move(key);
  out.jwk_["crv"] = "P-256";
  out.jwk_["kty"] = "EC";
  out.jwk_["x"] = J(Base64UrlEncode(x));
  out.jwk_["y"] = J(Base64UrlEncode(y));
  ASSIGN_OR_RETURN(out.thumbprint_, JwkThumbprint(out.jwk_));
  return out;
}

absl::StatusOr<AccountKey> AccountKey::Generate() {
  ASSIGN_OR_RETURN(pki::EvpPkeyPtr key, pki::GenerateKey(pki::KeyType::kEcP256));
  return FromKey(std::move(key));
}

absl::StatusOr<AccountKey> AccountKey::FromPem(const SecretBytes& pem) {
  absl::StatusOr<pki::EvpPkeyPtr> key = pki::ParsePrivateKeyPem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError("the ACME account key is not a readable PEM private key");
  }
  return FromKey(std::move(*key));
}

absl::StatusOr<SecretBytes> AccountKey::ToPem() const { return pki::PrivateKeyToPem(key_.get()); }

absl::StatusOr<std::string> AccountKey::Sign(std::string_view signing_input) const {
  MdCtxPtr md(EVP_MD_CTX_new());
  if (md == nullptr ||
      EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return OpenSslFailure("starting an ES256 signature");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  size_t der_len = 0;
  if (EVP_DigestSign(md.get(), nullptr, &der_len, in, signing_input.size()) != 1) {
    return OpenSslFailure("sizing an ES256 signature");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len, in,
                     signing_input.size()) != 1) {
    return OpenSslFailure("signing with ES256");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (sig == nullptr) return OpenSslFailure("decoding an ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kCoordinateSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kCoordinateSize) != static_cast<int>(kCoordinateSize) ||
      BN_bn2binpad(s, out + kCoordinateSize, kCoordinateSize) !=
          static_cast<int>(kCoordinateSize)) {
    return OpenSslFailure("encoding an ES256 signature");
  }
  return raw;
}

absl::StatusOr<std::string> SignJws(const AccountKey& key, const JwsHeader& header,
                                    std::string_view payload) {
  json::object protected_header;
  protected_header["alg"] = "ES256";
  if (header.kid.empty()) {
    protected_header["jwk"] = key.jwk();
  } else {
    protected_header["kid"] = J(header.kid);
  }
  protected_header["nonce"] = J(header.nonce);
  protected_header["url"] = J(header.url);
  const std::string protected64 = Base64UrlEncode(json::serialize(protected_header));
  const std::string payload64 = Base64UrlEncode(payload);
  ASSIGN_OR_RETURN(std::string signature, key.Sign(rekey::StrCat(protected64, ".", payload64)));
  json::object jws;
  jws["protected"] = J(protected64);
  jws["payload"] = J(payload64);
  jws["signature"] = J(Base64UrlEncode(signature));
  return json::serialize(jws);
}

absl::Status VerifyEs256(const json::object& jwk, std::string_view signing_input,
                         std::string_view signature) {
  ASSIGN_OR_RETURN(pki::EvpPkeyPtr key, PublicKeyFromJwk(jwk));
  if (signature.size() != 2 * kCoordinateSize) {
    return absl::UnauthenticatedError("ES256 signature is not 64 bytes");
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  BIGNUM* r = BN_bin2bn(raw, kCoordinateSize, nullptr);
  BIGNUM* s = BN_bin2bn(raw + kCoordinateSize, kCoordinateSize, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslFailure("building an ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return OpenSslFailure("encoding an ECDSA signature");
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  MdCtxPtr md(EVP_MD_CTX_new());
  if (md == nullptr ||
      EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return OpenSslFailure("starting an ES256 verification");
  }
  const int ok = EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                                  reinterpret_cast<const unsigned char*>(signing_input.data()),
                                  signing_input.size());
  ERR_clear_error();
  if (ok != 1) return absl::UnauthenticatedError("ES256 signature does not verify");
  return absl::OkStatus();
}

std::string KeyAuthorization(std::string_view token, std::string_view thumbprint) {
  return rekey::StrCat(token, ".", thumbprint);
}

std::string Dns01TxtValue(std::string_view key_authorization) {
  return Base64UrlEncode(crypto::Sha256(key_authorization));
}

}  // namespace rekey::acme
