#include "rotation/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "secrets/model.h"
#include "secrets/path.h"

namespace rekey::rotation {
namespace {

RotateOptions OptionsOf(const QueuedRotation& q) {
  return RotateOptions{.version_id = q.version_id,
                       .trigger = q.trigger.empty() ? "manual" : q.trigger,
                       .incident = q.incident,
                       .actor = q.actor};
}

namespace json = boost::json;

constexpr char kConfigPrefix[] = "rot/cfg/";
constexpr char kStatePrefix[] = "rot/st/";
constexpr char kRunPrefix[] = "rot/run/";

std::string ConfigKey(std::string_view path) { return rekey::StrCat(kConfigPrefix, path); }
std::string StateKey(std::string_view path) { return rekey::StrCat(kStatePrefix, path); }
// '#' cannot occur in a path, so the runs of "a/b" never share a prefix with those of "a/b/c".
std::string RunsPrefix(std::string_view path) { return rekey::StrCat(kRunPrefix, path, "#"); }
std::string RunKey(std::string_view path, std::string_view id) {
  return rekey::StrCat(RunsPrefix(path), id);
}

// Versions a run creates are attributed to it, so a resumed create recognises its own version.
std::string ActorTag(const Run& run) {
  return rekey::StrCat("rotation:", run.id, "/", run.attempt);
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

Step StepOf(Phase phase) {
  switch (phase) {
    case Phase::kCreate:
      return Step::kCreate;
    case Phase::kSet:
      return Step::kSet;
    case Phase::kTest:
      return Step::kTest;
    case Phase::kFinish:
      return Step::kFinish;
    case Phase::kRevoke:
      return Step::kRevoke;
    default:
      return Step::kRollback;
  }
}

// A rotator error as journal text: the code and message (rotators never put values there),
// bounded so a chatty target cannot bloat the journal.
std::string ErrorText(const absl::Status& s) {
  std::string text = rekey::StrCat(absl::StatusCodeToString(s.code()), ": ", ToStd(s.message()));
  if (text.size() > 1024) text.resize(1024);
  return text;
}

// A value's lifetime, for before_expiry/at_fraction schedules: fields "not_before"/"not_after"
// of the value's JSON object, as RFC 3339 text or Unix seconds.
void LifetimeOf(const SecretBytes& value, ScheduleInput& in) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(value.Reveal().data(), value.Reveal().size()), ec);
  if (ec || !v.is_object()) return;
  auto read = [&](std::string_view key) -> std::optional<absl::Time> {
    const json::value* f = v.get_object().if_contains(key);
    if (f == nullptr) return std::nullopt;
    if (f->is_int64()) return absl::FromUnixSeconds(f->get_int64());
    if (f->is_string()) {
      absl::Time t;
      std::string err;
      if (absl::ParseTime(absl::RFC3339_full, std::string(f->get_string()), &t, &err)) return t;
    }
    return std::nullopt;
  };
  in.not_before = read("not_before");
  in.not_after = read("not_after");
  // The value's bytes were parsed into `v`; wipe the parsed strings too.
  for (auto& [k, f] : v.get_object()) {
    if (f.is_string()) SecureWipe(f.get_string().data(), f.get_string().size());
  }
}

class SpdStepLog final : public StepLog {
 public:
  SpdStepLog(std::string_view path, std::string_view run_id, std::string_view step)
      : prefix_(rekey::StrCat("rotation ", path, " run ", run_id, " ", step, ": ")) {}
  void Info(std::string_view message) override { spdlog::info("{}{}", prefix_, message); }
  void Warn(std::string_view message) override { spdlog::warn("{}{}", prefix_, message); }

 private:
  std::string prefix_;
};

}  // namespace

// The StepContext handed to rotators: a view of one run at one step.
class RotationEngine::Context final : public StepContext {
 public:
  Context(RotationEngine& engine, Run& run, const RotationConfig& config, Step step, bool dry)
      : engine_(engine),
        run_(run),
        config_(config),
        step_(step),
        dry_(dry),
        deadline_(engine.clock_.Now() + engine.options_.step_timeout),
        log_(run.path, run.id, StepName(step)) {}

  // Loads the versions this step may see. kNotFound/kUnavailable from the store.
  absl::Status LoadVersions() {
    if (run_.old_version != 0) {
      current_ = Load(run_.old_version);
      if (step_ == Step::kRevoke) {
        previous_ = current_;
        current_.reset();
      }
    }
    if (run_.pending_version != 0) {
      pending_ = Load(run_.pending_version);
      if (step_ == Step::kRevoke) current_ = pending_;
    }
    return absl::OkStatus();
  }

  std::string_view path() const override { return run_.path; }
  std::string_view run_id() const override { return run_.id; }
  int attempt() const override { return run_.attempt; }
  Step step() const override { return step_; }
  bool dry_run() const override { return dry_; }
  const json::object& params() const override { return config_.params; }
  const std::optional<VersionView>& current() const override { return current_; }
  const std::optional<VersionView>& pending() const override {
    return step_ == Step::kRevoke ? none_ : pending_;
  }
  const std::optional<VersionView>& previous() const override { return previous_; }
  absl::StatusOr<SecretBytes> Generate() override {
    return config_.generator.Generate(engine_.random_);
  }
  absl::StatusOr<SecretBytes> ReadSecret(std::string_view path) override {
    absl::StatusOr<secrets::ReadResult> r = engine_.kv_.Read(path, 0);
    if (!r.ok()) return r.status();
    if (!r->value.has_value()) {
      return absl::NotFoundError(
          rekey::StrCat("secret \"", path, "\" has no readable current version"));
    }
    return std::move(*r->value);
  }
  std::map<std::string, std::string>& state() override { return run_.rotator_state; }
  const Clock& clock() const override { return engine_.clock_; }
  Random& random() override { return engine_.random_; }
  absl::Time deadline() const override { return deadline_; }
  HttpTransport& http() override { return engine_.http_; }
  StepLog& log() override { return log_; }

 private:
  std::optional<VersionView> Load(uint64_t number) {
    absl::StatusOr<secrets::ReadResult> r = engine_.kv_.Read(run_.path, number);
    if (!r.ok()) return std::nullopt;
    VersionView view;
    view.number = number;
    view.id = r->version.id;
    view.value = std::move(r->value);
    return view;
  }

  RotationEngine& engine_;
  Run& run_;
  const RotationConfig& config_;
  const Step step_;
  const bool dry_;
  const absl::Time deadline_;
  SpdStepLog log_;
  std::optional<VersionView> current_, pending_, previous_;
  const std::optional<VersionView> none_;
};

