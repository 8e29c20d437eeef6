// `rekey rotation config|status|history|events` and `rekey rotate`: the client side of the
// native /v1/rotation/ API. Nothing here prints a secret value: runs, statuses and events are
// metadata only, and values are never requested.
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/client.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;
using ::rekey::net::ClientResponse;

constexpr size_t kMaxStatusLimit = 10000;  // the server's bound for ?limit=
constexpr size_t kEventsPage = 1000;
constexpr absl::Duration kFollowWait = absl::Seconds(30);
// The long poll answers after kFollowWait (plus up to a scheduler tick): the request timeout
// must outlast it.
constexpr absl::Duration kFollowTimeout = absl::Seconds(75);

std::string ConfigUrl(const std::string& path) {
  return rekey::StrCat("/v1/rotation/config/", UrlPath(path));
}

// ---- small JSON readers ----------------------------------------------------------------

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return "";
  return v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

bool Bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::string OrDash(std::string s) { return s.empty() ? "-" : s; }

// Reads a whole file, or stdin for "-". Throws UsageError when it cannot be read.
std::string ReadFileArg(const std::string& name) {
  if (name == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) throw UsageError{rekey::StrCat("cannot read file ", name)};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::object ParseObjectArg(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) throw UsageError{rekey::StrCat(what, " is not valid JSON")};
  if (!v.is_object()) throw UsageError{rekey::StrCat(what, " must be a JSON object")};
  return std::move(v.get_object());
}

// k=v: v is taken as JSON when it parses as JSON (numbers, true/false, arrays, objects,
// "quoted strings"), else as a plain string.
std::pair<std::string, json::value> ParseParam(const std::string& pair) {
  const size_t eq = pair.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError{rekey::StrCat("--param takes key=value, got \"", pair.substr(0, 64), "\"")};
  }
  const std::string text = pair.substr(eq + 1);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) v = json::string(text);
  return {pair.substr(0, eq), std::move(v)};
}

// ---- rotation config -----------------------------------------------------------------------

struct ConfigArgs {
  std::string path;
  std::string file;
  std::string rotator;
  std::string schedule;
  std::string window;
  std::string grace;
  std::vector<std::string> params;
  std::string params_json;
  std::string generator_json;
  std::string generator_type;
  int length = 0;
  std::string prefix;
  std::string alphabet;
  std::string encoding;
  std::string exclude_characters;
  bool exclude_numbers = false;
  bool exclude_punctuation = false;
  bool exclude_uppercase = false;
  bool exclude_lowercase = false;
  bool include_space = false;
  bool require_each = true;
  int max_attempts = 0;
  std::string backoff;
  std::string max_backoff;
  std::vector<std::string> notify;
};

json::object& SubObject(json::object& o, std::string_view key, std::string_view what) {
  json::value& v = o[key];
  if (v.is_null()) v = json::object();
  if (!v.is_object()) throw UsageError{rekey::StrCat(what, " in the file is not an object")};
  return v.get_object();
}

// The config JSON from --file (if any) with every flag given laid over it.
json::object BuildConfig(const ConfigArgs& a, const CLI::App& cmd) {
  json::object config;
  if (!a.file.empty()) config = ParseObjectArg(ReadFileArg(a.file), "--file");
  auto given = [&](const char* flag) { return cmd.count(flag) > 0; };
  if (given("--rotator")) config["rotator"] = a.rotator;
  if (given("--schedule")) config["schedule"] = a.schedule;
  if (given("--window")) config["window"] = a.window;
  if (given("--grace")) config["grace"] = a.grace;

  if (given("--params-json")) config["params"] = ParseObjectArg(a.params_json, "--params-json");
  if (!a.params.empty()) {
    json::object& params = SubObject(config, "params", "params");
    for (const std::string& pair : a.params) {
      auto [key, value] = ParseParam(pair);
      params[key] = std::move(value);
    }
  }

  if (given("--generator-json")) {
    config["generator"] = ParseObjectArg(a.generator_json, "--generator-json");
  }
  const bool generator_flags =
      given("--generator-type") || given("--length") || given("--prefix") || given("--alphabet") ||
      given("--encoding") || given("--exclude-characters") || given("--exclude-numbers") ||
      given("--exclude-punctuation") || given("--exclude-uppercase") ||
      given("--exclude-lowercase") || given("--include-space") || given("--require-each-type");
  if (generator_flags) {
    json::object& g = SubObject(config, "generator", "generator");
    if (given("--generator-type")) g["type"] = a.generator_type;
    if (given("--length")) g["length"] = a.length;
    if (given("--prefix")) g["prefix"] = a.prefix;
    if (given("--alphabet")) g["alphabet"] = a.alphabet;
    if (given("--encoding")) g["encoding"] = a.encoding;
    if (given("--exclude-characters")) g["exclude_characters"] = a.exclude_characters;
    if (given("--exclude-numbers")) g["exclude_numbers"] = a.exclude_numbers;
    if (given("--exclude-punctuation")) g["exclude_punctuation"] = a.exclude_punctuation;
    if (given("--exclude-uppercase")) g["exclude_uppercase"] = a.exclude_uppercase;
    if (given("--exclude-lowercase")) g["exclude_lowercase"] = a.exclude_lowercase;
    if (given("--include-space")) g["include_space"] = a.include_space;
    if (given("--require-each-type")) g["require_each_included_type"] = a.require_each;
  }

  if (given("--max-attempts") || given("--backoff") || given("--max-backoff")) {
    json::object& retry = SubObject(config, "retry", "retry");
    if (given("--max-attempts")) retry["max_attempts"] = a.max_attempts;
    if (given("--backoff")) retry["backoff"] = a.backoff;
    if (given("--max-backoff")) retry["max_backoff"] = a.max_backoff;
  }
  if (!a.notify.empty()) {
    json::array urls;
    for (const std::string& url : a.notify) urls.emplace_back(url);
    config["notify"] = std::move(urls);
  }
  if (config.empty()) {
    throw UsageError{"give the config with --file or with flags (at least --rotator)"};
  }
  return config;
}

