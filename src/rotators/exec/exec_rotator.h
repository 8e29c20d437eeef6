// The `exec` rotator: runs a local command for each step, with the step document (the http
// rotator's protocol) on stdin and the answer on stdout (docs/rotators/exec.md). The escape hatch,
// like a rotation Lambda.
#ifndef REKEY_ROTATORS_EXEC_EXEC_ROTATOR_H_
#define REKEY_ROTATORS_EXEC_EXEC_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::exec {

struct ExecRotatorOptions {
  // After a step's timeout the command's process group gets SIGTERM, then SIGKILL this much
  // later.
  absl::Duration kill_grace = absl::Seconds(2);
  // HOME in the command's environment. Empty: the server's $HOME at construction, else "/".
  std::string home;
};

// Thread-safe and stateless between calls.
//
// Step errors (the rotator.h contract): exit status 2 → kInvalidArgument (the value was rejected;
// the engine rolls back and retries with a new one); 3 → kPermissionDenied; any other non-zero
// status or death by a signal → kUnavailable; the timeout → kDeadlineExceeded; more than 1 MiB
// on stdout or an answer that breaks the protocol → kInternal; a command that cannot be started
// → kFailedPrecondition. Messages name the command's path, the step, the exit status and the
// "message" of a JSON answer on stdout (printable, at most 200 characters), never a value.
// stderr is not logged unless params.log_stderr is true (then its last lines, made printable).
class ExecRotator final : public rotation::Rotator {
 public:
  explicit ExecRotator(ExecRotatorOptions options = {});

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // The command's path (params.command[0]).
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Finish(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  ExecRotatorOptions options_;
};

// Registers ExecRotator as "exec".
absl::Status RegisterExecRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::exec

#endif  // REKEY_ROTATORS_EXEC_EXEC_ROTATOR_H_
