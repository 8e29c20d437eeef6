// Vault's sys/ endpoints for ACL policies (sys/policies/acl/ and the older sys/policy/) and
// sys/capabilities-self, on auth::PolicyStore.
#ifndef REKEY_API_VAULT_SYS_ROUTES_H_
#define REKEY_API_VAULT_SYS_ROUTES_H_

#include "api/authz/route_table.h"
#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "auth/authorizer.h"
#include "auth/policy_store.h"

namespace rekey::api {

// Serves a policy or capabilities route `id` for an already authorized `caller`. As Vault does
// for sys/ paths, the keys of "data" are also copied to the top level of the response.
// `req.segments` is the path after "v1".
http::Response HandleSysRoute(RouteId id, const VaultRequest& req, const auth::Principal& caller,
                              auth::PolicyStore& policies);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_SYS_ROUTES_H_
