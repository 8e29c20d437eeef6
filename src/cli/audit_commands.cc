// `rekey audit verify|tail|search`: offline tools over audit log files. They read the files
// directly (no server, no token): verification needs only the device's public key.
#include "cli/audit_commands.h"

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "audit/device_keys.h"
#include "audit/file_sink.h"
#include "audit/verify.h"
#include "cli/commands.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;

struct AuditArgs {
  std::vector<std::string> files;
  std::string public_key;
  bool no_strict = false;
  bool partial = false;
  int64_t expect_sequence = -1;
  std::string expect_hash;
  int lines = 20;
  bool follow = false;
  std::string path_prefix;
  std::string since;
  std::string type;
  std::string operation;
  int status = 0;
  std::string format = "table";
};

// A file given as "@path" is read; otherwise the text itself.
std::string TextOrFile(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::ifstream in(arg.substr(1));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// The files to read for `file`: its rotated predecessors first when they exist.
std::vector<std::string> Expand(const std::vector<std::string>& files) {
  if (files.size() != 1) return files;
  absl::StatusOr<std::vector<std::string>> chain = audit::AuditFileChain(files[0]);
  if (!chain.ok() || chain->empty()) return files;
  return *chain;
}

int Verify(const AuditArgs& a) {
  audit::VerifyOptions options;
  options.strict = !a.no_strict;
  options.allow_partial_start = a.partial;
  if (!a.public_key.empty()) {
    absl::StatusOr<std::string> key = audit::ParsePublicKey(TextOrFile(a.public_key));
    if (!key.ok()) {
      std::cerr << "Usage error: --public-key: " << key.status().message() << std::endl;
      return kExitUsage;
    }
    options.public_key = *key;
  }
  if (a.expect_sequence >= 0) options.expected_last_sequence = a.expect_sequence;
  if (!a.expect_hash.empty()) options.expected_last_hash = a.expect_hash;
  const std::vector<std::string> files = Expand(a.files);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<audit::VerifyReport> report = audit::Verify(files, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.ok()) {
    std::cerr << "Error: " << report.status().message() << std::endl;
    return kExitServerError;
  }
  if (a.format == "json") {
    json::object o;
    o["ok"] = report->ok();
    o["files"] = report->files;
    o["entries"] = report->entries;
    o["checkpoints"] = report->checkpoints;
    o["first_sequence"] = report->first_sequence;
    o["last_sequence"] = report->last_sequence;
    o["last_hash"] = report->last_hash;
    o["device"] = report->device;
    o["device_id"] = report->device_id;
    o["public_key"] = report->public_key;
    o["closed"] = report->closed;
    o["unsigned_tail"] = report->unsigned_tail;
    json::array warnings;
    for (const std::string& w : report->warnings) warnings.emplace_back(w);
    o["warnings"] = std::move(warnings);
    if (report->first_bad.has_value()) {
      json::object bad;
      bad["file"] = report->first_bad->file;
      bad["line"] = report->first_bad->line;
      bad["sequence"] = report->first_bad->sequence;
      bad["reason"] = report->first_bad->reason;
      o["first_bad"] = std::move(bad);
    }
    std::cout << json::serialize(o) << std::endl;
  } else {
    std::cout << "files          " << report->files << "\n"
              << "entries        " << report->entries << " (sequence " << report->first_sequence
              << " to " << report->last_sequence << ")\n"
              << "checkpoints    " << report->checkpoints << " signatures verified\n"
              << "device         " << report->device << " (" << report->device_id << ")\n"
              << "public key     " << report->public_key
              << (options.public_key.empty() ? " (from the log: pass --public-key to pin it)"
                                             : " (pinned)")
              << "\n"
              << "last hash      " << report->last_hash << "\n"
              << "closed         " << (report->closed ? "yes" : "no") << "\n"
              << "time           "
              << absl::StrFormat("%.2f s (%.0f entries/s)", seconds,
                                 report->entries / std::max(seconds, 1e-9))
              << "\n";
    for (const std::string& w : report->warnings) std::cout << "warning        " << w << "\n";
    if (report->first_bad.has_value()) {
      std::cout << "FIRST BAD      " << report->first_bad->file << " line "
                << report->first_bad->line << " (sequence " << report->first_bad->sequence
                << "): " << report->first_bad->reason << "\n";
    } else {
      std::cout << "result         OK\n";
    }
    std::cout << std::flush;
  }
  return report->ok() ? kExitOk : kExitServerError;
}

// One line as a table row: time, type, operation, path, status, error.
void PrintLine(const std::string& line, const std::string& format) {
  if (format == "json") {
    std::cout << line << "\n";
    return;
  }
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) {
    std::cout << "(unparseable line)\n";
    return;
  }
  const json::object& o = v.get_object();
  auto str = [&](std::string_view k) -> std::string {
    const json::value* f = o.if_contains(k);
    if (f == nullptr) return "";
    return f->is_string() ? std::string(f->get_string()) : json::serialize(*f);
  };
  std::cout << str("sequence") << "  " << str("time") << "  " << str("type") << "  "
            << str("operation") << "  " << str("path");
  if (!str("status").empty()) std::cout << "  " << str("status");
  if (!str("error").empty()) std::cout << "  \"" << str("error") << "\"";
  std::cout << "\n";
}

