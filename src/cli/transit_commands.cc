#include "cli/transit_commands.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "cli/client.h"
#include "cli/rewrap_job.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {

// --- the command ---------------------------------------------------------------------------

namespace {

using internal::FdLineSource;
using internal::JobCallbacks;
using internal::JobOptions;
using internal::JobResult;
using internal::ProgressView;
using internal::SendFn;

struct RewrapArgs {
  std::string key;
  std::string input;
  std::string output;
  size_t batch_size = 100;
  int parallel = 4;
  std::string context;
  uint32_t key_version = 0;
  std::string progress = "auto";
  bool advance = false;
};

// Writes all of `text` to `fd`; false (errno set) on failure.
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Where the output goes: stdout, or a temporary file beside OUTPUT renamed over it at the end.
class Output {
 public:
  ~Output() { Discard(); }

  // Throws UsageError when the temporary file cannot be made.
  void Open(const std::string& path) {
    if (path.empty() || path == "-") return;
    path_ = path;
    const size_t slash = path.rfind('/');
    dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    struct stat st {};
    if (base.empty() || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
      throw UsageError{rekey::StrCat("--output ", path, " is a directory")};
    }
    std::string tmp = rekey::StrCat(dir_, "/.", base, ".rekey-tmp-XXXXXX");
    fd_ = ::mkstemp(tmp.data());
    if (fd_ < 0) {
      throw UsageError{rekey::StrCat("cannot create a file in ", dir_, ": ", std::strerror(errno))};
    }
    ::fchmod(fd_, 0600);
    tmp_ = tmp;
  }

  bool to_file() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  const std::string& tmp() const { return tmp_; }
  const std::string& error() const { return error_; }

  bool Write(std::string_view text) {
    if (WriteAll(to_file() ? fd_ : STDOUT_FILENO, text)) return true;
    error_ = rekey::StrCat("writing ", to_file() ? path_ : "stdout", ": ", std::strerror(errno));
    return false;
  }

  // Makes the output durable and, for a file, puts it in place. False: error() says why.
  bool Commit() {
    if (!to_file()) return true;
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      error_ = rekey::StrCat("writing ", path_, ": ", std::strerror(errno));
      return false;
    }
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      error_ = rekey::StrCat("renaming ", tmp_, " to ", path_, ": ", std::strerror(errno));
      return false;
    }
    tmp_.clear();
    const int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return true;
  }

  void Discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    tmp_.clear();
  }

 private:
  std::string path_;
  std::string dir_;
  std::string tmp_;
  int fd_ = -1;
  std::string error_;
};

// The progress line on stderr, and the messages printed around it.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool show) : show_(show) {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) width_ = ws.ws_col;
  }

  void Show(const ProgressView& p) {
    if (!show_) return;
    std::cerr << "\r" << internal::FormatProgress(p, width_) << "\033[K" << std::flush;
    on_screen_ = true;
  }

  // Prints `line` (with a newline) on a line of its own.
  void Message(std::string_view line) {
    if (on_screen_) std::cerr << "\r\033[K";
    on_screen_ = false;
    std::cerr << line << "\n";
  }

  // Ends the progress line.
  void Done() {
    if (on_screen_) std::cerr << std::endl;
    on_screen_ = false;
  }

 private:
  bool show_;
  int width_ = 80;
  bool on_screen_ = false;
};

// Counts the ciphertext lines of a regular file and rewinds it; nullopt for anything else.
std::optional<uint64_t> CountLines(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  const off_t start = ::lseek(fd, 0, SEEK_CUR);
  if (start < 0) return std::nullopt;
  FdLineSource source(fd);
  std::string line;
  bool overlong = false;
  uint64_t count = 0;
  while (source.Next(line, overlong)) {
    const internal::InputLine::Kind kind = internal::ParseLine(line).kind;
    if (kind == internal::InputLine::Kind::kCiphertext ||
        kind == internal::InputLine::Kind::kInvalid) {
      ++count;
    }
  }
  if (::lseek(fd, start, SEEK_SET) != start) return std::nullopt;
  return count;
}

