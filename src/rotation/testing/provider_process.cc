#include "rotation/testing/provider_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "core/strings.h"

extern char** environ;

namespace rekey::rotation::testing {

absl::StatusOr<std::unique_ptr<ProviderProcess>> ProviderProcess::Start(
    std::string_view python, std::string_view script, std::string_view hmac_key,
    const std::vector<std::string>& extra_args) {
  const std::string python_path(python);
  const std::string script_path(script);
  if (access(python_path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(rekey::StrCat(python, " is not executable"));
  }
  if (access(script_path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(rekey::StrCat(script, " is not readable"));
  }
  std::vector<std::string> args = {python_path, "-u",         script_path,          "--port",
                                   "0",         "--hmac-key", std::string(hmac_key)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, python_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::FailedPreconditionError(
        rekey::StrCat("cannot start ", python, ": ", std::strerror(rc)));
  }
  std::string line;
  char c;
  while (line.size() < 256) {
    const ssize_t n = read(out[0], &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  close(out[0]);
  int port = 0;
  if (line.rfind("PORT ", 0) != 0 || !absl::SimpleAtoi(line.substr(5), &port) || port <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return absl::InternalError(rekey::StrCat(script, " did not report its port"));
  }
  return std::unique_ptr<ProviderProcess>(new ProviderProcess(pid, port));
}

ProviderProcess::~ProviderProcess() {
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) return;
    usleep(20 * 1000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::string ProviderProcess::Url(std::string_view path) const {
  return rekey::StrCat("http://127.0.0.1:", port_, path);
}

}  // namespace rekey::rotation::testing
