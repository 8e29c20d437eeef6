// RunSubprocess: runs one command without a shell, feeding it stdin and collecting bounded
// stdout/stderr, with a timeout that kills its whole process group. For the exec rotator.
#ifndef REKEY_ROTATORS_EXEC_SUBPROCESS_H_
#define REKEY_ROTATORS_EXEC_SUBPROCESS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::rotators::exec::internal {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the absolute path executed (no PATH search)
  std::vector<std::string> env;   // "NAME=value" entries: the whole environment
  std::string working_dir = "/";
  absl::Duration timeout = absl::Seconds(30);
  // After the timeout: SIGTERM to the process group, then SIGKILL after this long.
  absl::Duration kill_grace = absl::Seconds(2);
  size_t max_stdout = 1 << 20;        // more → the group is killed, stdout_overflow
  size_t max_stderr_kept = 16 << 10;  // only the last bytes of stderr are kept
};

struct SubprocessResult {
  bool exited = false;  // exited normally: exit_code is valid
  int exit_code = -1;
  int signal = 0;                // the signal that ended it, when !exited
  bool timed_out = false;        // ended by the timeout
  bool stdout_overflow = false;  // wrote more than max_stdout (then killed)
  std::string stdout_data;       // at most max_stdout bytes; may hold secrets: wipe it
  std::string stderr_tail;       // the last max_stderr_kept bytes of stderr
  size_t stderr_bytes = 0;       // total stderr bytes written
};

// Runs the command in a new process group with only `env`, stdin a socket carrying `stdin_data`
// then EOF, stdout/stderr pipes, every other descriptor closed and signal dispositions reset.
// Returns once the command has exited and been reaped; any process it left in its group is
// killed (SIGKILL) before that. Never leaves a zombie. Thread-safe (each call is independent),
// provided the process does not ignore SIGCHLD.
// kFailedPrecondition when the command cannot be started (missing, not executable, bad
// working_dir), naming argv[0]; kInternal when a pipe or pidfd cannot be created. A timeout,
// a signal or a non-zero exit is a successful run: see the result.
absl::StatusOr<SubprocessResult> RunSubprocess(const SubprocessOptions& options,
                                               std::string_view stdin_data);

}  // namespace rekey::rotators::exec::internal

#endif  // REKEY_ROTATORS_EXEC_SUBPROCESS_H_
