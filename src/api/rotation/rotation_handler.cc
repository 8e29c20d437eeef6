#include "api/rotation/rotation_handler.h"

#include <algorithm>
#include <boost/json.hpp>
#include <variant>

#include "absl/strings/numbers.h"
#include "api/authz/route_table.h"
#include "api/http/status_http.h"
#include "api/rotation/config_references.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotation/schedule.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using rotation::Problem;

constexpr size_t kMaxBody = 64 * 1024;

// Rotation errors through the common table: a run already in progress (kAborted) is 409, a
// stored config that is no longer valid (kFailedPrecondition) 400.
http::Response RotationError(const absl::Status& status) { return ErrorFromStatus(status); }

http::Response Data(const http::Request& req, const json::value& data) {
  return Envelope(req, json::serialize(data));
}

json::value TimeOrNull(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return nullptr;
  return json::value(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
}

json::array ProblemsJson(const std::vector<Problem>& problems) {
  json::array out;
  for (const Problem& p : problems) {
    json::object o;
    o["field"] = p.field;
    o["message"] = p.message;
    out.push_back(std::move(o));
  }
  return out;
}

// Parses a JSON object body; an empty body is {}.
absl::StatusOr<json::object> BodyObject(const http::Request& req) {
  if (req.body.empty()) return json::object();
  if (req.body.size() > kMaxBody) {
    return absl::InvalidArgumentError(rekey::StrCat("request body over ", kMaxBody, " bytes"));
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return absl::InvalidArgumentError("request body is not valid JSON");
  if (!v.is_object()) return absl::InvalidArgumentError("request body must be a JSON object");
  return std::move(v.get_object());
}

std::optional<bool> BoolField(const json::object& o, std::string_view key, bool& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return true;
  if (!v->is_bool()) return std::nullopt;
  out = v->get_bool();
  return true;
}

json::object StatusJson(const rotation::SecretStatus& s) {
  json::object o;
  o["path"] = s.path;
  o["rotator"] = s.rotator;
  o["schedule"] = s.schedule;
  o["next_due"] = TimeOrNull(s.state.next_due);
  o["last_rotated"] = TimeOrNull(s.state.last_rotated);
  o["last_outcome"] = s.state.last_outcome;
  o["last_error"] = s.state.last_error;
  o["consecutive_failures"] = s.state.consecutive_failures;
  o["overdue"] = s.overdue;
  o["failing"] = s.failing;
  o["in_progress"] = !s.state.active_run.empty();
  o["active_run"] = s.state.active_run;
  o["phase"] = s.phase;
  // The earliest not_after of the certificates the value holds; null when it holds none.
  o["certificate_expires"] = TimeOrNull(s.cert_not_after);
  return o;
}

// ?limit=N (1..10000), default `fallback`.
absl::StatusOr<size_t> LimitOf(const VaultRequest& vreq, size_t fallback) {
  std::optional<std::string_view> text = vreq.Query("limit");
  if (!text.has_value()) return fallback;
  size_t n = 0;
  if (!absl::SimpleAtoi(ToAbsl(*text), &n) || n == 0 || n > 10000) {
    return absl::InvalidArgumentError("limit must be an integer from 1 to 10000");
  }
  return n;
}

struct EventsQuery {
  uint64_t after = 0;
  absl::Duration wait = absl::ZeroDuration();
  size_t limit = 100;
};

absl::StatusOr<EventsQuery> ParseEventsQuery(const VaultRequest& vreq) {
  EventsQuery q;
  if (auto after = vreq.Query("after"); after.has_value()) {
    if (!absl::SimpleAtoi(ToAbsl(*after), &q.after)) {
      return absl::InvalidArgumentError("after must be an event sequence number");
    }
  }
  if (auto wait = vreq.Query("wait"); wait.has_value()) {
    absl::StatusOr<absl::Duration> d = rotation::ParseScheduleDuration(*wait);
    if (!d.ok() || *d < absl::ZeroDuration() || *d > RotationHandler::kMaxWait) {
      return absl::InvalidArgumentError("wait must be a duration from 0s to 60s, e.g. 30s");
    }
    q.wait = *d;
  }
  ASSIGN_OR_RETURN(q.limit, LimitOf(vreq, 100));
  return q;
}

// `newest` is the stream's last sequence number: a client that asked for events after a number
// the stream has not reached (e.g. after the server's events were trimmed or reset) gets it back
// as last_seq, to resume from.
json::object EventsJson(const std::vector<rotation::Event>& events, uint64_t after,
                        uint64_t newest) {
  json::object data;
  json::array list;
  uint64_t last = std::min(after, newest);
  for (const rotation::Event& e : events) {
    list.push_back(rotation::EventToJson(e));
    last = e.seq;
  }
  data["events"] = std::move(list);
  data["last_seq"] = last;
  return data;
}

}  // namespace

RotationHandler::RotationHandler(rotation::RotationEngine& engine, auth::Authorizer& authz,
                                 const Clock& clock)
    : engine_(engine), authz_(authz), clock_(clock) {}

bool RotationHandler::MayBlock(const http::Request& req) const {
  if (!(req.method == "GET" || req.method == "HEAD")) return true;
  // A limited-use token writes its use count.
  std::optional<std::string_view> token = RequestToken(req);
  return token.has_value() && authz_.MayNeedWrite(*token);
}

http::Response RotationHandler::Handle(http::Request& req) {
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  VaultRequest& vreq = *parsed;
  if (vreq.operation == "HEAD") vreq.operation = "GET";
  if (vreq.segments.empty() || vreq.segments[0] != "v1") {
    return ErrorResponse(404, "no handler for this path: the API is under /v1/");
  }
  vreq.segments.erase(vreq.segments.begin());  // "rotation", kind, path...
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, vreq, Surface::kRotation, AuthorizeOptions{});
  if (auto* denied = std::get_if<http::Response>(&authorized)) return std::move(*denied);
  const RouteId route = std::get<Authorized>(authorized).route->id;
  const std::string actor = std::get<Authorized>(authorized).principal.token.accessor;
  const auto& segs = vreq.segments;
  const std::string& op = vreq.operation;
  const std::string kind = segs.size() > 1 ? segs[1] : "";
  const std::string path = segs.size() > 2 ? vreq.JoinFrom(2) : "";
  auto unsupported = [&] {
    return ErrorResponse(
        405, rekey::StrCat("unsupported operation ", op.substr(0, 16), " on /v1/rotation/", kind));
  };
  auto need_path = [&]() -> std::optional<http::Response> {
    if (path.empty()) {
      return ErrorResponse(400,
                           rekey::StrCat("missing secret path: /v1/rotation/", kind, "/<path>"));
    }
    return std::nullopt;
  };

  if (route == RouteId::kRotationConfig) {
    if (auto bad = need_path(); bad.has_value()) return *bad;
    if (op == "GET") {
      absl::StatusOr<rotation::RotationConfig> config = engine_.GetConfig(path);
      if (!config.ok()) return RotationError(config.status());
      return Data(req, rotation::ToJson(*config));
    }
    if (op == "POST" || op == "PUT") {
      absl::StatusOr<json::object> body = BodyObject(req);
      if (!body.ok()) return ErrorFromStatus(body.status());
      // What the config reaches (another secret, a transit key, the CA, commands) must be
      // within the caller's own rights.
      if (absl::Status refs = CheckConfigReferences(
              engine_, *body, *std::get<Authorized>(authorized).principal.policies);
          !refs.ok()) {
        return ErrorResponse(403, ToStd(refs.message()));
      }
      std::vector<Problem> problems;
      absl::Status set = engine_.SetConfig(path, *body, &problems);
      if (!problems.empty()) {
        // Every problem, one error string each, so a client sees them all at once.
        json::object out;
        json::array errors;
        for (const Problem& p : problems) {
          errors.emplace_back(p.field.empty() ? p.message
                                              : rekey::StrCat(p.field, ": ", p.message));
        }
        out["errors"] = std::move(errors);
        http::Response res;
        res.status = 400;
        res.body = json::serialize(out);
        return res;
      }
      if (!set.ok()) return RotationError(set);
      return NoContent();
    }
    if (op == "DELETE") {
      absl::Status deleted = engine_.DeleteConfig(path);
      return deleted.ok() ? NoContent() : RotationError(deleted);
    }
    return unsupported();
  }

  if (route == RouteId::kRotationRotate) {
    if (auto bad = need_path(); bad.has_value()) return *bad;
    if (op != "POST" && op != "PUT") return unsupported();
    absl::StatusOr<json::object> body = BodyObject(req);
    if (!body.ok()) return ErrorFromStatus(body.status());
    bool dry_run = false;
    bool incident = false;
    for (const auto& [key, value] : *body) {
      if (key != "dry_run" && key != "incident") {
        return ErrorResponse(400,
                             rekey::StrCat("unknown field \"", std::string_view(key).substr(0, 64),
                                           "\" (expected dry_run, incident)"));
      }
    }
    if (!BoolField(*body, "dry_run", dry_run) || !BoolField(*body, "incident", incident)) {
      return ErrorResponse(400, "dry_run and incident must be true or false");
    }
    if (dry_run && incident) {
      return ErrorResponse(400, "dry_run and incident cannot be combined");
    }
    if (dry_run) {
      absl::StatusOr<rotation::DryRunReport> report = engine_.DryRun(path);
      if (!report.ok()) return RotationError(report.status());
      json::object data;
      data["dry_run"] = true;
      data["ok"] = report->problems.empty();
      data["problems"] = ProblemsJson(report->problems);
      json::array plan;
      for (const std::string& step : report->plan) plan.emplace_back(step);
      data["plan"] = std::move(plan);
      return Data(req, data);
    }
    absl::StatusOr<rotation::Run> run =
        engine_.Rotate(path, rotation::RotateOptions{.incident = incident, .actor = actor});
    if (!run.ok()) return RotationError(run.status());
    return Data(req, rotation::RunToJson(*run));
  }

  if (route == RouteId::kRotationDue) {
    if (op != "POST" && op != "PUT") return unsupported();
    absl::StatusOr<std::vector<rotation::Run>> runs = engine_.RotateDue(actor);
    if (!runs.ok()) return RotationError(runs.status());
    json::array list;
    for (const rotation::Run& r : *runs) list.push_back(rotation::RunToJson(r));
    json::object data;
    data["runs"] = std::move(list);
    return Data(req, data);
  }

  if (route == RouteId::kRotationRuns) {
    if (auto bad = need_path(); bad.has_value()) return *bad;
    if (op != "GET") return unsupported();
    json::array list;
    if (auto id = vreq.Query("run_id"); id.has_value()) {
      absl::StatusOr<rotation::Run> run = engine_.GetRun(path, *id);
      if (!run.ok()) return RotationError(run.status());
      list.push_back(rotation::RunToJson(*run));
    } else {
      absl::StatusOr<size_t> limit = LimitOf(vreq, 20);
      if (!limit.ok()) return ErrorFromStatus(limit.status());
      absl::StatusOr<std::vector<rotation::Run>> runs = engine_.Runs(path, *limit);
      if (!runs.ok()) return RotationError(runs.status());
      for (const rotation::Run& r : *runs) list.push_back(rotation::RunToJson(r));
    }
    json::object data;
    data["runs"] = std::move(list);
    return Data(req, data);
  }

  if (route == RouteId::kRotationStatus) {
    if (op != "GET") return unsupported();
    std::string prefix(vreq.Query("prefix").value_or(""));
    std::string after(vreq.Query("after").value_or(""));
    absl::StatusOr<size_t> limit = LimitOf(vreq, 1000);
    if (!limit.ok()) return ErrorFromStatus(limit.status());
    absl::StatusOr<std::vector<rotation::SecretStatus>> status =
        engine_.Status(prefix, *limit, after);
    if (!status.ok()) return RotationError(status.status());
    json::array list;
    for (const rotation::SecretStatus& s : *status) list.push_back(StatusJson(s));
    json::object data;
    data["secrets"] = std::move(list);
    // A full page may have more after it: ask again with after=<next_after>.
    if (!status->empty() && status->size() == *limit) data["next_after"] = status->back().path;
    return Data(req, data);
  }

  if (route == RouteId::kRotationEvents) {
    if (op != "GET") return unsupported();
    absl::StatusOr<EventsQuery> q = ParseEventsQuery(vreq);
    if (!q.ok()) return ErrorFromStatus(q.status());
    return Data(req, EventsJson(engine_.events().Since(q->after, q->limit), q->after,
                                engine_.events().LastSeq()));
  }

  return ErrorResponse(404,
                       rekey::StrCat("no handler for route \"", vreq.JoinFrom(0).substr(0, 128),
                                     "\". route entry not found."));
}

