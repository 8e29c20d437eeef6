// Audit trail throughput: verification rate (in memory and from a file), and append rate through
// the group commit on a file with each fsync policy, single- and multi-threaded.
//
//   audit_verify_bench [--entries N] [--dir DIR] [--only-memory-append]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "audit/file_sink.h"
#include "audit/testing/fault_sink.h"
#include "audit/testing/test_log.h"
#include "audit/verify.h"
#include "core/clock.h"

namespace rekey::audit {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Die(const absl::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  std::exit(1);
}

AuditEntry BenchEntry(int i) {
  AuditEntry e = testing::RequestEntry(i);
  e.status = 200;
  return e;
}

// Appends `total` entries from `threads` threads to a file log; returns entries/s.
double AppendRate(const std::string& path, FsyncPolicy policy, int threads, int total,
                  const DeviceKeys& keys, const Clock& clock) {
  unlink(path.c_str());
  FileAuditSinkOptions options;
  options.fsync = policy;
  auto sink = FileAuditSink::Open(path, options, clock);
  if (!sink.ok()) Die(sink.status());
  auto log = AuditLog::Open(testing::TestOptions(), keys, std::move(*sink), clock);
  if (!log.ok()) Die(log.status());
  std::atomic<int> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        absl::Status s = (*log)->Append(BenchEntry(i));
        if (!s.ok()) Die(s);
      }
    });
  }
  for (auto& w : workers) w.join();
  double secs = Seconds(start);
  if (absl::Status s = (*log)->Close(); !s.ok()) Die(s);
  VerifyOptions vo;
  vo.public_key = (*log)->public_key();
  auto report = Verify({path}, vo);
  if (!report.ok() || !report->ok()) {
    std::fprintf(stderr, "error: the benchmark log does not verify\n");
    std::exit(1);
  }
  unlink(path.c_str());
  return total / secs;
}

int Main(int argc, char** argv) {
  int entries = 1'000'000;
  std::string dir = "/tmp";
  bool only_memory_append = false;  // for profiling the append path
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--only-memory-append") == 0) only_memory_append = true;
    if (i + 1 >= argc) break;
    if (std::strcmp(argv[i], "--entries") == 0)
      entries = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--dir") == 0)
      dir = argv[++i];
  }
  DeviceKeys keys = testing::TestKeys();
  RealClock clock;

  // Generate in memory (single thread, no fsync).
  auto state = std::make_shared<testing::MemorySinkState>();
  auto start = std::chrono::steady_clock::now();
  {
    auto log = testing::OpenMemoryLog(state, keys, clock);
    if (!log.ok()) Die(log.status());
    for (int i = 0; i < entries; ++i) {
      if (absl::Status s = (*log)->Append(BenchEntry(i)); !s.ok()) Die(s);
    }
    if (absl::Status s = (*log)->Close(); !s.ok()) Die(s);
  }
  double gen = Seconds(start);
  std::string data = state->TakeCommitted();
  std::printf(
      "append, memory sink, 1 thread: %d entries in %.2f s = %.0f entries/s (%.0f B/line)\n",
      entries, gen, entries / gen, static_cast<double>(data.size()) / entries);
  if (only_memory_append) return 0;

  VerifyOptions vo;
  vo.public_key = *keys.PublicKey();
  double best = 1e9;
  VerifyReport report;
  for (int round = 0; round < 3; ++round) {
    start = std::chrono::steady_clock::now();
    report = VerifyBuffer("mem", data, vo);
    best = std::min(best, Seconds(start));
  }
  if (!report.ok()) Die(absl::DataLossError(report.first_bad->reason));
  std::printf(
      "verify, in memory: %llu entries, %llu checkpoints in %.3f s = %.0f entries/s, "
      "%.0f MB/s\n",
      static_cast<unsigned long long>(report.entries),
      static_cast<unsigned long long>(report.checkpoints), best, report.entries / best,
      data.size() / best / 1e6);

  std::string path = dir + "/audit_verify_bench.log";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  best = 1e9;
  for (int round = 0; round < 3; ++round) {
    start = std::chrono::steady_clock::now();
    auto r = Verify({path}, vo);
    if (!r.ok()) Die(r.status());
    if (!r->ok()) Die(absl::DataLossError(r->first_bad->reason));
    best = std::min(best, Seconds(start));
  }
  std::printf("verify, file (page cache): %.3f s = %.0f entries/s\n", best, report.entries / best);
  unlink(path.c_str());

  std::string apath = dir + "/audit_append_bench.log";
  int n = std::min(entries, 20'000);
  for (auto [policy, name] : {std::pair{FsyncPolicy::kEveryBatch, "fsync every batch"},
                              std::pair{FsyncPolicy::kNever, "fsync never"}}) {
    for (int threads : {1, 16, 64}) {
      double rate = AppendRate(apath, policy, threads, n, keys, clock);
      std::printf("append, file, %s, %d threads: %.0f entries/s\n", name, threads, rate);
    }
  }
  return 0;
}

}  // namespace
}  // namespace rekey::audit

int main(int argc, char** argv) { return rekey::audit::Main(argc, argv); }
