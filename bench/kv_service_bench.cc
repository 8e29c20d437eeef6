// KV v2 writes through the Vault handler and the whole storage stack (secrets service, barrier,
// SQLite group commit), without HTTP: how much of a served write's cost is below the network
// layer. Run: build/release/bench/kv_service_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "api/vault/vault_handler.h"
#include "crypto/os_random.h"
#include "storage/encrypted_store.h"
#include "storage/seal.h"
#include "storage/sqlite_store.h"

namespace {

struct Stack {
  rekey::RealClock clock;
  rekey::crypto::OsRandom random;
  std::unique_ptr<rekey::storage::SqliteStore> raw;
  std::unique_ptr<rekey::crypto::Keyset> keyring;
  std::unique_ptr<rekey::storage::EncryptedStore> barrier;
  std::unique_ptr<rekey::secrets::SecretsService> kv;
  std::unique_ptr<rekey::auth::TokenStore> tokens;
  std::unique_ptr<rekey::api::VaultHandler> handler;

  Stack() {
    std::string dir = std::filesystem::temp_directory_path() / "rekey-kv-bench-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) std::abort();
    rekey::storage::SqliteStoreOptions options;
    options.create_if_missing = true;
    raw = std::move(*rekey::storage::SqliteStore::Open(dir + "/rekey.db", options));
    keyring = std::move(*rekey::storage::InitializeKeyring(
        *raw, rekey::storage::GenerateRootKey(random), random, clock));
    barrier = std::make_unique<rekey::storage::EncryptedStore>(*raw, *keyring);
    kv = std::make_unique<rekey::secrets::SecretsService>(*barrier, clock, random, "secret");
    tokens = std::make_unique<rekey::auth::TokenStore>(*barrier, clock, random);
    if (!tokens->EnsureRootToken(rekey::SecretBytes("root")).ok()) std::abort();
    handler = std::make_unique<rekey::api::VaultHandler>(*kv, *tokens, clock,
                                                         rekey::api::VaultHandlerOptions{});
  }
};

void BM_VaultHandlerWrite(benchmark::State& state) {
  static Stack* stack = nullptr;
  static std::atomic<int64_t> next{0};
  if (state.thread_index() == 0) {
    stack = new Stack();
    next = 0;
  }
  const std::string pad(64, 'p');
  for (auto _ : state) {
    int64_t n = next.fetch_add(1);
    rekey::http::Request req;
    req.method = "POST";
    req.target = absl::StrFormat("/v1/secret/data/bench-w%d", n % 256);
    req.path = req.target;
    req.body = absl::StrFormat(R"({"data":{"password":"bench-%010d-%s","user":"bench","n":%d}})", n,
                               pad, n);
    req.request_id = "bench";
    req.headers.push_back({"x-vault-token", "root"});
    rekey::http::Response res = stack->handler->Handle(req);
    if (res.status != 200) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    auto stats = stack->raw->Stats();
    state.counters["batches_per_txn"] =
        static_cast<double>(stats.batches) /
        static_cast<double>(std::max<uint64_t>(1, stats.transactions));
    delete stack;
    stack = nullptr;
  }
}
BENCHMARK(BM_VaultHandlerWrite)->Threads(1)->Threads(32)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