RotationEngine::RotationEngine(storage::Store& store, secrets::SecretsService& kv,
                               const RotatorRegistry& registry, const Clock& clock, Random& random,
                               HttpTransport& http, EngineOptions options)
    : store_(store),
      kv_(kv),
      registry_(registry),
      clock_(clock),
      random_(random),
      http_(http),
      options_(std::move(options)),
      events_(store, options_.events_kept),
      due_(options_.spacing, &random),
      wake_(DueQueueOptions{.min_target_spacing = absl::ZeroDuration(),
                            .max_jitter = absl::ZeroDuration()},
            &random),
      certs_(store, kv, events_, options_.certificate_expiry_warnings,
             options_.certificate_scan_interval) {}

RotationEngine::~RotationEngine() { Stop(); }

std::mutex& RotationEngine::StateLock(std::string_view path) {
  return state_locks_[absl::HashOf(ToAbsl(path)) % state_locks_.size()];
}

absl::Status RotationEngine::Start() {
  RETURN_IF_ERROR(events_.Load());
  // Every configured secret: schedule it, and queue its unfinished run.
  std::string start_after;
  size_t resumed = 0;
  // Asked for during a grace period, not started before a crash.
  std::vector<std::pair<std::string, QueuedRotation>> queued;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page,
                     store_.Scan(kStatePrefix, start_after, 1024));
    if (page.empty()) break;
    for (const storage::Record& record : page) {
      const std::string path = record.key.substr(sizeof(kStatePrefix) - 1);
      absl::StatusOr<SecretState> state = DecodeState(record.value.Reveal());
      if (!state.ok()) {
        spdlog::error("rotation state of {} is unreadable: {}", path,
                      ToStd(state.status().message()));
        continue;
      }
      if (!state->active_run.empty()) {
        Enqueue(path);
        ++resumed;
      } else if (state->queued.has_value()) {
        queued.emplace_back(path, *state->queued);
      } else if (state->next_due != absl::InfiniteFuture()) {
        absl::StatusOr<RotationConfig> config = GetConfig(path);
        if (config.ok()) Schedule(path, *config, state->next_due);
      }
    }
    start_after = page.back().key;
  }
  if (resumed > 0) spdlog::info("rotation: resuming {} unfinished run(s)", resumed);
  for (const auto& [path, q] : queued) {
    absl::StatusOr<Run> run = Rotate(path, OptionsOf(q));
    if (!run.ok()) {
      spdlog::error("rotation {}: the queued rotation did not start: {}", path,
                    ToStd(run.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  if (options_.workers > 0) threads_.emplace_back([this] { SchedulerLoop(); });
  return absl::OkStatus();
}

void RotationEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  scheduler_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  events_.ReleaseWaiters();
}

absl::StatusOr<RotationConfig> RotationEngine::GetConfig(std::string_view path) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(ConfigKey(path)));
  if (!record.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no rotation config for \"", path, "\""));
  }
  boost::system::error_code ec;
  json::value v = json::parse(
      json::string_view(record->value.Reveal().data(), record->value.Reveal().size()), ec);
  if (ec || !v.is_object()) {
    return absl::DataLossError(
        rekey::StrCat("stored rotation config of \"", path, "\" is malformed"));
  }
  std::vector<Problem> problems;
  RotationConfig config = ParseRotationConfig(v.get_object(), registry_, problems);
  if (!problems.empty()) {
    // Stored configs were valid when written; a rotator that is gone or changed its params
    // makes them invalid now. Say so instead of running with a half-understood config.
    return absl::FailedPreconditionError(rekey::StrCat(
        "rotation config of \"", path, "\" is no longer valid: ", JoinProblems(problems)));
  }
  return config;
}

absl::Status RotationEngine::SetConfig(std::string_view path, const json::object& json,
                                       std::vector<Problem>* problems_out) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  std::vector<Problem> problems;
  RotationConfig config = ParseRotationConfig(json, registry_, problems);
  if (problems_out != nullptr) *problems_out = problems;
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid rotation config for \"", path, "\": ", JoinProblems(problems)));
  }
  std::lock_guard<std::mutex> lock(StateLock(path));
  ASSIGN_OR_RETURN(std::optional<SecretState> state, LoadState(path));
  SecretState s = state.value_or(SecretState{});
  s.next_due = config.schedule.has_value() ? NextDue(path, config, s) : absl::InfiniteFuture();
  storage::WriteBatch batch;
  batch.Put(ConfigKey(path), SecretBytes(json::serialize(ToJson(config))));
  batch.Put(StateKey(path), SecretBytes(EncodeState(s)));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  if (s.active_run.empty()) {
    if (s.next_due != absl::InfiniteFuture()) {
      Schedule(path, config, s.next_due);
    } else {
      due_.Remove(path);
    }
  }
  return absl::OkStatus();
}

std::vector<Reference> RotationEngine::ReferencesOf(const json::object& json) const {
  std::vector<Problem> problems;
  RotationConfig config = ParseRotationConfig(json, registry_, problems);
  if (!problems.empty()) return {};
  std::vector<Reference> refs;
  if (const Rotator* rotator = registry_.Find(config.rotator); rotator != nullptr) {
    refs = rotator->References(config.params);
  }
  for (const NotifyTarget& target : config.notify) {
    if (!target.signing_secret.empty()) {
      refs.push_back(Reference{.path = rekey::StrCat("secret/data/", target.signing_secret),
                               .capabilities = {"read"},
                               .param = "notify.signing_secret"});
    }
  }
  return refs;
}

absl::Status RotationEngine::DeleteConfig(std::string_view path) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  std::lock_guard<std::mutex> lock(StateLock(path));
  ASSIGN_OR_RETURN(std::optional<storage::Record> config, store_.Get(ConfigKey(path)));
  if (!config.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no rotation config for \"", path, "\""));
  }
  ASSIGN_OR_RETURN(std::optional<SecretState> state, LoadState(path));
  if (state.has_value() && !state->active_run.empty()) {
    return absl::AbortedError(rekey::StrCat("a rotation of \"", path, "\" is in progress (run ",
                                            state->active_run,
                                            "); remove the config after it ends"));
  }
  storage::WriteBatch batch;
  batch.Delete(ConfigKey(path));
  batch.Delete(StateKey(path));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  due_.Remove(path);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SecretState>> RotationEngine::LoadState(std::string_view path) {
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(StateKey(path)));
  if (!record.has_value()) return std::optional<SecretState>();
  ASSIGN_OR_RETURN(SecretState state, DecodeState(record->value.Reveal()));
  return std::optional<SecretState>(std::move(state));
}

