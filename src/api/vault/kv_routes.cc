#include "api/vault/kv_routes.h"

#include <boost/json.hpp>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/vault/json_fields.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "secrets/model.h"
#include "secrets/path.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using secrets::FormatRfc3339;

constexpr int kNotFound = 404;

http::Response RouteNotFound(const VaultRequest& req) {
  return ErrorResponse(
      404, rekey::StrCat("no handler for route \"", req.JoinFrom(0), "\". route entry not found."));
}

http::Response UnsupportedOperation() { return ErrorResponse(405, "unsupported operation"); }

// A not-found read: Vault answers 404 with an empty error list.
http::Response ErrorOrEmpty404(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kNotFound) return ErrorResponse(kNotFound, "");
  return ErrorFromStatus(status);
}

json::value CustomMetadataJson(const secrets::SecretMetadata& meta) {
  if (meta.custom_metadata.empty()) return nullptr;
  json::object o;
  for (const auto& [k, v] : meta.custom_metadata) o[k] = v;
  return o;
}

json::object VersionMetadataJson(const secrets::SecretMetadata& meta,
                                 const secrets::VersionInfo& v) {
  json::object o;
  o["created_time"] = FormatRfc3339(v.created);
  o["custom_metadata"] = CustomMetadataJson(meta);
  o["deletion_time"] = FormatRfc3339(v.deletion_time);
  o["destroyed"] = v.destroyed;
  o["version"] = v.number;
  return o;
}

absl::StatusOr<json::object> BodyObject(const VaultRequest& req) {
  ASSIGN_OR_RETURN(json::value body, ParseBody(req.http->body));
  if (!body.is_object()) {
    return absl::InvalidArgumentError("invalid request body: expected a JSON object");
  }
  return std::move(body.get_object());
}

bool IsMergePatch(const VaultRequest& req) {
  auto ct = req.http->GetHeader("content-type");
  if (!ct.has_value()) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v == "application/merge-patch+json";
}

http::Response MergePatchRequired() {
  return ErrorResponse(415, "PATCH requires Content-Type: application/merge-patch+json");
}

absl::StatusOr<uint64_t> VersionParam(const VaultRequest& req) {
  auto v = req.Query("version");
  if (!v.has_value()) return 0;
  return ParseUintParam("version", *v);
}

struct DataWrite {
  SecretBytes value;  // JSON text of the "data" object
  secrets::WriteOptions options;
};

// The "data" and "options" of a data write, or the 400 to answer with.
std::variant<DataWrite, http::Response> ParseDataWrite(const VaultRequest& req,
                                                       const json::object& body) {
  const json::value* data = body.if_contains("data");
  if (data == nullptr || data->is_null()) return ErrorResponse(400, "no data provided");
  if (!data->is_object()) {
    return ErrorResponse(400, "invalid value for \"data\": expected a JSON object");
  }
  DataWrite out;
  out.options.actor = req.token.accessor;
  if (const json::value* opts = body.if_contains("options"); opts && !opts->is_null()) {
    if (!opts->is_object()) {
      return ErrorResponse(400, "invalid value for \"options\": expected a JSON object");
    }
    absl::StatusOr<std::optional<uint64_t>> cas = GetUint(opts->get_object(), "cas");
    if (!cas.ok()) {
      return ErrorResponse(400,
                           "invalid value for \"options.cas\": expected a non-negative integer");
    }
    out.options.cas = *cas;
  }
  out.value = SerializeSecret(*data);
  return out;
}

http::Response WriteResponse(const http::Request& req,
                             const absl::StatusOr<secrets::WriteResult>& w) {
  if (!w.ok()) return ErrorFromStatus(w.status());
  return Envelope(req, json::serialize(VersionMetadataJson(*w->meta, w->version)));
}

