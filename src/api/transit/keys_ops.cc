// Transit key management: list, read, create, delete, config, rotate, trim and export.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "api/transit/internal/operations.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "api/vault/json_fields.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::api::transit_internal {
namespace {

using transit::KeyInfo;
using transit::KeyType;

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

// Vault's key read response data.
json::object KeyInfoJson(const KeyInfo& info) {
  json::object d = NewSecretObject();
  d["name"] = info.name;
  d["type"] = JsonView(transit::KeyTypeName(info.type));
  d["derived"] = info.derived;
  d["deletion_allowed"] = info.deletion_allowed;
  d["min_available_version"] = info.min_available_version;
  d["min_decryption_version"] = info.min_decryption_version;
  d["min_encryption_version"] = info.min_encryption_version;
  d["latest_version"] = info.latest_version;
  d["exportable"] = info.exportable;
  d["allow_plaintext_backup"] = info.allow_plaintext_backup;
  d["supports_encryption"] = transit::SupportsEncryption(info.type);
  d["supports_decryption"] = transit::SupportsEncryption(info.type);
  d["supports_signing"] = transit::SupportsSigning(info.type);
  d["supports_derivation"] = transit::SupportsDerivation(info.type);
  d["auto_rotate_period"] = absl::ToInt64Seconds(info.auto_rotate_period);
  d["imported_key"] = false;
  if (info.derived) {
    d["kdf"] = "hkdf_sha256";
    d["convergent_encryption"] = info.convergent;
    if (info.convergent) d["convergent_encryption_version"] = transit::kConvergentVersion;
  }
  json::object keys = NewSecretObject();
  for (const transit::KeyVersionInfo& v : info.versions) {
    const std::string n = std::to_string(v.number);
    if (transit::IsSymmetric(info.type)) {
      keys[n] = absl::ToUnixSeconds(v.created);
      continue;
    }
    json::object k = NewSecretObject();
    std::string_view curve = transit::KeyTypeName(info.type);
    if (info.type == KeyType::kEcdsaP256) curve = "P-256";
    if (info.type == KeyType::kEcdsaP384) curve = "P-384";
    if (info.type == KeyType::kEcdsaP521) curve = "P-521";
    k["name"] = JsonView(curve);
    k["public_key"] = v.public_key;
    k["certificate_chain"] = "";
    k["creation_time"] = FormatTimestamp(v.created);
    keys[n] = std::move(k);
  }
  d["keys"] = std::move(keys);
  return d;
}

// The options of a key create request.
absl::StatusOr<transit::KeyCreateOptions> CreateOptions(const json::object& body) {
  transit::KeyCreateOptions o;
  ASSIGN_OR_RETURN(std::optional<std::string_view> type, StringField(body, "type"));
  if (type.has_value() && !type->empty()) {
    std::optional<KeyType> t = transit::ParseKeyType(*type);
    if (!t.has_value()) {
      return absl::InvalidArgumentError(rekey::StrCat("unknown key type ", type->substr(0, 32)));
    }
    o.type = *t;
  }
  ASSIGN_OR_RETURN(o.derived, BoolField(body, "derived"));
  ASSIGN_OR_RETURN(o.convergent, BoolField(body, "convergent_encryption"));
  ASSIGN_OR_RETURN(o.exportable, BoolField(body, "exportable"));
  ASSIGN_OR_RETURN(o.allow_plaintext_backup, BoolField(body, "allow_plaintext_backup"));
  ASSIGN_OR_RETURN(std::optional<absl::Duration> period, GetDuration(body, "auto_rotate_period"));
  o.auto_rotate_period = period.value_or(absl::ZeroDuration());
  ASSIGN_OR_RETURN(std::optional<uint64_t> key_size, GetUint(body, "key_size"));
  if (key_size.value_or(0) != 0) {
    return absl::InvalidArgumentError(
        rekey::StrCat("key_size is not valid for algorithm ", transit::KeyTypeName(o.type)));
  }
  return o;
}

// The changes of a key config request.
absl::StatusOr<transit::KeyConfigUpdate> ConfigUpdate(const json::object& body) {
  transit::KeyConfigUpdate u;
  ASSIGN_OR_RETURN(u.min_decryption_version, GetUint(body, "min_decryption_version"));
  ASSIGN_OR_RETURN(u.min_encryption_version, GetUint(body, "min_encryption_version"));
  ASSIGN_OR_RETURN(u.deletion_allowed, GetBool(body, "deletion_allowed"));
  ASSIGN_OR_RETURN(u.exportable, GetBool(body, "exportable"));
  ASSIGN_OR_RETURN(u.allow_plaintext_backup, GetBool(body, "allow_plaintext_backup"));
  ASSIGN_OR_RETURN(u.auto_rotate_period, GetDuration(body, "auto_rotate_period"));
  return u;
}

// The answer to a request that changed a key: its read data, or the failure.
http::Response RespondKey(const http::Request& req, const absl::StatusOr<KeyInfo>& info) {
  if (!info.ok()) return Fail(info.status());
  return DataResponse(req, KeyInfoJson(*info));
}

}  // namespace

