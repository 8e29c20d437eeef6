#include "api/vault/token_routes.h"

#include <boost/json.hpp>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/vault/json_fields.h"
#include "api/vault/zeroing_json.h"
#include "core/secret_bytes.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

http::Response Bad(std::string_view message) { return ErrorResponse(400, message); }

// Vault's parseutil.ParseDurationSecond: a number of seconds (JSON number or numeric string) or
// a Go duration string such as "1h30m".
absl::StatusOr<std::optional<absl::Duration>> DurationField(const json::object& o,
                                                            std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto bad = [&] {
    return absl::InvalidArgumentError(StrCat("invalid value for \"", field,
                                             "\": expected a duration such as \"1h\" or a number "
                                             "of seconds"));
  };
  if (v->is_int64()) {
    if (v->get_int64() < 0) return bad();
    return absl::Seconds(v->get_int64());
  }
  if (v->is_uint64()) return absl::Seconds(static_cast<int64_t>(v->get_uint64()));
  if (v->is_double()) {
    if (v->get_double() < 0 || v->get_double() > 1e12) return bad();
    return absl::Seconds(v->get_double());
  }
  if (!v->is_string()) return bad();
  std::string_view text(v->get_string().data(), v->get_string().size());
  if (text.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(ToAbsl(text), &seconds)) {
    if (seconds < 0) return bad();
    return absl::Seconds(seconds);
  }
  absl::StatusOr<absl::Duration> d = secrets::ParseGoDuration(text);
  if (!d.ok() || *d < absl::ZeroDuration()) return bad();
  return *d;
}

// A string field; nullopt when absent or null.
absl::StatusOr<std::optional<std::string_view>> StringField(const json::object& o,
                                                            std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        StrCat("invalid value for \"", field, "\": expected a string"));
  }
  return std::string_view(v->get_string().data(), v->get_string().size());
}

// A list of strings: a JSON array, or a comma-separated string (Vault accepts both).
absl::StatusOr<std::optional<std::vector<std::string>>> ListField(const json::object& o,
                                                                  std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::vector<std::string> out;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("invalid value for \"", field, "\": expected a list of strings"));
  };
  if (v->is_string()) {
    for (absl::string_view part : absl::StrSplit(ToAbsl(v->get_string()), ',')) {
      out.emplace_back(absl::StripAsciiWhitespace(part));
    }
    return out;
  }
  if (!v->is_array() || v->get_array().size() > 256) return bad();
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) return bad();
    out.emplace_back(item.get_string());
  }
  return out;
}

