#include "api/transit/transit_handler.h"

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "api/authz/route_table.h"
#include "api/vault/authorize.h"
#include "api/vault/json_fields.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "transit/base64.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using transit::HashAlgorithm;
using transit::KeyInfo;
using transit::KeyType;

json::string_view JsonView(std::string_view s) { return json::string_view(s.data(), s.size()); }

// --- responses --------------------------------------------------------------------------------

// Serializes `v` into a string of exactly its size, so that no reallocation leaves an unwiped
// copy of a value behind (the server wipes the body after writing it).
std::string SerializeBody(const json::value& v) {
  char buf[4096];
  size_t total = 0;
  {
    json::serializer sr;
    sr.reset(&v);
    while (!sr.done()) total += sr.read(buf, sizeof(buf)).size();
  }
  SecureWipe(buf, sizeof(buf));
  std::string out(total, '\0');
  json::serializer sr;
  sr.reset(&v);
  size_t at = 0;
  while (!sr.done() && at < total) at += sr.read(out.data() + at, total - at).size();
  return out;
}

json::object NewObject() { return json::object(ZeroingStorage()); }

// Vault's envelope around `data`, with `status` (200, or the batch status).
http::Response Respond(const http::Request& req, json::object data,
                       const std::vector<std::string>& warnings = {}, int status = 200) {
  json::object top = NewObject();
  top["request_id"] = req.request_id;
  top["lease_id"] = "";
  top["renewable"] = false;
  top["lease_duration"] = 0;
  top["data"] = std::move(data);
  top["wrap_info"] = nullptr;
  if (warnings.empty()) {
    top["warnings"] = nullptr;
  } else {
    json::array w(ZeroingStorage());
    for (const std::string& s : warnings) w.emplace_back(JsonView(s));
    top["warnings"] = std::move(w);
  }
  top["auth"] = nullptr;
  http::Response res;
  res.status = status;
  res.body = SerializeBody(top);
  return res;
}

bool IsInternalError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// Transit answers a missing key on an operation with 400 (Vault's ErrInvalidRequest).
http::Response Fail(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kNotFound) return ErrorResponse(400, ToStd(s.message()));
  return ErrorFromStatus(s);
}

http::Response BadRequest(std::string_view message) { return ErrorResponse(400, message); }

// --- request fields ---------------------------------------------------------------------------

absl::StatusOr<json::object> BodyObject(const http::Request& req) {
  ASSIGN_OR_RETURN(json::value body, ParseBody(req.body));
  if (!body.is_object()) {
    return absl::InvalidArgumentError("invalid request body: expected a JSON object");
  }
  return std::move(body.get_object());
}

// Where a field sits, for messages: "plaintext" or "'[3].plaintext'" (Vault's batch spelling).
std::string FieldName(std::optional<size_t> index, std::string_view field) {
  if (!index.has_value()) return rekey::StrCat("\"", field, "\"");
  return rekey::StrCat("'[", *index, "].", field, "'");
}

// A string field: nullopt when absent or null.
absl::StatusOr<std::optional<std::string_view>> StringField(const json::object& o,
                                                            std::string_view field,
                                                            std::optional<size_t> index = {}) {
  const json::value* v = o.if_contains(JsonView(field));
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid value for ", FieldName(index, field), ": expected a string"));
  }
  return std::string_view(v->get_string().data(), v->get_string().size());
}

absl::StatusOr<uint32_t> VersionField(const json::object& o, std::string_view field,
                                      std::optional<size_t> index = {}) {
  absl::StatusOr<std::optional<uint64_t>> v = GetUint(o, field);
  if (!v.ok() || v->value_or(0) > UINT32_MAX) {
    return absl::InvalidArgumentError(rekey::StrCat("invalid value for ", FieldName(index, field),
                                                    ": expected a non-negative integer"));
  }
  return static_cast<uint32_t>(v->value_or(0));
}

absl::StatusOr<bool> BoolField(const json::object& o, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<bool> b, GetBool(o, field));
  return b.value_or(false);
}

// Decodes an optional base64 field that is not secret (context, nonce, associated data).
absl::StatusOr<std::string> DecodeField(std::string_view field, std::string_view text) {
  if (text.empty()) return std::string();
  std::optional<std::string> out = transit::Base64Decode(text);
  if (!out.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("illegal base64 data in ", field));
  }
  return *std::move(out);
}

absl::StatusOr<SecretBytes> DecodeSecretField(std::string_view field, std::string_view text) {
  std::optional<SecretBytes> out = transit::Base64DecodeSecret(text);
  if (!out.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("illegal base64 data in ", field));
  }
  return *std::move(out);
}

// The items of a request: batch_input's objects, or the body itself as the one item.
struct Items {
  bool batch = false;
  std::vector<const json::object*> objects;
};