// data/<path>
http::Response HandleData(const VaultRequest& req, const std::string& path,
                          secrets::SecretsService& kv) {
  const std::string& op = req.operation;
  if (op == "GET") {
    absl::StatusOr<uint64_t> version = VersionParam(req);
    if (!version.ok()) return ErrorFromStatus(version.status());
    absl::StatusOr<secrets::ReadResult> r = kv.Read(path, *version);
    if (!r.ok()) return ErrorOrEmpty404(r.status());
    std::string metadata = json::serialize(VersionMetadataJson(*r->meta, r->version));
    if (!r->value.has_value()) {
      // Deleted or destroyed: Vault sends the whole envelope with a 404 and no "errors".
      return Envelope(*req.http, rekey::StrCat(R"({"data":null,"metadata":)", metadata, "}"),
                      kNotFound);
    }
    std::string data =
        rekey::StrCat(R"({"data":)", r->value->Reveal(), R"(,"metadata":)", metadata, "}");
    http::Response res = Envelope(*req.http, data);
    SecureWipe(data);
    return res;
  }
  if (op == "POST" || op == "PUT" || op == "PATCH") {
    if (op == "PATCH" && !IsMergePatch(req)) return MergePatchRequired();
    absl::StatusOr<json::object> body = BodyObject(req);
    if (!body.ok()) return ErrorFromStatus(body.status());
    std::variant<DataWrite, http::Response> write = ParseDataWrite(req, *body);
    if (auto* error = std::get_if<http::Response>(&write)) return std::move(*error);
    DataWrite& w = std::get<DataWrite>(write);
    if (op == "PATCH") {
      absl::StatusOr<secrets::WriteResult> patched = kv.Patch(path, w.value, w.options);
      if (!patched.ok()) return ErrorOrEmpty404(patched.status());
      return WriteResponse(*req.http, patched);
    }
    return WriteResponse(*req.http, kv.Put(path, w.value, w.options));
  }
  if (op == "DELETE") {
    absl::Status s = kv.DeleteCurrent(path);
    return s.ok() ? NoContent() : ErrorFromStatus(s);
  }
  return UnsupportedOperation();
}

// delete|undelete|destroy/<path>
http::Response HandleVersionOp(const VaultRequest& req, const std::string& action,
                               const std::string& path, secrets::SecretsService& kv) {
  if (req.operation != "POST" && req.operation != "PUT") return UnsupportedOperation();
  absl::StatusOr<json::object> body = BodyObject(req);
  if (!body.ok()) return ErrorFromStatus(body.status());
  absl::StatusOr<std::optional<std::vector<uint64_t>>> versions = GetVersionList(*body, "versions");
  if (!versions.ok()) return ErrorFromStatus(versions.status());
  if (!versions->has_value() || (*versions)->empty()) {
    return ErrorResponse(400, "no version number provided");
  }
  absl::Status s;
  if (action == "delete")
    s = kv.DeleteVersions(path, **versions);
  else if (action == "undelete")
    s = kv.UndeleteVersions(path, **versions);
  else
    s = kv.DestroyVersions(path, **versions);
  return s.ok() ? NoContent() : ErrorFromStatus(s);
}

json::value Subkeys(const json::value& v, uint64_t depth, uint64_t level) {
  if (!v.is_object()) return nullptr;
  if (depth != 0 && level >= depth) return nullptr;
  json::object out;
  for (const auto& kv : v.get_object()) out[kv.key()] = Subkeys(kv.value(), depth, level + 1);
  return out;
}

// subkeys/<path>
http::Response HandleSubkeys(const VaultRequest& req, const std::string& path,
                             secrets::SecretsService& kv) {
  if (req.operation != "GET") return UnsupportedOperation();
  absl::StatusOr<uint64_t> version = VersionParam(req);
  if (!version.ok()) return ErrorFromStatus(version.status());
  uint64_t depth = 0;
  if (auto d = req.Query("depth"); d.has_value()) {
    absl::StatusOr<uint64_t> parsed = ParseUintParam("depth", *d);
    if (!parsed.ok()) return ErrorFromStatus(parsed.status());
    depth = *parsed;
  }
  absl::StatusOr<secrets::ReadResult> r = kv.Read(path, *version);
  if (!r.ok()) return ErrorOrEmpty404(r.status());
  std::string metadata = json::serialize(VersionMetadataJson(*r->meta, r->version));
  if (!r->value.has_value()) {
    return Envelope(*req.http, rekey::StrCat(R"({"subkeys":null,"metadata":)", metadata, "}"),
                    kNotFound);
  }
  absl::StatusOr<json::value> value = ParseBody(r->value->Reveal());
  if (!value.ok()) return ErrorResponse(500, "stored secret data is not valid JSON");
  // Depth 0 means the whole tree; depth 1 gives the top-level keys with null values.
  json::value subkeys = Subkeys(*value, depth, 0);
  return Envelope(*req.http, rekey::StrCat(R"({"subkeys":)", json::serialize(subkeys),
                                           R"(,"metadata":)", metadata, "}"));
}