absl::StatusOr<std::optional<Run>> RotationEngine::LoadRun(std::string_view path,
                                                           std::string_view id) {
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(RunKey(path, id)));
  if (!record.has_value()) return std::optional<Run>();
  ASSIGN_OR_RETURN(Run run, DecodeRun(record->value.Reveal()));
  return std::optional<Run>(std::move(run));
}

Event RotationEngine::MakeEvent(const Run& run, std::string type, std::string message) const {
  Event e;
  e.time = clock_.Now();
  e.type = std::move(type);
  e.path = run.path;
  e.run_id = run.id;
  e.attempt = run.attempt;
  if (run.phase != Phase::kDone) e.step = std::string(PhaseName(run.phase));
  e.message = std::move(message);
  return e;
}

absl::Status RotationEngine::Save(const Run& run, const SecretState* state,
                                  std::vector<Event> events) {
  storage::WriteBatch batch;
  batch.Put(RunKey(run.path, run.id), SecretBytes(EncodeRun(run)));
  if (state != nullptr) batch.Put(StateKey(run.path), SecretBytes(EncodeState(*state)));
  for (Event& e : events) e = events_.Stage(std::move(e), batch);
  absl::StatusOr<uint64_t> committed = store_.Commit(batch);
  for (const Event& e : events) {
    if (committed.ok()) {
      spdlog::info("rotation event {} {} run {}{}{}", e.type, e.path, e.run_id,
                   e.message.empty() ? "" : ": ", e.message);
      events_.Publish(e);
    } else {
      events_.Cancel(e.seq);
    }
  }
  return committed.status();
}

absl::StatusOr<Run> RotationEngine::Rotate(std::string_view path, const RotateOptions& options) {
  ASSIGN_OR_RETURN(RotationConfig config, GetConfig(path));
  Rotator* rotator = registry_.Find(config.rotator);
  if (rotator == nullptr) {
    return absl::FailedPreconditionError(
        rekey::StrCat("rotator \"", config.rotator, "\" is not available"));
  }
  const absl::Time now = clock_.Now();
  Run run;
  {
    std::lock_guard<std::mutex> lock(StateLock(path));
    ASSIGN_OR_RETURN(std::optional<SecretState> loaded, LoadState(path));
    SecretState state = loaded.value_or(SecretState{});
    if (!state.active_run.empty()) {
      ASSIGN_OR_RETURN(std::optional<Run> active, LoadRun(path, state.active_run));
      if (active.has_value() && active->phase == Phase::kGrace &&
          (options.incident || options.end_grace)) {
        // An incident does not wait for a grace period (nor does a rotation asked to end it):
        // end it now (revoking the value it protects) and start the new rotation as soon as
        // that run is done.
        active->revoke_at = now;
        state.queued = QueuedRotation{.incident = options.incident,
                                      .trigger = options.trigger,
                                      .actor = options.actor,
                                      .version_id = options.version_id};
        RETURN_IF_ERROR(Save(
            *active, &state,
            {MakeEvent(*active, "rotation.grace_ended",
                       options.incident
                           ? "grace ended early by an incident rotation, which starts when this "
                             "run ends"
                           : "grace ended early by a new rotation, which starts when this run "
                             "ends")}));
        wake_.Remove(path);
        Enqueue(std::string(path));
        return *active;
      }
      std::string phase =
          active.has_value() ? std::string(PhaseName(active->phase)) : std::string("unknown");
      return absl::AbortedError(rekey::StrCat("a rotation of \"", path,
                                              "\" is already in progress (run ", state.active_run,
                                              ", phase ", phase, ")"));
    }
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(path);
    if (!meta.ok() && meta.status().code() != absl::StatusCode::kNotFound) return meta.status();
    run.id = absl::StrFormat("%014x%04x", absl::ToUnixMicros(now), random_.Uint32() & 0xffff);
    run.path = std::string(path);
    run.trigger = options.incident ? "incident" : options.trigger;
    run.actor = options.actor;
    run.requested_version_id = options.version_id;
    run.incident = options.incident;
    run.phase = Phase::kCreate;
    run.attempt = 1;
    run.max_attempts = config.retry.max_attempts;
    if (meta.ok()) {
      run.old_version = meta->CurrentVersion();
      if (auto it = meta->versions.find(run.old_version); it != meta->versions.end()) {
        run.old_version_id = it->second.id;
      }
    }
    run.grace =
        options.incident ? absl::ZeroDuration() : config.grace.value_or(options_.default_grace);
    run.created = now;
    run.updated = now;
    JournalAhead(run);  // the create phase starts with this commit
    state.queued.reset();
    state.active_run = run.id;
    state.last_attempt = now;
    state.last_run = run.id;
    RETURN_IF_ERROR(
        Save(run, &state,
             {MakeEvent(run, "rotation.started",
                        rekey::StrCat("trigger ", run.trigger, ", rotator ", config.rotator))}));
  }
  due_.Remove(path);
  {
    std::lock_guard<std::mutex> lock(mu_);
    journaled_ahead_.insert(run.id);
  }
  Enqueue(run.path);
  return run;
}