bool RotationHandler::HandleAsync(http::Request& req, http::Responder respond) {
  // Only a long poll of the event stream waits; everything else is answered synchronously.
  if (req.method != "GET" || req.path != "/v1/rotation/events") return false;
  absl::StatusOr<VaultRequest> parsed = ParseVaultRequest(req);
  if (!parsed.ok()) return false;
  absl::StatusOr<EventsQuery> q = ParseEventsQuery(*parsed);
  // Waiting for a number the stream has not reached would never end: answer at once.
  if (!q.ok() || q->wait <= absl::ZeroDuration() || q->after > engine_.events().LastSeq()) {
    return false;
  }
  std::optional<std::string_view> token = RequestToken(req);
  // Refusals, and limited-use tokens (which write their use count), take Handle().
  if (!token.has_value() || authz_.MayNeedWrite(*token)) return false;
  parsed->segments.erase(parsed->segments.begin());  // "v1"
  std::variant<Authorized, http::Response> authorized =
      AuthorizeRequest(authz_, *parsed, Surface::kRotation, AuthorizeOptions{});
  const Authorized* a = std::get_if<Authorized>(&authorized);
  if (a == nullptr || a->route->id != RouteId::kRotationEvents) return false;
  const http::Request* request = &req;
  const uint64_t after = q->after;
  engine_.events().WaitAsync(
      after, clock_.Now() + q->wait, q->limit,
      [request, after, respond = std::move(respond)](std::vector<rotation::Event> events) {
        std::string body = json::serialize(EventsJson(events, after, after));
        respond([request, body = std::move(body)] { return Envelope(*request, body); });
      });
  return true;
}

}  // namespace rekey::api