json::object SecretMetadataJson(const secrets::SecretMetadata& meta) {
  json::object o;
  o["cas_required"] = meta.cas_required;
  o["created_time"] = FormatRfc3339(meta.created);
  o["current_version"] = meta.CurrentVersion();
  o["custom_metadata"] = CustomMetadataJson(meta);
  o["delete_version_after"] = secrets::FormatGoDuration(meta.delete_version_after);
  o["max_versions"] = meta.max_versions;
  o["oldest_version"] = meta.OldestVersion();
  o["updated_time"] = FormatRfc3339(meta.updated);
  json::object versions;
  for (const auto& [n, v] : meta.versions) {
    json::object vo;
    vo["created_time"] = FormatRfc3339(v.created);
    vo["deletion_time"] = FormatRfc3339(v.deletion_time);
    vo["destroyed"] = v.destroyed;
    vo["created_by"] = v.created_by;
    versions[rekey::StrCat(n)] = std::move(vo);
  }
  o["versions"] = std::move(versions);
  json::object labels;
  for (const auto& [label, n] : meta.labels) labels[label] = n;
  o["labels"] = std::move(labels);
  o["description"] = meta.description;
  return o;
}

absl::StatusOr<secrets::MetadataUpdate> ParseMetadataUpdate(const json::object& body,
                                                            const secrets::SecretMetadata* base) {
  secrets::MetadataUpdate update;
  ASSIGN_OR_RETURN(update.max_versions, GetUint(body, "max_versions"));
  ASSIGN_OR_RETURN(update.cas_required, GetBool(body, "cas_required"));
  ASSIGN_OR_RETURN(update.delete_version_after, GetDuration(body, "delete_version_after"));
  if (base != nullptr) {
    // PATCH: custom_metadata is merged; a null value removes the key.
    if (const json::value* cm = body.if_contains("custom_metadata"); cm && !cm->is_null()) {
      if (!cm->is_object()) {
        return absl::InvalidArgumentError(
            "invalid value for \"custom_metadata\": expected an object of strings");
      }
      std::map<std::string, std::string> merged = base->custom_metadata;
      json::object sets;
      for (const auto& kv : cm->get_object()) {
        if (kv.value().is_null())
          merged.erase(std::string(kv.key()));
        else
          sets[kv.key()] = kv.value();
      }
      json::object wrapper;
      wrapper["custom_metadata"] = std::move(sets);
      ASSIGN_OR_RETURN(auto parsed, GetStringMap(wrapper, "custom_metadata"));
      for (auto& [k, v] : *parsed) merged[k] = v;
      if (merged.size() > 64) {
        return absl::InvalidArgumentError(
            "invalid value for \"custom_metadata\": expected at most 64 keys");
      }
      update.custom_metadata = std::move(merged);
    }
  } else {
    ASSIGN_OR_RETURN(update.custom_metadata, GetStringMap(body, "custom_metadata"));
  }
  if (const json::value* d = body.if_contains("description"); d && !d->is_null()) {
    if (!d->is_string() || d->get_string().size() > 2048) {
      return absl::InvalidArgumentError(
          "invalid value for \"description\": expected a string of at most 2048 bytes");
    }
    update.description = std::string(d->get_string());
  }
  return update;
}

// metadata/<path>
http::Response HandleMetadata(const VaultRequest& req, const std::string& path,
                              secrets::SecretsService& kv) {
  const std::string& op = req.operation;
  if (op == "LIST") {
    absl::StatusOr<std::vector<std::string>> keys = kv.List(path);
    if (!keys.ok()) return ErrorFromStatus(keys.status());
    if (keys->empty()) return ErrorResponse(kNotFound, "");
    json::array arr;
    for (const auto& k : *keys) arr.emplace_back(k);
    json::object data;
    data["keys"] = std::move(arr);
    return Envelope(*req.http, json::serialize(data));
  }
  if (op == "GET") {
    absl::StatusOr<secrets::SecretMetadata> meta = kv.GetMetadata(path);
    if (!meta.ok()) return ErrorOrEmpty404(meta.status());
    return Envelope(*req.http, json::serialize(SecretMetadataJson(*meta)));
  }
  if (op == "POST" || op == "PUT" || op == "PATCH") {
    if (op == "PATCH" && !IsMergePatch(req)) return MergePatchRequired();
    absl::StatusOr<json::object> body = BodyObject(req);
    if (!body.ok()) return ErrorFromStatus(body.status());
    std::optional<secrets::SecretMetadata> base;
    if (op == "PATCH") {
      absl::StatusOr<secrets::SecretMetadata> meta = kv.GetMetadata(path);
      if (!meta.ok()) return ErrorOrEmpty404(meta.status());
      base = std::move(*meta);
    }
    absl::StatusOr<secrets::MetadataUpdate> update =
        ParseMetadataUpdate(*body, base ? &*base : nullptr);
    if (!update.ok()) return ErrorFromStatus(update.status());
    absl::Status s = kv.UpdateMetadata(path, *update);
    return s.ok() ? NoContent() : ErrorFromStatus(s);
  }
  if (op == "DELETE") {
    absl::Status s = kv.DeleteAll(path);
    return s.ok() ? NoContent() : ErrorFromStatus(s);
  }
  return UnsupportedOperation();
}