absl::StatusOr<DryRunReport> RotationEngine::DryRun(std::string_view path) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  DryRunReport report;
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(ConfigKey(path)));
  if (!record.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no rotation config for \"", path, "\""));
  }
  boost::system::error_code ec;
  json::value v = json::parse(
      json::string_view(record->value.Reveal().data(), record->value.Reveal().size()), ec);
  if (ec || !v.is_object()) {
    return absl::DataLossError(
        rekey::StrCat("stored rotation config of \"", path, "\" is malformed"));
  }
  RotationConfig config = ParseRotationConfig(v.get_object(), registry_, report.problems);
  Rotator* rotator = registry_.Find(config.rotator);
  absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(path);
  uint64_t current = meta.ok() ? meta->CurrentVersion() : 0;
  if (!meta.ok() && meta.status().code() != absl::StatusCode::kNotFound) return meta.status();
  ASSIGN_OR_RETURN(std::optional<SecretState> state, LoadState(path));
  if (state.has_value() && !state->active_run.empty()) {
    report.problems.push_back(
        Problem{"", rekey::StrCat("a rotation is in progress (run ", state->active_run, ")")});
  }
  if (absl::StatusOr<SecretBytes> sample = config.generator.Generate(random_); !sample.ok()) {
    report.problems.push_back(Problem{"generator", std::string(sample.status().message())});
  }
  if (rotator != nullptr && report.problems.empty()) {
    Run run;
    run.id = "dry-run";
    run.path = std::string(path);
    run.old_version = current;
    Context ctx(*this, run, config, Step::kCreate, /*dry=*/true);
    RETURN_IF_ERROR(ctx.LoadVersions());
    if (absl::Status s = rotator->Check(ctx); !s.ok()) {
      report.problems.push_back(Problem{"target", ErrorText(s)});
    }
  }
  const absl::Duration grace = config.grace.value_or(options_.default_grace);
  report.plan.push_back(rekey::StrCat("create version ", meta.ok() ? meta->last_version + 1 : 1,
                                      " of ", path, " with the ", config.rotator,
                                      " rotator and label it pending"));
  report.plan.push_back("set it on the target, keeping the current value valid");
  report.plan.push_back("test the new value on the target");
  report.plan.push_back(
      current == 0 ? std::string("make it current")
                   : rekey::StrCat("make it current; version ", current, " becomes previous"));
  if (current != 0) {
    report.plan.push_back(rekey::StrCat("after a grace period of ", FormatScheduleDuration(grace),
                                        ", revoke version ", current, " on the target"));
  }
  report.plan.push_back(rekey::StrCat("on failure: roll back and retry up to ",
                                      config.retry.max_attempts,
                                      " attempt(s), each with a new value"));
  return report;
}

absl::StatusOr<std::vector<Run>> RotationEngine::RotateDue(const std::string& actor) {
  const absl::Time now = clock_.Now();
  std::vector<Run> started;
  std::string start_after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page,
                     store_.Scan(kStatePrefix, start_after, 1024));
    if (page.empty()) break;
    for (const storage::Record& record : page) {
      absl::StatusOr<SecretState> state = DecodeState(record.value.Reveal());
      if (!state.ok() || !state->active_run.empty() || state->next_due > now) continue;
      const std::string path = record.key.substr(sizeof(kStatePrefix) - 1);
      absl::StatusOr<Run> run = Rotate(path, RotateOptions{.trigger = "due", .actor = actor});
      if (run.ok()) started.push_back(std::move(*run));
    }
    start_after = page.back().key;
  }
  return started;
}

absl::StatusOr<std::vector<Run>> RotationEngine::Runs(std::string_view path, size_t limit) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  ASSIGN_OR_RETURN(std::vector<storage::Record> records, store_.Scan(RunsPrefix(path), "", 0));
  if (records.empty()) {
    return absl::NotFoundError(rekey::StrCat("no rotation runs for \"", path, "\""));
  }
  std::vector<Run> runs;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    ASSIGN_OR_RETURN(Run run, DecodeRun(it->value.Reveal()));
    runs.push_back(std::move(run));
    if (limit > 0 && runs.size() >= limit) break;
  }
  return runs;
}

absl::StatusOr<Run> RotationEngine::GetRun(std::string_view path, std::string_view run_id) {
  RETURN_IF_ERROR(secrets::ValidateSecretPath(path));
  ASSIGN_OR_RETURN(std::optional<Run> run, LoadRun(path, run_id));
  if (!run.has_value()) {
    return absl::NotFoundError(
        rekey::StrCat("no run ", run_id.substr(0, 64), " for \"", path, "\""));
  }
  return std::move(*run);
}

SecretStatus RotationEngine::StatusFrom(std::string path, SecretState state, absl::Time now) {
  SecretStatus status;
  status.path = std::move(path);
  status.state = std::move(state);
  absl::StatusOr<RotationConfig> config = GetConfig(status.path);
  if (config.ok()) {
    status.rotator = config->rotator;
    status.schedule = config->schedule_text;
  }
  status.failing = status.state.last_outcome == "failed";
  if (!status.state.active_run.empty()) {
    absl::StatusOr<std::optional<Run>> run = LoadRun(status.path, status.state.active_run);
    if (run.ok() && run->has_value()) status.phase = std::string(PhaseName((*run)->phase));
  }
  status.overdue = status.state.overdue_since != absl::InfiniteFuture() ||
                   (status.state.active_run.empty() && status.state.next_due < now);
  status.cert_not_after = certs_.NotAfter(status.path);
  return status;
}

absl::StatusOr<SecretStatus> RotationEngine::StatusOf(std::string_view path) {
  ASSIGN_OR_RETURN(std::optional<SecretState> state, LoadState(path));
  if (!state.has_value()) {
    return absl::NotFoundError(rekey::StrCat("no rotation config for \"", path, "\""));
  }
  return StatusFrom(std::string(path), *std::move(state), clock_.Now());
}

absl::StatusOr<std::vector<SecretStatus>> RotationEngine::Status(std::string_view prefix,
                                                                 size_t limit,
                                                                 std::string_view after_path) {
  const absl::Time now = clock_.Now();
  std::vector<SecretStatus> out;
  std::string start_after = after_path.empty() ? "" : StateKey(after_path);
  const std::string scan_prefix = rekey::StrCat(kStatePrefix, prefix);
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page, store_.Scan(scan_prefix, start_after, 512));
    if (page.empty()) break;
    for (const storage::Record& record : page) {
      ASSIGN_OR_RETURN(SecretState state, DecodeState(record.value.Reveal()));
      out.push_back(StatusFrom(record.key.substr(sizeof(kStatePrefix) - 1), std::move(state), now));
      if (limit > 0 && out.size() >= limit) return out;
    }
    start_after = page.back().key;
  }
  return out;
}

// ---- scheduling --------------------------------------------------------------------------

absl::Time RotationEngine::NextDue(std::string_view path, const RotationConfig& config,
                                   const SecretState& state) {
  if (!config.schedule.has_value()) return absl::InfiniteFuture();
  ScheduleInput in;
  in.last_rotated = state.last_rotated;
  in.created = clock_.Now();
  if (absl::StatusOr<secrets::ReadResult> current = kv_.Read(path, 0); current.ok()) {
    in.created = current->version.created;
    if (current->value.has_value()) LifetimeOf(*current->value, in);
  }
  absl::StatusOr<absl::Time> due = config.schedule->NextDue(in);
  if (!due.ok()) {
    // e.g. before_expiry on a value without not_after: nothing to schedule until one appears.
    spdlog::warn("rotation: cannot schedule {}: {}", path, ToStd(due.status().message()));
    return absl::InfiniteFuture();
  }
  return *due;
}

