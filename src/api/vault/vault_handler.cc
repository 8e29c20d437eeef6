#include "api/vault/vault_handler.h"

#include <boost/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/vault/kv_routes.h"
#include "api/vault/vault_wire.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kKvMount = "secret";

bool IsKnownMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "LIST" || m == "POST" || m == "PUT" || m == "PATCH" ||
         m == "DELETE";
}

}  // namespace

VaultHandler::VaultHandler(secrets::SecretsService& kv, auth::TokenStore& tokens,
                           const Clock& clock, VaultHandlerOptions options)
    : kv_(kv), tokens_(tokens), clock_(clock), options_(std::move(options)) {}

bool VaultHandler::MayBlock(const http::Request& req) const {
  return !(req.method == "GET" || req.method == "HEAD" || req.method == "LIST");
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
  const auto& segs = vreq.segments;

  if (segs.size() == 2 && segs[0] == "sys" && segs[1] == "health") {
    if (vreq.operation != "GET") return ErrorResponse(405, "unsupported operation");
    int status = 200;
    if (auto code = vreq.Query("activecode"); code.has_value()) {
      int parsed_code = 0;
      if (!absl::SimpleAtoi(ToAbsl(*code), &parsed_code) || parsed_code < 200 ||
          parsed_code > 599) {
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

  std::optional<std::string_view> token = RequestToken(req);
  if (!token.has_value()) return ErrorResponse(403, "permission denied");
  absl::StatusOr<auth::TokenEntry> entry = tokens_.Lookup(*token);
  if (!entry.ok()) {
    return entry.status().code() == absl::StatusCode::kPermissionDenied
               ? ErrorResponse(403, "permission denied")
               : ErrorFromStatus(entry.status());
  }
  vreq.token = std::move(*entry);

  if (segs.size() == 3 && segs[0] == "auth" && segs[1] == "token" && segs[2] == "lookup-self") {
    if (vreq.operation != "GET" && vreq.operation != "POST" && vreq.operation != "PUT") {
      return ErrorResponse(405, "unsupported operation");
    }
    const auth::TokenEntry& t = vreq.token;
    json::object data;
    data["accessor"] = t.accessor;
    data["creation_time"] = absl::ToUnixSeconds(t.created);
    data["creation_ttl"] = 0;
    data["display_name"] = t.display_name;
    data["entity_id"] = "";
    data["expire_time"] = t.expires == absl::InfiniteFuture()
                              ? json::value(nullptr)
                              : json::value(secrets::FormatRfc3339(t.expires));
    data["explicit_max_ttl"] = 0;
    data["id"] = std::string(*token);
    data["issue_time"] = secrets::FormatRfc3339(t.created);
    data["meta"] = nullptr;
    data["num_uses"] = 0;
    data["orphan"] = t.orphan;
    data["path"] = t.path;
    json::array policies;
    for (const auto& p : t.policies) policies.emplace_back(p);
    data["policies"] = std::move(policies);
    data["renewable"] = false;
    data["ttl"] =
        t.expires == absl::InfiniteFuture() ? 0 : absl::ToInt64Seconds(t.expires - clock_.Now());
    data["type"] = "service";
    std::string text = json::serialize(data);
    http::Response res = Envelope(req, text);
    SecureWipe(text);
    return res;
  }
  if (!segs.empty() && segs[0] == kKvMount) return HandleKv(vreq, kv_);
  return ErrorResponse(404, rekey::StrCat("no handler for route \"", vreq.JoinFrom(0),
                                          "\". route entry not found."));
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
  absl::StatusOr<auth::TokenEntry> entry = tokens_.Lookup(*token);
  if (!entry.ok()) return false;
  parsed->token = std::move(*entry);
  return StartKvWriteAsync(*parsed, kv_, std::move(respond));
}

}  // namespace rekey::api
