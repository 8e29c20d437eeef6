// The JOSE pieces of ACME (RFC 8555 section 6.2, RFC 7515/7517/7638): base64url, the account key
// (ECDSA P-256) with its JWK and thumbprint, flattened-JSON JWS signed with ES256, and the
// challenge values derived from the key (key authorization, dns-01 TXT value).
#ifndef REKEY_ACME_JWS_H_
#define REKEY_ACME_JWS_H_

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "pki/keys.h"

namespace rekey::acme {

// BASE64URL of RFC 7515 section 2: RFC 4648 section 5 alphabet, no padding.
std::string Base64UrlEncode(std::string_view data);
// The inverse; kInvalidArgument for padding, whitespace or characters outside the alphabet.
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

// The RFC 7638 thumbprint (base64url of the SHA-256 of the required members in lexicographic
// order, no whitespace) of a public JWK: EC (crv, kty, x, y), RSA (e, kty, n) or OKP (crv, kty,
// x). Other members are ignored. kInvalidArgument for another kty or a missing/non-string member.
absl::StatusOr<std::string> JwkThumbprint(const boost::json::object& jwk);

// An ACME account key: ECDSA on P-256, signing with ES256. Movable, not copyable; thread-safe for
// concurrent const use.
class AccountKey {
 public:
  // A fresh key from OpenSSL's CSPRNG. kInternal when OpenSSL fails.
  static absl::StatusOr<AccountKey> Generate();
  // A key from PEM (PKCS#8 or the traditional EC form). kInvalidArgument when it is not a P-256
  // private key; the message never quotes the input.
  static absl::StatusOr<AccountKey> FromPem(const SecretBytes& pem);

  AccountKey(AccountKey&&) = default;
  AccountKey& operator=(AccountKey&&) = default;

  // The private key as PKCS#8 PEM.
  absl::StatusOr<SecretBytes> ToPem() const;
  // The public JWK: {"crv":"P-256","kty":"EC","x":..,"y":..}.
  const boost::json::object& jwk() const { return jwk_; }
  // JwkThumbprint(jwk()).
  const std::string& thumbprint() const { return thumbprint_; }
  // The ES256 signature of `signing_input` (RFC 7518 section 3.4: the 64 bytes R || S, not DER).
  // kInternal when OpenSSL fails.
  absl::StatusOr<std::string> Sign(std::string_view signing_input) const;

 private:
  AccountKey() = default;
  static absl::StatusOr<AccountKey> FromKey(pki::EvpPkeyPtr key);

  pki::EvpPkeyPtr key_;
  boost::json::object jwk_;
  std::string thumbprint_;
};

// The protected header of a request (RFC 8555 section 6.2): `kid` (the account URL) when set,
// otherwise the account's JWK (newAccount, and revokeCert by the certificate's key).
struct JwsHeader {
  std::string nonce;
  std::string url;
  std::string kid;
};

// A flattened JSON JWS {"protected","payload","signature"} over `payload` (a JSON text; "" for a
// POST-as-GET) signed with `key`. kInternal when signing fails.
absl::StatusOr<std::string> SignJws(const AccountKey& key, const JwsHeader& header,
                                    std::string_view payload);

// OK when `signature` (R || S, 64 bytes) is a valid ES256 signature of `signing_input` by the
// P-256 public JWK `jwk`. kInvalidArgument for a JWK that is not a P-256 point;
// kUnauthenticated when the signature does not verify. For tests and fake servers.
absl::Status VerifyEs256(const boost::json::object& jwk, std::string_view signing_input,
                         std::string_view signature);

// The key authorization of a challenge (RFC 8555 section 8.1): token "." thumbprint.
std::string KeyAuthorization(std::string_view token, std::string_view thumbprint);
// The dns-01 TXT record value (RFC 8555 section 8.4): base64url(SHA-256(key authorization)).
std::string Dns01TxtValue(std::string_view key_authorization);

}  // namespace rekey::acme

#endif  // REKEY_ACME_JWS_H_
