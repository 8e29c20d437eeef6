#include "cli/rewrap_job.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {
namespace internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kPrefix = "vault:v";

std::string_view TrimBlank(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable ASCII without space: all a transit ciphertext is made of.
bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

InputLine Invalid(std::string error) {
  InputLine out;
  out.kind = InputLine::Kind::kInvalid;
  out.error = std::move(error);
  return out;
}

std::string Rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1fM/s", per_second / 1e6);
  } else if (per_second >= 1e4) {
    std::snprintf(buf, sizeof(buf), "%.0fk/s", per_second / 1e3);
  } else if (per_second >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk/s", per_second / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f/s", per_second);
  }
  return buf;
}

std::string Fit(std::string s, int width) {
  if (width > 1 && s.size() > static_cast<size_t>(width - 1)) s.resize(width - 1);
  return s;
}

}  // namespace

bool IsBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  size_t pad = 0;
  while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

InputLine ParseLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineBytes) {
    return Invalid(rekey::StrCat("longer than ", kMaxLineBytes, " bytes"));
  }
  const std::string_view body = TrimBlank(line);
  InputLine out;
  if (body.empty()) return out;  // kBlank
  if (body.front() == '#') {
    out.kind = InputLine::Kind::kComment;
    return out;
  }
  const size_t tab = body.find('\t');
  const std::string_view ciphertext = TrimBlank(body.substr(0, tab));
  std::string_view context;
  if (tab != std::string_view::npos) {
    context = TrimBlank(body.substr(tab + 1));
    if (context.find_first_of(" \t") != std::string_view::npos) {
      return Invalid("expected CIPHERTEXT or CIPHERTEXT<TAB>CONTEXT");
    }
    if (!context.empty() && !IsBase64(context)) return Invalid("the context is not base64");
  }
  // vault:v<N>:<payload>, N a version (1 .. 2^32-1).
  constexpr std::string_view kShape = "not a transit ciphertext (expected vault:v<N>:...)";
  if (ciphertext.substr(0, kPrefix.size()) != kPrefix || !IsPrintable(ciphertext)) {
    return Invalid(std::string(kShape));
  }
  size_t i = kPrefix.size();
  uint64_t version = 0;
  while (i < ciphertext.size() && ciphertext[i] >= '0' && ciphertext[i] <= '9' &&
         i - kPrefix.size() < 10) {
    version = version * 10 + static_cast<uint64_t>(ciphertext[i] - '0');
    ++i;
  }
  if (i == kPrefix.size() || i >= ciphertext.size() || ciphertext[i] != ':' ||
      i + 1 == ciphertext.size() || version == 0 ||
      version > std::numeric_limits<uint32_t>::max()) {
    return Invalid(std::string(kShape));
  }
  out.kind = InputLine::Kind::kCiphertext;
  out.ciphertext = std::string(ciphertext);
  out.context = std::string(context);
  if (tab != std::string_view::npos) out.suffix = rekey::StrCat("\t", context);
  out.version = static_cast<uint32_t>(version);
  return out;
}

std::string FormatClock(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 0) s = 0;
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

std::string FormatProgress(const ProgressView& p, int width) {
  const double seconds = absl::ToDoubleSeconds(p.elapsed);
  const double rate = seconds > 0 ? static_cast<double>(p.done) / seconds : 0;
  const std::string rate_text = seconds > 0 ? Rate(rate) : "-/s";
  const std::string failed = p.failed > 0 ? rekey::StrCat("  ", p.failed, " failed") : "";
  if (!p.total.has_value()) {
    return Fit(
        rekey::StrCat(p.done, " ciphertexts  ", rate_text, "  ", FormatClock(p.elapsed), failed),
        width);
  }
  const uint64_t total = *p.total;
  const uint64_t done = std::min(p.done, total);
  const uint64_t percent = total == 0 ? 100 : done * 100 / total;
  std::string eta = "--:--";
  if (done >= total) {
    eta = "0:00";
  } else if (rate > 0) {
    eta = FormatClock(absl::Seconds(static_cast<double>(total - done) / rate));
  }
  const std::string right = rekey::StrCat(" ", p.done, "/", total, "  ", percent, "%  ", rate_text,
                                          "  ETA ", eta, failed);
  int bar = width - 1 - static_cast<int>(right.size()) - 2;
  bar = std::min(bar, 40);
  if (bar < 10) return Fit(right.substr(1), width);
  const int filled = total == 0 ? bar : static_cast<int>(static_cast<uint64_t>(bar) * done / total);
  return rekey::StrCat("[", std::string(filled, '#'), std::string(bar - filled, '.'), "]", right);
}

