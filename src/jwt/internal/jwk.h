// The public JWK members of a transit asymmetric key (RFC 7518 section 6, RFC 8037 section 2),
// read from its SubjectPublicKeyInfo with OpenSSL. Internal to src/jwt.
#ifndef REKEY_JWT_INTERNAL_JWK_H_
#define REKEY_JWT_INTERNAL_JWK_H_

#include <boost/json/object.hpp>

#include "absl/status/statusor.h"
#include "transit/internal/openssl_ops.h"

namespace rekey::jwt::internal {

// RSA: {"kty":"RSA","n","e"} (big-endian, no leading zero octets); P-256: {"kty":"EC",
// "crv":"P-256","x","y"} (32 octets each); Ed25519: {"kty":"OKP","crv":"Ed25519","x"}; values
// BASE64URL. kInvalidArgument for another key type; kInternal on an OpenSSL failure.
absl::StatusOr<boost::json::object> PublicJwkOf(const transit::internal::AsymmetricKey& key);

}  // namespace rekey::jwt::internal

#endif  // REKEY_JWT_INTERNAL_JWK_H_
