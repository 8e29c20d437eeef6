#include "api/storage_keys/storage_key_handler.h"

#include <boost/json.hpp>
#include <variant>

#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"
#include "core/strings.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

json::string TimeJson(absl::Time t) {
  if (t == absl::InfinitePast()) return json::string();
  std::string s = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
  return json::string(s.data(), s.size());
}

std::string_view StatusName(crypto::KeyStatus s) {
  switch (s) {
    case crypto::KeyStatus::kEnabled:
      return "enabled";
    case crypto::KeyStatus::kDisabled:
      return "disabled";
    case crypto::KeyStatus::kDestroyed:
      return "destroyed";
  }
  return "unknown";
}

}  // namespace

http::Response StorageKeyHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kStorageKeys, AuthorizeOptions{});
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;

  if (route == RouteId::kSysRotate) {
    absl::StatusOr<uint32_t> id = manager_.Rotate();
    if (!id.ok()) return ErrorFromStatus(id.status());
    return NoContent();
  }
  // kSysKeyStatus
  json::object data;
  json::array keys;
  for (const crypto::KeyInfo& k : keyring_.Keys()) {
    if (k.primary) {
      data["primary_key_id"] = k.id;
      data["install_time"] = TimeJson(k.created);
      data["encryptions"] = k.encryptions;
    }
    json::object o;
    o["id"] = k.id;
    const std::string_view status = StatusName(k.status);
    o["status"] = json::string_view(status.data(), status.size());
    o["primary"] = k.primary;
    o["created"] = TimeJson(k.created);
    o["encryptions"] = k.encryptions;
    keys.push_back(std::move(o));
  }
  data["term"] = keys.size();
  data["keys"] = std::move(keys);
  const storage::RewrapProgress p = manager_.Progress();
  json::object rewrap;
  rewrap["active"] = p.active;
  rewrap["target_key_id"] = p.target_key;
  rewrap["pass"] = p.pass;
  rewrap["done"] = p.done;
  rewrap["total"] = p.total;
  rewrap["rewrapped"] = p.rewrapped;
  rewrap["unreadable"] = p.unreadable;
  rewrap["started"] = TimeJson(p.started);
  rewrap["finished"] = TimeJson(p.finished);
  data["rewrap"] = std::move(rewrap);
  return Envelope(req, json::serialize(data));
}

}  // namespace rekey::api