void RotationEngine::Schedule(std::string_view path, const RotationConfig& config, absl::Time due) {
  std::string target;
  if (Rotator* rotator = registry_.Find(config.rotator); rotator != nullptr) {
    target = rotator->TargetKey(config.params);
  }
  due_.Upsert(path, due, target);
}

void RotationEngine::Tick() {
  const absl::Time now = clock_.Now();
  events_.ExpireWaiters(now);
  certs_.MaybeScan(now);
  for (const std::string& path : wake_.PopDue(now, 10000)) Enqueue(path);
  // A secret popped from the queue that cannot be looked at now is queued again, not forgotten.
  constexpr absl::Duration kRetryLater = absl::Minutes(1);
  std::vector<absl::Duration> deferred;  // how long target spacing held each one back
  const std::vector<std::string> due_paths = due_.PopDue(now, 1000, &deferred);
  for (size_t i = 0; i < due_paths.size(); ++i) {
    const std::string& path = due_paths[i];
    absl::StatusOr<RotationConfig> config = GetConfig(path);
    if (!config.ok()) {
      if (config.status().code() != absl::StatusCode::kNotFound) {
        due_.Upsert(path, now + kRetryLater, "");
      }
      continue;
    }
    if (!config->schedule.has_value()) continue;
    absl::StatusOr<Run> started;
    {
      std::unique_lock<std::mutex> lock(StateLock(path));
      absl::StatusOr<std::optional<SecretState>> state = LoadState(path);
      if (!state.ok()) {
        Schedule(path, *config, now + kRetryLater);
        continue;
      }
      if (!state->has_value()) continue;
      SecretState s = **state;
      if (!s.active_run.empty()) continue;  // rescheduled when that run ends
      // The queue releases a secret up to the jitter, plus however long target spacing held it
      // back, after its due time: that delay is ours, not a missed window.
      absl::Duration window = config->window;
      if (window > absl::ZeroDuration()) {
        window += options_.spacing.max_jitter + deferred[i] + absl::Seconds(1);
      }
      DueDecision decision = Decide(*config->schedule, s.next_due, window, now);
      if (decision.kind == DueDecision::kNotDue) {
        Schedule(path, *config, s.next_due);
        continue;
      }
      if (decision.kind == DueDecision::kMissed) {
        s.overdue_since = now;
        s.next_due = decision.next_due;
        Run stub;
        stub.path = path;
        stub.phase = Phase::kDone;
        Event e =
            MakeEvent(stub, "secret.overdue",
                      rekey::StrCat("missed the rotation window after ", FormatUtc(decision.due),
                                    "; next due ", FormatUtc(decision.next_due)));
        e.attempt = 0;
        storage::WriteBatch batch;
        batch.Put(StateKey(path), SecretBytes(EncodeState(s)));
        e = events_.Stage(std::move(e), batch);
        if (store_.Commit(batch).ok()) {
          events_.Publish(e);
        } else {
          events_.Cancel(e.seq);
        }
        Schedule(path, *config, s.next_due);
        continue;
      }
    }
    started = Rotate(path, RotateOptions{.trigger = "schedule", .actor = "scheduler"});
    if (!started.ok()) {
      spdlog::warn("rotation: scheduled rotation of {} did not start: {}; retrying in {}", path,
                   ToStd(started.status().message()), FormatScheduleDuration(kRetryLater));
      // A run in progress reschedules the secret when it ends; anything else tries again.
      if (started.status().code() != absl::StatusCode::kAborted) {
        Schedule(path, *config, now + kRetryLater);
      }
    }
  }
}

// ---- execution ---------------------------------------------------------------------------

void RotationEngine::Enqueue(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_.contains(path)) {
      again_.insert(path);
      return;
    }
    queued_.insert(path);
    queue_.push_back(path);
  }
  cv_.notify_one();
}

void RotationEngine::WorkerLoop() {
  for (;;) {
    std::string path;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      path = std::move(queue_.front());
      queue_.pop_front();
    }
    Advance(path);
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      again = again_.erase(path) > 0;
      if (again) {
        queue_.push_back(path);
      } else {
        queued_.erase(path);
      }
    }
    if (again) cv_.notify_one();
  }
}

void RotationEngine::SchedulerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    scheduler_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.tick),
                           [this] { return stopping_; });
  }
}

void RotationEngine::RunUntilIdle() {
  for (;;) {
    std::string path;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return;
      path = std::move(queue_.front());
      queue_.pop_front();
    }
    Advance(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (again_.erase(path) > 0) {
      queue_.push_back(path);
    } else {
      queued_.erase(path);
    }
  }
}

void RotationEngine::MaybeCrash(const Run& run, bool after_effect) const {
  const auto& crash = options_.crash_for_test;
  if (crash.has_value() && crash->phase == run.phase && crash->after_effect == after_effect &&
      crash->crash) {
    crash->crash();
  }
}

bool RotationEngine::Persist(Run& run, std::vector<Event> events) {
  run.updated = clock_.Now();
  absl::Status saved = Save(run, nullptr, std::move(events));
  if (!saved.ok()) {
    // The journal is the source of truth: without it, stop; the run resumes from what was
    // saved when the store is back (at the next start, or when triggered again).
    spdlog::error("rotation {} run {}: cannot save the journal: {}", run.path, run.id,
                  ToStd(saved.message()));
    return false;
  }
  return true;
}

