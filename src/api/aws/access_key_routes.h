// /v1/sys/aws-keys: the Vault-shaped admin API for the AWS access keys rekey issues (the CLI's
// `rekey aws-key create|list|read|delete`). Every route is a row of the route table (surface
// kAwsKeys) and needs sudo: a key is bound to any policies its creator names, like a root token
// would be.
//
//   POST   /v1/sys/aws-keys        {"policies": ["p", ...]}  -> access_key_id, secret_access_key
//   LIST   /v1/sys/aws-keys                                  -> keys (ids only)
//   GET    /v1/sys/aws-keys/:id                              -> access_key_id, policies, created
//   DELETE /v1/sys/aws-keys/:id
//
// The secret access key is in the create response only; it is never logged or audited.
#ifndef REKEY_API_AWS_ACCESS_KEY_ROUTES_H_
#define REKEY_API_AWS_ACCESS_KEY_ROUTES_H_

#include "api/aws/access_keys.h"
#include "api/http/message.h"
#include "auth/authorizer.h"

namespace rekey::api::aws {

// Thread-safe.
class AccessKeyHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  AccessKeyHandler(AccessKeyStore& keys, auth::Authorizer& authz) : keys_(keys), authz_(authz) {}
  bool MayBlock(const http::Request&) const override { return true; }
  http::Response Handle(http::Request& req) override;

 private:
  AccessKeyStore& keys_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_ACCESS_KEY_ROUTES_H_
