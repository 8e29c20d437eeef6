// The `jwt` rotator: rotates the signing key of a JWT keyset (src/jwt) without a moment in which a
// verifier that caches the JWKS for its max-age could meet a token it cannot check. The secret it
// rotates holds the keyset's public state; the private keys stay in the keyset.
#ifndef REKEY_ROTATORS_JWT_JWT_ROTATOR_H_
#define REKEY_ROTATORS_JWT_JWT_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "jwt/jwt_service.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::jwt {

// params:
//   keyset  (required) the name of an existing keyset (POST /v1/jwt/keys/<name>)
//
// The value is a JSON object (no key material):
//   {"name", "alg", "active_kid" (the key this rotation makes the signer), "previous_kid" (the
//    signer when the rotation started), "published_kids" (the JWKS once the new key is in it),
//    "jwks_path" ("/.well-known/jwks/<name>.json")}
//
// Steps, one phase of the key timeline each (jwt/keyset.h):
//   create   publish a new key: in the JWKS, not signing. Idempotent per run and attempt: a resumed
//            create adopts the key it published before the crash.
//   set      schedule its promotion at published + the keyset's prepublish (>= the JWKS cache
//            TTL) and the current signer's retirement at that same instant. The switch happens at
//            that time by itself: no step waits for it (see docs/rotators/jwt.md).
//   test     sign a token with the new key and verify it against the keyset.
//   revoke   (after the engine's grace) schedule the removal of the previous key, and of any other
//            superseded key, at max(now, retired + max_token_ttl): no token it signed is still
//            valid when it leaves the JWKS.
//   rollback withdraw the new key: one that never signed leaves the JWKS at once and the old key
//            keeps signing; one that already signed stops and stays published for max_token_ttl.
// Configure the rotation's grace >= max_token_ttl + prepublish so revoke removes the old key on
// time; a shorter grace is safe (removal is never earlier) but keeps the old key longer.
//
// Errors: kNotFound for a missing keyset (create, check) or key; store errors as they come.
// Thread-safe (the JwtService is). One secret per keyset: two secrets rotating the same keyset
// would retire each other's keys.
class JwtRotator final : public rotation::Rotator {
 public:
  // `jwt` must outlive the rotator.
  explicit JwtRotator(rekey::jwt::JwtService& jwt) : jwt_(jwt) {}

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  rekey::jwt::JwtService& jwt_;
};

// Registers JwtRotator over `jwt` as "jwt".
absl::Status RegisterJwtRotator(rotation::RotatorRegistry& registry, rekey::jwt::JwtService& jwt);

}  // namespace rekey::rotators::jwt

#endif  // REKEY_ROTATORS_JWT_JWT_ROTATOR_H_
