// The transit operations TransitHandler dispatches to once a request is authorized, one per
// route group. Each answers in Vault's wire shape: data in the envelope, or {"errors":[...]}.
#ifndef REKEY_API_TRANSIT_INTERNAL_OPERATIONS_H_
#define REKEY_API_TRANSIT_INTERNAL_OPERATIONS_H_

#include <boost/json.hpp>

#include "api/authz/route_table.h"
#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "transit/transit_service.h"

namespace rekey::api::transit_internal {

// An authorized transit request. Everything it refers to outlives the operation.
struct TransitCall {
  transit::TransitService& transit;
  const http::Request& request;
  const VaultRequest& vreq;         // segments after "v1": "transit", ...
  RouteId route;                    // the matched route
  const boost::json::object& body;  // the parsed body; empty unless POST or PUT
};

// keys_ops.cc: LIST transit/keys.
http::Response HandleListKeys(const TransitCall& call);
// keys_ops.cc: GET (read), DELETE, or POST (create) transit/keys/<name>.
http::Response HandleKey(const TransitCall& call);
// keys_ops.cc: transit/keys/<name>/config.
http::Response HandleKeyConfig(const TransitCall& call);
// keys_ops.cc: transit/keys/<name>/rotate.
http::Response HandleRotateKey(const TransitCall& call);
// keys_ops.cc: transit/keys/<name>/trim.
http::Response HandleTrimKey(const TransitCall& call);
// keys_ops.cc: transit/export/<kind>/<name>[/<version>].
http::Response HandleExportKey(const TransitCall& call);

// crypt_ops.cc: transit/encrypt/<name>, creating a missing key (Vault's upsert).
http::Response HandleEncrypt(const TransitCall& call);
// crypt_ops.cc: transit/decrypt/<name> and transit/rewrap/<name>.
http::Response HandleDecryptOrRewrap(const TransitCall& call);
// crypt_ops.cc: transit/datakey/<plaintext|wrapped>/<name>.
http::Response HandleDataKey(const TransitCall& call);

// sign_ops.cc: transit/hmac/<name>[/<algorithm>].
http::Response HandleHmac(const TransitCall& call);
// sign_ops.cc: transit/sign/<name>[/<algorithm>] and transit/verify/<name>[/<algorithm>].
http::Response HandleSignOrVerify(const TransitCall& call);

// misc_ops.cc: transit/hash[/<algorithm>].
http::Response HandleHash(const TransitCall& call);
// misc_ops.cc: transit/random[/<bytes>].
http::Response HandleRandom(const TransitCall& call);

}  // namespace rekey::api::transit_internal

#endif  // REKEY_API_TRANSIT_INTERNAL_OPERATIONS_H_