absl::StatusOr<Items> ItemsOf(const json::object& body) {
  Items out;
  const json::value* batch = body.if_contains("batch_input");
  if (batch == nullptr || batch->is_null()) {
    out.objects.push_back(&body);
    return out;
  }
  out.batch = true;
  if (!batch->is_array()) {
    return absl::InvalidArgumentError(
        "invalid value for \"batch_input\": expected a list of objects");
  }
  if (batch->get_array().empty()) {
    return absl::InvalidArgumentError("missing batch input to process");
  }
  if (batch->get_array().size() > TransitHandler::kMaxBatchItems) {
    return absl::InvalidArgumentError(
        rekey::StrCat("batch_input has more than ", TransitHandler::kMaxBatchItems, " items"));
  }
  for (size_t i = 0; i < batch->get_array().size(); ++i) {
    const json::value& item = batch->get_array()[i];
    if (!item.is_object()) {
      return absl::InvalidArgumentError(rekey::StrCat("'[", i, "]' expected a map"));
    }
    out.objects.push_back(&item.get_object());
  }
  return out;
}

std::optional<size_t> IndexIf(const Items& items, size_t i) {
  return items.batch ? std::optional<size_t>(i) : std::nullopt;
}

// How a batch went, for its status code.
struct BatchTally {
  bool success = false;
  bool user_error = false;
  bool internal_error = false;
  void Add(const absl::Status& s) {
    if (s.ok()) {
      success = true;
    } else if (IsInternalError(s)) {
      internal_error = true;
    } else {
      user_error = true;
    }
  }
};

// Vault's batchRequestResponse: 400 if any item had a user error, else 500 if any had an
// internal one, else 200; `partial_failure_response_code` replaces the error code when some
// items succeeded.
http::Response BatchResponse(const http::Request& req, const json::object& body,
                             json::array results, const BatchTally& tally) {
  std::vector<std::string> warnings;
  int code = 200;
  if (tally.user_error) {
    code = 400;
  } else if (tally.internal_error) {
    code = 500;
  }
  if (code != 200 && tally.success) {
    absl::StatusOr<std::optional<uint64_t>> partial =
        GetUint(body, "partial_failure_response_code");
    if (partial.ok() && partial->has_value()) {
      if (**partial >= 1 && **partial <= 599) {
        code = static_cast<int>(**partial);
      } else {
        warnings.push_back(rekey::StrCat(
            "invalid HTTP response code override from partial_failure_response_code, reverting "
            "to ",
            code));
      }
    }
  }
  json::object data = NewObject();
  data["batch_results"] = std::move(results);
  return Respond(req, std::move(data), warnings, code);
}

// The reference an item carries back (batch only).
std::string ReferenceOf(const json::object& item) {
  absl::StatusOr<std::optional<std::string_view>> ref = StringField(item, "reference");
  return ref.ok() && ref->has_value() ? std::string(**ref) : std::string();
}

std::string_view Segment(const VaultRequest& vreq, size_t i) {
  return i < vreq.segments.size() ? std::string_view(vreq.segments[i]) : std::string_view();
}

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

