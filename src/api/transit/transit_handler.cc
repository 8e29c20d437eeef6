// Transit's entry point: which requests may block, authorization, and dispatch to the
// operations in internal/operations.h.
#include "api/transit/transit_handler.h"

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/authz/route_table.h"
#include "api/transit/internal/operations.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"

namespace rekey::api {

namespace ti = transit_internal;

TransitHandler::TransitHandler(transit::TransitService& transit, auth::Authorizer& authz)
    : transit_(transit), authz_(authz) {}

bool TransitHandler::MayBlock(const http::Request& req) const {
  std::optional<std::string_view> token = RequestToken(req);
  if (token.has_value() && authz_.MayNeedWrite(*token)) return true;  // counts a token use
  if (req.method == "GET" || req.method == "HEAD" || req.method == "LIST") return false;
  if (req.method != "POST" && req.method != "PUT") return true;
  constexpr std::string_view kPrefix = "/v1/transit/";
  std::string_view path = req.path;
  if (!path.starts_with(kPrefix)) return true;
  path.remove_prefix(kPrefix.size());
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (parts.empty()) return true;
  const std::string_view op = parts[0];
  if (op == "hash" || op == "random") return false;
  uint64_t encryptions = 0;
  size_t name_at = 1;
  if (op == "encrypt" || op == "rewrap") {
    // At most one item per 16 body bytes ({"plaintext":""} and a comma).
    encryptions = req.body.size() / 16 + 1;
  } else if (op == "datakey") {
    encryptions = 1;
    name_at = 2;
  } else if (op != "decrypt" && op != "hmac" && op != "verify") {
    return true;  // key changes and signing (RSA is slow) go to the pool
  }
  if (parts.size() <= name_at || parts[name_at].find('%') != std::string_view::npos) return true;
  return !transit_.CanServeWithoutStore(parts[name_at], encryptions);
}

http::Response TransitHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());  // "transit", ...

  AuthorizeOptions options;
  // Vault's encrypt existence check: writing to a missing key is a create (and upserts it).
  options.exists = [this](const Route& route, const VaultRequest& v) -> absl::StatusOr<bool> {
    if (route.id != RouteId::kTransitEncrypt) return false;
    return transit_.KeyExists(ti::Segment(v, 2));
  };
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kTransit, options);
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string& op = vreq.operation;

  // Bodies are parsed once, into zeroing storage (they may carry plaintext).
  boost::json::object body = NewSecretObject();
  if (op == "POST" || op == "PUT") {
    absl::StatusOr<boost::json::object> b = ti::BodyObject(req);
    if (!b.ok()) return ErrorFromStatus(b.status());
    body = *std::move(b);
  }

  const ti::TransitCall call{transit_, req, vreq, route, body};
  switch (route) {
    case RouteId::kTransitKeys:
      return ti::HandleListKeys(call);
    case RouteId::kTransitKey:
      return ti::HandleKey(call);
    case RouteId::kTransitKeyConfig:
      return ti::HandleKeyConfig(call);
    case RouteId::kTransitKeyRotate:
      return ti::HandleRotateKey(call);
    case RouteId::kTransitKeyTrim:
      return ti::HandleTrimKey(call);
    case RouteId::kTransitExport:
    case RouteId::kTransitExportVersion:
      return ti::HandleExportKey(call);
    case RouteId::kTransitEncrypt:
      return ti::HandleEncrypt(call);
    case RouteId::kTransitDecrypt:
    case RouteId::kTransitRewrap:
      return ti::HandleDecryptOrRewrap(call);
    case RouteId::kTransitDatakey:
      return ti::HandleDataKey(call);
    case RouteId::kTransitHmac:
    case RouteId::kTransitHmacAlgorithm:
      return ti::HandleHmac(call);
    case RouteId::kTransitSign:
    case RouteId::kTransitSignAlgorithm:
    case RouteId::kTransitVerify:
    case RouteId::kTransitVerifyAlgorithm:
      return ti::HandleSignOrVerify(call);
    case RouteId::kTransitHash:
    case RouteId::kTransitHashAlgorithm:
      return ti::HandleHash(call);
    case RouteId::kTransitRandom:
    case RouteId::kTransitRandomBytes:
      return ti::HandleRandom(call);
    default:
      return ErrorResponse(404, "route entry not found");
  }
}

}  // namespace rekey::api
