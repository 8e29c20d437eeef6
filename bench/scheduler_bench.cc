// The scheduler's DueQueue at 1,000,000 secrets (paths like "prod/app-123456/db", 1,000
// distinct targets, due times spread over 30 days): heap bytes per secret (mallinfo2 before and
// after filling), the time of an empty tick (NextDue + PopDue with nothing due), of a tick that
// pops 1,000 due entries, and of replacing one entry's due time.
// Run: build/release/bench/scheduler_bench   (about 10 s)
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/random.h"
#include "rotation/due_queue.h"

namespace {

using rekey::rotation::DueQueue;
using rekey::rotation::DueQueueOptions;

constexpr int kSecrets = 1000000;
constexpr int kTargets = 1000;
const absl::Time kBase = absl::FromUnixSeconds(1700000000);
const absl::Duration kSpread = absl::Hours(24 * 30) / kSecrets;  // 2.592 s between due times

size_t HeapBytes() {
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;  // small-chunk bytes in use + mmapped chunks
}

std::string_view PathOf(int i, char* buf, size_t size) {
  int n = std::snprintf(buf, size, "prod/app-%06d/db", i);
  return std::string_view(buf, static_cast<size_t>(n));
}

std::string_view TargetOf(int i, char* buf, size_t size) {
  int n = std::snprintf(buf, size, "postgres://db-%03d.internal:5432", i % kTargets);
  return std::string_view(buf, static_cast<size_t>(n));
}

struct Filled {
  rekey::FakeRandom random{42};
  std::unique_ptr<DueQueue> queue;
  double bytes_per_secret = 0;
  double fill_ns_per_secret = 0;
};

// One queue of kSecrets shared by every benchmark, built (and measured) once.
Filled& Shared() {
  static Filled* f = [] {
    auto* f = new Filled;
    char path[64], target[64];
    const size_t before = HeapBytes();
    f->queue = std::make_unique<DueQueue>(DueQueueOptions{}, &f->random);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kSecrets; ++i) {
      f->queue->Upsert(PathOf(i, path, sizeof(path)), kBase + kSpread * i,
                       TargetOf(i, target, sizeof(target)));
    }
    const auto stop = std::chrono::steady_clock::now();
    const size_t after = HeapBytes();
    f->bytes_per_secret = static_cast<double>(after - before) / kSecrets;
    f->fill_ns_per_secret =
        std::chrono::duration<double, std::nano>(stop - start).count() / kSecrets;
    return f;
  }();
  return *f;
}

void BM_Fill1M(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(Shared().queue.get());
  }
  Filled& f = Shared();
  state.counters["secrets"] = static_cast<double>(f.queue->size());
  state.counters["bytes_per_secret"] = f.bytes_per_secret;
  state.counters["upsert_ns"] = f.fill_ns_per_secret;
}
BENCHMARK(BM_Fill1M)->Iterations(1)->Unit(benchmark::kMillisecond);

// NextDue + PopDue(now) with nothing due: what the scheduler does on most ticks.
void BM_EmptyTick(benchmark::State& state) {
  DueQueue& q = *Shared().queue;
  const absl::Time now = kBase - absl::Seconds(1);
  for (auto _ : state) {
    std::optional<absl::Time> next = q.NextDue();
    std::vector<std::string> due = q.PopDue(now, 1000);
    benchmark::DoNotOptimize(next);
    benchmark::DoNotOptimize(due);
    if (!due.empty()) state.SkipWithError("something was due");
  }
  state.counters["secrets"] = static_cast<double>(q.size());
}
BENCHMARK(BM_EmptyTick);

// A tick that releases 1,000 due entries (1,000 distinct targets, so no spacing holds them
// back). Only PopDue is timed; the popped secrets are re-queued 30 days later, untimed.
void BM_Pop1000Due(benchmark::State& state) {
  DueQueue& q = *Shared().queue;
  static absl::Time now = kBase;  // advances across runs so each tick finds fresh due entries
  char target[64];
  int64_t popped = 0;
  for (auto _ : state) {
    now += kSpread * 1000;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> due = q.PopDue(now, 1000);
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    popped += static_cast<int64_t>(due.size());
    for (const std::string& p : due) {
      const int i = std::atoi(p.c_str() + 9);  // "prod/app-%06d/db"
      q.Upsert(p, now + absl::Hours(24 * 30), TargetOf(i, target, sizeof(target)));
    }
  }
  state.counters["popped_per_tick"] =
      static_cast<double>(popped) / static_cast<double>(state.iterations());
  state.counters["secrets"] = static_cast<double>(q.size());
}
BENCHMARK(BM_Pop1000Due)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Replacing one secret's due time (what the engine does after each rotation).
void BM_UpsertReplace(benchmark::State& state) {
  DueQueue& q = *Shared().queue;
  rekey::FakeRandom pick(7);
  char path[64], target[64];
  for (auto _ : state) {
    const int i = static_cast<int>(pick.Uniform(kSecrets));
    q.Upsert(PathOf(i, path, sizeof(path)), kBase + absl::Hours(24 * 60) + kSpread * i,
             TargetOf(i, target, sizeof(target)));
  }
  state.counters["secrets"] = static_cast<double>(q.size());
}
BENCHMARK(BM_UpsertReplace);

}  // namespace

BENCHMARK_MAIN();