int ConfigSet(Client& c, const ConfigArgs& a, const CLI::App& cmd) {
  const std::string path = StripMount(a.path);
  const json::object config = BuildConfig(a, cmd);
  auto res = c.Send("PUT", ConfigUrl(path), json::serialize(config));
  if (!res) return kExitServerError;
  if (res->status == 400) {
    std::vector<std::string> errors = ErrorsOf(*res);
    if (errors.size() > 1) {
      std::cerr << "Error: the rotation config of " << path << " has " << errors.size()
                << " problems (HTTP 400):" << std::endl;
      for (const std::string& e : errors) std::cerr << "  " << e << std::endl;
      return kExitServerError;
    }
  }
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Rotation config saved for ", path));
}

int ConfigGet(Client& c, const std::string& raw_path) {
  const std::string path = StripMount(raw_path);
  auto res = c.Send("GET", ConfigUrl(path));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Rotation config of ", path));
}

int ConfigRm(Client& c, const std::string& raw_path) {
  const std::string path = StripMount(raw_path);
  auto res = c.Send("DELETE", ConfigUrl(path));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Rotation config removed from ", path));
}

// ---- runs ----------------------------------------------------------------------------------

// Where a run is, as far as `rekey rotate --wait` cares.
enum class RunState {
  kRunning,    // create, set, test, finish, rollback, retry_wait
  kRotated,    // the new value is current; the old one is in its grace period or being revoked
  kSucceeded,  // ended: succeeded
  kFailed,     // ended: failed
  kAbandoned,  // ended: abandoned
};

RunState StateOf(const json::object& run) {
  const std::string outcome = Str(run, "outcome");
  if (outcome == "succeeded") return RunState::kSucceeded;
  if (outcome == "failed") return RunState::kFailed;
  if (outcome == "abandoned") return RunState::kAbandoned;
  if (!outcome.empty()) return RunState::kFailed;  // an outcome this CLI does not know
  const std::string phase = Str(run, "phase");
  if (phase == "grace" || phase == "revoke") return RunState::kRotated;
  return RunState::kRunning;
}

bool IsFailure(RunState s) { return s == RunState::kFailed || s == RunState::kAbandoned; }

