#include "api/vault/vault_handler.h"

#include <boost/json.hpp>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/kv_routes.h"
#include "api/vault/sys_routes.h"
#include "api/vault/token_routes.h"
#include "api/vault/vault_wire.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

bool IsKnownMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "LIST" || m == "POST" || m == "PUT" || m == "PATCH" ||
         m == "DELETE";
}

}  // namespace

VaultHandler::VaultHandler(secrets::SecretsService& kv, auth::Authorizer& authz, const Clock& clock,
                           VaultHandlerOptions options)
    : kv_(kv), authz_(authz), clock_(clock), options_(std::move(options)) {}

VaultHandler::VaultHandler(secrets::SecretsService& kv, auth::TokenStore& tokens,
                           const Clock& clock, VaultHandlerOptions options)
    : owned_policies_(std::make_unique<auth::PolicyStore>(tokens.store())),
      owned_authz_(std::make_unique<auth::Authorizer>(tokens, *owned_policies_)),
      kv_(kv),
      authz_(*owned_authz_),
      clock_(clock),
      options_(std::move(options)) {}

bool VaultHandler::MayBlock(const http::Request& req) const {
  if (!(req.method == "GET" || req.method == "HEAD" || req.method == "LIST")) return true;
  // A limited-use token writes its use count.
  std::optional<std::string_view> token = RequestToken(req);
  return token.has_value() && authz_.MayNeedWrite(*token);
}

http::Response VaultHandler::Health(const VaultRequest& vreq) const {
  int status = 200;
  if (auto code = vreq.Query("activecode"); code.has_value()) {
    int parsed_code = 0;
    if (!absl::SimpleAtoi(ToAbsl(*code), &parsed_code) || parsed_code < 200 || parsed_code > 599) {
      return ErrorResponse(400, "invalid value for query parameter \"activecode\"");
    }
    status = parsed_code;
  }
  json::object body;
  body["initialized"] = true;
  body["sealed"] = false;
  body["standby"] = false;
  body["performance_standby"] = false;
  body["replication_performance_mode"] = "disabled";
  body["replication_dr_mode"] = "disabled";
  body["server_time_utc"] = absl::ToUnixSeconds(clock_.Now());
  body["version"] = options_.version;
  body["cluster_name"] = options_.cluster_name;
  body["cluster_id"] = options_.cluster_id;
  http::Response res;
  res.status = status;
  res.body = json::serialize(body);
  return res;
}

AuthorizeOptions VaultHandler::AuthOptions() const {
  AuthorizeOptions options;
  // KV v2's existence check (Vault's kv plugin): a secret exists while it has metadata, even
  // when every version is deleted.
  options.exists = [this](const Route& route, const VaultRequest& vreq) -> absl::StatusOr<bool> {
    if (route.id != RouteId::kKvData && route.id != RouteId::kKvMetadata) return false;
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(vreq.JoinFrom(2));
    if (meta.ok()) return true;
    if (meta.status().code() == absl::StatusCode::kNotFound ||
        meta.status().code() == absl::StatusCode::kInvalidArgument) {
      return false;  // an invalid path is refused by the route itself afterwards
    }
    return meta.status();
  };
  return options;
}

http::Response VaultHandler::Handle(http::Request& req) {
  if (!IsKnownMethod(req.method)) {
    return ErrorResponse(405, rekey::StrCat("unsupported HTTP method ", req.method.substr(0, 16)));
  }
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());

  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kVault, AuthOptions());
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  Authorized& a = std::get<Authorized>(authorized);
  vreq.token = a.principal.token;

  switch (a.route->id) {
    case RouteId::kSysHealth:
      return Health(vreq);
    case RouteId::kSysCapabilitiesSelf:
    case RouteId::kSysPoliciesAclList:
    case RouteId::kSysPoliciesAcl:
    case RouteId::kSysPolicyList:
    case RouteId::kSysPolicy:
      return HandleSysRoute(a.route->id, vreq, a.principal, authz_.policies());
    case RouteId::kTokenCreate:
    case RouteId::kTokenCreateOrphan:
    case RouteId::kTokenLookup:
    case RouteId::kTokenLookupSelf:
    case RouteId::kTokenLookupAccessor:
    case RouteId::kTokenRenew:
    case RouteId::kTokenRenewSelf:
    case RouteId::kTokenRenewAccessor:
    case RouteId::kTokenRevoke:
    case RouteId::kTokenRevokeSelf:
    case RouteId::kTokenRevokeAccessor:
    case RouteId::kTokenRevokeOrphan:
    case RouteId::kTokenAccessors:
      return HandleTokenRoute(a.route->id, vreq, a.principal, a.policy_path, authz_.tokens(),
                              clock_);
    case RouteId::kKvConfig:
    case RouteId::kKvData:
    case RouteId::kKvMetadata:
    case RouteId::kKvSubkeys:
    case RouteId::kKvDelete:
    case RouteId::kKvUndelete:
    case RouteId::kKvDestroy:
      return HandleKv(vreq, kv_);
    default:
      // Rows of other surfaces (rotation, audit, aws-keys, transit, pki): served by their own
      // handlers, never matched here (AuthorizeRequest matched Surface::kVault only).
      break;
  }
  return ErrorResponse(404, "route entry not found");
}

bool VaultHandler::HandleAsync(http::Request& req, http::Responder respond) {
  // A cheap filter first: only writes under /v1/secret/data/ can go asynchronously.
  if (req.method != "POST" && req.method != "PUT") return false;
  if (req.path.rfind("/v1/secret/data/", 0) != 0) return false;
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok() || parsed->segments.empty() || parsed->segments[0] != "v1") return false;
  parsed->segments.erase(parsed->segments.begin());
  std::optional<std::string_view> token = RequestToken(req);
  if (!token.has_value()) return false;  // the synchronous route answers 403
  // A limited-use token writes its use count: the synchronous route, on the blocking pool.
  if (authz_.MayNeedWrite(*token)) return false;
  // Authorized before anything is written; any refusal is rendered by the synchronous route.
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, *parsed, Surface::kVault, AuthOptions());
  Authorized* a = std::get_if<Authorized>(&authorized);
  if (a == nullptr || a->route->id != RouteId::kKvData) return false;
  parsed->token = a->principal.token;
  return StartKvWriteAsync(*parsed, kv_, std::move(respond));
}

}  // namespace rekey::api