std::string FormatSummary(const JobResult& r, absl::Duration elapsed) {
  std::string out =
      rekey::StrCat(r.ciphertexts, r.ciphertexts == 1 ? " ciphertext" : " ciphertexts");
  if (r.ciphertexts > 0) {
    out += rekey::StrCat(": ", r.rewrapped, " rewrapped");
    if (r.new_versions.size() == 1) {
      out += rekey::StrCat(" to version ", r.new_versions.begin()->first);
    } else if (r.new_versions.size() > 1) {
      out += " to versions ";
      bool first = true;
      for (const auto& [version, count] : r.new_versions) {
        out += rekey::StrCat(first ? "" : ", ", version, " (", count, ")");
        first = false;
      }
    }
    if (r.already_latest > 0) out += rekey::StrCat(" (", r.already_latest, " were at it already)");
    if (r.failed > 0) out += rekey::StrCat(", ", r.failed, " failed (left unchanged)");
  }
  if (r.skipped > 0) {
    out += rekey::StrCat("; ", r.skipped,
                         r.skipped == 1 ? " blank or comment line" : " blank or comment lines");
  }
  char time[64];
  std::snprintf(time, sizeof(time), "; %.1fs", absl::ToDoubleSeconds(elapsed));
  out += time;
  if (r.ciphertexts > 0 && elapsed > absl::ZeroDuration()) {
    out += rekey::StrCat(", ",
                         Rate(static_cast<double>(r.ciphertexts) / absl::ToDoubleSeconds(elapsed)));
  }
  return out;
}

// --- FdLineSource --------------------------------------------------------------------------

bool FdLineSource::Fill() {
  pos_ = end_ = 0;
  if (eof_ || !status_.ok()) return false;
  for (;;) {
    if (cancelled_) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    if (ready < 0 && errno != EINTR) {
      status_ = absl::InternalError(rekey::StrCat("reading the input: ", std::strerror(errno)));
      return false;
    }
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      status_ = absl::InternalError(rekey::StrCat("reading the input: ", std::strerror(errno)));
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ = static_cast<size_t>(n);
    return true;
  }
}

bool FdLineSource::Next(std::string& line, bool& overlong) {
  line.clear();
  overlong = false;
  bool any = false;
  for (;;) {
    if (pos_ == end_ && !Fill()) return any && status_.ok() && !cancelled_;
    any = true;
    const char* start = buffer_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    const size_t len = nl != nullptr ? static_cast<size_t>(nl - start) : end_ - pos_;
    const size_t room = kMaxReadLineBytes - std::min(kMaxReadLineBytes, line.size());
    if (len > room) overlong = true;
    line.append(start, std::min(len, room));
    pos_ += len;
    if (nl != nullptr) {
      ++pos_;
      return true;
    }
  }
}

// --- the job -------------------------------------------------------------------------------

namespace {

// A run of consecutive input lines, sent as one request (its ciphertext lines) and written as
// one chunk.
struct Batch {
  uint64_t seq = 0;
  uint64_t first_line = 0;  // 1-based number of raw[0]
  std::vector<std::string> raw;
  std::vector<InputLine> parsed;
  size_t items = 0;  // ciphertext lines
  size_t bytes = 0;  // about the request body's size

