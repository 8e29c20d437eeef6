// The step protocol shared by the http and exec rotators (docs/rotators/http.md): the JSON
// request document rekey sends for each step (as an HTTP body or on a command's stdin), the
// answer it reads back, and the parameters both rotators take (field, merge, value_source).
#ifndef REKEY_ROTATORS_HTTP_STEP_PROTOCOL_H_
#define REKEY_ROTATORS_HTTP_STEP_PROTOCOL_H_

#include <boost/json/object.hpp>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"
#include "rotation/rotator.h"

namespace rekey::rotators::step_protocol {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxAnswerBytes = 1 << 20;  // an answer (body or stdout) above is refused
inline constexpr size_t kMaxValueBytes = 64 << 10;  // a new value's JSON text
inline constexpr size_t kMaxMessageChars = 200;     // of a provider's "message"
inline constexpr size_t kMaxStateEntries = 32;
inline constexpr size_t kMaxStateKeyChars = 64;
inline constexpr size_t kMaxStateValueChars = 256;

// The protocol's steps: the rotator steps plus "check" (dry run).
enum class Action { kCheck, kCreate, kSet, kTest, kFinish, kRevoke, kRollback };
std::string_view ActionName(Action action);
Action ActionFor(rotation::Step step);

// Where a new value comes from.
enum class ValueSource {
  kProvider,  // create asks the provider/command, which answers {"value": {...}}
  kRekey,     // create uses the secret's generator for `field`; the provider is not called
};

// Parameters both rotators take.
struct ValueOptions {
  std::string field = "api_key";  // the value's member holding the key
  bool merge = true;              // keep the current value's other members
  ValueSource source = ValueSource::kProvider;
};

// Reads `field`, `merge` and `value_source` from `params`, appending a Problem per bad one.
ValueOptions ParseValueOptions(const boost::json::object& params,
                               std::vector<rotation::Problem>* problems);

// Appends "params.<name>: unknown parameter" for every member of `params` not in `known`.
void CheckKnownParams(const boost::json::object& params,
                      std::initializer_list<std::string_view> known,
                      std::vector<rotation::Problem>* problems);

// A duration parameter written as a Go-style string ("10s", "1m30s", "250ms") within
// [min, max]; `fallback` when absent. Appends a Problem and returns `fallback` when bad.
absl::Duration ParseDurationParam(const boost::json::object& params, std::string_view name,
                                  absl::Duration fallback, absl::Duration min, absl::Duration max,
                                  std::vector<rotation::Problem>* problems);

// An optional boolean parameter (`fallback` when absent).
bool ParseBoolParam(const boost::json::object& params, std::string_view name, bool fallback,
                    std::vector<rotation::Problem>* problems);

// "<run_id>:<action>:<attempt>": the same for every delivery of one step of one attempt (also
// after a crash), different for every other step or attempt.
std::string IdempotencyKey(Action action, const rotation::StepContext& ctx);

// The request document for `action` as JSON text. It holds the values of the versions the step
// needs (current for check/create; pending and current for set/rollback; pending for test;
// previous for revoke; none for finish), so it is returned as SecretBytes. kFailedPrecondition
// when such a value is not a JSON object.
absl::StatusOr<SecretBytes> BuildRequest(Action action, rotation::StepContext& ctx,
                                         const ValueOptions& options);

// A parsed answer. Zeroes the strings of `value` when destroyed.
struct Answer {
  Answer() = default;
  Answer(Answer&&) = default;
  Answer& operator=(Answer&&) = default;
  ~Answer();

  std::optional<boost::json::object> value;  // "value": an object of strings (may hold secrets)
  // "state" updates in order; nullopt erases the key.
  std::vector<std::pair<std::string, std::optional<std::string>>> state;
  std::string message;  // "message", made printable and cut to kMaxMessageChars
};

// Parses an answer (an empty or all-blank text is {}). kInternal, naming `who` (e.g. "provider
// https://keys.example.com:443") and what is wrong but never a value, when it is not a JSON
// object, is larger than kMaxAnswerBytes, or "value"/"state"/"message" have the wrong shape.
absl::StatusOr<Answer> ParseAnswer(std::string_view text, std::string_view who);

// The "message" of an error answer, or "" when there is none or the text is not JSON. Never
// fails: used to decorate an error that is reported anyway.
std::string ErrorMessage(std::string_view text);

// `message` with every byte outside printable ASCII replaced by '?', cut to kMaxMessageChars.
std::string SafeMessage(std::string_view message);

// Applies the answer's state updates to ctx.state() and logs the keys changed (never values).
// kInternal naming `who` when the state would exceed kMaxStateEntries.
absl::Status ApplyState(const Answer& answer, rotation::StepContext& ctx, std::string_view who);

// create with ValueSource::kProvider: the new value from the answer's "value" (merged onto the
// current value when options.merge). kInternal naming `who` when the answer has no value, the
// value lacks a non-empty options.field or is too large; kFailedPrecondition when the key equals
// the current one (the provider did not rotate).
absl::StatusOr<SecretBytes> NewValueFromAnswer(Answer& answer, rotation::StepContext& ctx,
                                               const ValueOptions& options, std::string_view who);

// create with ValueSource::kRekey: the current value (when options.merge) with options.field set
// to ctx.Generate().
absl::StatusOr<SecretBytes> GenerateNewValue(rotation::StepContext& ctx,
                                             const ValueOptions& options);

// The string member `field` of the version's value, or kFailedPrecondition naming `which`
// ("pending", "current") and the field.
absl::StatusOr<SecretBytes> FieldOf(const std::optional<rotation::VersionView>& version,
                                    std::string_view which, std::string_view field);

}  // namespace rekey::rotators::step_protocol

#endif  // REKEY_ROTATORS_HTTP_STEP_PROTOCOL_H_