void RotationEngine::Advance(const std::string& path) {
  absl::StatusOr<std::optional<SecretState>> state = LoadState(path);
  if (!state.ok() || !state->has_value() || (*state)->active_run.empty()) return;
  absl::StatusOr<std::optional<Run>> loaded = LoadRun(path, (*state)->active_run);
  if (!loaded.ok() || !loaded->has_value()) {
    spdlog::error("rotation {}: active run {} cannot be loaded", path, (*state)->active_run);
    return;
  }
  Run run = std::move(**loaded);
  // Whether the journal already says the current phase started, written by this process (a
  // run started by Rotate()).
  bool ahead = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ahead = journaled_ahead_.erase(run.id) > 0;
  }
  absl::StatusOr<RotationConfig> config = GetConfig(path);
  if (!config.ok() && config.status().code() != absl::StatusCode::kNotFound &&
      config.status().code() != absl::StatusCode::kFailedPrecondition) {
    // The store failed (busy, I/O): nothing is known about the config. Leave the journal as it
    // is and try again shortly.
    spdlog::warn("rotation {}: config unreadable ({}); retrying in 30s", path,
                 ToStd(config.status().message()));
    wake_.Upsert(path, clock_.Now() + absl::Seconds(30), "");
    if (ahead) {
      std::lock_guard<std::mutex> lock(mu_);
      journaled_ahead_.insert(run.id);
    }
    return;
  }
  Rotator* rotator = config.ok() ? registry_.Find(config->rotator) : nullptr;
  const bool promoted = run.phase == Phase::kGrace || run.phase == Phase::kRevoke;
  if (rotator == nullptr && promoted) {
    // The new value is current already; only revoking is left, and nothing can do it.
    run.phase = Phase::kDone;
    run.outcome = Outcome::kSucceeded;
    run.error = rekey::StrCat(
        "revoke skipped: ",
        config.ok() ? "rotator not available" : std::string(config.status().message()),
        "; the previous value may still be valid on the target");
    ahead = false;
    if (!Persist(run)) return;
  } else if (rotator == nullptr && run.phase != Phase::kRollback && run.phase != Phase::kDone) {
    // Without a usable config we cannot go forward: undo what we can.
    BeginRollback(
        run,
        rekey::StrCat("cannot continue: ", config.ok() ? "rotator not available"
                                                       : std::string(config.status().message())),
        /*abandon=*/true);
    ahead = JournalAhead(run);
    if (!Persist(run)) return;
  }
  const RotationConfig* cfg = config.ok() ? &*config : nullptr;
  std::vector<Event> carry;  // events of the last step, committed by Finish
  while (run.phase != Phase::kDone) {
    if (!StepOnce(run, cfg, rotator, ahead, carry)) return;
  }
  Finish(run, cfg, std::move(carry));
}

void RotationEngine::BeginRollback(Run& run, std::string error, bool abandon) {
  run.error = std::move(error);
  run.abandon = run.abandon || abandon;
  run.phase = Phase::kRollback;
  run.started = false;
}

