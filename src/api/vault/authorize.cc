#include "api/vault/authorize.h"

#include "core/strings.h"

namespace rekey::api {

http::Response PermissionDenied() { return ErrorResponse(403, "permission denied"); }

std::variant<Authorized, http::Response> AuthorizeRequest(auth::Authorizer& authz,
                                                          const VaultRequest& vreq, Surface surface,
                                                          const AuthorizeOptions& options) {
  const std::optional<Op> op = OpFromMethod(vreq.operation);
  if (!op.has_value()) {
    return ErrorResponse(405, StrCat("unsupported HTTP method ", vreq.operation.substr(0, 16)));
  }
  RouteMatch match = MatchRoute(*op, vreq.segments);
  if (match.route != nullptr && match.route->surface != surface) match.route = nullptr;

  Authorized out;
  out.route = match.route;
  out.rule = match.route != nullptr ? match.rule : nullptr;
  out.policy_path = std::move(match.policy_path);

  if (match.route != nullptr && !match.route->authenticated) {
    if (out.rule == nullptr) return ErrorResponse(405, "unsupported operation");
    return out;
  }

  std::optional<std::string_view> token = RequestToken(*vreq.http);
  if (!token.has_value()) return PermissionDenied();
  absl::StatusOr<auth::Principal> principal = authz.Authenticate(*token);
  if (!principal.ok()) {
    return principal.status().code() == absl::StatusCode::kPermissionDenied
               ? PermissionDenied()
               : ErrorFromStatus(principal.status());
  }

  if (out.route == nullptr || out.rule == nullptr) {
    if (!auth::Authorizer::GrantsAnything(*principal->policies, out.policy_path, match.list)) {
      return PermissionDenied();
    }
    if (out.route == nullptr) {
      return ErrorResponse(404, StrCat("no handler for route \"", vreq.JoinFrom(0).substr(0, 256),
                                       "\". route entry not found."));
    }
    return ErrorResponse(405, "unsupported operation");
  }

  absl::StatusOr<bool> allowed =
      auth::Authorizer::Permits(*principal->policies, out.policy_path, match.list, out.rule->need,
                                [&]() -> absl::StatusOr<bool> {
                                  if (!options.exists) return false;
                                  return options.exists(*out.route, vreq);
                                });
  if (!allowed.ok()) return ErrorFromStatus(allowed.status());
  if (!*allowed) return PermissionDenied();

  if (options.consume_use) {
    absl::Status used = authz.ConsumeUse(*principal);
    if (!used.ok()) {
      return used.code() == absl::StatusCode::kPermissionDenied ? PermissionDenied()
                                                                : ErrorFromStatus(used);
    }
  }
  out.principal = *std::move(principal);
  return out;
}

}  // namespace rekey::api
