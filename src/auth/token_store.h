// TokenStore: API tokens, stored only as SHA-256 hashes, with their accessor, policies and TTL.
// This is the foundation's slice (root tokens and lookup); token creation, renewal, revocation
// and policies come with the access-control work.
#ifndef REKEY_AUTH_TOKEN_STORE_H_
#define REKEY_AUTH_TOKEN_STORE_H_

#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "storage/store.h"

namespace rekey::auth {

struct TokenEntry {
  std::string accessor;  // public handle for lookup/revoke; safe to log
  std::vector<std::string> policies;
  std::string display_name;
  std::string path;  // how it was made, e.g. "auth/token/root"
  absl::Time created = absl::InfinitePast();
  absl::Time expires = absl::InfiniteFuture();  // InfiniteFuture = no TTL
  std::map<std::string, std::string> meta;
  bool orphan = true;

  bool IsRoot() const;
};

// Thread-safe. Lookups are served from memory after the first hit.
class TokenStore {
 public:
  // `store` (normally the encrypted barrier), `clock` and `random` must outlive the TokenStore.
  TokenStore(storage::Store& store, const Clock& clock, Random& random);

  // Creates a new root token and returns its value, which is not kept anywhere: show it once.
  absl::StatusOr<SecretBytes> CreateRootToken(std::string_view display_name);
  // Makes `token` a root token if it is not one already (dev mode's fixed token). Idempotent.
  // kInvalidArgument for an empty token or one of more than 256 bytes.
  absl::Status EnsureRootToken(const SecretBytes& token);

  // The entry for `token`. kPermissionDenied("permission denied") when the token is unknown or
  // expired, so callers cannot tell the two apart.
  absl::StatusOr<TokenEntry> Lookup(std::string_view token);

 private:
  absl::StatusOr<SecretBytes> MakeAccessor();
  absl::Status Save(std::string_view token_hash, const TokenEntry& entry, bool must_be_new);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::shared_mutex mu_;
  absl::flat_hash_map<std::string, TokenEntry> cache_;  // by token hash
};

}  // namespace rekey::auth

#endif  // REKEY_AUTH_TOKEN_STORE_H_
