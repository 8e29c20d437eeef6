// The `rekey transit rewrap` job apart from the command: reading and classifying ciphertext
// lines, sending them in parallel batches to POST /v1/transit/rewrap, writing the results in
// input order, and the progress and summary text. Testable without a server (internal to
// src/cli).
#ifndef REKEY_CLI_REWRAP_JOB_H_
#define REKEY_CLI_REWRAP_JOB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "net/http_client.h"

namespace rekey::cli {

namespace internal {

// The longest ciphertext line sent; longer lines fail (and are passed through unchanged).
inline constexpr size_t kMaxLineBytes = 512 * 1024;
// The longest line read at all: a longer one stops the job (it cannot be passed through without
// holding it whole, and is no ciphertext).
inline constexpr size_t kMaxReadLineBytes = 16 * 1024 * 1024;
// A batch is closed before its request body would grow past this (the server's default body
// limit is 1 MiB), whatever --batch-size says.
inline constexpr size_t kMaxBatchBytes = 768 * 1024;
// The most lines (of any kind) in one batch, so that long runs of blank or comment lines do not
// make a batch of unbounded size.
inline constexpr size_t kMaxBatchLines = 20000;
// The server's batch_input limit (TransitHandler::kMaxBatchItems).
inline constexpr size_t kMaxBatchSize = 10000;

// One input line, classified.
struct InputLine {
  enum class Kind {
    kBlank,       // empty or only spaces/tabs: written as an empty line
    kComment,     // first non-blank character '#': written unchanged, never sent
    kCiphertext,  // `vault:v<N>:...`, optionally followed by TAB and a base64 context
    kInvalid,     // anything else: a failed line, written unchanged
  };
  Kind kind = Kind::kBlank;
  std::string ciphertext;  // kCiphertext
  std::string context;     // kCiphertext: the line's context (base64), "" if none
  std::string suffix;      // kCiphertext: the line from its TAB on ("" if none), written back
  uint32_t version = 0;    // kCiphertext: N of the `vault:v<N>:` prefix
  std::string error;       // kInvalid: why, short, without the line's text
};

// Classifies `line` (without its '\n'; a trailing '\r' is ignored).
InputLine ParseLine(std::string_view line);

// Standard, padded base64 (what Vault's context fields take), non-empty.
bool IsBase64(std::string_view text);

// What the progress display shows.
struct ProgressView {
  uint64_t done = 0;              // ciphertext lines finished (rewrapped or failed)
  uint64_t failed = 0;            // of those, failed
  std::optional<uint64_t> total;  // ciphertext lines in the input, when known
  absl::Duration elapsed;
};

// One line of progress, at most `width` - 1 columns: with a total, a bar, done/total, percent,
// rate and ETA; without, the count, rate and elapsed time.
std::string FormatProgress(const ProgressView& p, int width);

// "0:07", "12:34", "1:02:03".
std::string FormatClock(absl::Duration d);

// Where a job's lines come from.
class LineSource {
 public:
  virtual ~LineSource() = default;
  // The next line, without its '\n', in `line`; a line longer than kMaxReadLineBytes is cut
  // there and `overlong` set. False at the end of the input, on a read error (status() says which)
  // or after Cancel().
  virtual bool Next(std::string& line, bool& overlong) = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
  // Makes a Next() that is waiting for input return false soon. Thread-safe.
  virtual void Cancel() {}
};

// Lines of a file descriptor (not owned). Waits for input in slices of 200 ms, so that Cancel()
// takes effect on a pipe that stays silent.
class FdLineSource final : public LineSource {
 public:
  explicit FdLineSource(int fd) : fd_(fd) {}
  bool Next(std::string& line, bool& overlong) override;
  absl::Status status() const override { return status_; }
  void Cancel() override { cancelled_ = true; }

 private:
  bool Fill();

  int fd_;
  std::string buffer_ = std::string(64 * 1024, '\0');
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  absl::Status status_;
  std::atomic<bool> cancelled_{false};
};

// Sends one rewrap request body (JSON) over one connection. Called by one thread only.
using SendFn = std::function<absl::StatusOr<net::ClientResponse>(const std::string& body)>;

struct JobOptions {
  size_t batch_size = 100;   // ciphertexts per request, 1..kMaxBatchSize
  int parallel = 4;          // requests in flight, each on its own connection
  std::string context;       // base64, for lines that carry none; "" = none
  uint32_t key_version = 0;  // version of the new ciphertexts; 0 = latest
  int max_attempts = 5;      // per batch, for transport errors, 5xx and 429
  // Waits between attempts (0.5 s, 1 s, 2 s, 4 s); the command sleeps, tests record.
  std::function<void(absl::Duration)> sleep;
  const Clock* clock = nullptr;  // for the progress rate; nullptr = real time
  absl::Duration progress_interval = absl::Milliseconds(100);
  std::optional<uint64_t> total;  // ciphertext lines in the input, when known (for progress)
};

// Called from one thread at a time (the job's writer), in input order.
struct JobCallbacks {
  // Output lines, each ending in '\n'. False: the write failed; the job stops.
  std::function<bool(std::string_view lines)> write;
  // A line that failed: its 1-based number and a short reason (the server's error).
  std::function<void(uint64_t line, std::string_view error)> line_error;
  // Progress, at most every progress_interval and once at the end. May be empty.
  std::function<void(const ProgressView&)> progress;
};

struct JobResult {
  // Not OK: the job stopped early (the message says why) and the output is incomplete.
  absl::Status status;
  uint64_t lines = 0;           // input lines read
  uint64_t lines_written = 0;   // output lines written (all of them when status is OK)
  uint64_t ciphertexts = 0;     // ciphertext (and invalid) lines finished
  uint64_t rewrapped = 0;       // of those, rewrapped
  uint64_t already_latest = 0;  // of the rewrapped, at the new version already before
  uint64_t failed = 0;          // failed: written unchanged
  uint64_t skipped = 0;         // blank and comment lines
  std::map<uint32_t, uint64_t> new_versions;  // version of the new ciphertexts -> count
};

// Runs a rewrap job. Reads `source` on the calling thread, in batches of up to
// `options.batch_size` ciphertexts; `options.parallel` threads send them, each with its own
// SendFn from `make_sender` (called on the calling thread, once per sender thread); one writer
// thread hands results to `callbacks` in input order. Every input line gives one output line: a
// rewrapped ciphertext (with the line's context column kept), or the line unchanged when it is a
// blank, a comment or a failure. A line the server refuses fails alone; a batch refused as a
// whole (403, 404, a request-level 400) or failing `max_attempts` times (transport errors, 5xx,
// 429) stops the job. Only POST transit/rewrap is ever sent: no plaintext is ever received.
JobResult RunRewrapJob(const JobOptions& options, LineSource& source,
                       const std::function<SendFn()>& make_sender, const JobCallbacks& callbacks);

// "2500 ciphertexts: 2499 rewrapped to version 4 (624 were at it already), 1 failed (left
// unchanged); 2 blank or comment lines; 1.3s, 1923/s".
std::string FormatSummary(const JobResult& r, absl::Duration elapsed);

}  // namespace internal
}  // namespace rekey::cli

#endif  // REKEY_CLI_REWRAP_JOB_H_