// Blocks SIGINT, SIGTERM and SIGHUP (those not ignored) in every thread while an output file is
// being written and removes the temporary file when one arrives, then exits 128+signal. Stop() ends
// the watch with the signals still blocked (so that the rename cannot be cut short); the destructor
// unblocks them, and one that arrived meanwhile then takes its default action.
class SignalGuard {
 public:
  explicit SignalGuard(std::string tmp) : tmp_(std::move(tmp)) {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      // A signal ignored on purpose (nohup, a background job's SIGINT) stays ignored.
      struct sigaction current {};
      if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) {
        sigaddset(&set_, sig);
      }
    }
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      while (!stop_) {
        const timespec wait{0, 200 * 1000 * 1000};
        const int sig = sigtimedwait(&set_, nullptr, &wait);
        if (sig > 0) {
          ::unlink(tmp_.c_str());
          constexpr std::string_view kMessage = "\ninterrupted: the output file was not written\n";
          (void)!::write(STDERR_FILENO, kMessage.data(), kMessage.size());
          ::_exit(128 + sig);
        }
      }
    });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }

  ~SignalGuard() {
    Stop();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::string tmp_;
  sigset_t set_{};
  sigset_t old_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

uint64_t FieldUint(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return 0;
  boost::system::error_code ec;
  const uint64_t n = v->to_number<uint64_t>(ec);
  return ec ? 0 : n;
}

// Raises the key's min_decryption_version to the lowest version the job wrote.
int AdvanceMinDecryptionVersion(const GlobalOptions& global, const std::string& key,
                                const JobResult& r) {
  const std::string not_advanced = "min_decryption_version not advanced: ";
  if (r.new_versions.empty()) {
    std::cerr << not_advanced << "no ciphertext was rewrapped" << std::endl;
    return kExitOk;
  }
  const uint32_t target = r.new_versions.begin()->first;
  Client client(global);
  const std::string url = rekey::StrCat("/v1/transit/keys/", UrlPath(key));
  std::optional<net::ClientResponse> res = client.Send("GET", url);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("transit/keys/", key));
  std::optional<boost::json::value> v = ParseBody(*res);
  const boost::json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  if (data == nullptr) {
    std::cerr << "Error: the server's answer for transit/keys/" << key << " has no data"
              << std::endl;
    return kExitServerError;
  }
  const uint64_t latest = FieldUint(*data, "latest_version");
  const uint64_t current = FieldUint(*data, "min_decryption_version");
  if (target <= current) {
    std::cerr << not_advanced << "it is " << current << " already (the job wrote version " << target
              << ")" << std::endl;
    return kExitOk;
  }
  boost::json::object body;
  body["min_decryption_version"] = target;
  res = client.Send("POST", rekey::StrCat(url, "/config"), boost::json::serialize(body));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) {
    return ServerError(*res, rekey::StrCat("transit/keys/", key, "/config"));
  }
  std::cerr << "min_decryption_version of key " << key << ": " << current << " -> " << target
            << "; ciphertexts of older versions no longer decrypt";
  if (latest > target) std::cerr << " (the key's latest version is " << latest << ")";
  std::cerr << std::endl;
  return kExitOk;
}