int Tail(const AuditArgs& a) {
  if (a.files.size() != 1) {
    std::cerr << "Usage error: tail takes one file" << std::endl;
    return kExitUsage;
  }
  std::ifstream in(a.files[0]);
  if (!in) {
    std::cerr << "Error: cannot read " << a.files[0] << std::endl;
    return kExitServerError;
  }
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > a.lines) last.pop_front();
  }
  for (const std::string& l : last) PrintLine(l, a.format);
  std::cout << std::flush;
  if (!a.follow) return kExitOk;
  in.clear();
  for (;;) {  // until interrupted
    if (std::getline(in, line)) {
      if (in.eof()) {  // a partial line: wait for the rest
        in.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      PrintLine(line, a.format);
      std::cout << std::flush;
    } else {
      in.clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

int Search(const AuditArgs& a) {
  absl::Time since = absl::InfinitePast();
  if (!a.since.empty()) {
    absl::Duration ago;
    std::string err;
    if (absl::ParseDuration(ToAbsl(a.since), &ago)) {
      since = absl::Now() - ago;
    } else if (!absl::ParseTime(absl::RFC3339_full, a.since, &since, &err)) {
      std::cerr << "Usage error: --since takes a duration (24h) or an RFC 3339 time" << std::endl;
      return kExitUsage;
    }
  }
  size_t matched = 0;
  for (const std::string& file : Expand(a.files)) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "Error: cannot read " << file << std::endl;
      return kExitServerError;
    }
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      const json::object& o = v.get_object();
      auto str = [&](std::string_view k) -> std::string {
        const json::value* f = o.if_contains(k);
        return f != nullptr && f->is_string() ? std::string(f->get_string()) : "";
      };
      if (!a.path_prefix.empty() && !absl::StartsWith(str("path"), a.path_prefix)) continue;
      if (!a.type.empty() && str("type") != a.type) continue;
      if (!a.operation.empty() && str("operation") != a.operation) continue;
      if (a.status != 0) {
        const json::value* s = o.if_contains("status");
        if (s == nullptr || !s->is_int64() || s->get_int64() != a.status) continue;
      }
      if (since != absl::InfinitePast()) {
        absl::Time t;
        std::string err;
        if (!absl::ParseTime(absl::RFC3339_full, str("time"), &t, &err) || t < since) continue;
      }
      PrintLine(line, a.format);
      ++matched;
    }
  }
  std::cout << std::flush;
  if (a.format != "json") std::cerr << matched << " matching entries" << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand("audit", "Verify, tail and search audit log files");
  audit->require_subcommand(1);
  auto format = [&](CLI::App* cmd) {
    cmd->add_option("--format", args->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
  };

  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the hash chain and checkpoint signatures; report the first bad entry");
  verify
      ->add_option("files", args->files,
                   "Log files, oldest first (one file: with its rotated "
                   "predecessors)")
      ->required();
  verify->add_option("--public-key", args->public_key,
                     "The device's public key (base64 or PEM, or @file), from GET /v1/sys/audit");
  verify->add_flag("--no-strict", args->no_strict,
                   "Accept a log still being written (no close checkpoint at the end)");
  verify->add_flag("--allow-partial-start", args->partial,
                   "The first file need not start the chain (older files deleted)");
  verify->add_option("--expect-sequence", args->expect_sequence,
                     "The log must end at this sequence (head_sequence from GET /v1/sys/audit)");
  verify->add_option("--expect-hash", args->expect_hash, "The log must end with this hash");
  format(verify);
  verify->callback([&exit_code, args] { exit_code = Verify(*args); });

  CLI::App* tail = audit->add_subcommand("tail", "Print the last entries of a log file");
  tail->add_option("file", args->files, "Log file")->required();
  tail->add_option("-n,--lines", args->lines, "How many entries")->check(CLI::Range(1, 1000000));
  tail->add_flag("-f,--follow", args->follow, "Keep printing new entries");
  format(tail);
  tail->callback([&exit_code, args] { exit_code = Tail(*args); });

  CLI::App* search = audit->add_subcommand("search", "Print the entries that match");
  search->add_option("files", args->files, "Log files")->required();
  search->add_option("--path", args->path_prefix, "Path prefix, e.g. secret/data/prod/");
  search->add_option("--since", args->since, "A duration (24h) or an RFC 3339 time");
  search->add_option("--type", args->type, "request, response, event, checkpoint or open");
  search->add_option("--operation", args->operation, "e.g. read, update, rotation.failed");
  search->add_option("--status", args->status, "HTTP status of responses");
  format(search);
  search->callback([&exit_code, args] { exit_code = Search(*args); });
}

}  // namespace rekey::cli