json::array StringArray(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

json::value MetaJson(const auth::TokenEntry& e) {
  if (e.meta.empty()) return nullptr;
  json::object o;
  for (const auto& [k, v] : e.meta) o[k] = v;
  return o;
}

int64_t RemainingSeconds(const auth::TokenEntry& e, absl::Time now) {
  if (e.expires == absl::InfiniteFuture()) return 0;
  return std::max<int64_t>(0, absl::ToInt64Seconds(e.expires - now));
}

// The "data" of a lookup (Vault's token lookup response). `id` is the token itself when the
// caller presented it, "" for an accessor lookup.
json::object LookupData(const auth::TokenEntry& e, std::string_view id, absl::Time now) {
  json::object data;
  data["accessor"] = e.accessor;
  data["creation_time"] = absl::ToUnixSeconds(e.created);
  data["creation_ttl"] = absl::ToInt64Seconds(e.ttl);
  data["display_name"] = e.display_name;
  data["entity_id"] = "";
  data["expire_time"] = e.expires == absl::InfiniteFuture()
                            ? json::value(nullptr)
                            : json::value(secrets::FormatRfc3339(e.expires));
  data["explicit_max_ttl"] = absl::ToInt64Seconds(e.explicit_max_ttl);
  data["id"] = id;
  data["issue_time"] = secrets::FormatRfc3339(e.created);
  if (e.last_renewal != absl::InfinitePast()) {
    data["last_renewal"] = secrets::FormatRfc3339(e.last_renewal);
    data["last_renewal_time"] = absl::ToUnixSeconds(e.last_renewal);
  }
  data["meta"] = MetaJson(e);
  data["num_uses"] = e.num_uses;
  data["orphan"] = e.orphan;
  data["path"] = e.path;
  data["policies"] = StringArray(e.policies);
  data["renewable"] = e.renewable;
  data["ttl"] = RemainingSeconds(e, now);
  data["type"] = "service";
  return data;
}

// Vault's envelope with "data": null and an "auth" block, as token create and renew answer.
http::Response AuthResponse(const http::Request& req, const auth::TokenEntry& e,
                            std::string_view client_token, absl::Time now) {
  json::object auth;
  auth["client_token"] = client_token;
  auth["accessor"] = e.accessor;
  auth["policies"] = StringArray(e.policies);
  auth["token_policies"] = StringArray(e.policies);
  auth["metadata"] = MetaJson(e);
  auth["lease_duration"] = RemainingSeconds(e, now);
  auth["renewable"] = e.renewable;
  auth["entity_id"] = "";
  auth["token_type"] = "service";
  auth["orphan"] = e.orphan;
  auth["mfa_requirement"] = nullptr;
  auth["num_uses"] = e.num_uses;
  std::string auth_text = json::serialize(auth);
  http::Response res;
  res.body = StrCat(R"({"request_id":")", req.request_id,
                    R"(","lease_id":"","renewable":false,"lease_duration":0,"data":null,)",
                    R"("wrap_info":null,"warnings":null,"auth":)", auth_text, "}");
  SecureWipe(auth_text);
  if (json::string* t = auth["client_token"].if_string(); t != nullptr && !t->empty()) {
    SecureWipe(t->data(), t->size());
  }
  return res;
}

http::Response LookupResponse(const http::Request& req, const auth::TokenEntry& e,
                              std::string_view id, absl::Time now) {
  json::object data = LookupData(e, id, now);
  std::string text = json::serialize(data);
  http::Response res = Envelope(req, text);
  SecureWipe(text);
  if (json::string* t = data["id"].if_string(); t != nullptr && !t->empty()) {
    SecureWipe(t->data(), t->size());
  }
  return res;
}

// Maps a store error: kPermissionDenied (an invalid token) becomes `invalid_message` with 400
// when given, else 403 "permission denied".
http::Response StoreError(const absl::Status& status, std::string_view invalid_message = "") {
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return invalid_message.empty() ? ErrorResponse(403, "permission denied") : Bad(invalid_message);
  }
  return ErrorFromStatus(status);
}

