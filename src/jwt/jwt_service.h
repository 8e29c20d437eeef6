// JwtService: JWT signing keysets over the Store. Each keyset lives encrypted at rest (the store
// is the storage barrier) under "<prefix>keysets/<name>", private keys included. It signs tokens
// (JWS compact, RFC 7515/7519) with the keyset's active key, verifies them, serves the JWK Set,
// and carries out the phases of a zero-downtime rotation for the `jwt` rotator: publish a new
// key, schedule its promotion no earlier than `prepublish` after publication, schedule the
// removal of superseded keys no earlier than `max_token_ttl` after they stopped signing. Because
// status is a function of those times (keyset.h), nothing has to run at the moment a key starts
// or stops signing or leaves the JWKS.
//
// Errors: kNotFound for a missing keyset or key; kInvalidArgument for bad input (messages name the
// field, never a claim value or a token); kUnauthenticated for a token that does not verify;
// kAborted when a keyset kept changing concurrently; store errors as they come.
#ifndef REKEY_JWT_JWT_SERVICE_H_
#define REKEY_JWT_JWT_SERVICE_H_

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "jwt/keyset.h"
#include "storage/store.h"

namespace rekey::jwt {

// One key as reads show it (no material). Times that are not set are InfiniteFuture.
struct KeyView {
  std::string kid;
  KeyStatus status = KeyStatus::kPublished;
  absl::Time created = absl::InfinitePast();
  absl::Time published = absl::InfinitePast();
  absl::Time promoted = absl::InfiniteFuture();  // when it signs (or will)
  absl::Time retired = absl::InfiniteFuture();   // when it stops signing (or will)
  absl::Time removed = absl::InfiniteFuture();   // when it leaves the JWKS (or will)
};

struct KeysetView {
  std::string name;
  KeysetConfig config;
  absl::Time created = absl::InfinitePast();
  std::string active_kid;                   // the key that signs now
  std::vector<std::string> published_kids;  // the kids in the JWKS now
  std::vector<KeyView> keys;                // every key still recorded, in publication order
};

// The JWK Set of a keyset as served: body, a strong ETag (quoted) and the cache lifetime.
struct JwksDocument {
  std::string body;
  std::string etag;
  absl::Duration max_age;
};

struct SignedToken {
  std::string token;
  std::string kid;
  absl::Time issued_at;     // "iat" (whole seconds)
  absl::Time expires_at;    // "exp"
  bool ttl_capped = false;  // the requested ttl exceeded max_token_ttl and was cut to it
};

// Extra checks of a verification ("" = not checked).
struct VerifyOptions {
  std::string issuer = "";    // "iss" must equal it
  std::string audience = "";  // "aud" (a string or an array of strings) must contain it
};

struct VerifiedToken {
  std::string kid;
  boost::json::object claims;
};

// The most bytes of a token's serialized claims.
inline constexpr size_t kMaxClaimsSize = 32 * 1024;
// Removed keys remembered (without material) per keyset, for history.
inline constexpr size_t kRemovedKeysKept = 20;

// Thread-safe. `store`, `clock` and `random` must outlive the service.
class JwtService {
 public:
  JwtService(storage::Store& store, const Clock& clock, Random& random,
             std::string prefix = "jwt/");
  ~JwtService();
  JwtService(const JwtService&) = delete;
  JwtService& operator=(const JwtService&) = delete;

  struct Created {
    KeysetView view;
    bool created = false;  // false: it existed with these settings and is returned unchanged
  };
  // Creates keyset `name` with one key that is active at once (no token can exist before it).
  // Asking again with the same settings returns the keyset unchanged; with other settings,
  // kAlreadyExists (settings cannot change: a shorter prepublish or a longer cache TTL could
  // break verifiers). kInvalidArgument for a bad name or settings (NormalizeConfig).
  absl::StatusOr<Created> CreateKeyset(std::string_view name, const KeysetConfig& config);
  absl::StatusOr<KeysetView> GetKeyset(std::string_view name);
  // Every keyset name, sorted.
  absl::StatusOr<std::vector<std::string>> ListKeysets();
  // Whether keyset `name` is in memory, so reads of it (Jwks, GetKeyset) do not touch the store.
  bool Cached(std::string_view name) const;

  // The JWK Set at the clock's now.
  absl::StatusOr<JwksDocument> Jwks(std::string_view name);