bool RotationEngine::StepOnce(Run& run, const RotationConfig* config, Rotator* rotator, bool& ahead,
                              std::vector<Event>& carry) {
  const absl::Time now = clock_.Now();
  bool skip_finish_hook = false;  // the finish hook kept crashing the server
  if (run.Waiting()) {
    if (run.WakeAt() > now) {
      wake_.Upsert(run.path, run.WakeAt(), "");
      return false;
    }
    if (run.phase == Phase::kGrace) {
      run.phase = Phase::kRevoke;
    } else {
      ++run.attempt;
      run.pending_version = 0;
      run.pending_version_id.clear();
      run.phase = Phase::kCreate;
    }
    run.started = false;
    ahead = JournalAhead(run);
    return Persist(run);
  }

  // Journal first: the phase has started; its side effect may happen from here on. The journal
  // usually says so already: the commit that ended the previous phase also started this one.
  if (!ahead) {
    if (run.started) {
      // Resuming after a crash inside this phase. Count the interruptions; a phase that keeps
      // killing the server is rolled back instead of tried forever.
      int interrupted = 0;
      for (const StepRecord& s : run.steps) {
        if (s.attempt == run.attempt && s.step == PhaseName(run.phase) &&
            (s.result.empty() || s.result == "interrupted")) {
          ++interrupted;
        }
      }
      if (!run.steps.empty() && run.steps.back().result.empty()) {
        run.steps.back().result = "interrupted";
        run.steps.back().ended = now;
      }
      if (interrupted >= options_.max_interruptions &&
          (run.phase == Phase::kRevoke || run.phase == Phase::kRollback)) {
        // A revoke or rollback that keeps killing the server is given up: the new value is
        // current (revoke), or the old one still is (rollback); the run ends and says so.
        run.error = rekey::StrCat(
            PhaseName(run.phase), " was interrupted ", interrupted, " times and was given up",
            run.phase == Phase::kRevoke ? "; the previous value may still be valid on the target"
                                        : "; the target may hold an unused new value");
        run.outcome = run.phase == Phase::kRevoke ? Outcome::kSucceeded : Outcome::kFailed;
        run.phase = Phase::kDone;
        run.started = false;
        carry.push_back(MakeEvent(run,
                                  run.outcome == Outcome::kSucceeded ? "rotation.revoke_failed"
                                                                     : "rotation.rollback_failed",
                                  run.error));
        return true;
      }
      if (interrupted >= options_.max_interruptions && run.phase == Phase::kFinish) {
        // Promote is idempotent; it is the rotator's finish hook that keeps crashing: skip it.
        skip_finish_hook = true;
      }
      if (interrupted >= options_.max_interruptions && run.phase != Phase::kRollback &&
          run.phase != Phase::kRevoke && run.phase != Phase::kFinish) {
        BeginRollback(
            run, rekey::StrCat(PhaseName(run.phase), " was interrupted ", interrupted, " times"),
            /*abandon=*/false);
        run.attempt = run.max_attempts;  // no retry of a phase that crashes the server
        ahead = JournalAhead(run);
        return Persist(run);
      }
      run.started = false;
    }
    JournalAhead(run);
    if (!Persist(run)) return false;
  }
  ahead = false;
  MaybeCrash(run, /*after_effect=*/false);

  auto step_done = [&](const absl::Status& status) {
    StepRecord& r = run.steps.back();
    r.ended = clock_.Now();
    r.result = status.ok() ? "ok" : "error";
    if (!status.ok()) r.error = ErrorText(status);
  };
  // Whether someone wrote the secret since the run started (then the run is abandoned).
  auto overtaken = [&]() -> std::optional<std::string> {
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(run.path);
    uint64_t current = meta.ok() ? meta->CurrentVersion() : 0;
    if (!meta.ok() && meta.status().code() != absl::StatusCode::kNotFound) return std::nullopt;
    if (current != run.old_version) {
      return rekey::StrCat("the secret was written during the rotation (current is now version ",
                           current, ", was ", run.old_version, ")");
    }
    return std::nullopt;
  };

  std::vector<Event> events;
  switch (run.phase) {
    case Phase::kCreate: {
      // A resumed create may already have stored its version: adopt it rather than mint another.
      absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(run.path);
      if (meta.ok()) {
        auto pending = meta->labels.find(secrets::kLabelPending);
        if (pending != meta->labels.end()) {
          auto v = meta->versions.find(pending->second);
          if (v != meta->versions.end() && v->second.created_by == ActorTag(run) &&
              !v->second.destroyed) {
            run.pending_version = v->first;
            run.pending_version_id = v->second.id;
          } else if (v != meta->versions.end() && v->second.created_by.rfind("rotation:", 0) == 0) {
            // Left over by an earlier run: it never became current; drop it.
            (void)kv_.Discard(run.path, secrets::kLabelPending, pending->second);
          } else {
            // Someone else staged it (e.g. AWSPENDING through the AWS API): not ours to destroy.
            const std::string why = rekey::StrCat("version ", pending->second,
                                                  " is labelled pending by another writer");
            step_done(absl::AbortedError(why));
            BeginRollback(run, why, /*abandon=*/true);
            events.push_back(MakeEvent(run, "rotation.abandoned", why));
            break;
          }
        }
      }
      if (run.pending_version == 0) {
        if (std::optional<std::string> why = overtaken(); why.has_value()) {
          step_done(absl::AbortedError(*why));
          BeginRollback(run, *why, /*abandon=*/true);
          events.push_back(MakeEvent(run, "rotation.abandoned", *why));
          break;
        }
        Context ctx(*this, run, *config, Step::kCreate, false);
        absl::Status loaded = ctx.LoadVersions();
        absl::StatusOr<SecretBytes> value =
            loaded.ok() ? rotator->Create(ctx) : absl::StatusOr<SecretBytes>(loaded);
        absl::StatusOr<secrets::WriteResult> written =
            value.ok()
                ? kv_.Put(run.path, *value,
                          secrets::WriteOptions{
                              .cas = run.old_version,
                              .actor = ActorTag(run),
                              .stage_label = secrets::kLabelPending,
                              .version_id = run.attempt == 1 ? run.requested_version_id : ""})
                : absl::StatusOr<secrets::WriteResult>(value.status());
        if (!written.ok()) {
          step_done(written.status());
          // A check-and-set failure means someone wrote the secret meanwhile.
          const bool lost_race =
              value.ok() && written.status().code() == absl::StatusCode::kFailedPrecondition;
          BeginRollback(run, ErrorText(written.status()), lost_race);
          events.push_back(MakeEvent(run, lost_race ? "rotation.abandoned" : "rotation.step_failed",
                                     ErrorText(written.status())));
          break;
        }
        run.pending_version = written->version.number;
        run.pending_version_id = written->version.id;
      }
      MaybeCrash(run, true);
      step_done(absl::OkStatus());
      run.phase = Phase::kSet;
      run.started = false;
      break;
    }
    case Phase::kSet:
    case Phase::kTest: {
      if (std::optional<std::string> why = overtaken(); why.has_value()) {
        step_done(absl::AbortedError(*why));
        BeginRollback(run, *why, /*abandon=*/true);
        events.push_back(MakeEvent(run, "rotation.abandoned", *why));
        break;
      }
      const Step step = StepOf(run.phase);
      Context ctx(*this, run, *config, step, false);
      absl::Status status = ctx.LoadVersions();
      if (status.ok() && !ctx.pending().has_value()) {
        status = absl::DataLossError("the pending version is gone");
      }
      if (status.ok()) status = step == Step::kSet ? rotator->Set(ctx) : rotator->Test(ctx);
      MaybeCrash(run, true);
      step_done(status);
      if (!status.ok()) {
        BeginRollback(run, ErrorText(status), false);
        events.push_back(MakeEvent(run, "rotation.step_failed", ErrorText(status)));
        break;
      }
      run.phase = step == Step::kSet ? Phase::kTest : Phase::kFinish;
      run.started = false;
      break;
    }
    case Phase::kFinish: {
      absl::Status promoted = kv_.Promote(run.path, run.pending_version, run.old_version);
      if (!promoted.ok()) {
        step_done(promoted);
        const bool lost_race = promoted.code() == absl::StatusCode::kFailedPrecondition;
        BeginRollback(run, ErrorText(promoted), lost_race);
        events.push_back(MakeEvent(run, lost_race ? "rotation.abandoned" : "rotation.step_failed",
                                   ErrorText(promoted)));
        break;
      }
      Context ctx(*this, run, *config, Step::kFinish, false);
      absl::Status status = ctx.LoadVersions();
      if (status.ok() && skip_finish_hook) {
        status = absl::AbortedError("the finish hook was skipped: it was interrupted repeatedly");
      } else if (status.ok()) {
        status = rotator->Finish(ctx);
      }
      MaybeCrash(run, true);
      step_done(status);
      // The new value is current and readers have it: there is no going back from here. A
      // failed finish hook is reported, not rolled back.
      if (!status.ok()) {
        events.push_back(MakeEvent(run, "rotation.finish_failed", ErrorText(status)));
      }
      events.push_back(MakeEvent(run, "rotation.promoted",
                                 rekey::StrCat("version ", run.pending_version, " is current")));
      run.started = false;
      if (run.old_version == 0) {
        run.phase = Phase::kDone;
        run.outcome = Outcome::kSucceeded;
      } else if (run.incident || run.grace <= absl::ZeroDuration()) {
        run.phase = Phase::kRevoke;
      } else {
        run.phase = Phase::kGrace;
        run.revoke_at = clock_.Now() + run.grace;
      }
      run.updated = clock_.Now();
      std::lock_guard<std::mutex> lock(StateLock(run.path));
      absl::StatusOr<std::optional<SecretState>> st = LoadState(run.path);
      if (!st.ok()) return false;
      SecretState s = st->value_or(SecretState{});
      s.last_rotated = clock_.Now();
      s.overdue_since = absl::InfiniteFuture();
      ahead = JournalAhead(run);
      return Save(run, &s, std::move(events)).ok();
    }
    case Phase::kRevoke: {
      Context ctx(*this, run, *config, Step::kRevoke, false);
      absl::Status status = ctx.LoadVersions();
      if (status.ok()) status = rotator->Revoke(ctx);
      MaybeCrash(run, true);
      step_done(status);
      run.started = false;
      if (status.ok()) {
        run.phase = Phase::kDone;
        run.outcome = Outcome::kSucceeded;
        events.push_back(MakeEvent(run, "rotation.revoked",
                                   rekey::StrCat("version ", run.old_version, " revoked")));
        break;
      }
      // Revoking failed: the new value is current, the old one still works. Try again later,
      // a few times; then report it and end the run.
      int failures = 0;
      for (const StepRecord& s : run.steps) failures += s.step == "revoke" && s.result == "error";
      if (failures < std::max(run.max_attempts, 1)) {
        run.phase = Phase::kGrace;
        run.revoke_at = clock_.Now() + config->retry.backoff * (1 << std::min(failures - 1, 10));
        events.push_back(MakeEvent(
            run, "rotation.revoke_failed",
            rekey::StrCat(ErrorText(status), "; retrying at ", FormatUtc(run.revoke_at))));
      } else {
        run.phase = Phase::kDone;
        run.outcome = Outcome::kSucceeded;
        run.error = rekey::StrCat("revoke failed: ", ErrorText(status),
                                  "; the previous value may still be valid on the target");
        events.push_back(MakeEvent(run, "rotation.revoke_failed", run.error));
      }
      break;
    }
    case Phase::kRollback: {
      absl::Status status = absl::OkStatus();
      if (config != nullptr && rotator != nullptr) {
        Context ctx(*this, run, *config, Step::kRollback, false);
        status = ctx.LoadVersions();
        if (status.ok()) status = rotator->Rollback(ctx);
      }
      if (run.pending_version != 0) {
        absl::Status discarded = kv_.Discard(run.path, secrets::kLabelPending, run.pending_version);
        if (status.ok()) status = discarded;
      }
      MaybeCrash(run, true);
      step_done(status);
      if (!status.ok()) {
        events.push_back(MakeEvent(run, "rotation.rollback_failed", ErrorText(status)));
      }
      run.started = false;
      if (run.abandon) {
        run.phase = Phase::kDone;
        run.outcome = Outcome::kAbandoned;
      } else if (run.attempt < run.max_attempts && config != nullptr) {
        absl::Duration backoff = config->retry.backoff * (1 << std::min(run.attempt - 1, 20));
        backoff = std::min(backoff, config->retry.max_backoff);
        run.phase = Phase::kRetryWait;
        run.retry_at = clock_.Now() + backoff;
        events.push_back(
            MakeEvent(run, "rotation.retry_scheduled",
                      rekey::StrCat("attempt ", run.attempt + 1, " of ", run.max_attempts, " at ",
                                    FormatUtc(run.retry_at), " with a new value")));
      } else {
        run.phase = Phase::kDone;
        run.outcome = Outcome::kFailed;
      }
      break;
    }
    case Phase::kGrace:
    case Phase::kRetryWait:
    case Phase::kDone:
      break;
  }
  if (run.phase == Phase::kDone) {
    // Finish commits the end of the run, these events included, in one batch.
    carry = std::move(events);
    return true;
  }
  ahead = JournalAhead(run);
  return Persist(run, std::move(events));
}