http::Response HandleListKeys(const TransitCall& call) {
  absl::StatusOr<std::vector<std::string>> names = call.transit.ListKeys();
  if (!names.ok()) return ErrorFromStatus(names.status());
  if (names->empty()) return ErrorResponse(404, "");
  json::array keys(ZeroingStorage());
  for (const std::string& n : *names) keys.emplace_back(JsonView(n));
  json::object data = NewSecretObject();
  data["keys"] = std::move(keys);
  return DataResponse(call.request, std::move(data));
}

http::Response HandleKey(const TransitCall& call) {
  const std::string name(Segment(call.vreq, 2));
  if (call.vreq.operation == "GET") {
    std::string context;
    if (std::optional<std::string_view> c = call.vreq.Query("context"); c.has_value()) {
      absl::StatusOr<std::string> decoded = DecodeField("context", *c);
      if (!decoded.ok()) return BadRequest("failed to base64-decode context");
      context = *std::move(decoded);
    }
    absl::StatusOr<KeyInfo> info = call.transit.GetKey(name, context);
    if (info.status().code() == absl::StatusCode::kNotFound) return ErrorResponse(404, "");
    return RespondKey(call.request, info);
  }
  if (call.vreq.operation == "DELETE") {
    absl::Status s = call.transit.DeleteKey(name);
    if (s.ok()) return NoContent();
    if (IsInternalError(s)) return ErrorFromStatus(s);
    return BadRequest(rekey::StrCat("error deleting policy ", name, ": ", s.message()));
  }
  absl::StatusOr<transit::KeyCreateOptions> opts = CreateOptions(call.body);
  if (!opts.ok()) return Fail(opts.status());
  absl::StatusOr<transit::TransitService::Created> created = call.transit.CreateKey(name, *opts);
  if (!created.ok()) return Fail(created.status());
  std::vector<std::string> warnings;
  if (!created->created) warnings.push_back(rekey::StrCat("key ", name, " already existed"));
  return DataResponse(call.request, KeyInfoJson(created->info), warnings);
}

http::Response HandleKeyConfig(const TransitCall& call) {
  absl::StatusOr<transit::KeyConfigUpdate> update = ConfigUpdate(call.body);
  if (!update.ok()) return Fail(update.status());
  absl::StatusOr<transit::TransitService::Configured> c =
      call.transit.UpdateKeyConfig(Segment(call.vreq, 2), *update);
  if (!c.ok()) return Fail(c.status());
  return DataResponse(call.request, KeyInfoJson(c->info), c->warnings);
}

http::Response HandleRotateKey(const TransitCall& call) {
  return RespondKey(call.request, call.transit.RotateKey(Segment(call.vreq, 2)));
}

http::Response HandleTrimKey(const TransitCall& call) {
  absl::StatusOr<std::optional<uint64_t>> min = GetUint(call.body, "min_available_version");
  if (!min.ok()) return Fail(min.status());
  if (!min->has_value()) return BadRequest("missing min_available_version");
  return RespondKey(call.request, call.transit.TrimKey(Segment(call.vreq, 2), **min));
}

http::Response HandleExportKey(const TransitCall& call) {
  std::optional<transit::ExportKind> kind = transit::ParseExportKind(Segment(call.vreq, 2));
  if (!kind.has_value()) return BadRequest("invalid export type");
  std::optional<uint32_t> version;
  if (call.route == RouteId::kTransitExportVersion) {
    const std::string_view v = Segment(call.vreq, 4);
    uint32_t n = 0;
    if (v == "latest") {
      version = 0;
    } else if (absl::SimpleAtoi(ToAbsl(v), &n) && n > 0) {
      version = n;
    } else {
      return BadRequest("invalid key version: use a number or \"latest\"");
    }
  }
  absl::StatusOr<transit::ExportedKeys> exported =
      call.transit.ExportKey(Segment(call.vreq, 3), *kind, version);
  if (exported.status().code() == absl::StatusCode::kNotFound) return ErrorResponse(404, "");
  if (!exported.ok()) return Fail(exported.status());
  json::object keys = NewSecretObject();
  for (const auto& [n, value] : exported->keys) keys[std::to_string(n)] = JsonView(value.Reveal());
  json::object data = NewSecretObject();
  data["name"] = exported->name;
  data["type"] = JsonView(transit::KeyTypeName(exported->type));
  data["keys"] = std::move(keys);
  return DataResponse(call.request, std::move(data));
}

}  // namespace rekey::api::transit_internal