std::variant<auth::TokenRequest, http::Response> ParseCreate(const json::object& body, RouteId id) {
  auth::TokenRequest r;
  r.path = id == RouteId::kTokenCreateOrphan ? "auth/token/create-orphan" : "auth/token/create";
  // Parameters rekey does not implement are refused rather than ignored.
  for (std::string_view unsupported : {"id", "period", "role_name", "entity_alias"}) {
    const json::value* v = body.if_contains(unsupported);
    if (v == nullptr || v->is_null()) continue;
    if (v->is_string() && v->get_string().empty()) continue;
    if (unsupported == "period" &&
        ((v->is_int64() && v->get_int64() == 0) || (v->is_string() && v->get_string() == "0"))) {
      continue;
    }
    return Bad(StrCat("\"", unsupported, "\" is not supported by rekey"));
  }
  if (auto s = StringField(body, "type"); !s.ok()) {
    return ErrorFromStatus(s.status());
  } else if (s->has_value() && **s != "service" && **s != "default") {
    return Bad("only service tokens are supported (\"type\": \"service\")");
  }
  absl::StatusOr<std::optional<std::vector<std::string>>> policies = ListField(body, "policies");
  if (!policies.ok()) return ErrorFromStatus(policies.status());
  r.policies = *policies;
  auto meta = GetStringMap(body, "meta");
  if (!meta.ok()) return ErrorFromStatus(meta.status());
  if (meta->has_value()) r.meta = **meta;
  auto display = StringField(body, "display_name");
  if (!display.ok()) return ErrorFromStatus(display.status());
  if (display->has_value()) r.display_name = std::string(**display);
  auto ttl = DurationField(body, "ttl");
  if (!ttl.ok()) return ErrorFromStatus(ttl.status());
  r.ttl = *ttl;
  if (!r.ttl.has_value()) {  // "lease" is Vault's deprecated name for ttl
    auto lease = DurationField(body, "lease");
    if (!lease.ok()) return ErrorFromStatus(lease.status());
    r.ttl = *lease;
  }
  auto max_ttl = DurationField(body, "explicit_max_ttl");
  if (!max_ttl.ok()) return ErrorFromStatus(max_ttl.status());
  r.explicit_max_ttl = *max_ttl;
  auto renewable = GetBool(body, "renewable");
  if (!renewable.ok()) return ErrorFromStatus(renewable.status());
  r.renewable = *renewable;
  auto uses = GetUint(body, "num_uses");
  if (!uses.ok()) return Bad("number of uses cannot be negative");
  if (uses->has_value()) {
    if (**uses > 1000000000) return Bad("invalid value for \"num_uses\": too large");
    r.num_uses = static_cast<int64_t>(**uses);
  }
  auto no_parent = GetBool(body, "no_parent");
  if (!no_parent.ok()) return ErrorFromStatus(no_parent.status());
  r.no_parent = no_parent->value_or(false);
  auto no_default = GetBool(body, "no_default_policy");
  if (!no_default.ok()) return ErrorFromStatus(no_default.status());
  r.no_default_policy = no_default->value_or(false);
  return r;
}

// The required string `field` of `body`, or the 400 to answer.
std::variant<std::string_view, http::Response> Required(const json::object& body,
                                                        std::string_view field) {
  auto v = StringField(body, field);
  if (!v.ok()) return ErrorFromStatus(v.status());
  if (!v->has_value() || (*v)->empty()) return Bad(StrCat("missing ", field));
  return **v;
}

}  // namespace