  // A token with `claims` plus "iat" (now) and "exp" (iat + ttl), and "iss" = the keyset's issuer
  // when set and the claims have none, signed by the active key. `ttl` zero means
  // max_token_ttl; a longer one is capped to it (see SignedToken::ttl_capped). kInvalidArgument
  // when the claims hold "iat" or "exp" (the server sets them), a non-numeric "nbf", or serialize
  // to more than kMaxClaimsSize bytes, or when ttl is negative.
  absl::StatusOr<SignedToken> Sign(std::string_view name, const boost::json::object& claims,
                                   absl::Duration ttl);
  // Verifies `token` against the keyset's JWKS at now: the "kid" must name a key that is not
  // removed, "alg" must be that key's, the signature must verify, "exp" must be present and after
  // now, "nbf" (if any) not after now, and the options' issuer/audience must match.
  // kInvalidArgument for a token that is not a JWS/JWT; kUnauthenticated for one that does not
  // verify (the message says which check failed, never the token).
  absl::StatusOr<VerifiedToken> Verify(std::string_view name, std::string_view token,
                                       const VerifyOptions& options = {});

  // --- the phases of a rotation (the jwt rotator) ------------------------------------------

  // Publishes a new key (in the JWKS, not signing). Idempotent: when a key published by
  // `request_id` is still recorded, returns it instead of making another.
  absl::StatusOr<KeyView> PublishKey(std::string_view name, std::string_view request_id);
  // The key published by `request_id`, or nullopt.
  absl::StatusOr<std::optional<KeyView>> FindKeyByRequest(std::string_view name,
                                                          std::string_view request_id);
  // Schedules `kid` to start signing at max(now, published + prepublish, the latest scheduled
  // promotion), and the key signing before it to retire at that same instant. Idempotent: a key
  // already scheduled keeps its time. kFailedPrecondition for a removed key.
  absl::StatusOr<KeyView> SchedulePromotion(std::string_view name, std::string_view kid);
  // Signs like Sign, but with key `kid` whatever its status (it must not be removed): the test
  // step proves a key works before it signs for real.
  absl::StatusOr<SignedToken> SignWithKey(std::string_view name, std::string_view kid,
                                          const boost::json::object& claims, absl::Duration ttl);
  // Schedules the removal of `kid` (when not empty) and of every other key that has a successor
  // and no removal time yet, each at max(now, retire_at + max_token_ttl): no token a key signed
  // is still valid when it leaves the JWKS. Returns the keys it scheduled. kFailedPrecondition
  // when `kid` has no successor (it still signs).
  absl::StatusOr<std::vector<KeyView>> ScheduleRemoval(std::string_view name, std::string_view kid);
  // Undoes PublishKey/SchedulePromotion of the key published by `request_id` (rollback): a key
  // that never signed is removed now and its predecessor keeps signing; a key that already signed
  // stops now and stays in the JWKS for max_token_ttl, and its predecessor signs again. OK when
  // there is no such key.
  absl::Status CancelKey(std::string_view name, std::string_view request_id);
  // CancelKey for every key not yet removed whose request id starts with `request_prefix` (not
  // empty), except the one published by `except`: a rotation run undoes the keys of all its
  // attempts, including one a crash left unrecorded. Returns the kids it cancelled.
  absl::StatusOr<std::vector<std::string>> CancelKeysOf(std::string_view name,
                                                        std::string_view request_prefix,
                                                        std::string_view except = "");

 private:
  struct Entry;

  std::string RecordKey(std::string_view name) const;
  // The keyset, from the cache or the store.
  absl::StatusOr<std::shared_ptr<const Entry>> Load(std::string_view name);
  // Reads the keyset from the store, applies `change` and commits compare-and-set, retrying a
  // few times if someone else committed in between. `change` may be called more than once.
  absl::StatusOr<std::shared_ptr<const Entry>> Mutate(
      std::string_view name, const std::function<absl::Status(Keyset&, absl::Time)>& change);
  absl::StatusOr<SignedToken> SignWith(const Keyset& keyset, const KeyRecord& key,
                                       const boost::json::object& claims, absl::Duration ttl,
                                       absl::Time now);
  std::string NewKid();

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const std::string prefix_;
  absl::Mutex write_mu_;  // serializes Mutate calls (one writer per process)
  mutable absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Entry>> cache_ ABSL_GUARDED_BY(cache_mu_);
};

KeyView ViewOf(const KeyRecord& key, absl::Time now);
KeysetView ViewOf(const Keyset& keyset, absl::Time now);

}  // namespace rekey::jwt

#endif  // REKEY_JWT_JWT_SERVICE_H_
