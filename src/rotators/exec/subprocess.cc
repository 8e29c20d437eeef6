#include "rotators/exec/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::rotators::exec::internal {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kDrainAfterExit = std::chrono::milliseconds(500);
constexpr auto kExitPollInterval = std::chrono::milliseconds(20);

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Kills the process group and reaps the child unless Reap() already did.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!reaped_) {
      KillGroup(SIGKILL);
      Reap();
    }
  }
  pid_t pid() const { return pid_; }
  // Signals every process in the child's group. Safe until Reap(): the unreaped leader keeps the
  // group id from being reused.
  void KillGroup(int sig) const {
    if (!reaped_) kill(-pid_, sig);
  }
  // Whether the child has exited, without reaping it.
  bool HasExited() const {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
  }
  int Reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Keeps the last `keep` bytes of `s`, zeroing the rest.
void KeepTail(std::string& s, size_t keep) {
  if (s.size() <= keep) return;
  std::string tail = s.substr(s.size() - keep);
  SecureWipe(s);
  s = std::move(tail);
}

int PollTimeoutMs(std::optional<SteadyClock::time_point> until) {
  if (!until.has_value()) return -1;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*until - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX));
}

}  // namespace

absl::StatusOr<SubprocessResult> RunSubprocess(const SubprocessOptions& options,
                                               std::string_view stdin_data) {
  if (options.argv.empty() || options.argv[0].empty() || options.argv[0][0] != '/') {
    return absl::FailedPreconditionError("the command must be an absolute path");
  }
  const std::string& path = options.argv[0];
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::InternalError(rekey::StrCat("socketpair: ", std::strerror(errno)));
  }
  Fd stdin_parent(sv[0]);
  Fd stdin_child(sv[1]);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  Fd stdout_parent(p[0]);
  Fd stdout_child(p[1]);
  if (pipe2(p, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  Fd stderr_parent(p[0]);
  Fd stderr_child(p[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_child.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_child.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_child.get(), 2);
  posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = options.env;
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  stdin_child.reset();
  stdout_child.reset();
  stderr_child.reset();
  if (rc != 0) {
    return absl::FailedPreconditionError(
        rekey::StrCat("cannot run ", path, " in ", options.working_dir, ": ", std::strerror(rc)));
  }
  Child child(pid);
  // A pidfd wakes poll() when the child exits. Without one (Linux < 5.3, some seccomp
  // profiles, valgrind) poll() wakes every kExitPollInterval to check. glibc 2.36 declares
  // pidfd_open() without C linkage in C++, hence the raw system call.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  SetNonBlocking(stdin_parent.get());
  SetNonBlocking(stdout_parent.get());
  SetNonBlocking(stderr_parent.get());
  if (stdin_data.empty()) stdin_parent.reset();

  SubprocessResult result;
  size_t stdin_offset = 0;
  bool exited = false;
  enum class Phase { kRunning, kTerminating, kKilled } phase = Phase::kRunning;
  SteadyClock::time_point deadline =
      SteadyClock::now() + absl::ToChronoNanoseconds(options.timeout);
  SteadyClock::time_point kill_at;
  SteadyClock::time_point drain_until;
  char buf[16 << 10];

  auto kill_now = [&] {
    child.KillGroup(SIGKILL);
    phase = Phase::kKilled;
  };

  while (true) {
    if (exited && !stdout_parent.valid() && !stderr_parent.valid()) break;
    pollfd fds[4];
    nfds_t n = 0;
    int in_i = -1, out_i = -1, err_i = -1, pid_i = -1;
    if (stdin_parent.valid()) {
      in_i = n;
      fds[n++] = {stdin_parent.get(), POLLOUT, 0};
    }
    if (stdout_parent.valid()) {
      out_i = n;
      fds[n++] = {stdout_parent.get(), POLLIN, 0};
    }
    if (stderr_parent.valid()) {
      err_i = n;
      fds[n++] = {stderr_parent.get(), POLLIN, 0};
    }
    if (!exited && pidfd.valid()) {
      pid_i = n;
      fds[n++] = {pidfd.get(), POLLIN, 0};
    }
    std::optional<SteadyClock::time_point> until;
    if (exited) {
      until = drain_until;
    } else if (phase == Phase::kRunning) {
      until = deadline;
    } else if (phase == Phase::kTerminating) {
      until = kill_at;
    }
    int timeout_ms = PollTimeoutMs(until);
    if (!exited && !pidfd.valid()) {
      const int interval = static_cast<int>(kExitPollInterval.count());
      timeout_ms = timeout_ms < 0 ? interval : std::min(timeout_ms, interval);
    }
    const int r = poll(fds, n, timeout_ms);
    if (r < 0 && errno != EINTR) {
      SecureWipe(result.stdout_data);
      return absl::InternalError(rekey::StrCat("poll: ", std::strerror(errno)));
    }
    const auto ready = [&](int i) { return r > 0 && i >= 0 && fds[i].revents != 0; };

    if (ready(in_i)) {
      const ssize_t w = send(stdin_parent.get(), stdin_data.data() + stdin_offset,
                             stdin_data.size() - stdin_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) stdin_offset += static_cast<size_t>(w);
      if (stdin_offset == stdin_data.size() ||
          (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        stdin_parent.reset();  // all written, or the command closed its stdin
      }
    }
    if (ready(out_i)) {
      while (true) {
        const ssize_t got = read(stdout_parent.get(), buf, sizeof(buf));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) stdout_parent.reset();
          break;
        }
        if (result.stdout_data.size() + static_cast<size_t>(got) > options.max_stdout) {
          result.stdout_overflow = true;
          SecureWipe(result.stdout_data);
          stdout_parent.reset();
          kill_now();
          break;
        }
        result.stdout_data.append(buf, static_cast<size_t>(got));
      }
    }
    if (ready(err_i)) {
      while (true) {
        const ssize_t got = read(stderr_parent.get(), buf, sizeof(buf));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) stderr_parent.reset();
          break;
        }
        result.stderr_bytes += static_cast<size_t>(got);
        result.stderr_tail.append(buf, static_cast<size_t>(got));
        if (result.stderr_tail.size() > 2 * options.max_stderr_kept) {
          KeepTail(result.stderr_tail, options.max_stderr_kept);
        }
      }
    }
    if (ready(pid_i) || (!exited && !pidfd.valid() && child.HasExited())) {
      exited = true;
      child.KillGroup(SIGKILL);  // whatever it left behind in its group
      drain_until = SteadyClock::now() + kDrainAfterExit;
    }
    const auto now = SteadyClock::now();
    if (exited) {
      if (now >= drain_until) break;
    } else if (phase == Phase::kRunning && now >= deadline) {
      result.timed_out = true;
      child.KillGroup(SIGTERM);
      phase = Phase::kTerminating;
      kill_at = now + absl::ToChronoNanoseconds(options.kill_grace);
    } else if (phase == Phase::kTerminating && now >= kill_at) {
      kill_now();
    }
  }
  SecureZero(buf, sizeof(buf));
  KeepTail(result.stderr_tail, options.max_stderr_kept);
  const int status = child.Reap();
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace rekey::rotators::exec::internal