http::Response HandleTokenRoute(RouteId id, const VaultRequest& req, const auth::Principal& caller,
                                std::string_view policy_path, auth::TokenStore& tokens,
                                const Clock& clock) {
  absl::StatusOr<json::value> parsed = ParseBody(req.http->body);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  if (!parsed->is_object()) return Bad("invalid request body: expected a JSON object");
  const json::object& body = parsed->get_object();
  const absl::Time now = clock.Now();
  const auth::TokenEntry& self = caller.token;

  switch (id) {
    case RouteId::kTokenCreate:
    case RouteId::kTokenCreateOrphan: {
      std::variant<auth::TokenRequest, http::Response> request = ParseCreate(body, id);
      if (auto* error = std::get_if<http::Response>(&request)) return std::move(*error);
      const bool sudo = caller.policies->Allows(policy_path, auth::Capability::kSudo);
      absl::StatusOr<auth::CreatedToken> created =
          tokens.Create(self, std::get<auth::TokenRequest>(request), sudo);
      if (!created.ok()) return StoreError(created.status());
      return AuthResponse(*req.http, created->entry, created->token.Reveal(), now);
    }
    case RouteId::kTokenLookup: {
      auto token = Required(body, "token");
      if (auto* error = std::get_if<http::Response>(&token)) return std::move(*error);
      absl::StatusOr<auth::TokenEntry> entry = tokens.Lookup(std::get<std::string_view>(token));
      if (!entry.ok()) {
        return entry.status().code() == absl::StatusCode::kPermissionDenied
                   ? ErrorResponse(403, "bad token")
                   : ErrorFromStatus(entry.status());
      }
      return LookupResponse(*req.http, *entry, std::get<std::string_view>(token), now);
    }
    case RouteId::kTokenLookupSelf: {
      std::optional<std::string_view> token = RequestToken(*req.http);
      return LookupResponse(*req.http, self, token.value_or(""), now);
    }
    case RouteId::kTokenLookupAccessor: {
      auto accessor = Required(body, "accessor");
      if (auto* error = std::get_if<http::Response>(&accessor)) return std::move(*error);
      absl::StatusOr<auth::TokenEntry> entry =
          tokens.LookupAccessor(std::get<std::string_view>(accessor));
      if (!entry.ok()) return ErrorFromStatus(entry.status());
      return LookupResponse(*req.http, *entry, "", now);
    }
    case RouteId::kTokenRenew:
    case RouteId::kTokenRenewSelf:
    case RouteId::kTokenRenewAccessor: {
      auto increment = DurationField(body, "increment");
      if (!increment.ok()) return ErrorFromStatus(increment.status());
      std::string hash = self.hash;
      std::string_view client_token;
      if (id == RouteId::kTokenRenew) {
        auto token = Required(body, "token");
        if (auto* error = std::get_if<http::Response>(&token)) return std::move(*error);
        client_token = std::get<std::string_view>(token);
        hash = auth::TokenStore::HashOf(client_token);
      } else if (id == RouteId::kTokenRenewAccessor) {
        auto accessor = Required(body, "accessor");
        if (auto* error = std::get_if<http::Response>(&accessor)) return std::move(*error);
        absl::StatusOr<auth::TokenEntry> entry =
            tokens.LookupAccessor(std::get<std::string_view>(accessor));
        if (!entry.ok()) return ErrorFromStatus(entry.status());
        hash = entry->hash;
      } else {
        client_token = RequestToken(*req.http).value_or("");
      }
      absl::StatusOr<auth::TokenEntry> renewed =
          tokens.Renew(hash, increment->value_or(absl::ZeroDuration()));
      if (!renewed.ok()) return StoreError(renewed.status(), "token not found");
      return AuthResponse(*req.http, *renewed, client_token, now);
    }
    case RouteId::kTokenRevoke:
    case RouteId::kTokenRevokeOrphan: {
      auto token = Required(body, "token");
      if (auto* error = std::get_if<http::Response>(&token)) return std::move(*error);
      const std::string hash = auth::TokenStore::HashOf(std::get<std::string_view>(token));
      absl::Status s =
          id == RouteId::kTokenRevoke ? tokens.Revoke(hash) : tokens.RevokeOrphan(hash);
      return s.ok() ? NoContent() : ErrorFromStatus(s);
    }
    case RouteId::kTokenRevokeSelf: {
      absl::Status s = tokens.Revoke(self.hash);
      return s.ok() ? NoContent() : ErrorFromStatus(s);
    }
    case RouteId::kTokenRevokeAccessor: {
      auto accessor = Required(body, "accessor");
      if (auto* error = std::get_if<http::Response>(&accessor)) return std::move(*error);
      absl::StatusOr<auth::TokenEntry> entry =
          tokens.LookupAccessor(std::get<std::string_view>(accessor));
      if (!entry.ok()) return ErrorFromStatus(entry.status());
      absl::Status s = tokens.Revoke(entry->hash);
      return s.ok() ? NoContent() : ErrorFromStatus(s);
    }
    case RouteId::kTokenAccessors: {
      absl::StatusOr<std::vector<std::string>> accessors = tokens.ListAccessors();
      if (!accessors.ok()) return ErrorFromStatus(accessors.status());
      if (accessors->empty()) return ErrorResponse(404, "");
      json::object data;
      data["keys"] = StringArray(*accessors);
      return Envelope(*req.http, json::serialize(data));
    }
    default:
      break;
  }
  return ErrorResponse(404, "route entry not found");
}

}  // namespace rekey::api
