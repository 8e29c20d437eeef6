// A rotation run's journal record and a secret's rotation state, as the engine persists them.
// Every field is metadata: versions, times, step names, error text; never a value.
#ifndef REKEY_ROTATION_RUN_H_
#define REKEY_ROTATION_RUN_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rotation/rotator.h"

namespace rekey::rotation {

// Where a run is. The engine persists a phase before doing its work (`started` = the work may
// have begun), so a crash at any point resumes the phase or rolls the run back.
enum class Phase {
  kCreate,
  kSet,
  kTest,
  kFinish,
  kGrace,  // waiting until revoke_at
  kRevoke,
  kRollback,
  kRetryWait,  // waiting until retry_at, then kCreate with attempt + 1
  kDone,
};
std::string_view PhaseName(Phase phase);

// How a finished run ended; kNone while it runs.
enum class Outcome { kNone, kSucceeded, kFailed, kAbandoned };
std::string_view OutcomeName(Outcome outcome);

struct StepRecord {
  int attempt = 1;
  std::string step;  // "create", ..., "rollback"
  absl::Time started = absl::InfinitePast();
  absl::Time ended = absl::InfinitePast();  // InfinitePast = interrupted or running
  std::string result;                       // "ok", "error", "" while running
  std::string error;
};

struct Run {
  std::string id;         // sortable: creation time in hex, then random
  std::string path;       // the secret
  std::string trigger;    // "schedule", "manual", "incident", "due"
  std::string actor;      // accessor of the token that asked, "scheduler" for schedules
  bool incident = false;  // no grace: revoke right after finish
  Phase phase = Phase::kCreate;
  bool started = false;  // the phase's side effect may have begun
  int attempt = 1;
  int max_attempts = 3;
  uint64_t old_version = 0;  // current when the run started (0 = none)
  std::string old_version_id;
  uint64_t pending_version = 0;  // the new version (0 until create stored it)
  std::string pending_version_id;
  std::string requested_version_id;  // RotateOptions::version_id: the first attempt's version id
  absl::Duration grace = absl::ZeroDuration();
  absl::Time created = absl::InfinitePast();
  absl::Time updated = absl::InfinitePast();
  absl::Time revoke_at = absl::InfiniteFuture();  // kGrace: when revoke may run
  absl::Time retry_at = absl::InfiniteFuture();   // kRetryWait: when the next attempt starts
  absl::Time finished = absl::InfinitePast();
  Outcome outcome = Outcome::kNone;
  bool abandon = false;  // the rollback in progress ends the run abandoned, without retry
  std::string error;     // the last failure's text
  std::map<std::string, std::string> rotator_state;
  std::vector<StepRecord> steps;

  bool Waiting() const { return phase == Phase::kGrace || phase == Phase::kRetryWait; }
  // When a waiting run can go on; InfinitePast when it can go on now.
  absl::Time WakeAt() const;
};

// A rotation waiting for the active run to end (the RotateOptions it was asked with).
struct QueuedRotation {
  bool incident = false;
  std::string trigger;
  std::string actor;
  std::string version_id = "";
};

// What the engine keeps per configured secret besides the config.
struct SecretState {
  absl::Time next_due = absl::InfiniteFuture();  // nominal due time (without jitter)
  absl::Time last_rotated = absl::InfinitePast();
  absl::Time last_attempt = absl::InfinitePast();
  std::string last_outcome;  // "", "succeeded", "failed", "abandoned"
  std::string last_error;
  int consecutive_failures = 0;
  std::string active_run;  // id of the run in progress, "" when none
  std::string last_run;
  absl::Time overdue_since = absl::InfiniteFuture();  // a window was missed at this time
  // A rotation asked for during the active run's grace period (an incident, or one that ends the
  // grace: RotateOptions::end_grace): it starts as soon as that run ends.
  std::optional<QueuedRotation> queued;
};

boost::json::object RunToJson(const Run& run);  // also the API's form
std::string EncodeRun(const Run& run);
absl::StatusOr<Run> DecodeRun(std::string_view data);  // kDataLoss when malformed

boost::json::object StateToJson(const SecretState& state);
std::string EncodeState(const SecretState& state);
absl::StatusOr<SecretState> DecodeState(std::string_view data);

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_RUN_H_
