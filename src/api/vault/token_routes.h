// Vault's token endpoints under auth/token/ (create, lookup, renew, revoke and their -self and
// -accessor forms, revoke-orphan, accessors), on auth::TokenStore.
#ifndef REKEY_API_VAULT_TOKEN_ROUTES_H_
#define REKEY_API_VAULT_TOKEN_ROUTES_H_

#include <string_view>

#include "api/authz/route_table.h"
#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "auth/authorizer.h"
#include "auth/token_store.h"
#include "core/clock.h"

namespace rekey::api {

// Serves an auth/token/ route `id` for an already authorized `caller`. `policy_path` is the
// request's policy path (sudo on it lets the caller create orphans and tokens with policies it
// does not hold, as in Vault). Bodies and responses follow Vault's token API; a token value
// appears only in the response that creates it and in lookups of the caller's own token.
http::Response HandleTokenRoute(RouteId id, const VaultRequest& req, const auth::Principal& caller,
                                std::string_view policy_path, auth::TokenStore& tokens,
                                const Clock& clock);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_TOKEN_ROUTES_H_
