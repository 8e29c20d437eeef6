// TokenStore: API tokens with Vault's token semantics (policies, TTL and max TTL, renewal, use
// limits, parent/child trees, orphans, accessors), stored only as SHA-256 hashes in the barrier.
//
// Storage layout (every value is in the encrypted store):
//   auth/token/id/<sha256(token)>                      the TokenEntry as JSON
//   auth/token/accessor/<sha256(accessor)>             {"token": <token hash>, "accessor": ...}
//   auth/token/parent/<parent hash>/<child hash>       "" (the child index used by revocation)
#ifndef REKEY_AUTH_TOKEN_STORE_H_
#define REKEY_AUTH_TOKEN_STORE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
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

// One token's record. Holds no secret: the token itself is never stored, only its hash.
struct TokenEntry {
  std::string hash;                   // hex SHA-256 of the token: its storage key and internal id
  std::string accessor;               // public handle for lookup/renew/revoke; never authenticates
  std::vector<std::string> policies;  // sorted, without duplicates
  std::string display_name;
  std::string path;  // how it was made: "auth/token/root", "auth/token/create", ...
  absl::Time created = absl::InfinitePast();
  absl::Time expires = absl::InfiniteFuture();     // InfiniteFuture = never
  absl::Time last_renewal = absl::InfinitePast();  // InfinitePast = never renewed
  absl::Duration ttl = absl::ZeroDuration();       // TTL at creation; a renewal's default increment
  absl::Duration explicit_max_ttl = absl::ZeroDuration();  // 0 = none
  bool renewable = false;
  int64_t num_uses = 0;  // uses left; 0 = unlimited
  std::map<std::string, std::string> meta;
  bool orphan = true;
  std::string parent;  // hash of the parent token; "" for an orphan

  bool IsRoot() const;
};

// What a caller asks for when creating a token (Vault's auth/token/create parameters).
struct TokenRequest {
  std::optional<std::vector<std::string>> policies;  // nullopt: the parent's policies
  std::map<std::string, std::string> meta;
  std::string display_name;                        // "" = "token"
  std::optional<absl::Duration> ttl;               // nullopt/0: default (none for root tokens)
  std::optional<absl::Duration> explicit_max_ttl;  // nullopt/0: none
  std::optional<bool> renewable;                   // nullopt: true
  int64_t num_uses = 0;                            // 0 = unlimited
  bool no_parent = false;                          // an orphan (needs root or sudo)
  bool no_default_policy = false;
  std::string path = "auth/token/create";  // "auth/token/create-orphan" makes an orphan too
};

struct CreatedToken {
  SecretBytes token;  // shown once, never stored
  TokenEntry entry;
};

struct TokenStoreOptions {
  // Vault's defaults: 32 days for both.
  absl::Duration default_ttl = absl::Hours(768);  // for tokens created without a TTL
  absl::Duration max_ttl = absl::Hours(768);      // no TTL or renewal goes past created + max_ttl
  size_t max_cached = 100000;  // tokens kept in memory; the cache is cleared when it is full
};

// Thread-safe. Lookups are served from memory after the first hit; every change goes to the
// store first (with compare-and-set, so concurrent changes cannot lose a use or a revocation)
// and then to the cache. A token is valid when it exists, has not expired and its parent (if any)
// is valid, so revoking or expiring a parent invalidates its whole subtree at once.
class TokenStore {
 public:
  // `store` (normally the encrypted barrier), `clock` and `random` must outlive the TokenStore.
  TokenStore(storage::Store& store, const Clock& clock, Random& random,
             TokenStoreOptions options = {});

  // The hex SHA-256 of `token`: the id the other methods take.
  static std::string HashOf(std::string_view token);

  // Creates a new root token (orphan, no TTL) and returns its value, which is not kept anywhere.
  absl::StatusOr<SecretBytes> CreateRootToken(std::string_view display_name);
  // Makes `token` a root token if it is not one already (dev mode's fixed token). Idempotent.
  // kInvalidArgument for an empty token or one of more than 256 bytes.
  absl::Status EnsureRootToken(const SecretBytes& token);

