#include "rotation/run.h"

#include <boost/json.hpp>

#include "core/strings.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;

constexpr std::pair<Phase, std::string_view> kPhases[] = {
    {Phase::kCreate, "create"},     {Phase::kSet, "set"},
    {Phase::kTest, "test"},         {Phase::kFinish, "finish"},
    {Phase::kGrace, "grace"},       {Phase::kRevoke, "revoke"},
    {Phase::kRollback, "rollback"}, {Phase::kRetryWait, "retry_wait"},
    {Phase::kDone, "done"},
};
constexpr std::pair<Outcome, std::string_view> kOutcomes[] = {
    {Outcome::kNone, ""},
    {Outcome::kSucceeded, "succeeded"},
    {Outcome::kFailed, "failed"},
    {Outcome::kAbandoned, "abandoned"},
};

// Times are stored as RFC 3339 strings in the API form; unset ones are omitted.
json::value TimeJson(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return nullptr;
  return json::value(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()));
}
absl::Time TimeFrom(const json::object& o, std::string_view key, absl::Time unset) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return unset;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", std::string(v->get_string()), &t, &err)) {
    return unset;
  }
  return t;
}
std::string StrFrom(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}
int64_t IntFrom(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}
bool BoolFrom(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

absl::StatusOr<json::object> ParseRecord(std::string_view data, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(data.data(), data.size()), ec);
  if (ec || !v.is_object()) {
    return absl::DataLossError(rekey::StrCat("stored rotation ", what, " record is malformed"));
  }
  return std::move(v.get_object());
}

}  // namespace

std::string_view PhaseName(Phase phase) {
  for (const auto& [p, name] : kPhases) {
    if (p == phase) return name;
  }
  return "unknown";
}

std::string_view OutcomeName(Outcome outcome) {
  for (const auto& [o, name] : kOutcomes) {
    if (o == outcome) return name;
  }
  return "unknown";
}

absl::Time Run::WakeAt() const {
  if (phase == Phase::kGrace) return revoke_at;
  if (phase == Phase::kRetryWait) return retry_at;
  return absl::InfinitePast();
}

json::object RunToJson(const Run& run) {
  json::object o;
  o["id"] = run.id;
  o["path"] = run.path;
  o["trigger"] = run.trigger;
  o["actor"] = run.actor;
  o["incident"] = run.incident;
  o["phase"] = std::string(PhaseName(run.phase));
  o["phase_started"] = run.started;
  o["attempt"] = run.attempt;
  o["max_attempts"] = run.max_attempts;
  o["old_version"] = run.old_version;
  o["old_version_id"] = run.old_version_id;
  o["pending_version"] = run.pending_version;
  o["pending_version_id"] = run.pending_version_id;
  if (!run.requested_version_id.empty()) o["requested_version_id"] = run.requested_version_id;
  o["grace_seconds"] = absl::ToInt64Seconds(run.grace);
  o["created"] = TimeJson(run.created);
  o["updated"] = TimeJson(run.updated);
  o["revoke_at"] = TimeJson(run.revoke_at);
  o["retry_at"] = TimeJson(run.retry_at);
  o["finished"] = TimeJson(run.finished);
  o["outcome"] =
      run.outcome == Outcome::kNone ? json::value(nullptr) : json::value(OutcomeName(run.outcome));
  o["abandon"] = run.abandon;
  o["error"] = run.error;
  json::object state;
  for (const auto& [k, v] : run.rotator_state) state[k] = v;
  o["rotator_state"] = std::move(state);
  json::array steps;
  for (const StepRecord& s : run.steps) {
    json::object step;
    step["attempt"] = s.attempt;
    step["step"] = s.step;
    step["started"] = TimeJson(s.started);
    step["ended"] = TimeJson(s.ended);
    step["result"] = s.result;
    if (!s.error.empty()) step["error"] = s.error;
    steps.push_back(std::move(step));
  }
  o["steps"] = std::move(steps);
  return o;
}

std::string EncodeRun(const Run& run) { return json::serialize(RunToJson(run)); }

