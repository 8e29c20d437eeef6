// Test doubles for unit tests of rotators: FakeStepContext (a StepContext whose every input is
// settable), RecordingStepLog (keeps the lines a rotator logged) and FakeHttpTransport (answers
// HttpCalls from a handler and records them). Test-only: not thread-safe unless stated.
#ifndef REKEY_ROTATION_TESTING_FAKE_STEP_CONTEXT_H_
#define REKEY_ROTATION_TESTING_FAKE_STEP_CONTEXT_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "rotation/rotator.h"

namespace rekey::rotation::testing {

// A StepLog that keeps every line. Thread-safe.
class RecordingStepLog final : public StepLog {
 public:
  struct Line {
    bool warning = false;
    std::string text;
  };

  void Info(std::string_view message) override;
  void Warn(std::string_view message) override;

  std::vector<Line> lines() const;
  // Every line, "INFO: ..." / "WARN: ...", joined with '\n' (for substring checks).
  std::string Joined() const;
  // True when any line contains `needle` (use it to prove a value was not logged).
  bool Contains(std::string_view needle) const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<Line> lines_;
};

// An HttpTransport that records each call and answers it from a handler (by default: 200 with
// the body "{}"). Thread-safe.
class FakeHttpTransport final : public HttpTransport {
 public:
  using Handler = std::function<absl::StatusOr<HttpReply>(const HttpCall&)>;

  void set_handler(Handler handler);
  // Answers every call with `status` and `body`.
  void ReplyWith(int status, std::string body);
  // Answers the next calls from `replies` in order (then with the last one again).
  void ReplySequence(std::vector<absl::StatusOr<HttpReply>> replies);

  absl::StatusOr<HttpReply> Send(const HttpCall& call) override;

  std::vector<HttpCall> calls() const;
  size_t call_count() const;

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<HttpCall> calls_;
};

// A StepContext for unit tests. Defaults: path "test/secret", run id "run-1", attempt 1, step
// kCreate, not a dry run, empty params, no versions, FakeClock at 2023-11-14T22:13:20Z, deadline
// one minute after it, an owned FakeHttpTransport and RecordingStepLog.
class FakeStepContext final : public StepContext {
 public:
  explicit FakeStepContext(uint64_t seed = 42);

  // A version whose value is the JSON text `value_json` (unset = unreadable).
  static VersionView MakeVersion(uint64_t number, std::string id,
                                 std::optional<std::string_view> value_json);

  // --- StepContext ---
  std::string_view path() const override { return path_; }
  std::string_view run_id() const override { return run_id_; }
  int attempt() const override { return attempt_; }
  Step step() const override { return step_; }
  bool dry_run() const override { return dry_run_; }
  const boost::json::object& params() const override { return params_; }
  const std::optional<VersionView>& current() const override { return current_; }
  const std::optional<VersionView>& pending() const override { return pending_; }
  const std::optional<VersionView>& previous() const override { return previous_; }
  // Distinct strings "gen-<n>-<16 hex>" drawn from the context's FakeRandom, or the status set
  // with set_generate_error().
  absl::StatusOr<SecretBytes> Generate() override;
  // The value given to SetSecret(path), kNotFound otherwise (or the error set for it).
  absl::StatusOr<SecretBytes> ReadSecret(std::string_view path) override;
  std::map<std::string, std::string>& state() override { return state_; }
  const Clock& clock() const override { return clock_; }
  Random& random() override { return random_; }
  absl::Time deadline() const override { return deadline_; }
  HttpTransport& http() override { return http_ != nullptr ? *http_ : fake_http_; }
  StepLog& log() override { return log_; }

  // --- setters ---
  void set_path(std::string path) { path_ = std::move(path); }
  void set_run_id(std::string run_id) { run_id_ = std::move(run_id); }
  void set_attempt(int attempt) { attempt_ = attempt; }
  void set_step(Step step) { step_ = step; }
  void set_dry_run(bool dry_run) { dry_run_ = dry_run; }
  void set_params(boost::json::object params) { params_ = std::move(params); }
  void set_current(std::optional<VersionView> v) { current_ = std::move(v); }
  void set_pending(std::optional<VersionView> v) { pending_ = std::move(v); }
  void set_previous(std::optional<VersionView> v) { previous_ = std::move(v); }
  void set_generate_error(absl::Status status) { generate_error_ = std::move(status); }
  // Makes ReadSecret(path) return `value` (the JSON text of the secret's current value).
  void SetSecret(std::string path, std::string_view value);
  // Makes ReadSecret(path) fail with `status`.
  void SetSecretError(std::string path, absl::Status status);
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  // Routes http() to `transport` (not owned; nullptr = the owned FakeHttpTransport).
  void set_http(HttpTransport* transport) { http_ = transport; }

  // --- inspection ---
  FakeClock& fake_clock() { return clock_; }
  FakeRandom& fake_random() { return random_; }
  FakeHttpTransport& fake_http() { return fake_http_; }
  RecordingStepLog& recorded_log() { return log_; }
  int generate_calls() const { return generate_calls_; }
  // Paths passed to ReadSecret, in order.
  const std::vector<std::string>& read_paths() const { return read_paths_; }
  // Every value Generate() returned, in order (for "a new value each attempt" checks).
  const std::vector<std::string>& generated() const { return generated_; }

 private:
  std::string path_ = "test/secret";
  std::string run_id_ = "run-1";
  int attempt_ = 1;
  Step step_ = Step::kCreate;
  bool dry_run_ = false;
  boost::json::object params_;
  std::optional<VersionView> current_;
  std::optional<VersionView> pending_;
  std::optional<VersionView> previous_;
  absl::Status generate_error_;
  std::map<std::string, absl::StatusOr<SecretBytes>> secrets_;
  std::map<std::string, std::string> state_;
  FakeClock clock_;
  FakeRandom random_;
  absl::Time deadline_;
  HttpTransport* http_ = nullptr;
  FakeHttpTransport fake_http_;
  RecordingStepLog log_;
  int generate_calls_ = 0;
  std::vector<std::string> read_paths_;
  std::vector<std::string> generated_;
};

}  // namespace rekey::rotation::testing

#endif  // REKEY_ROTATION_TESTING_FAKE_STEP_CONTEXT_H_
