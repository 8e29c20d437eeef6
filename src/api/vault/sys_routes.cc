#include "api/vault/sys_routes.h"

#include <boost/json.hpp>

#include "absl/strings/ascii.h"
#include "api/vault/zeroing_json.h"
#include "core/strings.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

constexpr size_t kMaxCapabilityPaths = 256;

// Vault's envelope for sys/ paths: "data", and each of its keys again at the top level.
http::Response SysEnvelope(const http::Request& req, const json::object& data) {
  json::object top;
  for (const auto& [key, value] : data) top[key] = value;
  top["request_id"] = req.request_id;
  top["lease_id"] = "";
  top["renewable"] = false;
  top["lease_duration"] = 0;
  top["data"] = data;
  top["wrap_info"] = nullptr;
  top["warnings"] = nullptr;
  top["auth"] = nullptr;
  http::Response res;
  res.body = json::serialize(top);
  return res;
}

json::array StringArray(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

// The document of a policy write: "policy" (and, for the older endpoint, "rules"), a string.
absl::StatusOr<std::string> PolicyDocument(const VaultRequest& req, bool allow_rules) {
  absl::StatusOr<json::value> body = ParseBody(req.http->body);
  if (!body.ok()) return body.status();
  const json::object* o = body->if_object();
  if (o == nullptr) return absl::InvalidArgumentError("invalid request body: expected an object");
  const json::value* policy = o->if_contains("policy");
  if ((policy == nullptr || policy->is_null()) && allow_rules) policy = o->if_contains("rules");
  if (policy == nullptr || policy->is_null()) {
    return absl::InvalidArgumentError("missing \"policy\": the policy document, as a JSON string");
  }
  if (policy->is_object()) return json::serialize(*policy);  // accepted as a convenience
  if (!policy->is_string()) {
    return absl::InvalidArgumentError(
        "invalid value for \"policy\": expected the policy document as a string");
  }
  return std::string(policy->get_string());
}

std::vector<std::string> CapabilityNames(const auth::PolicySet& set, const std::string& path) {
  if (set.IsRoot()) return {"root"};
  auth::CapabilitySet caps = set.CapabilitiesFor(path);
  if (caps.empty() || caps.Has(auth::Capability::kDeny)) return {"deny"};
  std::vector<std::string> out;
  for (std::string_view name : caps.Names()) out.emplace_back(name);
  return out;
}

http::Response CapabilitiesSelf(const VaultRequest& req, const auth::Principal& caller) {
  absl::StatusOr<json::value> body = ParseBody(req.http->body);
  if (!body.ok()) return ErrorFromStatus(body.status());
  const json::object* o = body->if_object();
  if (o == nullptr) return ErrorResponse(400, "invalid request body: expected an object");
  std::vector<std::string> paths;
  for (std::string_view field : {"paths", "path"}) {
    const json::value* v = o->if_contains(field);
    if (v == nullptr || v->is_null()) continue;
    if (v->is_string()) {
      paths.emplace_back(v->get_string());
    } else if (v->is_array()) {
      for (const json::value& item : v->get_array()) {
        if (!item.is_string()) return ErrorResponse(400, "\"paths\" must be a list of strings");
        paths.emplace_back(item.get_string());
      }
    } else {
      return ErrorResponse(400, "\"paths\" must be a list of strings");
    }
  }
  if (paths.empty()) return ErrorResponse(400, "missing paths");
  if (paths.size() > kMaxCapabilityPaths) return ErrorResponse(400, "too many paths");
  json::object data;
  std::vector<std::string> last;
  for (std::string& path : paths) {
    while (!path.empty() && path.front() == '/') path.erase(path.begin());
    last = CapabilityNames(*caller.policies, path);
    data[path] = StringArray(last);
  }
  if (paths.size() == 1) data["capabilities"] = StringArray(last);
  return SysEnvelope(*req.http, data);
}

http::Response StatusResponse(const absl::Status& s) {
  return s.ok() ? NoContent() : ErrorFromStatus(s);
}

}  // namespace

http::Response HandleSysRoute(RouteId id, const VaultRequest& req, const auth::Principal& caller,
                              auth::PolicyStore& policies) {
  const std::string& op = req.operation;
  const bool read = op == "GET" || op == "HEAD";
  const bool write = op == "POST" || op == "PUT";
  switch (id) {
    case RouteId::kSysCapabilitiesSelf:
      return CapabilitiesSelf(req, caller);
    case RouteId::kSysPoliciesAclList:
    case RouteId::kSysPolicyList: {
      absl::StatusOr<std::vector<std::string>> names = policies.List();
      if (!names.ok()) return ErrorFromStatus(names.status());
      json::object data;
      data["keys"] = StringArray(*names);
      if (id == RouteId::kSysPolicyList) data["policies"] = StringArray(*names);
      return SysEnvelope(*req.http, data);
    }
    case RouteId::kSysPoliciesAcl:
    case RouteId::kSysPolicy: {
      const bool legacy = id == RouteId::kSysPolicy;
      const size_t index = legacy ? 2 : 3;  // sys/policy/<name>, sys/policies/acl/<name>
      std::string name = index < req.segments.size() ? req.segments[index] : "";
      absl::AsciiStrToLower(&name);
      if (read) {
        absl::StatusOr<std::optional<std::string>> text = policies.Read(name);
        if (!text.ok()) return ErrorFromStatus(text.status());
        if (!text->has_value()) return ErrorResponse(404, "");
        json::object data;
        data["name"] = name;
        data[legacy ? "rules" : "policy"] = **text;
        return SysEnvelope(*req.http, data);
      }
      if (write) {
        absl::StatusOr<std::string> document = PolicyDocument(req, legacy);
        if (!document.ok()) return ErrorFromStatus(document.status());
        return StatusResponse(policies.Write(name, *document));
      }
      if (op == "DELETE") return StatusResponse(policies.Delete(name));
      break;
    }
    default:
      break;
  }
  return ErrorResponse(405, "unsupported operation");
}

}  // namespace rekey::api
