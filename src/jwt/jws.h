// JWS (RFC 7515) for JWT signing keys: the three algorithms rekey's keysets use (RFC 7518 RS256
// and ES256, RFC 8037 EdDSA with Ed25519), a private signing key with its public JWK (RFC 7517),
// and the compact serialization: signing, parsing and signature checks. The cryptography is
// transit's OpenSSL primitives (transit/internal/openssl_ops.h); nothing here hand-rolls any.
#ifndef REKEY_JWT_JWS_H_
#define REKEY_JWT_JWS_H_

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::transit::internal {
class AsymmetricKey;
}  // namespace rekey::transit::internal

namespace rekey::jwt {

// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys), ES256 (ECDSA P-256 with SHA-256,
// signatures as R ‖ S) and EdDSA (Ed25519).
enum class Algorithm { kRs256, kEs256, kEdDsa };

// "RS256", "ES256", "EdDSA" (the JWS "alg" values).
std::string_view AlgorithmName(Algorithm alg);
// The inverse of AlgorithmName (exact, case-sensitive, as JWS compares "alg"); nullopt otherwise.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);

// BASE64URL of RFC 7515 section 2: no padding.
std::string Base64UrlEncode(std::string_view data);
// nullopt for padding, whitespace or a character outside the URL-safe alphabet.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// A private signing key of one algorithm. Immutable after creation, so it may be used from any
// number of threads; copies share the key.
class SigningKey {
 public:
  // A fresh key from OpenSSL's CSPRNG: RSA-2048, P-256 or Ed25519. kInternal on an OpenSSL failure.
  static absl::StatusOr<SigningKey> Generate(Algorithm alg);
  // Parses StoredForm() output for `alg`. kDataLoss if it is not a key of that algorithm.
  static absl::StatusOr<SigningKey> FromStoredForm(Algorithm alg, const SecretBytes& stored);

  Algorithm alg() const { return alg_; }
  // EdDSA: the 32-byte seed; RS256 and ES256: PKCS#8 DER.
  absl::StatusOr<SecretBytes> StoredForm() const;
  // The public JWK members of RFC 7518 section 6 / RFC 8037 section 2: {"kty","n","e"} (RSA),
  // {"kty","crv","x","y"} (EC) or {"kty","crv","x"} (OKP). Callers add kid, alg and use.
  const boost::json::object& public_jwk() const { return *jwk_; }

  // The JWS Signature of `signing_input` (ASCII(BASE64URL(header) '.' BASE64URL(payload))):
  // 256 bytes (RS256) or 64 bytes (ES256 R ‖ S, EdDSA). kInternal on an OpenSSL failure.
  absl::StatusOr<std::string> Sign(std::string_view signing_input) const;
  // Whether `signature` is a valid signature of `signing_input` under this key; false for any
  // malformed signature (wrong length, not a point, ...).
  bool Verify(std::string_view signing_input, std::string_view signature) const;

 private:
  SigningKey(Algorithm alg, std::shared_ptr<const transit::internal::AsymmetricKey> key,
             std::shared_ptr<const boost::json::object> jwk)
      : alg_(alg), key_(std::move(key)), jwk_(std::move(jwk)) {}

  Algorithm alg_;
  std::shared_ptr<const transit::internal::AsymmetricKey> key_;
  std::shared_ptr<const boost::json::object> jwk_;
};

// The JWS Compact Serialization (RFC 7515 section 7.1) of `payload` (the claims' JSON text) with
// the protected header {"alg":<key's alg>,"kid":<kid>,"typ":"JWT"}.
absl::StatusOr<std::string> SignCompact(const SigningKey& key, std::string_view kid,
                                        std::string_view payload);

// A compact JWS split and decoded; nothing in it is verified yet.
struct ParsedJws {
  std::string signing_input;  // the first two parts as received, joined by '.'
  boost::json::object header;
  std::string alg;
  std::string kid;      // "" when the header has none
  std::string payload;  // decoded bytes
  std::string signature;
};

// The most bytes ParseCompact accepts.
inline constexpr size_t kMaxTokenSize = 64 * 1024;

// Splits and decodes a compact JWS. kInvalidArgument (naming the part, never quoting the token)
// when it is longer than kMaxTokenSize, has other than three parts, a part that is not
// BASE64URL, a header that is not a JSON object or lacks a string "alg", a non-string "kid", or a
// "crit" header (no extension is understood, so RFC 7515 section 4.1.11 requires rejecting it).
absl::StatusOr<ParsedJws> ParseCompact(std::string_view token);

}  // namespace rekey::jwt

#endif  // REKEY_JWT_JWS_H_