bool RotationEngine::JournalAhead(Run& run) {
  if (run.started || run.Waiting() || run.phase == Phase::kDone) return false;
  run.started = true;
  StepRecord record;
  record.attempt = run.attempt;
  record.step = std::string(PhaseName(run.phase));
  record.started = clock_.Now();
  run.steps.push_back(std::move(record));
  return true;
}

void RotationEngine::Finish(Run& run, const RotationConfig* config, std::vector<Event> events) {
  const absl::Time now = clock_.Now();
  run.finished = now;
  std::string type;
  switch (run.outcome) {
    case Outcome::kSucceeded:
      type = "rotation.completed";
      break;
    case Outcome::kAbandoned:
      type = "rotation.abandoned";
      break;
    default:
      run.outcome = Outcome::kFailed;
      type = "rotation.failed";
  }
  Run shown = run;
  shown.phase = Phase::kDone;
  events.push_back(MakeEvent(shown, type,
                             run.outcome == Outcome::kSucceeded
                                 ? rekey::StrCat("version ", run.pending_version,
                                                 " is current after ", run.attempt, " attempt(s)")
                                 : run.error));
  absl::Time next_due = absl::InfiniteFuture();
  std::optional<QueuedRotation> queued;
  {
    std::lock_guard<std::mutex> lock(StateLock(run.path));
    absl::StatusOr<std::optional<SecretState>> st = LoadState(run.path);
    SecretState s = st.ok() && st->has_value() ? **st : SecretState{};
    if (s.active_run == run.id) s.active_run.clear();
    s.last_outcome = std::string(OutcomeName(run.outcome));
    s.last_error = run.outcome == Outcome::kSucceeded ? std::string() : run.error;
    if (run.outcome == Outcome::kSucceeded) {
      s.consecutive_failures = 0;
    } else if (run.outcome == Outcome::kFailed) {
      ++s.consecutive_failures;
    }
    if (config != nullptr && config->schedule.has_value()) {
      next_due = NextDue(run.path, *config, s);
      // A failed or abandoned secret is still due; try again after a cooldown, not in a loop.
      if (run.outcome != Outcome::kSucceeded) {
        next_due = std::max(next_due, now + options_.failure_cooldown);
      } else if (next_due <= now) {
        // Rotating did not move the due time (e.g. before_expiry on a value whose not_after
        // the rotator kept): do not rotate again at once, and say why.
        next_due = now + options_.failure_cooldown;
        events.push_back(MakeEvent(
            shown, "secret.overdue",
            rekey::StrCat("the new value is due again already (schedule ", config->schedule_text,
                          "); is its not_after being renewed? next try ", FormatUtc(next_due))));
      }
    }
    s.next_due = next_due;
    // A queued rotation stays queued in the state until Rotate() starts it (in the same
    // commit), so a crash in between cannot lose it: Start() starts it then.
    queued = s.queued;
    if (!Save(run, &s, std::move(events)).ok()) return;
  }
  if (config != nullptr && next_due != absl::InfiniteFuture())
    Schedule(run.path, *config, next_due);
  TrimRuns(run.path);
  if (queued.has_value()) {
    absl::StatusOr<Run> next = Rotate(run.path, OptionsOf(*queued));
    if (!next.ok()) {
      spdlog::error("rotation {}: the queued rotation did not start: {}", run.path,
                    ToStd(next.status().message()));
    }
  }
}

void RotationEngine::TrimRuns(std::string_view path) {
  absl::StatusOr<std::vector<std::string>> keys = store_.ScanKeys(RunsPrefix(path), "", 0);
  if (!keys.ok() || keys->size() <= options_.runs_kept) return;
  storage::WriteBatch batch;
  for (size_t i = 0; i + options_.runs_kept < keys->size(); ++i) batch.Delete((*keys)[i]);
  (void)store_.Commit(batch);
}

}  // namespace rekey::rotation