  // Filled by a sender.
  std::string output;
  std::vector<std::pair<uint64_t, std::string>> errors;  // line number, reason
  uint64_t ciphertexts = 0, rewrapped = 0, already = 0, failed = 0, skipped = 0;
  std::map<uint32_t, uint64_t> versions;
};

struct ItemResult {
  bool ok = false;
  std::string ciphertext;
  uint32_t version = 0;
  std::string error;
};

struct Reply {
  enum class Kind { kOk, kRetry, kFatal };
  Kind kind = Kind::kFatal;
  std::string message;
  std::vector<ItemResult> items;
};

std::string Shorten(std::string s) {
  constexpr size_t kMax = 300;
  if (s.size() > kMax) s = rekey::StrCat(s.substr(0, kMax), "...");
  return s;
}

Reply Fatal(std::string message) { return Reply{Reply::Kind::kFatal, std::move(message), {}}; }

Reply ParseReply(const absl::StatusOr<net::ClientResponse>& res, const Batch& b) {
  if (!res.ok()) {
    Reply r{Reply::Kind::kRetry, std::string(ToStd(res.status().message())), {}};
    if (res.status().code() == absl::StatusCode::kInvalidArgument) r.kind = Reply::Kind::kFatal;
    return r;
  }
  const int status = res->status;
  boost::system::error_code ec;
  const json::value v = json::parse(res->body, ec);
  std::string error;
  if (!ec && v.is_object()) {
    if (const json::value* e = v.get_object().if_contains("errors"); e && e->is_array()) {
      for (const json::value& item : e->get_array()) {
        if (item.is_string() && error.empty()) error = std::string(item.get_string());
      }
    }
  }
  const std::string http = rekey::StrCat(" (HTTP ", status, ")");
  if (status == 429 || status >= 500) {
    return Reply{Reply::Kind::kRetry,
                 rekey::StrCat(error.empty() ? "the server answered with an error" : error, http),
                 {}};
  }
  const json::object* data = ec ? nullptr : DataOf(v);
  const json::value* results = data != nullptr ? data->if_contains("batch_results") : nullptr;
  if ((status == 200 || status == 400) && results != nullptr && results->is_array()) {
    const json::array& items = results->get_array();
    if (items.size() != b.items) {
      return Fatal(rekey::StrCat("the server answered ", items.size(), " results for ", b.items,
                                 " ciphertexts"));
    }
    Reply r{Reply::Kind::kOk, "", {}};
    r.items.reserve(items.size());
    size_t k = 0;
    for (size_t i = 0; i < b.parsed.size(); ++i) {
      if (b.parsed[i].kind != InputLine::Kind::kCiphertext) continue;
      const json::value& item = items[k++];
      if (!item.is_object()) return Fatal("the server's answer has a result that is not an object");
      const json::object& o = item.get_object();
      if (const json::value* ref = o.if_contains("reference"); ref && ref->is_string()) {
        if (ref->get_string() != std::to_string(b.first_line + i).c_str()) {
          return Fatal("the server's answer has its results out of order");
        }
      }
      ItemResult out;
      const json::value* err = o.if_contains("error");
      if (err != nullptr && err->is_string() && !err->get_string().empty()) {
        out.error = Shorten(std::string(err->get_string()));
        r.items.push_back(std::move(out));
        continue;
      }
      const json::value* ct = o.if_contains("ciphertext");
      const json::value* version = o.if_contains("key_version");
      if (ct == nullptr || !ct->is_string() || version == nullptr || !version->is_number()) {
        return Fatal("the server's answer has a result without ciphertext or key_version");
      }
      boost::system::error_code vec;
      const uint64_t ver = version->to_number<uint64_t>(vec);
      const std::string_view text(ct->get_string().data(), ct->get_string().size());
      if (vec || ver == 0 || ver > std::numeric_limits<uint32_t>::max() ||
          text.substr(0, kPrefix.size()) != kPrefix || !IsPrintable(text)) {
        return Fatal("the server's answer has a malformed ciphertext or key_version");
      }
      out.ok = true;
      out.ciphertext = std::string(text);
      out.version = static_cast<uint32_t>(ver);
      r.items.push_back(std::move(out));
    }
    return r;
  }
  if (status / 100 == 2) {
    return Fatal(rekey::StrCat("unexpected answer from the server: no batch_results", http));
  }
  if (error.empty()) {
    if (status == 403) {
      error = "permission denied";
    } else if (status == 404) {
      error = "not found";
    } else if (status == 413) {
      error = "the request is too large for the server (use a smaller --batch-size)";
    } else {
      error = "the server answered with an error";
    }
  }
  return Fatal(rekey::StrCat(Shorten(error), http));
}

std::string BuildBody(const Batch& b, const JobOptions& options) {
  json::array items;
  items.reserve(b.items);
  for (size_t i = 0; i < b.parsed.size(); ++i) {
    const InputLine& in = b.parsed[i];
    if (in.kind != InputLine::Kind::kCiphertext) continue;
    json::object item;
    item["ciphertext"] = in.ciphertext;
    const std::string& context = in.context.empty() ? options.context : in.context;
    if (!context.empty()) item["context"] = context;
    if (options.key_version != 0) item["key_version"] = options.key_version;
    item["reference"] = std::to_string(b.first_line + i);
    items.push_back(std::move(item));
  }
  json::object body;
  body["batch_input"] = std::move(items);
  return json::serialize(body);
}

// The output chunk and counts of a batch, from the server's per-item results (empty when the
// batch has no ciphertext lines).
void Finish(Batch& b, const std::vector<ItemResult>& results) {
  size_t k = 0;
  for (size_t i = 0; i < b.parsed.size(); ++i) {
    const InputLine& in = b.parsed[i];
    std::string_view raw = b.raw[i];
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    switch (in.kind) {
      case InputLine::Kind::kBlank:
        ++b.skipped;
        break;
      case InputLine::Kind::kComment:
        ++b.skipped;
        b.output += raw;
        break;
      case InputLine::Kind::kInvalid:
        ++b.ciphertexts;
        ++b.failed;
        b.errors.emplace_back(b.first_line + i, in.error);
        b.output += raw;
        break;
      case InputLine::Kind::kCiphertext: {
        const ItemResult& r = results[k++];
        ++b.ciphertexts;
        if (r.ok) {
          ++b.rewrapped;
          ++b.versions[r.version];
          if (r.version == in.version) ++b.already;
          b.output += r.ciphertext;
          b.output += in.suffix;
        } else {
          ++b.failed;
          b.errors.emplace_back(b.first_line + i, r.error);
          b.output += raw;
        }
        break;
      }
    }
    b.output += '\n';
  }
  b.raw = {};
  b.parsed = {};
}

absl::Duration Backoff(int attempt) {
  return std::min(absl::Milliseconds(500) * (1 << std::min(attempt - 1, 4)), absl::Seconds(4));
}

class Job {
 public:
  Job(const JobOptions& options, LineSource& source, const JobCallbacks& callbacks)
      : options_(options),
        source_(source),
        callbacks_(callbacks),
        clock_(options.clock != nullptr ? *options.clock : real_clock_),
        limit_(static_cast<size_t>(options.parallel) * 2 + 2) {}

