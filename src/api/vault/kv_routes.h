// KV version 2 routes (mount secret/): data, metadata, subkeys, delete/undelete/destroy, config.
#ifndef REKEY_API_VAULT_KV_ROUTES_H_
#define REKEY_API_VAULT_KV_ROUTES_H_

#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "secrets/secrets_service.h"

namespace rekey::api {

// Handles a request whose segments start with the KV mount. `req.segments[0]` is the mount.
http::Response HandleKv(const VaultRequest& req, secrets::SecretsService& kv);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_KV_ROUTES_H_