absl::StatusOr<Run> DecodeRun(std::string_view data) {
  auto parsed = ParseRecord(data, "run");
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  Run run;
  run.id = StrFrom(o, "id");
  run.path = StrFrom(o, "path");
  if (run.id.empty() || run.path.empty()) {
    return absl::DataLossError("stored rotation run record has no id or path");
  }
  run.trigger = StrFrom(o, "trigger");
  run.actor = StrFrom(o, "actor");
  run.incident = BoolFrom(o, "incident");
  const std::string phase = StrFrom(o, "phase");
  bool known = false;
  for (const auto& [p, name] : kPhases) {
    if (name == phase) {
      run.phase = p;
      known = true;
    }
  }
  if (!known) return absl::DataLossError("stored rotation run record has an unknown phase");
  run.started = BoolFrom(o, "phase_started");
  run.attempt = static_cast<int>(IntFrom(o, "attempt"));
  run.max_attempts = static_cast<int>(IntFrom(o, "max_attempts"));
  run.old_version = static_cast<uint64_t>(IntFrom(o, "old_version"));
  run.old_version_id = StrFrom(o, "old_version_id");
  run.pending_version = static_cast<uint64_t>(IntFrom(o, "pending_version"));
  run.pending_version_id = StrFrom(o, "pending_version_id");
  run.requested_version_id = StrFrom(o, "requested_version_id");
  run.grace = absl::Seconds(IntFrom(o, "grace_seconds"));
  run.created = TimeFrom(o, "created", absl::InfinitePast());
  run.updated = TimeFrom(o, "updated", absl::InfinitePast());
  run.revoke_at = TimeFrom(o, "revoke_at", absl::InfiniteFuture());
  run.retry_at = TimeFrom(o, "retry_at", absl::InfiniteFuture());
  run.finished = TimeFrom(o, "finished", absl::InfinitePast());
  const std::string outcome = StrFrom(o, "outcome");
  for (const auto& [oc, name] : kOutcomes) {
    if (name == outcome) run.outcome = oc;
  }
  run.abandon = BoolFrom(o, "abandon");
  run.error = StrFrom(o, "error");
  if (const json::value* st = o.if_contains("rotator_state"); st != nullptr && st->is_object()) {
    for (const auto& [k, v] : st->get_object()) {
      if (v.is_string()) run.rotator_state[std::string(k)] = std::string(v.get_string());
    }
  }
  if (const json::value* steps = o.if_contains("steps"); steps != nullptr && steps->is_array()) {
    for (const json::value& sv : steps->get_array()) {
      if (!sv.is_object()) continue;
      const json::object& so = sv.get_object();
      StepRecord s;
      s.attempt = static_cast<int>(IntFrom(so, "attempt"));
      s.step = StrFrom(so, "step");
      s.started = TimeFrom(so, "started", absl::InfinitePast());
      s.ended = TimeFrom(so, "ended", absl::InfinitePast());
      s.result = StrFrom(so, "result");
      s.error = StrFrom(so, "error");
      run.steps.push_back(std::move(s));
    }
  }
  return run;
}

json::object StateToJson(const SecretState& state) {
  json::object o;
  o["next_due"] = TimeJson(state.next_due);
  o["last_rotated"] = TimeJson(state.last_rotated);
  o["last_attempt"] = TimeJson(state.last_attempt);
  o["last_outcome"] = state.last_outcome;
  o["last_error"] = state.last_error;
  o["consecutive_failures"] = state.consecutive_failures;
  o["active_run"] = state.active_run;
  o["last_run"] = state.last_run;
  o["overdue_since"] = TimeJson(state.overdue_since);
  if (state.queued.has_value()) {
    o["queued"] = json::object{{"incident", state.queued->incident},
                               {"trigger", state.queued->trigger},
                               {"actor", state.queued->actor},
                               {"version_id", state.queued->version_id}};
  }
  return o;
}

std::string EncodeState(const SecretState& state) { return json::serialize(StateToJson(state)); }

absl::StatusOr<SecretState> DecodeState(std::string_view data) {
  auto parsed = ParseRecord(data, "state");
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  SecretState state;
  state.next_due = TimeFrom(o, "next_due", absl::InfiniteFuture());
  state.last_rotated = TimeFrom(o, "last_rotated", absl::InfinitePast());
  state.last_attempt = TimeFrom(o, "last_attempt", absl::InfinitePast());
  state.last_outcome = StrFrom(o, "last_outcome");
  state.last_error = StrFrom(o, "last_error");
  state.consecutive_failures = static_cast<int>(IntFrom(o, "consecutive_failures"));
  state.active_run = StrFrom(o, "active_run");
  state.last_run = StrFrom(o, "last_run");
  state.overdue_since = TimeFrom(o, "overdue_since", absl::InfiniteFuture());
  if (const json::value* q = o.if_contains("queued"); q != nullptr && q->is_object()) {
    const json::object& qo = q->as_object();
    state.queued = QueuedRotation{.incident = BoolFrom(qo, "incident"),
                                  .trigger = StrFrom(qo, "trigger"),
                                  .actor = StrFrom(qo, "actor"),
                                  .version_id = StrFrom(qo, "version_id")};
  } else if (BoolFrom(o, "incident_queued")) {  // the form before "queued" existed
    state.queued = QueuedRotation{.incident = true, .trigger = "incident", .actor = "recovery"};
  }
  return state;
}

}  // namespace rekey::rotation
