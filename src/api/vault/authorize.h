// The authorization step every request of the Vault-shaped surfaces (the Vault API and rekey's
// /v1/rotation/ API) goes through before anything else happens: match the route table,
// authenticate, check the route's capability on the request path, count the token use.
#ifndef REKEY_API_VAULT_AUTHORIZE_H_
#define REKEY_API_VAULT_AUTHORIZE_H_

#include <functional>
#include <variant>

#include "absl/status/statusor.h"
#include "api/authz/route_table.h"
#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "auth/authorizer.h"

namespace rekey::api {

// A request allowed to proceed.
struct Authorized {
  const Route* route = nullptr;
  const OpRule* rule = nullptr;
  std::string policy_path;
  auth::Principal principal;  // empty for unauthenticated routes (sys/health)
};

struct AuthorizeOptions {
  // Answers whether the target of a create-or-update request exists (see auth::Requirement).
  std::function<absl::StatusOr<bool>(const Route&, const VaultRequest&)> exists;
  // Count the token use (false: the caller only probes, e.g. an asynchronous fast path that
  // declines limited-use tokens).
  bool consume_use = true;
};

// `vreq.segments` must be the path after "v1". Returns the response to send instead when the
// request must not proceed:
//   * 403 {"errors":["permission denied"]} (Vault's text) for a missing, unknown, expired,
//     revoked or used-up token, an accessor used as a token, a missing capability or a denied
//     path; and for an unknown route or operation when the caller has no capability at all on
//     the path, so that nobody learns which paths exist without rights on them;
//   * 404 for a path no route serves and 405 for an operation the route does not support, to
//     callers with some capability on the path;
//   * the storage error (5xx) when the token or policy store fails.
// Deny by default: a route's operation is only allowed when its declared Requirement holds.
std::variant<Authorized, http::Response> AuthorizeRequest(auth::Authorizer& authz,
                                                          const VaultRequest& vreq, Surface surface,
                                                          const AuthorizeOptions& options);

// 403 {"errors":["permission denied"]}.
http::Response PermissionDenied();

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_AUTHORIZE_H_
