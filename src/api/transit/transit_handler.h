// TransitHandler: Vault's transit secrets engine at /v1/transit/ (keys, encrypt, decrypt, rewrap,
// datakey, hmac, sign, verify, export, hash, random), with Vault's request fields, response
// shapes and batch semantics (see shared/reference/api-compat.md section 4 and
// docs/api/transit.md). Every request is authorized through the route table first.
#ifndef REKEY_API_TRANSIT_TRANSIT_HANDLER_H_
#define REKEY_API_TRANSIT_TRANSIT_HANDLER_H_

#include "api/http/message.h"
#include "auth/authorizer.h"
#include "transit/transit_service.h"

namespace rekey::api {

// Thread-safe. Reads, and encrypt/decrypt/rewrap/datakey/hmac/verify/hash/random on a key that
// is cached with usage allowance to spare, run inline on I/O threads; everything else (key
// changes, signing, cold keys, limited-use tokens) on the blocking pool.
class TransitHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  TransitHandler(transit::TransitService& transit, auth::Authorizer& authz);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;

  // Most items in one batch_input.
  static constexpr size_t kMaxBatchItems = 10000;
  // Most bytes one transit/random call returns (Vault's limit).
  static constexpr size_t kMaxRandomBytes = 128 * 1024;

 private:
  transit::TransitService& transit_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api

#endif  // REKEY_API_TRANSIT_TRANSIT_HANDLER_H_
