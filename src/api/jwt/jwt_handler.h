// JwtHandler: rekey's JWT signing keysets over HTTP (docs/api/jwt.md): /v1/jwt/keys (create, read,
// list), /v1/jwt/sign, /v1/jwt/verify in Vault's envelope, and the public JWK Set at
// /.well-known/jwks/<name>.json (also /v1/jwt/jwks/<name>) with Cache-Control and ETag. Every
// request, the public ones included, is matched against the route table first.
#ifndef REKEY_API_JWT_JWT_HANDLER_H_
#define REKEY_API_JWT_JWT_HANDLER_H_

#include "api/http/message.h"
#include "auth/authorizer.h"
#include "jwt/jwt_service.h"

namespace rekey::api {

// Thread-safe. Reads of a cached keyset (the JWKS, GET keys) run inline on I/O threads; the rest
// (key generation, signing, verification, store reads) on the blocking pool.
class JwtHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  JwtHandler(jwt::JwtService& jwt, auth::Authorizer& authz);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;

  // Where the public JWK Sets are served: "<prefix><name>.json".
  static constexpr std::string_view kWellKnownPrefix = "/.well-known/jwks/";

 private:
  jwt::JwtService& jwt_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api

#endif  // REKEY_API_JWT_JWT_HANDLER_H_
