// Rotator: the one interface the rotation engine knows. Each rotator lives in its own folder
// under src/rotators/<name>/, is registered by name (rotation/registry.h) and reaches the world
// only through the StepContext the engine hands it.
#ifndef REKEY_ROTATION_ROTATOR_H_
#define REKEY_ROTATION_ROTATOR_H_

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"

namespace rekey::rotation {

// The steps of design.md section 2, as journaled and as passed to rotators.
enum class Step { kCreate, kSet, kTest, kFinish, kRevoke, kRollback };
std::string_view StepName(Step step);  // "create", "set", ...

// A version of the secret as a rotator sees it. `value` is the JSON text of the version's data
// (an object); it is unset when the version is not readable (deleted, destroyed).
struct VersionView {
  uint64_t number = 0;
  std::string id;  // version UUID
  std::optional<SecretBytes> value;
};

// Outbound HTTP for rotators (webhooks, provider APIs). Implemented by the app on Beast.
struct HttpCall {
  std::string method = "POST";
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(10);
  std::string ca_file;  // PEM bundle for https; empty = system roots
};
struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
};
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Thread-safe. kUnavailable when the server cannot be reached, kDeadlineExceeded on timeout,
  // kInvalidArgument for a bad URL. Any HTTP status is a successful call.
  virtual absl::StatusOr<HttpReply> Send(const HttpCall& call) = 0;
};

// A log that takes only metadata: rotators describe what they did ("ALTER ROLE app_clone",
// "key id k_123 created"), never a value. Lines go to the server log and the run's journal.
class StepLog {
 public:
  virtual ~StepLog() = default;
  virtual void Info(std::string_view message) = 0;
  virtual void Warn(std::string_view message) = 0;
};

// What a rotator may use during one step. Owned by the engine; valid for the call only.
// Everything a rotator needs to be idempotent across a crash is in here: the versions, the
// run id, and `state`, a small string map the rotator owns that is journaled after every step
// (put identifiers there — a provider's key id, which user is active — never secret values).
class StepContext {
 public:
  virtual ~StepContext() = default;

  virtual std::string_view path() const = 0;    // the secret's path
  virtual std::string_view run_id() const = 0;  // stable across resumes of the same run
  virtual int attempt() const = 0;              // 1 for the first attempt of a run
  virtual Step step() const = 0;
  virtual bool dry_run() const = 0;
  virtual const boost::json::object& params() const = 0;  // the config's params, validated

  // The version labelled current when the run started (unset for a secret with none yet).
  virtual const std::optional<VersionView>& current() const = 0;
  // The version being rotated in (set from set onwards; unset during create and dry runs).
  virtual const std::optional<VersionView>& pending() const = 0;
  // The former current being retired (revoke only); unset otherwise.
  virtual const std::optional<VersionView>& previous() const = 0;

  // A fresh value from the secret's configured generator (password, api key, bytes, uuid).
  virtual absl::StatusOr<SecretBytes> Generate() = 0;
  // The current value of another secret (e.g. an admin credential named in params).
  // kNotFound when it does not exist or has no readable current version.
  virtual absl::StatusOr<SecretBytes> ReadSecret(std::string_view path) = 0;

  virtual std::map<std::string, std::string>& state() = 0;
  virtual const Clock& clock() const = 0;
  virtual Random& random() = 0;
  virtual absl::Time deadline() const = 0;  // the step must give up by then
  virtual HttpTransport& http() = 0;
  virtual StepLog& log() = 0;
};

// One validation problem: the field it concerns (e.g. "params.url") and what is wrong.
struct Problem {
  std::string field;
  std::string message;
};

// A rotator. Implementations must be thread-safe (one instance serves every secret using it;
// the engine runs at most one step per secret at a time) and every step must be idempotent:
// after a crash the engine calls the interrupted step again with the same context.
// Errors: kInvalidArgument / kFailedPrecondition when the target rejected the new value (the
// engine rolls back and retries with a new value); kUnavailable / kDeadlineExceeded when the
// target cannot be reached; kPermissionDenied when the admin credential may not do the change.
// A policy path (relative to /v1/, e.g. "secret/data/ops/admin") and the capabilities
// ("read", "update", "sudo", ...) a rotation config's author must hold on it.
struct Reference {
  std::string path;
  std::vector<std::string> capabilities;
  std::string param;  // the param naming it, for error messages
};

// Policy path of the rekey-wide right to run commands on the server (exec rotator, ACME dns-01
// hooks): a config naming a command needs sudo there.
inline constexpr std::string_view kRunCommandsPath = "sys/rotators/run-commands";

// Messages name the target, user or key id, never a value.
class Rotator {
 public:
  virtual ~Rotator() = default;

  // Every problem with `params` at once (empty = valid). Must not reach the network.
  virtual std::vector<Problem> Validate(const boost::json::object& params) const = 0;
  // Identifies the system a secret's rotation changes (e.g. "postgres://db1:5432"), so the
  // scheduler can space out rotations that hit the same target. "" = no spacing.
  virtual std::string TargetKey(const boost::json::object& params) const { return ""; }
  // What else in rekey `params` lets a rotation use (another secret it reads, a transit key or
  // JWT keyset it changes, the CA, running commands), as policy paths with the capabilities a
  // caller must hold there to write such a config: whoever may configure a rotation may not use
  // it to reach what it could not reach directly. Only called on valid params.
  virtual std::vector<Reference> References(const boost::json::object& params) const { return {}; }

  // Dry run: reach the target and check permissions, changing nothing.
  virtual absl::Status Check(StepContext& ctx) = 0;
  // create: the new value (JSON text of an object) to store as the pending version. Usually
  // derived from ctx.current() and ctx.Generate().
  virtual absl::StatusOr<SecretBytes> Create(StepContext& ctx) = 0;
  // set: make ctx.pending() valid on the target, keeping ctx.current() valid.
  virtual absl::Status Set(StepContext& ctx) = 0;
  // test: prove ctx.pending() works on the target.
  virtual absl::Status Test(StepContext& ctx) = 0;
  // finish: called after `current` moved to the new version (e.g. make a new key primary).
  virtual absl::Status Finish(StepContext& ctx) { return absl::OkStatus(); }
  // revoke: retire ctx.previous() on the target once the grace period is over.
  virtual absl::Status Revoke(StepContext& ctx) = 0;
  // rollback: undo what set did for ctx.pending() (which may be unset when create failed).
  virtual absl::Status Rollback(StepContext& ctx) = 0;
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_ROTATOR_H_
