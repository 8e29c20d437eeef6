#include "api/jwt/jwt_handler.h"

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/data_response.h"
#include "api/vault/json_fields.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

json::string_view View(std::string_view s) { return {s.data(), s.size()}; }

json::value TimeJson(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return nullptr;
  return json::value(View(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone())));
}

std::string JwksPath(std::string_view name) {
  return rekey::StrCat(JwtHandler::kWellKnownPrefix, name, ".json");
}

json::object KeysetJson(const jwt::KeysetView& v) {
  json::object d = NewSecretObject();
  d["name"] = View(v.name);
  d["alg"] = View(jwt::AlgorithmName(v.config.alg));
  d["jwks_cache_ttl"] = absl::ToInt64Seconds(v.config.jwks_cache_ttl);
  d["max_token_ttl"] = absl::ToInt64Seconds(v.config.max_token_ttl);
  d["prepublish"] = absl::ToInt64Seconds(v.config.prepublish);
  d["issuer"] = View(v.config.issuer);
  d["created"] = TimeJson(v.created);
  d["active_kid"] = View(v.active_kid);
  json::array published;
  for (const std::string& kid : v.published_kids) published.emplace_back(View(kid));
  d["published_kids"] = std::move(published);
  d["jwks_path"] = View(JwksPath(v.name));
  json::array keys;
  for (const jwt::KeyView& k : v.keys) {
    json::object o;
    o["kid"] = View(k.kid);
    o["status"] = View(jwt::KeyStatusName(k.status));
    o["created"] = TimeJson(k.created);
    o["published"] = TimeJson(k.published);
    o["promoted"] = TimeJson(k.promoted);
    o["retired"] = TimeJson(k.retired);
    o["removed"] = TimeJson(k.removed);
    keys.emplace_back(std::move(o));
  }
  d["keys"] = std::move(keys);
  return d;
}

// Rejects body fields other than `known` (typos would otherwise be silently ignored).
absl::Status OnlyFields(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const json::key_value_pair& kv : body) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(rekey::StrCat("unknown field \"", key.substr(0, 64), "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> OptionalString(const json::object& body,
                                                          std::string_view field) {
  const json::value* v = body.if_contains(View(field));
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid value for \"", field, "\": expected a string"));
  }
  return std::string(v->get_string());
}

absl::StatusOr<jwt::KeysetConfig> ConfigFrom(const json::object& body) {
  RETURN_IF_ERROR(
      OnlyFields(body, {"alg", "jwks_cache_ttl", "max_token_ttl", "prepublish", "issuer"}));
  jwt::KeysetConfig c;
  ASSIGN_OR_RETURN(std::optional<std::string> alg, OptionalString(body, "alg"));
  if (alg.has_value()) {
    std::optional<jwt::Algorithm> a = jwt::ParseAlgorithm(*alg);
    if (!a.has_value()) {
      return absl::InvalidArgumentError("invalid value for \"alg\": one of RS256, ES256, EdDSA");
    }
    c.alg = *a;
  }
  ASSIGN_OR_RETURN(std::optional<absl::Duration> cache, GetDuration(body, "jwks_cache_ttl"));
  ASSIGN_OR_RETURN(std::optional<absl::Duration> max_ttl, GetDuration(body, "max_token_ttl"));
  ASSIGN_OR_RETURN(std::optional<absl::Duration> prepublish, GetDuration(body, "prepublish"));
  ASSIGN_OR_RETURN(std::optional<std::string> issuer, OptionalString(body, "issuer"));
  if (cache.has_value()) c.jwks_cache_ttl = *cache;
  if (max_ttl.has_value()) c.max_token_ttl = *max_ttl;
  if (prepublish.has_value()) c.prepublish = *prepublish;
  if (issuer.has_value()) c.issuer = *issuer;
  return c;
}