json::object KeyInfoJson(const KeyInfo& info) {
  json::object d = NewObject();
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
  json::object keys = NewObject();
  for (const transit::KeyVersionInfo& v : info.versions) {
    const std::string n = std::to_string(v.number);
    if (transit::IsSymmetric(info.type)) {
      keys[n] = absl::ToUnixSeconds(v.created);
      continue;
    }
    json::object k = NewObject();
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

absl::StatusOr<HashAlgorithm> HashAlgorithmOf(std::string_view name) {
  std::optional<HashAlgorithm> a = transit::ParseHashAlgorithm(name);
  if (!a.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("unsupported algorithm ", name.substr(0, 32)));
  }
  return *a;
}

// The algorithm of hmac/sign/verify/hash: the path segment, else the first body field set.
absl::StatusOr<HashAlgorithm> AlgorithmFrom(std::string_view url_algorithm,
                                            const json::object& body,
                                            std::initializer_list<std::string_view> fields) {
  if (!url_algorithm.empty()) return HashAlgorithmOf(url_algorithm);
  for (std::string_view f : fields) {
    ASSIGN_OR_RETURN(std::optional<std::string_view> v, StringField(body, f));
    if (v.has_value() && !v->empty()) return HashAlgorithmOf(*v);
  }
  return HashAlgorithm::kSha2_256;
}

// --- keys -------------------------------------------------------------------------------------

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

}  // namespace

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
    return transit_.KeyExists(Segment(v, 2));
  };
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kTransit, options);
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string& op = vreq.operation;

  // Bodies are parsed once, into zeroing storage (they may carry plaintext).
  json::object body = NewObject();
  if (op == "POST" || op == "PUT") {
    absl::StatusOr<json::object> b = BodyObject(req);
    if (!b.ok()) return ErrorFromStatus(b.status());
    body = *std::move(b);
  }

  switch (route) {
    // --- keys -----------------------------------------------------------------------------
    case RouteId::kTransitKeys: {
      absl::StatusOr<std::vector<std::string>> names = transit_.ListKeys();
      if (!names.ok()) return ErrorFromStatus(names.status());
      if (names->empty()) return ErrorResponse(404, "");
      json::array keys(ZeroingStorage());
      for (const std::string& n : *names) keys.emplace_back(JsonView(n));
      json::object data = NewObject();
      data["keys"] = std::move(keys);
      return Respond(req, std::move(data));
    }
    case RouteId::kTransitKey: {
      const std::string name(Segment(vreq, 2));
      if (op == "GET") {
        std::string context;
        if (std::optional<std::string_view> c = vreq.Query("context"); c.has_value()) {
          absl::StatusOr<std::string> decoded = DecodeField("context", *c);
          if (!decoded.ok()) return BadRequest("failed to base64-decode context");
          context = *std::move(decoded);
        }
        absl::StatusOr<KeyInfo> info = transit_.GetKey(name, context);
        if (info.status().code() == absl::StatusCode::kNotFound) return ErrorResponse(404, "");
        if (!info.ok()) return Fail(info.status());
        return Respond(req, KeyInfoJson(*info));
      }
      if (op == "DELETE") {
        absl::Status s = transit_.DeleteKey(name);
        if (s.ok()) return NoContent();
        if (IsInternalError(s)) return ErrorFromStatus(s);
        return BadRequest(rekey::StrCat("error deleting policy ", name, ": ", s.message()));
      }
      absl::StatusOr<transit::KeyCreateOptions> opts = CreateOptions(body);
      if (!opts.ok()) return Fail(opts.status());
      absl::StatusOr<transit::TransitService::Created> created = transit_.CreateKey(name, *opts);
      if (!created.ok()) return Fail(created.status());
      std::vector<std::string> warnings;
      if (!created->created) warnings.push_back(rekey::StrCat("key ", name, " already existed"));
      return Respond(req, KeyInfoJson(created->info), warnings);
    }
    case RouteId::kTransitKeyConfig: {
      transit::KeyConfigUpdate u;
      absl::Status parse = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(u.min_decryption_version, GetUint(body, "min_decryption_version"));
        ASSIGN_OR_RETURN(u.min_encryption_version, GetUint(body, "min_encryption_version"));
        ASSIGN_OR_RETURN(u.deletion_allowed, GetBool(body, "deletion_allowed"));
        ASSIGN_OR_RETURN(u.exportable, GetBool(body, "exportable"));
        ASSIGN_OR_RETURN(u.allow_plaintext_backup, GetBool(body, "allow_plaintext_backup"));
        ASSIGN_OR_RETURN(u.auto_rotate_period, GetDuration(body, "auto_rotate_period"));
        return absl::OkStatus();
      }();
      if (!parse.ok()) return Fail(parse);
      absl::StatusOr<transit::TransitService::Configured> c =
          transit_.UpdateKeyConfig(Segment(vreq, 2), u);
      if (!c.ok()) return Fail(c.status());
      return Respond(req, KeyInfoJson(c->info), c->warnings);
    }
    case RouteId::kTransitKeyRotate: {
      absl::StatusOr<KeyInfo> info = transit_.RotateKey(Segment(vreq, 2));
      if (!info.ok()) return Fail(info.status());
      return Respond(req, KeyInfoJson(*info));
    }
    case RouteId::kTransitKeyTrim: {
      absl::StatusOr<std::optional<uint64_t>> min = GetUint(body, "min_available_version");
      if (!min.ok()) return Fail(min.status());
      if (!min->has_value()) return BadRequest("missing min_available_version");
      absl::StatusOr<KeyInfo> info = transit_.TrimKey(Segment(vreq, 2), **min);
      if (!info.ok()) return Fail(info.status());
      return Respond(req, KeyInfoJson(*info));
    }

    // --- encrypt / decrypt / rewrap -------------------------------------------------------
    case RouteId::kTransitEncrypt: {
      const std::string name(Segment(vreq, 2));
      absl::StatusOr<Items> items = ItemsOf(body);
      if (!items.ok()) return Fail(items.status());
      std::vector<absl::Status> pre(items->objects.size());
      std::vector<transit::EncryptItem> work;
      std::vector<size_t> index;
      std::optional<bool> context_set;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        const json::object& o = *items->objects[i];
        const std::optional<size_t> at = IndexIf(*items, i);
        absl::StatusOr<std::optional<std::string_view>> plaintext = StringField(o, "plaintext", at);
        absl::StatusOr<std::optional<std::string_view>> context = StringField(o, "context", at);
        absl::StatusOr<std::optional<std::string_view>> nonce = StringField(o, "nonce", at);
        absl::StatusOr<std::optional<std::string_view>> ad = StringField(o, "associated_data", at);
        absl::StatusOr<uint32_t> version = VersionField(o, "key_version", at);
        for (const absl::Status& s : {plaintext.status(), context.status(), nonce.status(),
                                      ad.status(), version.status()}) {
          if (!s.ok()) return Fail(s);
        }
        if (!plaintext->has_value()) {
          return BadRequest(
              items->batch ? rekey::StrCat("'[", i, "].plaintext' missing plaintext to encrypt")
                           : std::string("missing plaintext to encrypt"));
        }
        const bool has_context = context->has_value() && !(*context)->empty();
        if (context_set.has_value() && *context_set != has_context) {
          return BadRequest("context should be set either in all the request blocks or in none");
        }
        context_set = has_context;
        transit::EncryptItem item;
        item.key_version = *version;
        absl::Status s = [&]() -> absl::Status {
          ASSIGN_OR_RETURN(item.plaintext, DecodeSecretField("plaintext", **plaintext));
          ASSIGN_OR_RETURN(item.context, DecodeField("context", context->value_or("")));
          ASSIGN_OR_RETURN(item.nonce, DecodeField("nonce", nonce->value_or("")));
          ASSIGN_OR_RETURN(item.associated_data, DecodeField("associated_data", ad->value_or("")));
          return absl::OkStatus();
        }();
        if (!s.ok()) {
          pre[i] = s;
          continue;
        }
        index.push_back(i);
        work.push_back(std::move(item));
      }
      // A missing key is created (the caller passed the create check), as Vault upserts.
      std::optional<transit::KeyCreateOptions> upsert;
      absl::StatusOr<bool> exists = transit_.KeyExists(name);
      if (!exists.ok()) return ErrorFromStatus(exists.status());
      if (!*exists) {
        transit::KeyCreateOptions o;
        absl::StatusOr<std::optional<std::string_view>> type = StringField(body, "type");
        if (!type.ok()) return Fail(type.status());
        const std::string_view type_name = type->value_or("aes256-gcm96");
        std::optional<KeyType> t = transit::ParseKeyType(type_name);
        if (!t.has_value()) {
          return BadRequest(rekey::StrCat("unknown key type ", type_name.substr(0, 32)));
        }
        if (!transit::SupportsEncryption(*t)) {
          return BadRequest(
              rekey::StrCat("key type ", type_name, " not supported for this operation"));
        }
        absl::StatusOr<bool> convergent = BoolField(body, "convergent_encryption");
        if (!convergent.ok()) return Fail(convergent.status());
        if (*convergent && !context_set.value_or(false)) {
          return BadRequest(
              "convergent encryption requires derivation to be enabled, so context is required");
        }
        o.type = *t;
        o.derived = context_set.value_or(false);
        o.convergent = *convergent;
        upsert = o;
      }
      absl::StatusOr<std::vector<absl::StatusOr<transit::Ciphertext>>> results =
          transit_.Encrypt(name, work, upsert);
      if (!results.ok()) return Fail(results.status());
      if (!items->batch) {
        if (!pre[0].ok()) return Fail(pre[0]);
        const absl::StatusOr<transit::Ciphertext>& r = (*results)[0];
        if (!r.ok()) return Fail(r.status());
        json::object data = NewObject();
        data["ciphertext"] = r->text;
        data["key_version"] = r->version;
        return Respond(req, std::move(data));
      }
      json::array out(ZeroingStorage());
      BatchTally tally;
      size_t next = 0;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        json::object item = NewObject();
        absl::Status s = pre[i];
        if (s.ok()) {
          const absl::StatusOr<transit::Ciphertext>& r = (*results)[next++];
          s = r.status();
          if (r.ok()) {
            item["ciphertext"] = r->text;
            item["key_version"] = r->version;
          }
        }
        if (!s.ok()) item["error"] = std::string(s.message());
        item["reference"] = ReferenceOf(*items->objects[i]);
        tally.Add(s);
        out.push_back(std::move(item));
      }
      return BatchResponse(req, body, std::move(out), tally);
    }

    case RouteId::kTransitDecrypt:
    case RouteId::kTransitRewrap: {
      const bool rewrap = route == RouteId::kTransitRewrap;
      const std::string name(Segment(vreq, 2));
      absl::StatusOr<Items> items = ItemsOf(body);
      if (!items.ok()) return Fail(items.status());
      std::vector<absl::Status> pre(items->objects.size());
      std::vector<transit::DecryptItem> decrypts;
      std::vector<transit::RewrapItem> rewraps;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        const json::object& o = *items->objects[i];
        const std::optional<size_t> at = IndexIf(*items, i);
        absl::StatusOr<std::optional<std::string_view>> ciphertext =
            StringField(o, "ciphertext", at);
        absl::StatusOr<std::optional<std::string_view>> context = StringField(o, "context", at);
        absl::StatusOr<std::optional<std::string_view>> nonce = StringField(o, "nonce", at);
        absl::StatusOr<std::optional<std::string_view>> ad = StringField(o, "associated_data", at);
        absl::StatusOr<uint32_t> version = VersionField(o, "key_version", at);
        for (const absl::Status& s : {ciphertext.status(), context.status(), nonce.status(),
                                      ad.status(), version.status()}) {
          if (!s.ok()) return Fail(s);
        }
        if (!ciphertext->has_value() || (*ciphertext)->empty()) {
          return BadRequest(items->batch ? rekey::StrCat("'[", i,
                                                         "].ciphertext' missing ciphertext to "
                                                         "decrypt")
                                         : std::string("missing ciphertext to decrypt"));
        }
        absl::StatusOr<std::string> ctx = DecodeField("context", context->value_or(""));
        absl::StatusOr<std::string> n = DecodeField("nonce", nonce->value_or(""));
        absl::StatusOr<std::string> a = DecodeField("associated_data", ad->value_or(""));
        for (const absl::Status& s : {ctx.status(), n.status(), a.status()}) {
          if (!s.ok() && pre[i].ok()) pre[i] = s;
        }
        if (!pre[i].ok()) continue;
        if (rewrap) {
          rewraps.push_back(transit::RewrapItem{std::string(**ciphertext), *std::move(ctx),
                                                *std::move(n), *version});
        } else {
          decrypts.push_back(transit::DecryptItem{std::string(**ciphertext), *std::move(ctx),
                                                  *std::move(n), *std::move(a)});
        }
      }
      // One result per good item, as a ciphertext (rewrap) or a plaintext (decrypt).
      std::vector<absl::StatusOr<transit::Ciphertext>> wrapped;
      std::vector<absl::StatusOr<SecretBytes>> plains;
      if (rewrap) {
        absl::StatusOr<std::vector<absl::StatusOr<transit::Ciphertext>>> r =
            transit_.Rewrap(name, rewraps);
        if (!r.ok()) return Fail(r.status());
        wrapped = *std::move(r);
      } else {
        absl::StatusOr<std::vector<absl::StatusOr<SecretBytes>>> r =
            transit_.Decrypt(name, decrypts);
        if (!r.ok()) return Fail(r.status());
        plains = *std::move(r);
      }
      auto fill = [&](size_t k, json::object& item) -> absl::Status {
        if (rewrap) {
          if (!wrapped[k].ok()) return wrapped[k].status();
          item["ciphertext"] = wrapped[k]->text;
          item["key_version"] = wrapped[k]->version;
          return absl::OkStatus();
        }
        if (!plains[k].ok()) return plains[k].status();
        SecretBytes encoded = transit::Base64EncodeSecret(plains[k]->Reveal());
        item["plaintext"] =
            json::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size());
        return absl::OkStatus();
      };
      if (!items->batch) {
        if (!pre[0].ok()) return Fail(pre[0]);
        json::object data = NewObject();
        absl::Status s = fill(0, data);
        if (!s.ok()) return Fail(s);
        return Respond(req, std::move(data));
      }
      json::array out(ZeroingStorage());
      BatchTally tally;
      size_t next = 0;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        json::object item = NewObject();
        absl::Status s = pre[i].ok() ? fill(next++, item) : pre[i];
        if (!s.ok()) {
          if (!rewrap) item["plaintext"] = "";
          item["error"] = std::string(s.message());
        }
        item["reference"] = ReferenceOf(*items->objects[i]);
        tally.Add(s);
        out.push_back(std::move(item));
      }
      return BatchResponse(req, body, std::move(out), tally);
    }

    case RouteId::kTransitDatakey: {
      const std::string_view kind = Segment(vreq, 2);
      if (kind != "plaintext" && kind != "wrapped") {
        return BadRequest("invalid path: the data key type must be \"plaintext\" or \"wrapped\"");
      }
      transit::DataKeyRequest dk;
      absl::Status parse = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<uint64_t> bits, GetUint(body, "bits"));
        dk.bits = bits.value_or(0) == 0 ? 256 : *bits;
        ASSIGN_OR_RETURN(std::optional<std::string_view> context, StringField(body, "context"));
        ASSIGN_OR_RETURN(dk.context, DecodeField("context", context.value_or("")));
        ASSIGN_OR_RETURN(std::optional<std::string_view> nonce, StringField(body, "nonce"));
        ASSIGN_OR_RETURN(dk.nonce, DecodeField("nonce", nonce.value_or("")));
        ASSIGN_OR_RETURN(dk.key_version, VersionField(body, "key_version"));
        return absl::OkStatus();
      }();
      if (!parse.ok()) return Fail(parse);
      absl::StatusOr<transit::DataKey> key =
          transit_.GenerateDataKey(Segment(vreq, 3), dk, kind == "plaintext");
      if (!key.ok()) return Fail(key.status());
      json::object data = NewObject();
      data["ciphertext"] = key->ciphertext.text;
      data["key_version"] = key->ciphertext.version;
      if (key->plaintext.has_value()) {
        SecretBytes encoded = transit::Base64EncodeSecret(key->plaintext->Reveal());
        data["plaintext"] =
            json::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size());
      }
      return Respond(req, std::move(data));
    }

    // --- hmac / sign / verify -------------------------------------------------------------
    case RouteId::kTransitHmac:
    case RouteId::kTransitHmacAlgorithm: {
      absl::StatusOr<HashAlgorithm> algorithm =
          AlgorithmFrom(Segment(vreq, 3), body, {"algorithm", "hash_algorithm"});
      if (!algorithm.ok()) return Fail(algorithm.status());
      absl::StatusOr<uint32_t> version = VersionField(body, "key_version");
      if (!version.ok()) return Fail(version.status());
      absl::StatusOr<Items> items = ItemsOf(body);
      if (!items.ok()) return Fail(items.status());
      std::vector<absl::Status> pre(items->objects.size());
      std::vector<transit::HmacItem> work;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        absl::StatusOr<std::optional<std::string_view>> input =
            StringField(*items->objects[i], "input", IndexIf(*items, i));
        if (!input.ok()) return Fail(input.status());
        absl::StatusOr<SecretBytes> decoded = DecodeSecretField("input", input->value_or(""));
        if (!decoded.ok()) {
          pre[i] = decoded.status();
          continue;
        }
        work.push_back(transit::HmacItem{*std::move(decoded), *version});
      }
      absl::StatusOr<std::vector<absl::StatusOr<std::string>>> results =
          transit_.Hmac(Segment(vreq, 2), *algorithm, work);
      if (!results.ok()) return Fail(results.status());
      if (!items->batch) {
        if (!pre[0].ok()) return Fail(pre[0]);
        if (!(*results)[0].ok()) return Fail((*results)[0].status());
        json::object data = NewObject();
        data["hmac"] = *(*results)[0];
        return Respond(req, std::move(data));
      }
      json::array out(ZeroingStorage());
      BatchTally tally;
      size_t next = 0;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        json::object item = NewObject();
        absl::Status s = pre[i];
        if (s.ok()) {
          const absl::StatusOr<std::string>& r = (*results)[next++];
          s = r.status();
          if (r.ok()) item["hmac"] = *r;
        }
        if (!s.ok()) item["error"] = std::string(s.message());
        item["reference"] = ReferenceOf(*items->objects[i]);
        tally.Add(s);
        out.push_back(std::move(item));
      }
      return BatchResponse(req, body, std::move(out), tally);
    }

    case RouteId::kTransitSign:
    case RouteId::kTransitSignAlgorithm:
    case RouteId::kTransitVerify:
    case RouteId::kTransitVerifyAlgorithm: {
      const bool verify =
          route == RouteId::kTransitVerify || route == RouteId::kTransitVerifyAlgorithm;
      transit::SignOptions so;
      absl::Status parse = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(so.hash,
                         AlgorithmFrom(Segment(vreq, 3), body, {"hash_algorithm", "algorithm"}));
        ASSIGN_OR_RETURN(so.prehashed, BoolField(body, "prehashed"));
        ASSIGN_OR_RETURN(std::optional<std::string_view> sig_alg,
                         StringField(body, "signature_algorithm"));
        if (sig_alg.has_value() && *sig_alg == "pkcs1v15") {
          so.rsa_padding = transit::RsaPadding::kPkcs1v15;
        } else if (sig_alg.has_value() && !sig_alg->empty() && *sig_alg != "pss") {
          return absl::InvalidArgumentError(
              rekey::StrCat("unsupported rsa signature algorithm ", sig_alg->substr(0, 32)));
        }
        ASSIGN_OR_RETURN(std::optional<std::string_view> marshaling,
                         StringField(body, "marshaling_algorithm"));
        if (marshaling.has_value() && *marshaling == "jws") {
          so.marshaling = transit::Marshaling::kJws;
        } else if (marshaling.has_value() && !marshaling->empty() && *marshaling != "asn1") {
          return absl::InvalidArgumentError("requested marshaling type is invalid");
        }
        const json::value* salt = body.if_contains("salt_length");
        if (salt != nullptr && !salt->is_null()) {
          std::string text =
              salt->is_string() ? std::string(salt->get_string()) : json::serialize(*salt);
          int n = 0;
          if (text == "auto") {
            so.salt_length = transit::kPssSaltAuto;
          } else if (text == "hash") {
            so.salt_length = transit::kPssSaltDigest;
          } else if (absl::SimpleAtoi(text, &n) && n >= 0) {
            so.salt_length = n;
          } else {
            return absl::InvalidArgumentError(
                "invalid value for \"salt_length\": expected \"auto\", \"hash\" or a number");
          }
        }
        return absl::OkStatus();
      }();
      if (!parse.ok()) return Fail(parse);
      absl::StatusOr<uint32_t> version = VersionField(body, "key_version");
      if (!version.ok()) return Fail(version.status());
      absl::StatusOr<Items> items = ItemsOf(body);
      if (!items.ok()) return Fail(items.status());
      std::vector<absl::Status> pre(items->objects.size());
      std::vector<transit::SignItem> work;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        const json::object& o = *items->objects[i];
        const std::optional<size_t> at = IndexIf(*items, i);
        absl::StatusOr<std::optional<std::string_view>> input = StringField(o, "input", at);
        absl::StatusOr<std::optional<std::string_view>> context = StringField(o, "context", at);
        absl::StatusOr<std::optional<std::string_view>> signature = StringField(o, "signature", at);
        absl::StatusOr<std::optional<std::string_view>> hmac = StringField(o, "hmac", at);
        for (const absl::Status& s :
             {input.status(), context.status(), signature.status(), hmac.status()}) {
          if (!s.ok()) return Fail(s);
        }
        transit::SignItem item;
        item.key_version = *version;
        if (verify) {
          const bool has_sig = signature->has_value() && !(*signature)->empty();
          const bool has_hmac = hmac->has_value() && !(*hmac)->empty();
          absl::Status which;
          if (has_sig && has_hmac) {
            which = absl::InvalidArgumentError("provide one of 'signature' or 'hmac', not both");
          } else if (!has_sig && !has_hmac) {
            which = absl::InvalidArgumentError("missing signature or hmac to verify");
          }
          if (!which.ok()) {
            if (!items->batch) return Fail(which);
            pre[i] = which;
            continue;
          }
          item.signature = std::string(signature->value_or(""));
          item.hmac = std::string(hmac->value_or(""));
        }
        absl::Status s = [&]() -> absl::Status {
          ASSIGN_OR_RETURN(item.input, DecodeSecretField("input", input->value_or("")));
          ASSIGN_OR_RETURN(item.context, DecodeField("context", context->value_or("")));
          return absl::OkStatus();
        }();
        if (!s.ok()) {
          pre[i] = s;
          continue;
        }
        work.push_back(std::move(item));
      }
      const std::string name(Segment(vreq, 2));
      json::array out(ZeroingStorage());
      BatchTally tally;
      if (verify) {
        absl::StatusOr<std::vector<absl::StatusOr<bool>>> results =
            transit_.Verify(name, so, so.hash, work);
        if (!results.ok()) return Fail(results.status());
        if (!items->batch) {
          if (!pre[0].ok()) return Fail(pre[0]);
          if (!(*results)[0].ok()) return Fail((*results)[0].status());
          json::object data = NewObject();
          data["valid"] = *(*results)[0];
          return Respond(req, std::move(data));
        }
        size_t next = 0;
        for (size_t i = 0; i < items->objects.size(); ++i) {
          json::object item = NewObject();
          absl::Status s = pre[i];
          if (s.ok()) {
            const absl::StatusOr<bool>& r = (*results)[next++];
            s = r.status();
            if (r.ok()) item["valid"] = *r;
          }
          if (!s.ok()) item["error"] = std::string(s.message());
          item["reference"] = ReferenceOf(*items->objects[i]);
          tally.Add(s);
          out.push_back(std::move(item));
        }
        return BatchResponse(req, body, std::move(out), tally);
      }
      absl::StatusOr<std::vector<absl::StatusOr<transit::Signature>>> results =
          transit_.Sign(name, so, work);
      if (!results.ok()) return Fail(results.status());
      auto fill = [](const transit::Signature& sig, json::object& o) {
        o["signature"] = sig.text;
        o["key_version"] = sig.version;
        if (!sig.public_key.empty()) o["publickey"] = sig.public_key;
      };
      if (!items->batch) {
        if (!pre[0].ok()) return Fail(pre[0]);
        if (!(*results)[0].ok()) return Fail((*results)[0].status());
        json::object data = NewObject();
        fill(*(*results)[0], data);
        return Respond(req, std::move(data));
      }
      size_t next = 0;
      for (size_t i = 0; i < items->objects.size(); ++i) {
        json::object item = NewObject();
        absl::Status s = pre[i];
        if (s.ok()) {
          const absl::StatusOr<transit::Signature>& r = (*results)[next++];
          s = r.status();
          if (r.ok()) fill(*r, item);
        }
        if (!s.ok()) item["error"] = std::string(s.message());
        item["reference"] = ReferenceOf(*items->objects[i]);
        tally.Add(s);
        out.push_back(std::move(item));
      }
      return BatchResponse(req, body, std::move(out), tally);
    }

    // --- export, hash, random -------------------------------------------------------------
    case RouteId::kTransitExport:
    case RouteId::kTransitExportVersion: {
      std::optional<transit::ExportKind> kind = transit::ParseExportKind(Segment(vreq, 2));
      if (!kind.has_value()) return BadRequest("invalid export type");
      std::optional<uint32_t> version;
      if (route == RouteId::kTransitExportVersion) {
        const std::string_view v = Segment(vreq, 4);
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
          transit_.ExportKey(Segment(vreq, 3), *kind, version);
      if (exported.status().code() == absl::StatusCode::kNotFound) return ErrorResponse(404, "");
      if (!exported.ok()) return Fail(exported.status());
      json::object keys = NewObject();
      for (const auto& [n, value] : exported->keys) {
        keys[std::to_string(n)] =
            json::string_view(reinterpret_cast<const char*>(value.data()), value.size());
      }
      json::object data = NewObject();
      data["name"] = exported->name;
      data["type"] = JsonView(transit::KeyTypeName(exported->type));
      data["keys"] = std::move(keys);
      return Respond(req, std::move(data));
    }
    case RouteId::kTransitHash:
    case RouteId::kTransitHashAlgorithm: {
      absl::StatusOr<HashAlgorithm> algorithm =
          AlgorithmFrom(Segment(vreq, 2), body, {"algorithm"});
      if (!algorithm.ok()) return Fail(algorithm.status());
      absl::StatusOr<std::optional<std::string_view>> input = StringField(body, "input");
      absl::StatusOr<std::optional<std::string_view>> format = StringField(body, "format");
      if (!input.ok()) return Fail(input.status());
      if (!format.ok()) return Fail(format.status());
      const std::string_view f = format->value_or("hex");
      if (f != "hex" && f != "base64") {
        return BadRequest("unsupported encoding format; must be \"hex\" or \"base64\"");
      }
      absl::StatusOr<SecretBytes> data_in = DecodeSecretField("input", input->value_or(""));
      if (!data_in.ok()) return Fail(data_in.status());
      absl::StatusOr<std::string> sum = transit::HashData(*algorithm, data_in->Reveal());
      if (!sum.ok()) return ErrorFromStatus(sum.status());
      json::object data = NewObject();
      data["sum"] = f == "hex" ? absl::BytesToHexString(*sum) : transit::Base64Encode(*sum);
      return Respond(req, std::move(data));
    }
    case RouteId::kTransitRandom:
    case RouteId::kTransitRandomBytes: {
      uint64_t bytes = 32;
      if (route == RouteId::kTransitRandomBytes) {
        if (!absl::SimpleAtoi(ToAbsl(Segment(vreq, 2)), &bytes)) {
          return BadRequest("invalid value for bytes: expected a number");
        }
      } else {
        absl::StatusOr<std::optional<uint64_t>> b = GetUint(body, "bytes");
        if (!b.ok()) return Fail(b.status());
        bytes = b->value_or(32);
      }
      if (bytes < 1) return BadRequest("missing bytes");
      if (bytes > kMaxRandomBytes) {
        return BadRequest(rekey::StrCat("bytes cannot be more than ", kMaxRandomBytes));
      }
      absl::StatusOr<std::optional<std::string_view>> format = StringField(body, "format");
      if (!format.ok()) return Fail(format.status());
      const std::string_view f = format->value_or("base64");
      if (f != "hex" && f != "base64") {
        return BadRequest("unsupported encoding format; must be \"hex\" or \"base64\"");
      }
      SecretBytes random = transit_.RandomBytes(bytes);
      json::object data = NewObject();
      if (f == "hex") {
        std::string hex = absl::BytesToHexString(ToAbsl(random.Reveal()));
        data["random_bytes"] = hex;
        SecureWipe(hex);
      } else {
        SecretBytes encoded = transit::Base64EncodeSecret(random.Reveal());
        data["random_bytes"] =
            json::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size());
      }
      return Respond(req, std::move(data));
    }
    default:
      break;
  }
  return ErrorResponse(404, "route entry not found");
}

}  // namespace rekey::api