  JobResult Run(const std::function<SendFn()>& make_sender) {
    start_ = clock_.Now();
    std::vector<SendFn> senders;
    for (int i = 0; i < options_.parallel; ++i) senders.push_back(make_sender());
    std::vector<std::thread> threads;
    for (SendFn& send : senders) {
      threads.emplace_back([this, &send] { Sender(send); });
    }
    std::thread writer([this] { Writer(); });
    Reader();
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads) t.join();
    writer.join();
    std::lock_guard<std::mutex> lock(mu_);
    result_.status = abort_;
    return result_;
  }

 private:
  void Abort(absl::Status status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (aborted_) return;
      abort_ = std::move(status);
      aborted_ = true;
      aborted_flag_ = true;
    }
    source_.Cancel();
    cv_.notify_all();
  }

  void Reader() {
    std::unique_ptr<Batch> batch;
    std::string line;
    bool overlong = false;
    uint64_t line_no = 0;
    while (!aborted_flag_ && source_.Next(line, overlong)) {
      ++line_no;
      if (overlong) {
        Abort(absl::InvalidArgumentError(
            rekey::StrCat("line ", line_no, " is longer than ", kMaxReadLineBytes,
                          " bytes: is this a file of ciphertexts, one per line?")));
        break;
      }
      InputLine in = ParseLine(line);
      const bool item = in.kind == InputLine::Kind::kCiphertext;
      const size_t cost =
          item ? in.ciphertext.size() + in.context.size() + options_.context.size() + 64 : 0;
      if (batch != nullptr && ((item && (batch->items == options_.batch_size ||
                                         batch->bytes + cost > kMaxBatchBytes)) ||
                               batch->raw.size() == kMaxBatchLines)) {
        Submit(std::move(batch));
      }
      if (batch == nullptr) {
        batch = std::make_unique<Batch>();
        batch->first_line = line_no;
      }
      if (item) ++batch->items;
      batch->bytes += cost;
      batch->raw.push_back(std::move(line));
      batch->parsed.push_back(std::move(in));
      line = std::string();
    }
    if (!source_.status().ok()) Abort(source_.status());
    if (batch != nullptr && !aborted_flag_) Submit(std::move(batch));
    std::lock_guard<std::mutex> lock(mu_);
    result_.lines = line_no;
  }

  void Submit(std::unique_ptr<Batch> batch) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return aborted_ || in_flight_ < limit_; });
    if (aborted_) return;
    batch->seq = submitted_++;
    ++in_flight_;
    queue_.push_back(std::move(batch));
    lock.unlock();
    cv_.notify_all();
  }

  void Sender(SendFn& send) {
    for (;;) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return aborted_ || closed_ || !queue_.empty(); });
        if (aborted_ || queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!Process(*batch, send)) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_[batch->seq] = std::move(batch);
      }
      cv_.notify_all();
    }
  }

  // Sends the batch (retrying) and fills its output; false when the job is stopping.
  bool Process(Batch& b, SendFn& send) {
    if (b.items == 0) {
      Finish(b, {});
      return true;
    }
    const std::string body = BuildBody(b, options_);
    const uint64_t last_line = b.first_line + b.raw.size() - 1;
    const std::string where = b.first_line == last_line
                                  ? rekey::StrCat("line ", b.first_line)
                                  : rekey::StrCat("lines ", b.first_line, "-", last_line);
    for (int attempt = 1;; ++attempt) {
      if (aborted_flag_) return false;
      const Reply reply = ParseReply(send(body), b);
      if (reply.kind == Reply::Kind::kOk) {
        Finish(b, reply.items);
        return true;
      }
      if (reply.kind == Reply::Kind::kFatal) {
        Abort(absl::FailedPreconditionError(rekey::StrCat(where, ": ", reply.message)));
        return false;
      }
      if (attempt >= options_.max_attempts) {
        Abort(absl::UnavailableError(
            rekey::StrCat(where, ": giving up after ", attempt, " attempts: ", reply.message)));
        return false;
      }
      if (options_.sleep) options_.sleep(Backoff(attempt));
    }
  }

  void Progress() {
    if (!callbacks_.progress) return;
    ProgressView p;
    p.done = result_.ciphertexts;
    p.failed = result_.failed;
    p.total = options_.total;
    p.elapsed = clock_.Now() - start_;
    callbacks_.progress(p);
  }

  void Writer() {
    const auto interval = absl::ToChronoNanoseconds(options_.progress_interval);
    absl::Time last_progress = clock_.Now();
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, interval, [&] {
        return aborted_ || done_.count(written_) > 0 || (closed_ && written_ == submitted_);
      });
      while (!aborted_) {
        auto it = done_.find(written_);
        if (it == done_.end()) break;
        std::unique_ptr<Batch> b = std::move(it->second);
        done_.erase(it);
        lock.unlock();
        for (const auto& [line, error] : b->errors) {
          if (callbacks_.line_error) callbacks_.line_error(line, error);
        }
        const bool ok = callbacks_.write(b->output);
        if (ok) {
          result_.lines_written += b->ciphertexts + b->skipped;
          result_.ciphertexts += b->ciphertexts;
          result_.rewrapped += b->rewrapped;
          result_.already_latest += b->already;
          result_.failed += b->failed;
          result_.skipped += b->skipped;
          for (const auto& [version, count] : b->versions) result_.new_versions[version] += count;
        }
        b.reset();
        if (!ok) {
          Abort(absl::InternalError("writing the output failed"));
          lock.lock();
          break;
        }
        lock.lock();
        ++written_;
        --in_flight_;
        cv_.notify_all();
      }
      const bool finished = aborted_ || (closed_ && written_ == submitted_);
      const absl::Time now = clock_.Now();
      if (finished || now - last_progress >= options_.progress_interval) {
        last_progress = now;
        lock.unlock();
        Progress();
        lock.lock();
      }
      if (finished) return;
    }
  }

  const JobOptions& options_;
  LineSource& source_;
  const JobCallbacks& callbacks_;
  RealClock real_clock_;
  const Clock& clock_;
  const size_t limit_;  // batches between the reader and the writer
  absl::Time start_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> queue_;         // GUARDED_BY(mu_)
  std::map<uint64_t, std::unique_ptr<Batch>> done_;  // GUARDED_BY(mu_)
  uint64_t submitted_ = 0;                           // GUARDED_BY(mu_)
  uint64_t written_ = 0;                             // GUARDED_BY(mu_)
  size_t in_flight_ = 0;                             // GUARDED_BY(mu_)
  bool closed_ = false;                              // GUARDED_BY(mu_)
  bool aborted_ = false;                             // GUARDED_BY(mu_)
  absl::Status abort_;                               // GUARDED_BY(mu_)
  std::atomic<bool> aborted_flag_{false};
  JobResult result_;  // counts: the writer's; lines: the reader's; read after the joins
};

}  // namespace

JobResult RunRewrapJob(const JobOptions& options, LineSource& source,
                       const std::function<SendFn()>& make_sender, const JobCallbacks& callbacks) {
  Job job(options, source, callbacks);
  return job.Run(make_sender);
}

}  // namespace internal
}  // namespace rekey::cli