// Whether If-None-Match (a list of entity tags, or "*") names `etag` (weak comparison, RFC 9110
// section 13.1.2).
bool NoneMatch(const http::Request& req, std::string_view etag) {
  std::optional<std::string_view> header = req.GetHeader("if-none-match");
  if (!header.has_value()) return false;
  for (absl::string_view tag : absl::StrSplit(ToAbsl(*header), ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    absl::ConsumePrefix(&tag, "W/");
    if (ToStd(tag) == etag) return true;
  }
  return false;
}

http::Response ServeJwks(jwt::JwtService& jwt, const http::Request& req, std::string_view name) {
  absl::StatusOr<jwt::JwksDocument> doc = jwt.Jwks(name);
  if (!doc.ok()) return ErrorFromStatus(doc.status());
  http::Response res;
  res.headers.push_back(
      {"Cache-Control", rekey::StrCat("public, max-age=", absl::ToInt64Seconds(doc->max_age))});
  res.headers.push_back({"ETag", doc->etag});
  if (NoneMatch(req, doc->etag)) {
    res.status = 304;
    res.content_type.clear();
    return res;
  }
  res.content_type = "application/json";
  res.body = std::move(doc->body);
  return res;
}

// The segments of a /.well-known/jwks/<name>.json path as the route table names it
// (jwt/jwks/<name>); nullopt for any other path under /.well-known/.
std::optional<std::vector<std::string>> WellKnownSegments(const std::vector<std::string>& segs) {
  constexpr std::string_view kSuffix = ".json";
  if (segs.size() != 3 || segs[0] != ".well-known" || segs[1] != "jwks" ||
      segs[2].size() <= kSuffix.size() || !segs[2].ends_with(kSuffix)) {
    return std::nullopt;
  }
  return std::vector<std::string>{"jwt", "jwks", segs[2].substr(0, segs[2].size() - 5)};
}

}  // namespace

JwtHandler::JwtHandler(jwt::JwtService& jwt, auth::Authorizer& authz) : jwt_(jwt), authz_(authz) {}

bool JwtHandler::MayBlock(const http::Request& req) const {
  if (req.method != "GET" && req.method != "HEAD") return true;
  if (std::optional<std::string_view> token = RequestToken(req);
      token.has_value() && authz_.MayNeedWrite(*token)) {
    return true;  // a limited-use token counts a use
  }
  // GET /.well-known/jwks/<name>.json, /v1/jwt/jwks/<name>, /v1/jwt/keys/<name>: inline when the
  // keyset is in memory (names with '%' are decoded later: play safe).
  std::string_view path = req.path;
  std::string_view name;
  for (std::string_view prefix :
       {kWellKnownPrefix, std::string_view("/v1/jwt/jwks/"), std::string_view("/v1/jwt/keys/")}) {
    if (path.starts_with(prefix)) name = path.substr(prefix.size());
  }
  if (path.starts_with(kWellKnownPrefix)) {
    if (!name.ends_with(".json")) return true;
    name.remove_suffix(5);
  }
  if (name.empty() || name.find_first_of("%/") != std::string_view::npos) return true;
  return !jwt_.Cached(name);
}