std::string StateText(const json::object& run) {
  switch (StateOf(run)) {
    case RunState::kRunning:
      return rekey::StrCat("running (", Str(run, "phase"), ")");
    case RunState::kRotated:
      return Str(run, "phase") == "grace"
                 ? rekey::StrCat("rotated, grace until ", OrDash(Str(run, "revoke_at")))
                 : std::string("rotated, revoking the old value");
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

// GETs /v1/rotation/runs/PATH?QUERY and returns the first run listed; nullopt after printing
// why there is none.
std::optional<json::object> FirstRun(Client& c, const std::string& path, const std::string& query) {
  auto res = c.Send("GET", rekey::StrCat("/v1/rotation/runs/", UrlPath(path), "?", query));
  if (!res) return std::nullopt;
  if (res->status / 100 != 2) {
    ServerError(*res, path);
    return std::nullopt;
  }
  std::optional<json::value> body = ParseBody(*res);
  const json::object* data = body ? DataOf(*body) : nullptr;
  const json::value* runs = data ? data->if_contains("runs") : nullptr;
  if (runs == nullptr || !runs->is_array() || runs->get_array().empty() ||
      !runs->get_array()[0].is_object()) {
    std::cerr << "Error: the server's answer lists no run of " << path << std::endl;
    return std::nullopt;
  }
  return runs->get_array()[0].get_object();
}

std::optional<json::object> FetchRun(Client& c, const std::string& path, const std::string& id) {
  return FirstRun(c, path, rekey::StrCat("run_id=", UrlQueryValue(id)));
}

std::optional<json::object> NewestRun(Client& c, const std::string& path) {
  return FirstRun(c, path, "limit=1");
}

// Doubles from 100 ms to 1 s: quick for fast rotators, gentle on slow ones.
class PollDelay {
 public:
  void Sleep() {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    ms_ = std::min(ms_ * 2, 1000);
  }

 private:
  int ms_ = 100;
};

void PrintRunTable(const json::object& run) {
  TableRows rows = {
      {"run_id", Str(run, "id")},
      {"path", Str(run, "path")},
      {"trigger", Str(run, "trigger")},
      {"phase", Str(run, "phase")},
      {"state", StateText(run)},
      {"attempt", rekey::StrCat(Int(run, "attempt"), " of ", Int(run, "max_attempts"))},
      {"old_version", Int(run, "old_version") == 0 ? "-" : std::to_string(Int(run, "old_version"))},
      {"new_version",
       Int(run, "pending_version") == 0 ? "-" : std::to_string(Int(run, "pending_version"))},
      {"grace", rekey::StrCat(Int(run, "grace_seconds"), "s")},
      {"created", OrDash(Str(run, "created"))},
  };
  if (!Str(run, "revoke_at").empty()) rows.emplace_back("revoke_at", Str(run, "revoke_at"));
  if (!Str(run, "finished").empty()) rows.emplace_back("finished", Str(run, "finished"));
  if (!Str(run, "error").empty()) rows.emplace_back("error", Str(run, "error"));
  PrintTable(rows);
}

// ---- rekey rotate ----------------------------------------------------------------------------

struct RotateArgs {
  std::string path;
  bool dry_run = false;
  bool incident = false;
  bool wait = false;
  bool due = false;
  std::string prefix;
  int parallel = 4;
};

std::string RotateBody(bool dry_run, bool incident) {
  json::object body;
  if (dry_run) body["dry_run"] = true;
  if (incident) body["incident"] = true;
  return json::serialize(body);
}

int DryRun(Client& c, const std::string& path) {
  auto res =
      c.Send("POST", rekey::StrCat("/v1/rotation/rotate/", UrlPath(path)), RotateBody(true, false));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  std::optional<json::value> body = ParseBody(*res);
  const json::object* data = body ? DataOf(*body) : nullptr;
  if (data == nullptr) {
    std::cerr << "Error: the server's dry-run answer is not a rekey envelope" << std::endl;
    return kExitServerError;
  }
  const bool ok = Bool(*data, "ok");
  if (c.json()) {
    std::cout << res->body << std::endl;
    return ok ? kExitOk : kExitServerError;
  }
  const json::value* problems = data->if_contains("problems");
  const size_t n = problems && problems->is_array() ? problems->get_array().size() : 0;
  if (ok) {
    std::cout << "Dry run of " << path << ": no problems found; nothing was changed." << std::endl;
  } else {
    std::cout << "Dry run of " << path << ": " << n << " problem" << (n == 1 ? "" : "s")
              << " found; nothing was changed." << std::endl;
    for (const json::value& p : problems->get_array()) {
      if (!p.is_object()) continue;
      const std::string field = Str(p.get_object(), "field");
      std::cout << "  - " << (field.empty() ? "" : rekey::StrCat(field, ": "))
                << Str(p.get_object(), "message") << std::endl;
    }
  }
  if (const json::value* plan = data->if_contains("plan"); plan && plan->is_array()) {
    std::cout << "\nA real run would:" << std::endl;
    int i = 1;
    for (const json::value& step : plan->get_array()) {
      std::cout << "  " << i++ << ". " << Scalar(step) << std::endl;
    }
  }
  return ok ? kExitOk : kExitServerError;
}

int RotateOne(Client& c, const RotateArgs& a) {
  const std::string path = StripMount(a.path);
  if (a.dry_run) return DryRun(c, path);
  auto res = c.Send("POST", rekey::StrCat("/v1/rotation/rotate/", UrlPath(path)),
                    RotateBody(false, a.incident));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  std::optional<json::value> body = ParseBody(*res);
  const json::object* run = body ? DataOf(*body) : nullptr;
  if (run == nullptr) {
    std::cerr << "Error: the server's answer is not a rekey envelope" << std::endl;
    return kExitServerError;
  }
  json::object last = *run;
  // An incident rotation asked for during a grace period ends that grace at once; the server
  // answers with the run in grace and starts the incident run when it ends.
  bool queued = a.incident && Str(last, "trigger") != "incident";
  if (!a.wait) {
    if (c.json()) {
      std::cout << res->body << std::endl;
      return kExitOk;
    }
    if (queued) {
      std::cout << "The grace period of run " << Str(last, "id") << " of " << path
                << " ends now; the incident rotation starts as soon as that run ends." << std::endl;
    } else {
      std::cout << "Started rotation of " << path << ": run " << Str(last, "id") << std::endl;
    }
    PrintRunTable(last);
    return kExitOk;
  }
  const bool tty = isatty(STDERR_FILENO) != 0 && !c.json();
  std::string shown_phase;
  PollDelay delay;
  int waited_for_incident = 0;
  while (queued || StateOf(last) == RunState::kRunning) {
    if (tty && Str(last, "phase") != shown_phase) {
      shown_phase = Str(last, "phase");
      std::cerr << "  " << path << ": " << shown_phase << " (attempt " << Int(last, "attempt")
                << ")" << std::endl;
    }
    delay.Sleep();
    std::optional<json::object> next = FetchRun(c, path, Str(last, "id"));
    if (!next) return kExitServerError;
    last = std::move(*next);
    if (queued && StateOf(last) != RunState::kRunning && StateOf(last) != RunState::kRotated) {
      // The run whose grace ended is over: follow the incident run it started.
      std::optional<json::object> newest = NewestRun(c, path);
      if (!newest) return kExitServerError;
      if (Str(*newest, "id") != Str(last, "id")) {
        last = std::move(*newest);
        queued = false;
      } else if (++waited_for_incident > 50) {
        std::cerr << "Error: the incident rotation of " << path << " did not start after run "
                  << Str(last, "id") << " ended" << std::endl;
        return kExitServerError;
      }
    }
  }
  const RunState state = StateOf(last);
  if (c.json()) {
    json::object out;
    out["data"] = last;
    std::cout << json::serialize(out) << std::endl;
    return IsFailure(state) ? kExitServerError : kExitOk;
  }
  if (IsFailure(state)) {
    std::cerr << "Error: rotation of " << path << " " << StateText(last) << ": "
              << OrDash(Str(last, "error")) << std::endl;
  } else {
    std::cout << "Success! " << path << " rotated: version " << Int(last, "pending_version")
              << " is current";
    if (state == RunState::kRotated && Int(last, "old_version") != 0) {
      std::cout << "; version " << Int(last, "old_version") << " stays valid until "
                << OrDash(Str(last, "revoke_at"));
    }
    std::cout << std::endl;
  }
  PrintRunTable(last);
  return IsFailure(state) ? kExitServerError : kExitOk;
}

// One secret of a bulk rotation (--due, --prefix).
struct BulkItem {
  std::string path;
  std::string run_id;
  enum class Kind { kQueued, kRunning, kDone, kSkipped, kError } kind = Kind::kQueued;
  json::object run;  // the last known run
  std::string note;  // why skipped, or the error of a run that could not start
  // An incident rotation that ended `run`'s grace period: follow the run started after it.
  bool await_incident = false;
  int incident_polls = 0;
};

std::string ItemOutcome(const BulkItem& item) {
  switch (item.kind) {
    case BulkItem::Kind::kSkipped:
      return "skipped";
    case BulkItem::Kind::kError:
      return "error";
    case BulkItem::Kind::kQueued:
      return "not started";
    default:
      break;
  }
  switch (StateOf(item.run)) {
    case RunState::kRunning:
      return "running";
    case RunState::kRotated:
      return Str(item.run, "phase") == "grace" ? "rotated (in grace)" : "rotated (revoking)";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

bool ItemFailed(const BulkItem& item) {
  return item.kind == BulkItem::Kind::kError ||
         (item.kind == BulkItem::Kind::kDone && IsFailure(StateOf(item.run)));
}

// Drives a bulk rotation: starts queued items (at most `parallel` unfinished at a time), polls
// them until each reaches its grace period or ends, reports progress on stderr and prints the
// summary. Returns the exit code.
class BulkRotation {
 public:
  BulkRotation(Client& c, std::vector<BulkItem> items, bool incident, int parallel)
      : c_(c),
        items_(std::move(items)),
        incident_(incident),
        parallel_(std::max(parallel, 1)),
        tty_(isatty(STDERR_FILENO) != 0) {}

  int Run() {
    std::deque<size_t> queue;
    std::vector<size_t> running;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].kind == BulkItem::Kind::kQueued) queue.push_back(i);
      if (items_[i].kind == BulkItem::Kind::kRunning) running.push_back(i);
      if (items_[i].kind == BulkItem::Kind::kSkipped) Report(items_[i]);
    }
    PollDelay delay;
    while (!queue.empty() || !running.empty()) {
      while (!queue.empty() && running.size() < static_cast<size_t>(parallel_)) {
        const size_t i = queue.front();
        queue.pop_front();
        Start(items_[i]);
        if (items_[i].kind == BulkItem::Kind::kRunning) {
          running.push_back(i);
        } else {
          Report(items_[i]);
        }
      }
      if (running.empty()) continue;
      delay.Sleep();
      std::vector<size_t> still;
      for (size_t i : running) {
        BulkItem& item = items_[i];
        std::optional<json::object> run = FetchRun(c_, item.path, item.run_id);
        if (!run) {
          item.kind = BulkItem::Kind::kError;
          item.note = "lost track of the run (see the error above); it may still be running";
          Report(item);
          continue;
        }
        item.run = std::move(*run);
        const RunState state = StateOf(item.run);
        if (item.await_incident && state != RunState::kRunning && state != RunState::kRotated) {
          std::optional<json::object> newest = NewestRun(c_, item.path);
          if (newest && Str(*newest, "id") != item.run_id) {
            item.run = std::move(*newest);
            item.run_id = Str(item.run, "id");
            item.await_incident = false;
          } else if (!newest || ++item.incident_polls > 50) {
            item.kind = BulkItem::Kind::kError;
            item.note = "the incident rotation did not start after the run in grace ended";
            Report(item);
            continue;
          }
          still.push_back(i);
        } else if (state == RunState::kRunning ||
                   (item.await_incident && state == RunState::kRotated)) {
          still.push_back(i);
        } else {
          item.kind = BulkItem::Kind::kDone;
          Report(item);
        }
      }
      running = std::move(still);
      if (!running.empty()) Progress(items_[running.front()].path);
    }
    if (tty_) std::cerr << "\r\033[K" << std::flush;
    return Summary();
  }

 private:
  void Start(BulkItem& item) {
    auto res = c_.Send("POST", rekey::StrCat("/v1/rotation/rotate/", UrlPath(item.path)),
                       RotateBody(false, incident_));
    if (!res) {
      item.kind = BulkItem::Kind::kError;
      item.note = "could not reach the server";
      return;
    }
    std::vector<std::string> errors = ErrorsOf(*res);
    if (res->status == 409 &&
        (errors.empty() || errors[0].find("in progress") != std::string::npos)) {
      // Started by someone else (or the scheduler) since the status was read.
      item.kind = BulkItem::Kind::kSkipped;
      item.note = errors.empty() ? std::string("a rotation is in progress") : errors[0];
      return;
    }
    std::optional<json::value> body = ParseBody(*res);
    const json::object* run = body ? DataOf(*body) : nullptr;
    if (res->status / 100 != 2 || run == nullptr) {
      item.kind = BulkItem::Kind::kError;
      item.note = errors.empty() ? rekey::StrCat("the server answered ", res->status) : errors[0];
      return;
    }
    item.kind = BulkItem::Kind::kRunning;
    item.run = *run;
    item.run_id = Str(*run, "id");
    item.await_incident = incident_ && Str(*run, "trigger") != "incident";
    Progress(item.path);
  }

  // One line per finished (or skipped) secret without a TTY; the bar with one.
  void Report(const BulkItem& item) {
    ++finished_;
    if (tty_) {
      Progress(item.path);
      return;
    }
    std::string detail = item.note;
    if (item.kind == BulkItem::Kind::kDone && IsFailure(StateOf(item.run))) {
      detail = Str(item.run, "error");
    }
    std::cerr << "[" << finished_ << "/" << items_.size() << "] " << item.path << ": "
              << ItemOutcome(item)
              << (item.run_id.empty() ? "" : rekey::StrCat(" (run ", item.run_id, ")"))
              << (detail.empty() ? "" : rekey::StrCat(": ", detail)) << std::endl;
  }

  void Progress(const std::string& current) {
    if (!tty_) return;
    constexpr size_t kWidth = 30;
    const size_t total = std::max<size_t>(items_.size(), 1);
    const size_t filled = finished_ * kWidth / total;
    std::string bar(filled, '#');
    bar += std::string(kWidth - filled, '.');
    std::string name = current;
    if (name.size() > 40) name = rekey::StrCat("...", name.substr(name.size() - 37));
    std::cerr << "\r\033[K[" << bar << "] " << finished_ << "/" << items_.size() << "  " << name
              << std::flush;
  }

  int Summary() {
    size_t ok = 0;
    size_t failed = 0;
    size_t skipped = 0;
    for (const BulkItem& item : items_) {
      if (ItemFailed(item)) {
        ++failed;
      } else if (item.kind == BulkItem::Kind::kSkipped) {
        ++skipped;
      } else {
        ++ok;
      }
    }
    if (c_.json()) {
      json::array results;
      for (const BulkItem& item : items_) {
        json::object r;
        r["path"] = item.path;
        r["run_id"] = item.run_id;
        r["outcome"] = ItemOutcome(item);
        r["phase"] = item.run.empty() ? json::value(nullptr) : json::value(Str(item.run, "phase"));
        r["error"] = item.kind == BulkItem::Kind::kDone ? Str(item.run, "error") : item.note;
        results.push_back(std::move(r));
      }
      json::object out;
      out["results"] = std::move(results);
      out["rotated"] = ok;
      out["failed"] = failed;
      out["skipped"] = skipped;
      std::cout << json::serialize(out) << std::endl;
    } else if (items_.empty()) {
      std::cout << "Nothing to rotate: no secret is due." << std::endl;
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const BulkItem& item : items_) {
        std::string error = item.kind == BulkItem::Kind::kDone ? Str(item.run, "error") : item.note;
        rows.push_back({item.path, OrDash(item.run_id), ItemOutcome(item), OrDash(error)});
      }
      PrintColumns({"PATH", "RUN", "OUTCOME", "ERROR"}, rows);
      std::cout << "\n"
                << items_.size() << " secret" << (items_.size() == 1 ? "" : "s") << ": " << ok
                << " rotated, " << failed << " failed, " << skipped << " skipped" << std::endl;
    }
    return failed > 0 ? kExitServerError : kExitOk;
  }

  Client& c_;
  std::vector<BulkItem> items_;
  const bool incident_;
  const int parallel_;
  const bool tty_;
  size_t finished_ = 0;
};

