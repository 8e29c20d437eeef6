// KV version 2 routes (mount secret/): data, metadata, subkeys, delete/undelete/destroy, config.
#ifndef REKEY_API_VAULT_KV_ROUTES_H_
#define REKEY_API_VAULT_KV_ROUTES_H_

#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "secrets/secrets_service.h"

namespace rekey::api {

// Handles a request whose segments start with the KV mount. `req.segments[0]` is the mount.
http::Response HandleKv(const VaultRequest& req, secrets::SecretsService& kv);

// Starts a KV v2 data write (POST/PUT secret/data/<path> with a valid body) whose commit
// completes asynchronously, and answers through `respond`; a write that lost a race with another
// write of the same secret answers kRunBlocking, to be redone by HandleKv. Returns false, having
// done nothing, for any other request or any invalid one. `req.http` must stay valid until
// `respond` has run.
bool StartKvWriteAsync(const VaultRequest& req, secrets::SecretsService& kv,
                       http::Responder respond);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_KV_ROUTES_H_
