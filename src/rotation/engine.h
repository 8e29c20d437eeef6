// RotationEngine: runs the rotation state machine of design.md section 2 for every secret with a
// rotation config: triggers (schedule, manual, incident, due), the journal, crash recovery,
// retries with new values, grace and revoke timers, events and history.
#ifndef REKEY_ROTATION_ENGINE_H_
#define REKEY_ROTATION_ENGINE_H_

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/random.h"
#include "rotation/config.h"
#include "rotation/due_queue.h"
#include "rotation/events.h"
#include "rotation/expiry.h"
#include "rotation/registry.h"
#include "rotation/run.h"
#include "secrets/secrets_service.h"
#include "storage/store.h"

namespace rekey::rotation {

// Test-only: makes the engine call `crash` (which is expected not to return, e.g. SIGKILL
// itself) when a run reaches `phase`, after the journal says the phase started and either
// before (`after_effect` false) or after its side effect.
struct CrashPointForTest {
  Phase phase = Phase::kSet;
  bool after_effect = false;
  std::function<void()> crash;
};

struct EngineOptions {
  absl::Duration default_grace = absl::Hours(1);     // for configs without `grace`
  absl::Duration failure_cooldown = absl::Hours(1);  // a failed secret is retried after this
  absl::Duration step_timeout = absl::Minutes(2);    // the deadline rotators get per step
  int workers = 4;  // threads running steps; 0 = only RunUntilIdle() runs them (tests)
  absl::Duration tick = absl::Seconds(1);  // how often the scheduler thread wakes (workers > 0)
  DueQueueOptions spacing;                 // jitter and per-target spacing of scheduled starts
  size_t runs_kept = 20;                   // finished runs kept per secret
  size_t events_kept = 10000;
  // A step interrupted (by crashes) this many times is not tried again: the run rolls back.
  int max_interruptions = 3;
  // certificate.expiring is sent once as each of these is crossed before a certificate's
  // not_after (any KV secret holding one); rotation.certificate_expiry_warnings.
  std::vector<absl::Duration> certificate_expiry_warnings = DefaultExpiryWarnings();
  absl::Duration certificate_scan_interval = absl::Hours(1);  // how often Tick scans for them
  std::optional<CrashPointForTest> crash_for_test;
};

struct RotateOptions {
  // The id the new (pending) version gets on the first attempt ("" = random); later attempts
  // get random ids. The AWS surface passes RotateSecret's ClientRequestToken here.
  std::string version_id = "";
  std::string trigger = "manual";  // "manual", "schedule", "due"
  bool incident = false;           // no grace: revoke the old value right after finish
  std::string actor = "";          // token accessor of the caller
  // When a run of the secret is in its grace period: end the grace now (its revoke runs) and
  // start this rotation right after that run ends, instead of failing with kAborted. Incident
  // rotations always do this.
  bool end_grace = false;
};

// The outcome of a dry run: every problem found, and what a real run would do.
struct DryRunReport {
  std::vector<Problem> problems;  // empty = a real run would be expected to work
  std::vector<std::string> plan;  // human-readable steps
};

// Per-secret status for `rekey rotation status`.
struct SecretStatus {
  std::string path;
  std::string rotator;
  std::string schedule;
  SecretState state;
  bool overdue = false;  // its due time passed and nothing runs, or a window was missed
  bool failing = false;  // the last run failed
  std::string phase;     // of the active run; "" when idle
  // The earliest not_after of the certificates in the current value; InfiniteFuture when none.
  absl::Time cert_not_after = absl::InfiniteFuture();
};

// Thread-safe. Construct, Start(), use, Stop(). The engine assumes it is the only one working
// on `store` (the data dir lock guarantees it for SQLite).
class RotationEngine {
 public:
  // Every reference must outlive the engine. `kv` is the secrets service whose secrets rotate;
  // `store` is the same (encrypted) store, where configs, journals and events are kept.
  RotationEngine(storage::Store& store, secrets::SecretsService& kv,
                 const RotatorRegistry& registry, const Clock& clock, Random& random,
                 HttpTransport& http, EngineOptions options);
  ~RotationEngine();

  // Loads events and schedules, queues every unfinished run for resumption and starts the worker
  // and scheduler threads (when options.workers > 0).
  absl::Status Start();
  // Stops the threads after the steps in progress; unfinished runs resume at the next Start.
  void Stop();

  // Rotation config. SetConfig validates everything at once: kInvalidArgument whose message
  // joins the problems, which are also returned in `problems` when given.
  absl::StatusOr<RotationConfig> GetConfig(std::string_view path);
  absl::Status SetConfig(std::string_view path, const boost::json::object& json,
                         std::vector<Problem>* problems = nullptr);
  // kNotFound when there is none; kAborted while a run is in progress.
  absl::Status DeleteConfig(std::string_view path);
  // What the config `json` would let rotations use besides its own secret (Rotator::References,
  // plus the signing secrets of its `notify` webhooks), for the API to check against the
  // caller's policies before SetConfig. Empty when the config is invalid (SetConfig reports it).
  std::vector<Reference> ReferencesOf(const boost::json::object& json) const;