int RotateDue(Client& c) {
  auto res = c.Send("POST", "/v1/rotation/due", "{}");
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "/v1/rotation/due");
  std::optional<json::value> body = ParseBody(*res);
  const json::object* data = body ? DataOf(*body) : nullptr;
  const json::value* runs = data ? data->if_contains("runs") : nullptr;
  if (runs == nullptr || !runs->is_array()) {
    std::cerr << "Error: the server's answer has no list of runs" << std::endl;
    return kExitServerError;
  }
  std::vector<BulkItem> items;
  for (const json::value& r : runs->get_array()) {
    if (!r.is_object()) continue;
    BulkItem item;
    item.path = Str(r.get_object(), "path");
    item.run_id = Str(r.get_object(), "id");
    item.run = r.get_object();
    item.kind = BulkItem::Kind::kRunning;
    items.push_back(std::move(item));
  }
  if (!c.json() && !items.empty()) {
    std::cerr << items.size() << (items.size() == 1 ? " secret was" : " secrets were")
              << " due; waiting for the rotations" << std::endl;
  }
  return BulkRotation(c, std::move(items), false, static_cast<int>(items.size())).Run();
}

int RotatePrefix(Client& c, const RotateArgs& a) {
  const std::string prefix = StripMount(a.prefix);
  // Every configured secret under the prefix, page by page.
  json::array all;
  std::string after;
  for (;;) {
    std::string url = rekey::StrCat("/v1/rotation/status?prefix=", UrlQueryValue(prefix),
                                    "&limit=", kMaxStatusLimit);
    if (!after.empty()) url += rekey::StrCat("&after=", UrlQueryValue(after));
    auto res = c.Send("GET", url);
    if (!res) return kExitServerError;
    if (res->status / 100 != 2) return ServerError(*res, "/v1/rotation/status");
    std::optional<json::value> body = ParseBody(*res);
    const json::object* data = body ? DataOf(*body) : nullptr;
    const json::value* page = data ? data->if_contains("secrets") : nullptr;
    if (page == nullptr || !page->is_array()) {
      std::cerr << "Error: the server's answer has no list of secrets" << std::endl;
      return kExitServerError;
    }
    for (const json::value& s : page->get_array()) all.push_back(s);
    after = Str(*data, "next_after");
    if (after.empty()) break;
  }
  const json::array* secrets = &all;
  std::vector<BulkItem> items;
  for (const json::value& s : *secrets) {
    if (!s.is_object()) continue;
    BulkItem item;
    item.path = Str(s.get_object(), "path");
    const bool ends_grace = a.incident && Str(s.get_object(), "phase") == "grace";
    if (Bool(s.get_object(), "in_progress") && !ends_grace) {
      item.kind = BulkItem::Kind::kSkipped;
      item.run_id = Str(s.get_object(), "active_run");
      item.note = rekey::StrCat("a rotation is already in progress (phase ",
                                OrDash(Str(s.get_object(), "phase")), ")");
    }
    items.push_back(std::move(item));
  }
  if (items.empty() && !c.json()) {
    std::cout << "No secret with a rotation config under \"" << prefix << "\"." << std::endl;
    return kExitOk;
  }
  return BulkRotation(c, std::move(items), a.incident, a.parallel).Run();
}