  // Creates a token on behalf of `parent` (a valid entry). `parent_is_privileged` is true when the
  // parent may go beyond its own policies (Vault: a root token, or sudo on the create path).
  // Vault's rules: without policies the child gets the parent's; the child's policies must be a
  // subset of the parent's (not counting "default") unless privileged; "root" only from a root
  // parent; "default" is added unless no_default_policy or root; no_parent needs privilege;
  // create-orphan does not. TTL: the request's, else the default (none for a root token without
  // one), capped by explicit_max_ttl and max_ttl. kInvalidArgument (a 400) naming the field for
  // every violation; kPermissionDenied when the parent is no longer valid.
  absl::StatusOr<CreatedToken> Create(const TokenEntry& parent, const TokenRequest& request,
                                      bool parent_is_privileged);

  // The valid entry for `token`. kPermissionDenied("permission denied") when the token is
  // unknown, expired, revoked, used up or its parent is not valid, so callers cannot tell these
  // apart. An accessor is not a token: looking one up here is denied.
  absl::StatusOr<TokenEntry> Lookup(std::string_view token);
  // Same, by hash.
  absl::StatusOr<TokenEntry> LookupHash(const std::string& hash);
  // The valid entry whose accessor is `accessor`; kInvalidArgument("invalid accessor") otherwise.
  absl::StatusOr<TokenEntry> LookupAccessor(std::string_view accessor);

  // Extends a valid token's life to now + increment (or its creation TTL when increment is 0),
  // never past created + explicit_max_ttl or created + max_ttl. kInvalidArgument("lease is not
  // renewable") for a non-renewable token; kPermissionDenied when it is not valid.
  absl::StatusOr<TokenEntry> Renew(const std::string& hash, absl::Duration increment);

  // Revokes the token and, recursively, every child. OK when it does not exist.
  absl::Status Revoke(const std::string& hash);
  // Revokes the token only; its children become orphans. OK when it does not exist.
  absl::Status RevokeOrphan(const std::string& hash);

  // Counts one use of a limited-use token (atomically, also across processes sharing the store);
  // the last use is allowed and revokes the token. OK at once for unlimited tokens.
  // kPermissionDenied when the token is no longer valid or has no use left.
  absl::Status ConsumeUse(const std::string& hash);

  // Whether authenticating `token` may write to the store (it is not cached yet, or it has a use
  // limit): callers on I/O threads then move the request to a blocking pool. Cheap.
  bool MayNeedWrite(std::string_view token);

  // The accessors of every stored token, sorted.
  absl::StatusOr<std::vector<std::string>> ListAccessors();

  // The store the tokens live in.
  storage::Store& store() { return store_; }

  // Deletes the records of expired tokens and of tokens whose parent is gone. Returns how many
  // tokens were removed. Safe to run at any time.
  absl::StatusOr<size_t> Tidy();

 private:
  struct Loaded {
    TokenEntry entry;
    uint64_t mod_index = 0;
  };

  absl::StatusOr<SecretBytes> NewSecret(std::string_view prefix, int length);
  absl::StatusOr<std::optional<Loaded>> Load(const std::string& hash);
  absl::StatusOr<TokenEntry> LookupHashAt(const std::string& hash, absl::Time now, int depth);
  // Adds to `batch` the deletion of `hash`'s subtree; `revoked` receives every hash deleted.
  absl::Status AddRevokeTree(const std::string& hash, storage::WriteBatch& batch,
                             std::vector<std::string>& revoked);
  absl::Status SaveNew(const TokenEntry& entry);
  void CachePut(const TokenEntry& entry);
  void CacheErase(const std::vector<std::string>& hashes);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const TokenStoreOptions options_;
  std::mutex write_mu_;  // serializes changes within this process (CAS covers the rest)
  std::shared_mutex mu_;
  absl::flat_hash_map<std::string, TokenEntry> cache_;  // by hash; guarded by mu_
};

}  // namespace rekey::auth

#endif  // REKEY_AUTH_TOKEN_STORE_H_