  // Starts a run and returns it (it proceeds in the background). kNotFound without a config;
  // kFailedPrecondition for a config that is no longer valid; kAborted while another run of the
  // secret is in progress — except an incident rotation (or options.end_grace) during a grace
  // period: that ends the grace at once, returns the running run, and starts right after it.
  absl::StatusOr<Run> Rotate(std::string_view path, const RotateOptions& options);
  // Validates the config, reaches the target and checks permissions; changes nothing.
  absl::StatusOr<DryRunReport> DryRun(std::string_view path);
  // Starts a run for every configured secret that is due now and idle; returns the runs.
  absl::StatusOr<std::vector<Run>> RotateDue(const std::string& actor);

  // Runs of `path`, newest first (at most `limit`, 0 = all kept). kNotFound for none.
  absl::StatusOr<std::vector<Run>> Runs(std::string_view path, size_t limit);
  absl::StatusOr<Run> GetRun(std::string_view path, std::string_view run_id);
  // Status of the configured secrets whose path starts with `prefix`, in path order, after
  // `after_path` when given (the last path of the previous page), at most `limit` (0 = all).
  absl::StatusOr<std::vector<SecretStatus>> Status(std::string_view prefix, size_t limit,
                                                   std::string_view after_path = "");

  EventLog& events() { return events_; }
  const RotatorRegistry& registry() const { return registry_; }
  // The status of one configured secret; kNotFound when it has no rotation config.
  absl::StatusOr<SecretStatus> StatusOf(std::string_view path);

  // One scheduler pass at clock.Now(): wakes waiting runs whose time came, starts due
  // rotations, records missed windows, expires event long-polls, and every
  // options.certificate_scan_interval scans every secret for expiring certificates. The scheduler
  // thread calls it every options.tick; tests call it directly.
  void Tick();
  // Runs queued work on the calling thread until nothing is runnable now (tests; also used by
  // `rekey rotate --due` in-process).
  void RunUntilIdle();
  // Scheduled secrets known to the scheduler (for tests and status).
  size_t ScheduledCount() const { return due_.size(); }

 private:
  class Context;
  struct Loaded;

  absl::StatusOr<std::optional<SecretState>> LoadState(std::string_view path);
  absl::StatusOr<std::optional<Run>> LoadRun(std::string_view path, std::string_view id);
  // The status of `path` from its state record.
  SecretStatus StatusFrom(std::string path, SecretState state, absl::Time now);
  // Commits the run (and the state and events when given) in one batch; publishes the events.
  absl::Status Save(const Run& run, const SecretState* state, std::vector<Event> events);
  Event MakeEvent(const Run& run, std::string type, std::string message) const;

  void Enqueue(const std::string& path);
  void WorkerLoop();
  void SchedulerLoop();
  // Drives the active run of `path` until it waits, ends or fails to persist.
  void Advance(const std::string& path);
  // Runs the run's current phase once. Returns false when the run must stop for now. `ahead`
  // says the journal already records the phase as started by this process (set by the commit
  // that ended the previous phase), so no separate commit is needed before its side effect.
  // When the run reaches kDone, the step's events are left in `carry` for Finish.
  bool StepOnce(Run& run, const RotationConfig* config, Rotator* rotator, bool& ahead,
                std::vector<Event>& carry);
  // Marks the run's (working) phase started and opens its step record; false when the phase is
  // a wait or the end. The caller commits the run.
  bool JournalAhead(Run& run);
  // The rollback entry: records `error` and moves the run to kRollback.
  void BeginRollback(Run& run, std::string error, bool abandon);
  bool Persist(Run& run, std::vector<Event> events = {});
  // Ends the run with its outcome: state, next due time, `events` and the outcome's event in
  // one commit, then trims old runs.
  void Finish(Run& run, const RotationConfig* config, std::vector<Event> events);
  absl::Time NextDue(std::string_view path, const RotationConfig& config, const SecretState& state);
  void Schedule(std::string_view path, const RotationConfig& config, absl::Time due);
  void MaybeCrash(const Run& run, bool after_effect) const;
  void TrimRuns(std::string_view path);
  std::mutex& StateLock(std::string_view path);

  storage::Store& store_;
  secrets::SecretsService& kv_;
  const RotatorRegistry& registry_;
  const Clock& clock_;
  Random& random_;
  HttpTransport& http_;
  const EngineOptions options_;
  EventLog events_;
  DueQueue due_;   // scheduled rotations, with jitter and spacing
  DueQueue wake_;  // waiting runs (grace, retry), no jitter
  CertificateWatch certs_;

  std::array<std::mutex, 256> state_locks_;
  std::mutex mu_;
  std::condition_variable cv_;               // workers wait here for queue_
  std::condition_variable scheduler_cv_;     // the scheduler thread waits here between ticks
  std::deque<std::string> queue_;            // paths with runnable work; guarded by mu_
  absl::flat_hash_set<std::string> queued_;  // in queue_ or running; guarded by mu_
  absl::flat_hash_set<std::string> again_;   // re-run after the current Advance; by mu_
  bool stopping_ = false;                    // guarded by mu_
  // Runs whose current phase this process journaled as started and has not run yet; by mu_.
  absl::flat_hash_set<std::string> journaled_ahead_;
  std::vector<std::thread> threads_;
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_ENGINE_H_
