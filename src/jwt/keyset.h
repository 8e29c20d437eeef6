// A JWT signing keyset: its settings, its keys with their timeline, and what follows from the
// time: which key signs, which keys the JWKS shows. Key status is never stored; it is a function
// of the key's times and the clock, so a promotion or removal scheduled for later happens at
// exactly that time without anything having to run then.
//
// Timeline of one key (design.md section 4, issue 6 item 3):
//   published  in the JWKS, not signing          published <= now < promote_at
//   active     in the JWKS, signs                 promote_at <= now < retire_at
//   retiring   in the JWKS, no longer signs       retire_at <= now < remove_at
//   removed    gone from the JWKS, material wiped remove_at <= now
// A key is promoted no earlier than `prepublish` (>= the JWKS cache TTL) after it was published,
// so every verifier that caches the JWKS for its max-age has it before the first token it signs;
// its predecessor retires at that same instant, and is removed no earlier than max_token_ttl
// after it retired, when every token it signed has expired.
#ifndef REKEY_JWT_KEYSET_H_
#define REKEY_JWT_KEYSET_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"
#include "jwt/jws.h"

namespace rekey::jwt {

enum class KeyStatus { kPublished, kActive, kRetiring, kRemoved };
std::string_view KeyStatusName(KeyStatus status);  // "published", "active", ...

// Limits of the settings.
inline constexpr absl::Duration kMinJwksCacheTtl = absl::Seconds(1);
inline constexpr absl::Duration kMaxJwksCacheTtl = absl::Hours(24);
inline constexpr absl::Duration kMinTokenTtl = absl::Seconds(1);
inline constexpr absl::Duration kMaxTokenTtlLimit = absl::Hours(24 * 31);
inline constexpr absl::Duration kMaxPrepublish = absl::Hours(24 * 31);

struct KeysetConfig {
  Algorithm alg = Algorithm::kRs256;
  // How long verifiers may cache the JWKS (its Cache-Control max-age). 1 s to 24 h.
  absl::Duration jwks_cache_ttl = absl::Minutes(5);
  // The longest lifetime of a token (sign's ttl is capped to it). 1 s to 31 days.
  absl::Duration max_token_ttl = absl::Hours(1);
  // How long a new key is published before it signs; at least jwks_cache_ttl. Zero when creating
  // means DefaultPrepublish(jwks_cache_ttl).
  absl::Duration prepublish = absl::ZeroDuration();
  // The "iss" claim added to tokens whose claims have none ("" = none).
  std::string issuer;

  friend bool operator==(const KeysetConfig&, const KeysetConfig&) = default;
};

// jwks_cache_ttl plus a margin for clock skew and the time a response spends in transit:
// a tenth of it, at least 1 s, rounded up to whole seconds.
absl::Duration DefaultPrepublish(absl::Duration jwks_cache_ttl);

// `config` with defaults filled in (prepublish), or kInvalidArgument naming every problem.
absl::StatusOr<KeysetConfig> NormalizeConfig(KeysetConfig config);

// A keyset name: 1 to 128 characters of [A-Za-z0-9._-], not "." or "..". kInvalidArgument
// otherwise.
absl::Status ValidateKeysetName(std::string_view name);

struct KeyRecord {
  std::string kid;         // random, BASE64URL
  std::string request_id;  // the idempotency token of the call that made it ("" = keyset creation)
  absl::Time created = absl::InfinitePast();
  absl::Time published = absl::InfinitePast();
  absl::Time promote_at = absl::InfiniteFuture();  // InfiniteFuture: not scheduled to sign
  absl::Time retire_at = absl::InfiniteFuture();   // InfiniteFuture: no successor yet
  absl::Time remove_at = absl::InfiniteFuture();   // InfiniteFuture: not scheduled for removal
  std::optional<SigningKey> key;                   // unset once the material is dropped

  KeyStatus StatusAt(absl::Time now) const;
};

struct Keyset {
  std::string name;
  KeysetConfig config;
  absl::Time created = absl::InfinitePast();
  std::vector<KeyRecord> keys;  // in publication order

  KeyRecord* Find(std::string_view kid);
  const KeyRecord* Find(std::string_view kid) const;
  // The key that signs at `now` (the active one; with several, the latest promoted), or nullptr.
  const KeyRecord* SignerAt(absl::Time now) const;
  // The JWK Set (RFC 7517 section 5) of the keys not removed at `now`, each with kid, alg and
  // use "sig", in publication order: {"keys":[...]}.
  std::string JwksJson(absl::Time now) const;
  // Drops the material of keys removed at `now`, and all but the newest `keep_removed` of them.
  void Prune(absl::Time now, size_t keep_removed);
};

// The stored form (JSON with the private keys; the storage barrier encrypts it).
absl::StatusOr<SecretBytes> EncodeKeyset(const Keyset& keyset);
// kDataLoss when `data` is not a keyset EncodeKeyset made.
absl::StatusOr<Keyset> DecodeKeyset(const SecretBytes& data);

}  // namespace rekey::jwt

#endif  // REKEY_JWT_KEYSET_H_