int Rotate(Client& c, const RotateArgs& a, const CLI::App& cmd) {
  const bool has_path = !a.path.empty();
  const bool has_prefix = cmd.count("--prefix") > 0;
  if (static_cast<int>(has_path) + static_cast<int>(a.due) + static_cast<int>(has_prefix) != 1) {
    throw UsageError{"give exactly one of PATH, --due or --prefix P"};
  }
  if (a.dry_run && !has_path) throw UsageError{"--dry-run works on one PATH"};
  if (a.dry_run && (a.incident || a.wait)) {
    throw UsageError{"--dry-run cannot be combined with --incident or --wait"};
  }
  if (a.due && a.incident) throw UsageError{"--due cannot be combined with --incident"};
  if (a.parallel < 1) throw UsageError{"--parallel must be at least 1"};
  if (has_path) return RotateOne(c, a);
  if (a.due) return RotateDue(c);
  return RotatePrefix(c, a);
}

// ---- status, history, events -----------------------------------------------------------------

std::string StatusState(const json::object& s) {
  if (Bool(s, "in_progress")) return rekey::StrCat("in progress ", OrDash(Str(s, "phase")));
  std::string state;
  if (Bool(s, "failing")) {
    state = rekey::StrCat("failing (", Int(s, "consecutive_failures"), "x)");
  }
  if (Bool(s, "overdue")) state += state.empty() ? "overdue" : ", overdue";
  return state.empty() ? "ok" : state;
}

