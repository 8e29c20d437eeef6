#include "jwt/jws.h"

#include <boost/json.hpp>
#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"
#include "jwt/internal/jwk.h"
#include "transit/base64.h"
#include "transit/internal/openssl_ops.h"

namespace rekey::jwt {
namespace {

namespace json = boost::json;
using transit::KeyType;
using transit::internal::AsymmetricKey;
using transit::internal::RsaSignOptions;

constexpr size_t kEs256ScalarSize = 32;
constexpr size_t kFixedSignatureSize = 64;  // ES256 (R ‖ S) and Ed25519

KeyType KeyTypeOf(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRs256:
      return KeyType::kRsa2048;
    case Algorithm::kEs256:
      return KeyType::kEcdsaP256;
    case Algorithm::kEdDsa:
      return KeyType::kEd25519;
  }
  return KeyType::kEd25519;
}

RsaSignOptions Rs256Options() {
  RsaSignOptions o;
  o.hash = transit::HashAlgorithm::kSha2_256;
  o.padding = transit::RsaPadding::kPkcs1v15;
  return o;
}

json::string_view View(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

std::string_view AlgorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRs256:
      return "RS256";
    case Algorithm::kEs256:
      return "ES256";
    case Algorithm::kEdDsa:
      return "EdDSA";
  }
  return "";
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  for (Algorithm alg : {Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEdDsa}) {
    if (AlgorithmName(alg) == name) return alg;
  }
  return std::nullopt;
}

std::string Base64UrlEncode(std::string_view data) { return transit::Base64UrlEncode(data); }

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return transit::Base64UrlDecode(text);
}

absl::StatusOr<SigningKey> SigningKey::Generate(Algorithm alg) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AsymmetricKey> key,
                   AsymmetricKey::Generate(KeyTypeOf(alg)));
  ASSIGN_OR_RETURN(json::object jwk, internal::PublicJwkOf(*key));
  return SigningKey(alg, std::move(key), std::make_shared<const json::object>(std::move(jwk)));
}

absl::StatusOr<SigningKey> SigningKey::FromStoredForm(Algorithm alg, const SecretBytes& stored) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AsymmetricKey> key,
                   AsymmetricKey::FromStoredForm(KeyTypeOf(alg), stored));
  absl::StatusOr<json::object> jwk = internal::PublicJwkOf(*key);
  if (!jwk.ok()) return absl::DataLossError("a stored JWT signing key has no public JWK");
  return SigningKey(alg, std::move(key), std::make_shared<const json::object>(*std::move(jwk)));
}

absl::StatusOr<SecretBytes> SigningKey::StoredForm() const { return key_->StoredForm(); }

absl::StatusOr<std::string> SigningKey::Sign(std::string_view signing_input) const {
  switch (alg_) {
    case Algorithm::kRs256:
      return key_->Sign(crypto::Sha256(signing_input), Rs256Options());
    case Algorithm::kEs256: {
      ASSIGN_OR_RETURN(std::string der, key_->Sign(crypto::Sha256(signing_input), {}));
      return transit::internal::EcdsaDerToJws(der, kEs256ScalarSize);
    }
    case Algorithm::kEdDsa:
      return key_->Sign(signing_input, {});
  }
  return absl::InternalError("unknown JWS algorithm");
}

bool SigningKey::Verify(std::string_view signing_input, std::string_view signature) const {
  absl::StatusOr<bool> ok = false;
  switch (alg_) {
    case Algorithm::kRs256:
      ok = key_->Verify(crypto::Sha256(signing_input), signature, Rs256Options());
      break;
    case Algorithm::kEs256: {
      if (signature.size() != kFixedSignatureSize) return false;
      absl::StatusOr<std::string> der = transit::internal::EcdsaJwsToDer(signature);
      if (!der.ok()) return false;
      ok = key_->Verify(crypto::Sha256(signing_input), *der, {});
      break;
    }
    case Algorithm::kEdDsa:
      if (signature.size() != kFixedSignatureSize) return false;
      ok = key_->Verify(signing_input, signature, {});
      break;
  }
  return ok.ok() && *ok;
}

absl::StatusOr<std::string> SignCompact(const SigningKey& key, std::string_view kid,
                                        std::string_view payload) {
  json::object header;
  header["alg"] = View(AlgorithmName(key.alg()));
  header["kid"] = View(kid);
  header["typ"] = "JWT";
  std::string input =
      rekey::StrCat(Base64UrlEncode(json::serialize(header)), ".", Base64UrlEncode(payload));
  ASSIGN_OR_RETURN(std::string signature, key.Sign(input));
  return rekey::StrCat(input, ".", Base64UrlEncode(signature));
}

absl::StatusOr<ParsedJws> ParseCompact(std::string_view token) {
  if (token.size() > kMaxTokenSize) {
    return absl::InvalidArgumentError(
        rekey::StrCat("token is longer than ", kMaxTokenSize, " bytes"));
  }
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "token is not a JWS in compact serialization (three parts separated by '.')");
  }
  ParsedJws out;
  out.signing_input = std::string(token.substr(0, second));
  std::optional<std::string> header = Base64UrlDecode(token.substr(0, first));
  std::optional<std::string> payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!header.has_value()) return absl::InvalidArgumentError("token header is not BASE64URL");
  if (!payload.has_value()) return absl::InvalidArgumentError("token payload is not BASE64URL");
  if (!signature.has_value()) return absl::InvalidArgumentError("token signature is not BASE64URL");
  boost::system::error_code ec;
  json::value h = json::parse(*header, ec);
  if (ec || !h.is_object()) {
    return absl::InvalidArgumentError("token header is not a JSON object");
  }
  out.header = std::move(h.get_object());
  const json::value* alg = out.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return absl::InvalidArgumentError("token header has no \"alg\" string");
  }
  out.alg = std::string(alg->get_string());
  if (const json::value* kid = out.header.if_contains("kid"); kid != nullptr) {
    if (!kid->is_string())
      return absl::InvalidArgumentError("token header \"kid\" is not a string");
    out.kid = std::string(kid->get_string());
  }
  if (out.header.contains("crit")) {
    return absl::InvalidArgumentError(
        "token header has \"crit\" extensions, which are not supported");
  }
  out.payload = *std::move(payload);
  out.signature = *std::move(signature);
  return out;
}

}  // namespace rekey::jwt