http::Response JwtHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (!vreq.segments.empty() && vreq.segments[0] == ".well-known") {
    std::optional<std::vector<std::string>> segs = WellKnownSegments(vreq.segments);
    if (!segs.has_value()) {
      return ErrorResponse(404, "no JWK Set here: the path is /.well-known/jwks/<keyset>.json");
    }
    vreq.segments = *std::move(segs);
  } else if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  } else {
    vreq.segments.erase(vreq.segments.begin());  // "jwt", ...
  }

  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kJwt, AuthorizeOptions{});
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string& op = vreq.operation;
  const std::string name = vreq.segments.size() > 2 ? vreq.segments[2] : "";

  if (route == RouteId::kJwtJwks) return ServeJwks(jwt_, req, name);
  if (route == RouteId::kJwtKeys) {
    absl::StatusOr<std::vector<std::string>> names = jwt_.ListKeysets();
    if (!names.ok()) return ErrorFromStatus(names.status());
    if (names->empty()) return ErrorResponse(404, "");
    json::object data = NewSecretObject();
    json::array keys;
    for (const std::string& n : *names) keys.emplace_back(View(n));
    data["keys"] = std::move(keys);
    return DataResponse(req, std::move(data));
  }
  if (route == RouteId::kJwtKey && op == "GET") {
    absl::StatusOr<jwt::KeysetView> view = jwt_.GetKeyset(name);
    if (!view.ok()) return ErrorFromStatus(view.status());
    return DataResponse(req, KeysetJson(*view));
  }

  // The rest are writes with a JSON body, parsed once into zeroing storage (claims, tokens).
  absl::StatusOr<json::value> body_value = ParseBody(req.body);
  if (!body_value.ok()) return ErrorFromStatus(body_value.status());
  if (!body_value->is_object()) {
    return ErrorResponse(400, "invalid request body: expected a JSON object");
  }
  const json::object& body = body_value->get_object();

  if (route == RouteId::kJwtKey) {
    absl::StatusOr<jwt::KeysetConfig> config = ConfigFrom(body);
    if (!config.ok()) return ErrorFromStatus(config.status());
    absl::StatusOr<jwt::JwtService::Created> created = jwt_.CreateKeyset(name, *config);
    if (!created.ok()) return ErrorFromStatus(created.status());
    json::object data = KeysetJson(created->view);
    data["created"] = created->created;
    return DataResponse(req, std::move(data));
  }
  if (route == RouteId::kJwtSign) {
    if (absl::Status s = OnlyFields(body, {"claims", "ttl"}); !s.ok()) return ErrorFromStatus(s);
    json::object claims = NewSecretObject();
    if (const json::value* c = body.if_contains("claims"); c != nullptr && !c->is_null()) {
      if (!c->is_object()) {
        return ErrorResponse(400, "invalid value for \"claims\": expected a JSON object");
      }
      claims = c->get_object();
    }
    absl::StatusOr<std::optional<absl::Duration>> ttl = GetDuration(body, "ttl");
    if (!ttl.ok()) return ErrorFromStatus(ttl.status());
    absl::StatusOr<jwt::SignedToken> signed_token =
        jwt_.Sign(name, claims, ttl->value_or(absl::ZeroDuration()));
    if (!signed_token.ok()) return ErrorFromStatus(signed_token.status());
    json::object data = NewSecretObject();
    data["token"] = View(signed_token->token);
    data["kid"] = View(signed_token->kid);
    data["issued_at"] = absl::ToUnixSeconds(signed_token->issued_at);
    data["expires_at"] = absl::ToUnixSeconds(signed_token->expires_at);
    data["ttl"] = absl::ToInt64Seconds(signed_token->expires_at - signed_token->issued_at);
    SecureWipe(signed_token->token.data(), signed_token->token.size());
    std::vector<std::string> warnings;
    if (signed_token->ttl_capped) {
      warnings.push_back(rekey::StrCat("ttl was capped to the keyset's max_token_ttl (",
                                       data["ttl"].as_int64(), "s)"));
    }
    return DataResponse(req, std::move(data), warnings);
  }
  if (route == RouteId::kJwtVerify) {
    if (absl::Status s = OnlyFields(body, {"token", "issuer", "audience"}); !s.ok()) {
      return ErrorFromStatus(s);
    }
    absl::StatusOr<std::optional<std::string>> token = OptionalString(body, "token");
    if (!token.ok()) return ErrorFromStatus(token.status());
    if (!token->has_value() || (*token)->empty()) {
      return ErrorResponse(400, "missing \"token\"");
    }
    jwt::VerifyOptions options;
    absl::StatusOr<std::optional<std::string>> issuer = OptionalString(body, "issuer");
    absl::StatusOr<std::optional<std::string>> audience = OptionalString(body, "audience");
    if (!issuer.ok()) return ErrorFromStatus(issuer.status());
    if (!audience.ok()) return ErrorFromStatus(audience.status());
    options.issuer = issuer->value_or("");
    options.audience = audience->value_or("");
    absl::StatusOr<jwt::VerifiedToken> verified = jwt_.Verify(name, **token, options);
    SecureWipe((*token)->data(), (*token)->size());
    json::object data = NewSecretObject();
    if (verified.ok()) {
      data["valid"] = true;
      data["kid"] = View(verified->kid);
      json::object claims = NewSecretObject();
      claims = std::move(verified->claims);
      data["claims"] = std::move(claims);
      return DataResponse(req, std::move(data));
    }
    const absl::StatusCode code = verified.status().code();
    if (code != absl::StatusCode::kUnauthenticated && code != absl::StatusCode::kInvalidArgument) {
      return ErrorFromStatus(verified.status());
    }
    data["valid"] = false;
    data["error"] = View(ToStd(verified.status().message()));
    return DataResponse(req, std::move(data));
  }
  return ErrorResponse(405, "unsupported operation");
}

}  // namespace rekey::api