// config
http::Response HandleConfig(const VaultRequest& req, secrets::SecretsService& kv) {
  if (req.operation == "GET") {
    absl::StatusOr<secrets::MountConfig> config = kv.GetConfig();
    if (!config.ok()) return ErrorFromStatus(config.status());
    json::object data;
    data["cas_required"] = config->cas_required;
    data["delete_version_after"] = secrets::FormatGoDuration(config->delete_version_after);
    data["max_versions"] = config->max_versions;
    return Envelope(*req.http, json::serialize(data));
  }
  if (req.operation == "POST" || req.operation == "PUT") {
    absl::StatusOr<json::object> body = BodyObject(req);
    if (!body.ok()) return ErrorFromStatus(body.status());
    absl::StatusOr<secrets::MountConfig> config = kv.GetConfig();
    if (!config.ok()) return ErrorFromStatus(config.status());
    auto max_versions = GetUint(*body, "max_versions");
    auto cas_required = GetBool(*body, "cas_required");
    auto dva = GetDuration(*body, "delete_version_after");
    for (const absl::Status& s : {max_versions.status(), cas_required.status(), dva.status()}) {
      if (!s.ok()) return ErrorFromStatus(s);
    }
    if (*max_versions) config->max_versions = **max_versions;
    if (*cas_required) config->cas_required = **cas_required;
    if (*dva) config->delete_version_after = **dva;
    absl::Status s = kv.SetConfig(*config);
    return s.ok() ? NoContent() : ErrorFromStatus(s);
  }
  return UnsupportedOperation();
}

}  // namespace

http::Response HandleKv(const VaultRequest& req, secrets::SecretsService& kv) {
  if (req.segments.size() < 2) return RouteNotFound(req);
  const std::string& action = req.segments[1];
  if (action == "config" && req.segments.size() == 2) return HandleConfig(req, kv);
  const std::string path = req.JoinFrom(2);
  if (action == "metadata") {
    // A trailing slash (and the root) is allowed when listing a folder.
    if (req.operation == "LIST") {
      if (absl::Status valid = secrets::ValidateFolderPath(path); !valid.ok()) {
        return ErrorFromStatus(valid);
      }
      return HandleMetadata(req, path, kv);
    }
    if (path.empty()) return UnsupportedOperation();
    if (absl::Status valid = secrets::ValidateSecretPath(path); !valid.ok()) {
      return ErrorFromStatus(valid);
    }
    return HandleMetadata(req, path, kv);
  }
  if (action != "data" && action != "subkeys" && action != "delete" && action != "undelete" &&
      action != "destroy") {
    return RouteNotFound(req);
  }
  if (req.operation == "LIST") return UnsupportedOperation();
  if (absl::Status valid = secrets::ValidateSecretPath(path); !valid.ok()) {
    return ErrorFromStatus(valid);
  }
  if (action == "data") return HandleData(req, path, kv);
  if (action == "subkeys") return HandleSubkeys(req, path, kv);
  return HandleVersionOp(req, action, path, kv);
}

}  // namespace rekey::api

namespace rekey::api {

bool StartKvWriteAsync(const VaultRequest& req, secrets::SecretsService& kv,
                       http::Responder respond) {
  // Only POST/PUT secret/data/<valid path> with a well-formed body; everything else, errors
  // included, takes the synchronous route, which renders them.
  if (req.operation != "POST" && req.operation != "PUT") return false;
  if (req.segments.size() < 3 || req.segments[1] != "data") return false;
  const std::string path = req.JoinFrom(2);
  if (!secrets::ValidateSecretPath(path).ok()) return false;
  absl::StatusOr<json::object> body = BodyObject(req);
  if (!body.ok()) return false;
  std::variant<DataWrite, http::Response> write = ParseDataWrite(req, *body);
  if (!std::holds_alternative<DataWrite>(write)) return false;
  DataWrite& w = std::get<DataWrite>(write);
  const http::Request* http_req = req.http;
  kv.PutAsync(path, std::move(w.value), std::move(w.options),
              [respond = std::move(respond), http_req](absl::StatusOr<secrets::WriteResult> r) {
                // Runs where the commit completed (maybe the storage writer): only hand over.
                if (r.status().code() == absl::StatusCode::kAborted) {
                  respond([] {
                    http::Response retry;
                    retry.status = http::kRunBlocking;  // lost a race: redo it with Put()
                    return retry;
                  });
                  return;
                }
                respond([r = std::move(r), http_req] { return WriteResponse(*http_req, r); });
              });
  return true;
}

}  // namespace rekey::api