// How far off a certificate_expires time is, from `now`: "in 12d", "in 5h", "expired 2d ago";
// "-" when the value holds no certificate.
std::string ExpiresIn(const json::object& s, absl::Time now) {
  const std::string text = Str(s, "certificate_expires");
  absl::Time t;
  std::string err;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return "-";
  const absl::Duration left = t - now;
  const absl::Duration d = absl::AbsDuration(left);
  std::string amount;
  if (d >= absl::Hours(48)) {
    amount = rekey::StrCat(absl::ToInt64Hours(d) / 24, "d");
  } else if (d >= absl::Hours(2)) {
    amount = rekey::StrCat(absl::ToInt64Hours(d), "h");
  } else {
    amount = rekey::StrCat(absl::ToInt64Minutes(d), "m");
  }
  return left > absl::ZeroDuration() ? rekey::StrCat("in ", amount)
                                     : rekey::StrCat("expired ", amount, " ago");
}

int Status(Client& c, const std::string& raw_prefix, int limit) {
  const std::string prefix = StripMount(raw_prefix);
  std::string url = rekey::StrCat("/v1/rotation/status?prefix=", UrlQueryValue(prefix));
  if (limit > 0) url += rekey::StrCat("&limit=", limit);
  auto res = c.Send("GET", url);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "/v1/rotation/status");
  if (c.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<json::value> body = ParseBody(*res);
  const json::object* data = body ? DataOf(*body) : nullptr;
  const json::value* secrets = data ? data->if_contains("secrets") : nullptr;
  if (secrets == nullptr || !secrets->is_array()) return ServerError(*res, "/v1/rotation/status");
  if (secrets->get_array().empty()) {
    std::cout << "No secret with a rotation config"
              << (prefix.empty() ? std::string() : rekey::StrCat(" under \"", prefix, "\"")) << "."
              << std::endl;
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  const absl::Time now = absl::Now();  // display only: how far off each expiry is
  for (const json::value& v : secrets->get_array()) {
    if (!v.is_object()) continue;
    const json::object& s = v.get_object();
    rows.push_back({Str(s, "path"), OrDash(Str(s, "rotator")), OrDash(Str(s, "schedule")),
                    OrDash(Str(s, "next_due")), OrDash(Str(s, "last_rotated")), ExpiresIn(s, now),
                    StatusState(s)});
  }
  PrintColumns({"PATH", "ROTATOR", "SCHEDULE", "NEXT DUE", "LAST ROTATED", "EXPIRES", "STATE"},
               rows);
  return kExitOk;
}

int History(Client& c, const std::string& raw_path, int limit) {
  const std::string path = StripMount(raw_path);
  std::string url = rekey::StrCat("/v1/rotation/runs/", UrlPath(path));
  if (limit > 0) url += rekey::StrCat("?limit=", limit);
  auto res = c.Send("GET", url);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  if (c.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<json::value> body = ParseBody(*res);
  const json::object* data = body ? DataOf(*body) : nullptr;
  const json::value* runs = data ? data->if_contains("runs") : nullptr;
  if (runs == nullptr || !runs->is_array()) return ServerError(*res, path);
  bool first = true;
  for (const json::value& v : runs->get_array()) {
    if (!v.is_object()) continue;
    const json::object& run = v.get_object();
    if (!first) std::cout << "\n";
    first = false;
    std::cout << "== Run " << Str(run, "id") << " ==" << std::endl;
    std::string versions = "-";
    if (Int(run, "pending_version") != 0 || Int(run, "old_version") != 0) {
      versions = rekey::StrCat(
          Int(run, "old_version") == 0 ? "none" : std::to_string(Int(run, "old_version")), " -> ",
          Int(run, "pending_version") == 0 ? "none" : std::to_string(Int(run, "pending_version")));
    }
    TableRows rows = {
        {"trigger", rekey::StrCat(Str(run, "trigger"), Bool(run, "incident") ? " (incident)" : "")},
        {"actor", OrDash(Str(run, "actor"))},
        {"state", StateText(run)},
        {"versions", versions},
        {"created", OrDash(Str(run, "created"))},
        {"finished", OrDash(Str(run, "finished"))},
    };
    if (!Str(run, "error").empty()) rows.emplace_back("error", Str(run, "error"));
    PrintTable(rows);
    std::vector<std::vector<std::string>> steps;
    if (const json::value* s = run.if_contains("steps"); s && s->is_array()) {
      for (const json::value& sv : s->get_array()) {
        if (!sv.is_object()) continue;
        const json::object& step = sv.get_object();
        steps.push_back({std::to_string(Int(step, "attempt")), Str(step, "step"),
                         OrDash(Str(step, "started")), OrDash(Str(step, "ended")),
                         Str(step, "result").empty() ? "running" : Str(step, "result"),
                         OrDash(Str(step, "error"))});
      }
    }
    std::cout << "\n";
    if (steps.empty()) {
      std::cout << "(no steps yet)" << std::endl;
    } else {
      PrintColumns({"ATTEMPT", "STEP", "STARTED", "ENDED", "RESULT", "ERROR"}, steps);
    }
  }
  std::cout << std::flush;
  return kExitOk;
}

void PrintEvent(const Client& c, const json::object& e) {
  if (c.json()) {
    std::cout << json::serialize(e) << "\n";
    return;
  }
  std::string line = rekey::StrCat(Int(e, "seq"), "  ", Str(e, "time"), "  ", Str(e, "type"), "  ",
                                   Str(e, "path"));
  if (!Str(e, "run_id").empty()) line += rekey::StrCat("  run ", Str(e, "run_id"));
  if (!Str(e, "step").empty()) line += rekey::StrCat("  step ", Str(e, "step"));
  if (Int(e, "attempt") > 0) line += rekey::StrCat("  attempt ", Int(e, "attempt"));
  if (!Str(e, "message").empty()) line += rekey::StrCat(": ", Str(e, "message"));
  std::cout << line << "\n";
}

int Events(Client& c, uint64_t after, bool follow) {
  if (follow) c.set_timeout(kFollowTimeout);
  bool reached = false;  // the server answered at least once
  int failures = 0;
  for (;;) {
    std::string url = rekey::StrCat("/v1/rotation/events?after=", after, "&limit=", kEventsPage);
    if (follow) url += rekey::StrCat("&wait=", absl::ToInt64Seconds(kFollowWait), "s");
    auto res = c.Send("GET", url);
    if (!res) {
      // Following survives a server restart; a server never reached is an error.
      if (!follow || !reached) return kExitServerError;
      failures = std::min(failures + 1, 5);
      std::this_thread::sleep_for(std::chrono::seconds(failures));
      continue;
    }
    if (res->status / 100 != 2) return ServerError(*res, "/v1/rotation/events");
    reached = true;
    failures = 0;
    std::optional<json::value> body = ParseBody(*res);
    const json::object* data = body ? DataOf(*body) : nullptr;
    const json::value* events = data ? data->if_contains("events") : nullptr;
    if (events == nullptr || !events->is_array()) return ServerError(*res, "/v1/rotation/events");
    size_t n = 0;
    for (const json::value& e : events->get_array()) {
      if (!e.is_object()) continue;
      PrintEvent(c, e.get_object());
      ++n;
    }
    std::cout << std::flush;
    const uint64_t last = static_cast<uint64_t>(Int(*data, "last_seq"));
    if (last > after) after = last;
    if (!follow && n < kEventsPage) return kExitOk;
  }
}

}  // namespace

void RegisterRotationCommands(CLI::App& app, std::shared_ptr<Client> client, int& exit_code) {
  CLI::App* rotation =
      app.add_subcommand("rotation", "Rotation configs, status, history and events");
  rotation->require_subcommand(1);

  // rotation config set|get|rm
  CLI::App* config = rotation->add_subcommand("config", "Set, show or remove a rotation config");
  config->require_subcommand(1);

  auto cargs = std::make_shared<ConfigArgs>();
  CLI::App* set = config->add_subcommand(
      "set", "Set a secret's rotation config from flags and/or --file (the server checks it)");
  set->add_option("path", cargs->path, "Secret path, e.g. prod/db")->required();
  set->add_option("--file", cargs->file,
                  "Config JSON file ('-' = stdin); flags given override its fields");
  set->add_option(
      "--rotator", cargs->rotator,
      "Rotator name: generic, http, exec, postgres, mysql, redis, pki, acme, transit, jwt");
  set->add_option("--schedule", cargs->schedule,
                  "rate(30d), cron(0 3 * * *), before_expiry(14d), at_fraction(2/3)");
  set->add_option("--window", cargs->window, "How late a due rotation may still start, e.g. 2h");
  set->add_option("--grace", cargs->grace, "How long the old value stays valid, e.g. 1h");
  set->add_option("--param", cargs->params,
                  "Rotator parameter key=value (repeatable); a JSON value is taken as JSON");
  set->add_option("--params-json", cargs->params_json, "All rotator parameters as a JSON object");
  set->add_option("--generator-json", cargs->generator_json, "The generator as a JSON object");
  set->add_option("--generator-type", cargs->generator_type, "password | api_key | bytes | uuid");
  set->add_option("--length", cargs->length, "Generator length (characters, or bytes)");
  set->add_option("--prefix", cargs->prefix, "api_key generator: prefix, e.g. sk_live_");
  set->add_option("--alphabet", cargs->alphabet, "api_key generator: base62 | hex");
  set->add_option("--encoding", cargs->encoding, "bytes generator: hex | base64 | base64url");
  set->add_option("--exclude-characters", cargs->exclude_characters,
                  "password generator: characters never to use");
  set->add_flag("--exclude-numbers", cargs->exclude_numbers, "password generator: no digits");
  set->add_flag("--exclude-punctuation", cargs->exclude_punctuation,
                "password generator: no punctuation");
  set->add_flag("--exclude-uppercase", cargs->exclude_uppercase,
                "password generator: no uppercase");
  set->add_flag("--exclude-lowercase", cargs->exclude_lowercase,
                "password generator: no lowercase");
  set->add_flag("--include-space", cargs->include_space, "password generator: allow spaces");
  set->add_flag("--require-each-type{true},--no-require-each-type{false}", cargs->require_each,
                "password generator: at least one character of each included type");
  set->add_option("--max-attempts", cargs->max_attempts, "Attempts before a run fails (1-20)");
  set->add_option("--backoff", cargs->backoff, "Wait before attempt 2, doubled after, e.g. 30s");
  set->add_option("--max-backoff", cargs->max_backoff, "Longest wait between attempts");
  set->add_option("--notify", cargs->notify, "Webhook URL told about events (repeatable)");
  set->callback(Guard(exit_code, [=] { return ConfigSet(*client, *cargs, *set); }));

  auto path = std::make_shared<std::string>();
  CLI::App* get = config->add_subcommand("get", "Show a secret's rotation config");
  get->add_option("path", *path, "Secret path")->required();
  get->callback(Guard(exit_code, [=] { return ConfigGet(*client, *path); }));

  CLI::App* rm = config->add_subcommand("rm", "Remove a secret's rotation config");
  rm->add_option("path", *path, "Secret path")->required();
  rm->callback(Guard(exit_code, [=] { return ConfigRm(*client, *path); }));

  // rotation status|history|events
  auto prefix = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(0);
  CLI::App* status =
      rotation->add_subcommand("status", "Per secret: schedule, next due, last rotated, state");
  status->add_option("--prefix", *prefix, "Only secrets whose path starts with this");
  status->add_option("--limit", *limit, "At most this many secrets (server default 1000)")
      ->check(CLI::Range(1, 10000));
  status->callback(Guard(exit_code, [=] { return Status(*client, *prefix, *limit); }));

  CLI::App* history = rotation->add_subcommand("history", "A secret's runs with their steps");
  history->add_option("path", *path, "Secret path")->required();
  history->add_option("--limit", *limit, "At most this many runs, newest first (default 20)")
      ->check(CLI::Range(1, 10000));
  history->callback(Guard(exit_code, [=] { return History(*client, *path, *limit); }));

  auto after = std::make_shared<uint64_t>(0);
  auto follow = std::make_shared<bool>(false);
  CLI::App* events = rotation->add_subcommand("events", "Rotation events, oldest first");
  events->add_option("--after", *after, "Only events after this sequence number");
  events->add_flag("--follow,-f", *follow, "Keep waiting for new events (until interrupted)");
  events->callback(Guard(exit_code, [=] { return Events(*client, *after, *follow); }));

  // rotate
  auto rargs = std::make_shared<RotateArgs>();
  CLI::App* rotate = app.add_subcommand(
      "rotate", "Rotate a secret now (PATH), everything due (--due), or a prefix (--prefix P)");
  rotate->add_option("path", rargs->path, "Secret path");
  rotate->add_flag("--dry-run", rargs->dry_run,
                   "Check the config and the target, change nothing, show the plan");
  rotate->add_flag("--incident", rargs->incident, "No grace: revoke the old value right away");
  rotate->add_flag("--wait", rargs->wait,
                   "Wait until the new value is current (grace) or the run ends");
  rotate->add_flag("--due", rargs->due, "Rotate every secret that is due now, and wait");
  rotate->add_option("--prefix", rargs->prefix,
                     "Rotate every configured secret under this prefix, and wait");
  rotate->add_option("--parallel", rargs->parallel,
                     "With --prefix: at most this many rotations in flight (default 4)");
  rotate->callback(Guard(exit_code, [=] { return Rotate(*client, *rargs, *rotate); }));
}

}  // namespace rekey::cli
