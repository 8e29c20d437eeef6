// Rotations per second through the whole engine (journal, secrets service, barrier, SQLite group
// commit) on the `generic` rotator: N secrets are rotated at once and the clock stops when the
// last run completes. Also reports the store's commit rate in the same run, the limit every
// journal write is bounded by.
//
//   build/release/bench/rotation_bench [secrets=10000] [workers=64]
// Exit status 1 when fewer than 1,000 rotations/s (the issue's target).
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "crypto/os_random.h"
#include "rotation/engine.h"
#include "rotators/generic/generic_rotator.h"
#include "secrets/secrets_service.h"
#include "storage/encrypted_store.h"
#include "storage/seal.h"
#include "storage/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;

class NoHttp final : public rekey::rotation::HttpTransport {
 public:
  absl::StatusOr<rekey::rotation::HttpReply> Send(const rekey::rotation::HttpCall&) override {
    return absl::UnavailableError("no network in the bench");
  }
};

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int secrets = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 64;
  rekey::RealClock clock;
  rekey::crypto::OsRandom random;
  std::string dir = std::filesystem::temp_directory_path() / "rekey-rotation-bench-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return 2;
  rekey::storage::SqliteStoreOptions store_options;
  store_options.create_if_missing = true;
  auto raw = std::move(*rekey::storage::SqliteStore::Open(dir + "/rekey.db", store_options));
  auto keyring = std::move(*rekey::storage::InitializeKeyring(
      *raw, rekey::storage::GenerateRootKey(random), random, clock));
  rekey::storage::EncryptedStore barrier(*raw, *keyring);
  rekey::secrets::SecretsService kv(barrier, clock, random, "secret");
  rekey::rotation::RotatorRegistry registry;
  Check(rekey::rotators::generic::RegisterGenericRotator(registry), "register");
  NoHttp http;
  rekey::rotation::EngineOptions options;
  options.workers = workers;
  rekey::rotation::RotationEngine engine(barrier, kv, registry, clock, random, http, options);
  Check(engine.Start(), "start");

  // The limit in the same run: how many single-record commits per second the barrier and the
  // group-committing SQLite writer take from `workers` threads (every journal write is one).
  double raw_commits_per_s = 0;
  {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> done{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < workers; ++t) {
      writers.emplace_back([&, t] {
        const std::string payload(300, 'x');
        for (int64_t n = 0; !stop.load(); ++n) {
          rekey::storage::WriteBatch batch;
          batch.Put(absl::StrFormat("bench/raw/%d/%d", t, n % 64), rekey::SecretBytes(payload));
          if (barrier.Commit(batch).ok()) done.fetch_add(1);
        }
      });
    }
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    stop = true;
    for (std::thread& w : writers) w.join();
    raw_commits_per_s = done.load() / std::chrono::duration<double>(Clock::now() - t0).count();
  }

  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  int failed = 0;
  engine.events().AddListener([&](const rekey::rotation::Event& e) {
    if (e.type != "rotation.completed" && e.type != "rotation.failed") return;
    std::lock_guard<std::mutex> lock(mu);
    (e.type == "rotation.completed" ? completed : failed)++;
    cv.notify_all();
  });

  const auto config =
      boost::json::parse(R"({"rotator":"generic","params":{"fields":["api_key"]},)"
                         R"("grace":"0s","generator":{"type":"api_key","prefix":"rk_"}})")
          .as_object();
  for (int i = 0; i < secrets; ++i) {
    const std::string path = absl::StrFormat("bench/app-%05d/key", i);
    Check(kv.Put(path, rekey::SecretBytes(R"({"api_key":"initial","owner":"bench"})"), {}).status(),
          "put");
    Check(engine.SetConfig(path, config), "config");
  }
  const auto before = raw->Stats();
  const auto start = Clock::now();
  // Triggered from several threads, as concurrent API calls would.
  std::vector<std::thread> triggers;
  constexpr int kTriggerThreads = 16;
  for (int t = 0; t < kTriggerThreads; ++t) {
    triggers.emplace_back([&, t] {
      for (int i = t; i < secrets; i += kTriggerThreads) {
        Check(engine.Rotate(absl::StrFormat("bench/app-%05d/key", i), {}).status(), "rotate");
      }
    });
  }
  for (std::thread& t : triggers) t.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return completed + failed >= secrets; });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto after = raw->Stats();
  engine.Stop();

  const double rate = secrets / seconds;
  const double batches = static_cast<double>(after.batches - before.batches);
  const double txns = static_cast<double>(after.transactions - before.transactions);
  std::printf("secrets               %d\n", secrets);
  std::printf("workers               %d\n", workers);
  std::printf("completed / failed    %d / %d\n", completed, failed);
  std::printf("elapsed               %.2f s\n", seconds);
  std::printf("rotations/s           %.0f\n", rate);
  std::printf("store commits/s       %.0f (%.1f per rotation, %.1f batches per fsync)\n",
              batches / seconds, batches / secrets, txns > 0 ? batches / txns : 0.0);
  std::printf("raw commits/s         %.0f (same store, %d threads, one record each)\n",
              raw_commits_per_s, workers);
  std::printf("engine efficiency     %.0f%% of the commit rate the journal writes could reach\n",
              100.0 * batches / seconds / raw_commits_per_s);
  std::printf("target                >= 1000 rotations/s: %s\n", rate >= 1000 ? "PASS" : "FAIL");
  std::filesystem::remove_all(dir);
  return rate >= 1000 && failed == 0 ? 0 : 1;
}