int Rewrap(const GlobalOptions& global, const RewrapArgs& a) {
  if (a.key.empty()) throw UsageError{"the key name is empty"};
  if (!a.context.empty() && !internal::IsBase64(a.context)) {
    throw UsageError{"--context must be base64"};
  }
  const net::ClientOptions connection = ConnectionOptions(global);
  if (absl::StatusOr<std::unique_ptr<net::HttpClient>> c = net::HttpClient::Create(connection);
      !c.ok()) {
    throw UsageError{std::string(ToStd(c.status().message()))};
  }

  int in_fd = STDIN_FILENO;
  std::unique_ptr<int, void (*)(int*)> in_closer(nullptr, [](int* fd) { ::close(*fd); });
  if (!a.input.empty() && a.input != "-") {
    in_fd = ::open(a.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
      throw UsageError{rekey::StrCat("cannot read ", a.input, ": ", std::strerror(errno))};
    }
    in_closer.reset(&in_fd);
  }
  if (in_fd == STDIN_FILENO && ::isatty(STDIN_FILENO)) {
    std::cerr << "Reading ciphertexts from the terminal, one per line; end with Ctrl-D."
              << std::endl;
  }
  // `auto`: on a terminal, unless the output goes to that terminal too.
  const bool to_file = !a.output.empty() && a.output != "-";
  const bool show = a.progress == "always" || (a.progress == "auto" && ::isatty(STDERR_FILENO) &&
                                               (to_file || !::isatty(STDOUT_FILENO)));

  JobOptions options;
  options.batch_size = a.batch_size;
  options.parallel = a.parallel;
  options.context = a.context;
  options.key_version = a.key_version;
  options.sleep = [](absl::Duration d) {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(d));
  };
  if (show) options.total = CountLines(in_fd);

  Output output;
  output.Open(a.output);
  std::optional<SignalGuard> signals;
  if (output.to_file()) signals.emplace(output.tmp());

  std::string token = global.token;
  if (token.empty()) token = FirstEnv({"REKEY_TOKEN", "VAULT_TOKEN"});
  const std::string path = rekey::StrCat("/v1/transit/rewrap/", UrlPath(a.key));
  auto make_sender = [&]() -> SendFn {
    std::shared_ptr<net::HttpClient> client = *net::HttpClient::Create(connection);
    return [client, &token, &path](const std::string& body) {
      std::vector<std::pair<std::string, std::string>> headers;
      if (!token.empty()) headers.emplace_back("X-Vault-Token", token);
      headers.emplace_back("Content-Type", "application/json");
      absl::StatusOr<net::ClientResponse> res = client->Send("POST", path, headers, body);
      for (auto& h : headers) SecureWipe(h.second);
      return res;
    };
  };

  ProgressPrinter printer(show);
  JobCallbacks callbacks;
  callbacks.write = [&](std::string_view lines) { return output.Write(lines); };
  callbacks.line_error = [&](uint64_t line, std::string_view error) {
    printer.Message(rekey::StrCat("line ", line, ": ", error));
  };
  callbacks.progress = [&](const ProgressView& p) { printer.Show(p); };

  internal::FdLineSource source(in_fd);
  const absl::Time start = absl::Now();
  JobResult r = internal::RunRewrapJob(options, source, make_sender, callbacks);
  const absl::Duration elapsed = absl::Now() - start;
  SecureWipe(token);
  printer.Done();
  if (signals.has_value()) signals->Stop();

  if (!r.status.ok()) {
    std::string message(ToStd(r.status.message()));
    if (!output.error().empty()) message = output.error();
    std::cerr << "Error: " << message << std::endl;
    if (output.to_file()) {
      output.Discard();
      std::cerr << "The job stopped; " << output.path() << " was not written." << std::endl;
    } else {
      std::cerr << "The job stopped; stdout has only the first " << r.lines_written
                << " lines of the output." << std::endl;
    }
    return kExitServerError;
  }
  if (!output.Commit()) {
    std::cerr << "Error: " << output.error() << std::endl;
    return kExitServerError;
  }
  signals.reset();
  std::cerr << "Key " << a.key << ": " << internal::FormatSummary(r, elapsed) << std::endl;
  if (r.failed > 0) {
    if (a.advance) {
      std::cerr << "min_decryption_version not advanced: " << r.failed
                << (r.failed == 1 ? " line" : " lines") << " failed" << std::endl;
    }
    return kExitServerError;
  }
  if (a.advance) return AdvanceMinDecryptionVersion(global, a.key, r);
  return kExitOk;
}

}  // namespace

void RegisterTransitCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto a = std::make_shared<RewrapArgs>();
  CLI::App* transit = app.add_subcommand("transit", "Transit encryption keys (Vault-shaped)");
  transit->require_subcommand(1);
  CLI::App* rewrap = transit->add_subcommand(
      "rewrap",
      "Rewrap ciphertexts (one per line) to the key's latest version; never outputs plaintext");
  rewrap->add_option("key", a->key, "Transit key name")->required();
  rewrap->add_option("file", a->input, "Ciphertexts, one per line (default or -: stdin)");
  rewrap->add_option("-o,--output", a->output,
                     "Write to this file (mode 0600, put in place only when complete) instead "
                     "of stdout");
  rewrap
      ->add_option("--batch-size", a->batch_size,
                   "Ciphertexts per request (default 100, at most 10000)")
      ->check(CLI::Range(size_t{1}, internal::kMaxBatchSize));
  rewrap->add_option("--parallel", a->parallel, "Requests in flight (default 4, at most 64)")
      ->check(CLI::Range(1, 64));
  rewrap->add_option("--context", a->context,
                     "Base64 context for a derived key, for lines without their own "
                     "(CIPHERTEXT<TAB>CONTEXT)");
  rewrap->add_option("--key-version", a->key_version, "Version to rewrap to (default: the latest)");
  rewrap
      ->add_option("--progress", a->progress,
                   "Progress bar on stderr: auto (when stderr is a terminal), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  rewrap->add_flag("--advance-min-decryption-version", a->advance,
                   "When no line failed, raise the key's min_decryption_version to the version "
                   "the ciphertexts were rewrapped to");
  rewrap->callback(Guard(exit_code, [&global, a] { return Rewrap(global, *a); }));
}

}  // namespace rekey::cli
