// Fuzzes the whole Vault surface in process: arbitrary method, target and body through
// VaultHandler (auth, routing, JSON parsing, KV service over an in-memory store). Every answer
// must be a well-formed response; nothing may crash.
//
// Input: method '\n' target '\n' body.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/vault/vault_handler.h"
#include "storage/memory_store.h"

namespace {

struct World {
  rekey::storage::MemoryStore store;
  rekey::FakeClock clock;
  rekey::FakeRandom random;
  rekey::secrets::SecretsService kv{store, clock, random, "secret"};
  rekey::auth::TokenStore tokens{store, clock, random};
  rekey::api::VaultHandler handler{kv, tokens, clock, {}};
  World() {
    if (!tokens.EnsureRootToken(rekey::SecretBytes("root")).ok()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // shared across inputs, so state builds up
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  if (a == std::string_view::npos) return 0;
  size_t b = in.find('\n', a + 1);
  if (b == std::string_view::npos) return 0;
  rekey::http::Request req;
  req.method = std::string(in.substr(0, a));
  req.target = std::string(in.substr(a + 1, b - a - 1));
  req.path = req.target.substr(0, req.target.find('?'));
  req.body = std::string(in.substr(b + 1));
  req.request_id = "fuzz";
  req.headers.push_back({"x-vault-token", "root"});
  req.headers.push_back({"content-type", "application/merge-patch+json"});
  rekey::http::Response res = world->handler.Handle(req);
  if (res.status < 200 || res.status > 599) std::abort();
  if (res.status >= 400 && res.body.empty()) std::abort();
  return 0;
}
