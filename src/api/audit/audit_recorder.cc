#include "api/audit/audit_recorder.h"

#include <boost/json.hpp>

#include "absl/strings/numbers.h"
#include "api/authz/route_table.h"
#include "api/aws/aws_handler.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/strings.h"

namespace rekey::api {
namespace {

namespace json = boost::json;

// Vault's operation names: read, list, create/update (both "update" here), patch, delete.
std::string OperationOf(const http::Request& req) {
  const std::string& m = req.method;
  if (m == "GET" || m == "HEAD") {
    return req.query.find("list=") != std::string::npos ? "list" : "read";
  }
  if (m == "LIST") return "list";
  if (m == "POST" || m == "PUT") return "update";
  if (m == "PATCH") return "patch";
  if (m == "DELETE") return "delete";
  return "unknown";
}

// The API path without "/v1/", as policies name it; bounded.
std::string PathOf(const http::Request& req) {
  std::string_view p = req.path;
  if (p.rfind("/v1/", 0) == 0) p.remove_prefix(4);
  return std::string(p.substr(0, 1024));
}

// The first error message of a Vault-shaped error body, bounded.
std::string ErrorOf(const http::Response& res) {
  if (res.status < 400 || res.body.empty()) return "";
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (ec || !v.is_object()) return rekey::StrCat("HTTP ", res.status);
  const json::value* errors = v.get_object().if_contains("errors");
  if (errors == nullptr || !errors->is_array() || errors->get_array().empty() ||
      !errors->get_array()[0].is_string()) {
    return rekey::StrCat("HTTP ", res.status);
  }
  std::string text(errors->get_array()[0].get_string());
  if (text.size() > 512) text.resize(512);
  return text;
}

http::Response NotRecorded() {
  return ErrorResponse(503, "audit: the request could not be recorded by any audit device");
}

}  // namespace

AuditRecorder::AuditRecorder(audit::AuditBroker& broker, auth::TokenStore& tokens)
    : broker_(broker), tokens_(tokens) {}

// What BeforeServe works out once per request and keeps on it for BeforeSend.
struct AuditRecorder::Note {
  audit::Actor actor;
  // Changes nothing (a GET/HEAD/LIST, or an AWS read operation, with a token that has no use
  // limit): recorded once, with its response, before that is sent.
  bool read_only = false;
};

std::shared_ptr<const AuditRecorder::Note> AuditRecorder::NoteFor(const http::Request& req) {
  if (auto note = std::static_pointer_cast<const Note>(req.recorder_note); note != nullptr) {
    return note;
  }
  auto fresh = std::make_shared<Note>();
  fresh->actor.remote_addr = req.remote_addr;
  int64_t uses_left = 0;
  if (std::optional<std::string_view> token = RequestToken(req); token.has_value()) {
    if (absl::StatusOr<auth::TokenEntry> t = tokens_.Lookup(*token); t.ok()) {
      fresh->actor.accessor = t->accessor;
      fresh->actor.policies = t->policies;
      uses_left = t->num_uses;
    }
  }
  const std::string& m = req.method;
  fresh->read_only =
      uses_left == 0 && (m == "GET" || m == "HEAD" || m == "LIST" || aws::IsAwsReadRequest(req));
  req.recorder_note = fresh;
  return fresh;
}

audit::AuditEntry AuditRecorder::EntryFor(const http::Request& req, const Note& note,
                                          audit::EntryType type) {
  audit::AuditEntry entry(type);
  entry.actor = note.actor;
  entry.operation = OperationOf(req);
  entry.path = PathOf(req);
  entry.request_id = req.request_id;
  return entry;
}

// sys/health is not recorded (as in Vault): it needs no token, carries no data, and load
// balancers probe it constantly.
static bool IsExempt(const http::Request& req) { return req.path == "/v1/sys/health"; }

void AuditRecorder::BeforeServe(const http::Request& req, Done done) {
  if (!broker_.enabled() || IsExempt(req)) return done(std::nullopt);
  std::shared_ptr<const Note> note = NoteFor(req);
  // A read is recorded once, with its response (BeforeSend): if that fails it is answered 503,
  // so what it read never leaves the server. Half the audit work for the commonest requests.
  if (note->read_only) return done(std::nullopt);
  audit::AuditEntry entry = EntryFor(req, *note, audit::EntryType::kRequest);
  if (!req.body.empty()) {
    // Declared fields as the allow-list says; anything else only as a fingerprint. The parsed
    // copy lives in zeroing storage, like every request body that may hold values.
    absl::StatusOr<json::value> body = ParseBody(req.body);
    if (body.ok() && body->is_object()) {
      (void)entry.SetRequestFields(body->get_object());
    } else {
      (void)entry.SetSecret("unlisted_fields", SecretBytes(req.body));
    }
  }
  broker_.Record(entry, [done = std::move(done)](absl::Status s) {
    if (s.ok()) return done(std::nullopt);
    done(NotRecorded());
  });
}

void AuditRecorder::BeforeSend(const http::Request& req, const http::Response& res, Done done) {
  if (!broker_.enabled() || IsExempt(req)) return done(std::nullopt);
  audit::AuditEntry entry = EntryFor(req, *NoteFor(req), audit::EntryType::kResponse);
  entry.status = res.status;
  entry.error = ErrorOf(res);
  broker_.Record(entry, [done = std::move(done)](absl::Status s) {
    if (s.ok()) return done(std::nullopt);
    // The request was served but its outcome cannot be recorded: the client must not take it
    // as a success it cannot prove later.
    done(NotRecorded());
  });
}

SysAuditHandler::SysAuditHandler(audit::AuditBroker& broker, auth::Authorizer& authz)
    : broker_(broker), authz_(authz) {}

bool SysAuditHandler::MayBlock(const http::Request& req) const {
  if (req.method != "GET" && req.method != "HEAD") return true;
  std::optional<std::string_view> token = RequestToken(req);
  return token.has_value() && authz_.MayNeedWrite(*token);  // a limited-use token counts a use
}

http::Response SysAuditHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());  // "sys", "audit"[-hash], ...
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kAudit, AuthorizeOptions{});
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::vector<std::string>& segs = vreq.segments;
  const std::string& op = vreq.operation;

  if (route == RouteId::kSysAuditHash) {
    boost::system::error_code ec;
    json::value body = json::parse(req.body, ec);
    const json::value* input =
        !ec && body.is_object() ? body.get_object().if_contains("input") : nullptr;
    if (input == nullptr || !input->is_string()) {
      return ErrorResponse(400, "\"input\" is required and must be a string");
    }
    absl::StatusOr<std::string> hash = broker_.Fingerprint(
        segs[2], std::string_view(input->get_string().data(), input->get_string().size()));
    SecureWipe(body.get_object()["input"].as_string().data(),
               body.get_object()["input"].as_string().size());
    if (!hash.ok()) return ErrorFromStatus(hash.status());
    json::object data;
    data["hash"] = *hash;
    return Envelope(req, json::serialize(data));
  }
  if (route == RouteId::kSysAuditList) {
    // Vault's shape: {"<name>/": {type, description, options, local, path}}, plus rekey's
    // chain facts: device id, public key, head, health.
    json::object data;
    for (const audit::DeviceInfo& d : broker_.List()) {
      json::object o;
      o["type"] = d.config.type;
      o["description"] = "";
      o["local"] = false;
      o["path"] = rekey::StrCat(d.config.name, "/");
      json::object options;
      if (d.config.type == "file") options["file_path"] = d.config.path;
      o["options"] = std::move(options);
      o["device_id"] = d.device_id;
      o["public_key"] = d.public_key;
      o["head_sequence"] = d.head.sequence;
      o["head_hash"] = d.head.hash;
      o["healthy"] = d.healthy;
      data[rekey::StrCat(d.config.name, "/")] = std::move(o);
    }
    return Envelope(req, json::serialize(data));
  }
  if (route == RouteId::kSysAuditEvents) {
    uint64_t after = 0;
    if (auto a = vreq.Query("after"); a.has_value() && !absl::SimpleAtoi(ToAbsl(*a), &after)) {
      return ErrorResponse(400, "after must be a sequence number");
    }
    json::array events;
    uint64_t last = after;
    for (const audit::EntrySummary& s : broker_.Recent(after, 500)) {
      json::object o;
      o["seq"] = s.seq;
      o["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", s.time, absl::UTCTimeZone());
      o["type"] = s.type;
      o["operation"] = s.operation;
      o["path"] = s.path;
      if (s.status != 0) o["status"] = s.status;
      if (!s.error.empty()) o["error"] = s.error;
      o["request_id"] = s.request_id;
      o["remote_addr"] = s.remote_addr;
      events.push_back(std::move(o));
      last = s.seq;
    }
    json::object data;
    data["events"] = std::move(events);
    data["last_seq"] = last;
    return Envelope(req, json::serialize(data));
  }
  // RouteId::kSysAuditDevice
  const std::string& name = segs[2];
  if (op == "DELETE") {
    absl::Status disabled = broker_.Disable(name);
    // Vault answers 204 for an unknown device too.
    if (!disabled.ok() && disabled.code() != absl::StatusCode::kNotFound) {
      return ErrorFromStatus(disabled);
    }
    return NoContent();
  }
  absl::StatusOr<audit::DeviceConfig> config = audit::ParseDeviceConfig(name, req.body);
  if (!config.ok()) return ErrorFromStatus(config.status());
  absl::Status enabled = broker_.Enable(*config);
  if (!enabled.ok()) {
    return enabled.code() == absl::StatusCode::kAlreadyExists
               ? ErrorResponse(400, ToStd(enabled.message()))
               : ErrorFromStatus(enabled);
  }
  return NoContent();
}

}  // namespace rekey::api
