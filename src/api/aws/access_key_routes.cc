#include "api/aws/access_key_routes.h"

#include <boost/json.hpp>
#include <variant>

#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;

// The "policies" member of a create body: 1..32 names. kInvalidArgument naming what is wrong.
absl::StatusOr<std::vector<std::string>> PoliciesOf(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body.empty() ? std::string_view("{}") : body, ec);
  if (ec || !v.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  for (const auto& [key, value] : v.as_object()) {
    if (key != "policies") {
      return absl::InvalidArgumentError(StrCat("unknown field \"",
                                               std::string_view(key.data(), key.size()),
                                               "\": the only field is \"policies\""));
    }
  }
  const json::value* p = v.as_object().if_contains("policies");
  if (p == nullptr || !p->is_array() || p->as_array().empty() || p->as_array().size() > 32) {
    return absl::InvalidArgumentError(
        "\"policies\" is required: a list of 1 to 32 policy names, e.g. [\"app-read\"]");
  }
  std::vector<std::string> names;
  for (const json::value& e : p->as_array()) {
    if (!e.is_string() || e.as_string().empty() || e.as_string().size() > 128) {
      return absl::InvalidArgumentError("each policy name must be a string of 1 to 128 characters");
    }
    names.emplace_back(e.as_string().data(), e.as_string().size());
  }
  return names;
}

json::array PoliciesJson(const std::vector<std::string>& policies) {
  json::array out;
  for (const std::string& p : policies) out.emplace_back(json::string_view(p.data(), p.size()));
  return out;
}

}  // namespace

http::Response AccessKeyHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());  // "sys", "aws-keys", [id]
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kAwsKeys, AuthorizeOptions{});
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string& op = vreq.operation;

  if (route == RouteId::kSysAwsKeys && op == "LIST") {
    absl::StatusOr<std::vector<std::string>> ids = keys_.List();
    if (!ids.ok()) return ErrorFromStatus(ids.status());
    json::array keys;
    for (const std::string& id : *ids) keys.emplace_back(json::string_view(id.data(), id.size()));
    return Envelope(req, json::serialize(json::object{{"keys", std::move(keys)}}));
  }
  if (route == RouteId::kSysAwsKeys) {  // POST/PUT: create
    absl::StatusOr<std::vector<std::string>> policies = PoliciesOf(req.body);
    if (!policies.ok()) return ErrorFromStatus(policies.status());
    absl::StatusOr<AccessKey> key = keys_.Create(*policies);
    if (!key.ok()) return ErrorFromStatus(key.status());
    json::object data{{"access_key_id", key->id}, {"policies", PoliciesJson(key->policies)}};
    data["secret_access_key"] = json::string_view(key->secret.Reveal().data(), key->secret.size());
    SecretBytes body(json::serialize(data));
    SecureWipe(data["secret_access_key"].as_string().data(),
               data["secret_access_key"].as_string().size());
    return Envelope(req, body.Reveal());
  }
  // RouteId::kSysAwsKey
  const std::string& id = vreq.segments[2];
  if (op == "DELETE") {
    absl::Status s = keys_.Delete(id);
    return s.ok() ? NoContent() : ErrorFromStatus(s);
  }
  absl::StatusOr<std::shared_ptr<const AccessKey>> key = keys_.Lookup(id);
  if (!key.ok()) {
    if (key.status().code() == absl::StatusCode::kNotFound) {
      return ErrorResponse(404, StrCat("no AWS access key \"", id, "\""));
    }
    return ErrorFromStatus(key.status());
  }
  json::object data{{"access_key_id", (*key)->id},
                    {"policies", PoliciesJson((*key)->policies)},
                    {"created", secrets::FormatRfc3339((*key)->created)}};
  return Envelope(req, json::serialize(data));
}

}  // namespace rekey::api::aws
