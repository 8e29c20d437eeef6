#include "jwt/jwt_service.h"

#include <boost/json.hpp>
#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::jwt {

namespace json = boost::json;

struct JwtService::Entry {
  Keyset keyset;
  uint64_t mod_index = 0;
};

namespace {

constexpr int kMaxCommitAttempts = 5;
constexpr size_t kKidBytes = 12;

json::string_view View(std::string_view s) { return {s.data(), s.size()}; }

absl::Status KeysetNotFound(std::string_view name) {
  return absl::NotFoundError(rekey::StrCat("JWT keyset \"", name, "\" not found"));
}

absl::Status Invalid(std::string_view what) { return absl::UnauthenticatedError(ToAbsl(what)); }

// A JSON number as a double; nullopt for anything else.
std::optional<double> Number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

template <typename KeysetT>
auto* FindByRequest(KeysetT& ks, std::string_view request_id) {
  decltype(&ks.keys.front()) found = nullptr;
  if (request_id.empty()) return found;
  for (auto& k : ks.keys) {
    if (k.request_id == request_id) found = &k;
  }
  return found;
}

absl::Status KeyNotFound(std::string_view name, std::string_view kid) {
  return absl::NotFoundError(
      rekey::StrCat("JWT keyset \"", name, "\" has no key \"", kid.substr(0, 64), "\""));
}

}  // namespace

KeyView ViewOf(const KeyRecord& key, absl::Time now) {
  KeyView v;
  v.kid = key.kid;
  v.status = key.StatusAt(now);
  v.created = key.created;
  v.published = key.published;
  v.promoted = key.promote_at;
  v.retired = key.retire_at;
  v.removed = key.remove_at;
  return v;
}

KeysetView ViewOf(const Keyset& keyset, absl::Time now) {
  KeysetView v;
  v.name = keyset.name;
  v.config = keyset.config;
  v.created = keyset.created;
  if (const KeyRecord* signer = keyset.SignerAt(now); signer != nullptr) v.active_kid = signer->kid;
  for (const KeyRecord& k : keyset.keys) {
    v.keys.push_back(ViewOf(k, now));
    if (k.StatusAt(now) != KeyStatus::kRemoved && k.key.has_value()) {
      v.published_kids.push_back(k.kid);
    }
  }
  return v;
}

JwtService::JwtService(storage::Store& store, const Clock& clock, Random& random,
                       std::string prefix)
    : store_(store), clock_(clock), random_(random), prefix_(std::move(prefix)) {}

JwtService::~JwtService() = default;

std::string JwtService::RecordKey(std::string_view name) const {
  return rekey::StrCat(prefix_, "keysets/", name);
}

std::string JwtService::NewKid() {
  std::string bytes(kKidBytes, '\0');
  random_.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
  return Base64UrlEncode(bytes);
}

absl::StatusOr<std::shared_ptr<const JwtService::Entry>> JwtService::Load(std::string_view name) {
  RETURN_IF_ERROR(ValidateKeysetName(name));
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(ToAbsl(name));
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(RecordKey(name)));
  if (!rec.has_value()) return KeysetNotFound(name);
  ASSIGN_OR_RETURN(Keyset ks, DecodeKeyset(rec->value));
  auto entry = std::make_shared<const Entry>(Entry{std::move(ks), rec->mod_index});
  absl::MutexLock lock(&cache_mu_);
  auto [it, inserted] = cache_.emplace(std::string(name), entry);
  // A concurrent Mutate may have cached a newer snapshot meanwhile: keep the newest.
  if (!inserted && it->second->mod_index < entry->mod_index) it->second = entry;
  return it->second;
}

absl::StatusOr<std::shared_ptr<const JwtService::Entry>> JwtService::Mutate(
    std::string_view name, const std::function<absl::Status(Keyset&, absl::Time)>& change) {
  RETURN_IF_ERROR(ValidateKeysetName(name));
  absl::MutexLock writer(&write_mu_);
  const std::string key = RecordKey(name);
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(key));
    if (!rec.has_value()) return KeysetNotFound(name);
    ASSIGN_OR_RETURN(Keyset ks, DecodeKeyset(rec->value));
    const absl::Time now = clock_.Now();
    RETURN_IF_ERROR(change(ks, now));
    ks.Prune(now, kRemovedKeysKept);
    ASSIGN_OR_RETURN(SecretBytes encoded, EncodeKeyset(ks));
    storage::WriteBatch batch;
    batch.ExpectModIndex(key, rec->mod_index);
    batch.Put(key, std::move(encoded));
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (absl::IsAborted(committed.status())) continue;
    if (!committed.ok()) return committed.status();
    auto entry = std::make_shared<const Entry>(Entry{std::move(ks), *committed});
    absl::MutexLock lock(&cache_mu_);
    cache_[std::string(name)] = entry;
    return entry;
  }
  return absl::AbortedError(
      rekey::StrCat("JWT keyset \"", name, "\" kept changing concurrently; try again"));
}

absl::StatusOr<JwtService::Created> JwtService::CreateKeyset(std::string_view name,
                                                             const KeysetConfig& config) {
  RETURN_IF_ERROR(ValidateKeysetName(name));
  ASSIGN_OR_RETURN(KeysetConfig normalized, NormalizeConfig(config));
  auto existing = [&](const Keyset& ks) -> absl::StatusOr<Created> {
    if (ks.config != normalized) {
      return absl::AlreadyExistsError(rekey::StrCat(
          "JWT keyset \"", name, "\" exists with other settings; they cannot be changed"));
    }
    return Created{ViewOf(ks, clock_.Now()), false};
  };
  absl::StatusOr<std::shared_ptr<const Entry>> loaded = Load(name);
  if (loaded.ok()) return existing((*loaded)->keyset);
  if (!absl::IsNotFound(loaded.status())) return loaded.status();

  ASSIGN_OR_RETURN(SigningKey signing, SigningKey::Generate(normalized.alg));
  absl::MutexLock writer(&write_mu_);
  const std::string key = RecordKey(name);
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(key));
  if (rec.has_value()) {
    ASSIGN_OR_RETURN(Keyset ks, DecodeKeyset(rec->value));
    return existing(ks);
  }
  const absl::Time now = clock_.Now();
  Keyset ks;
  ks.name = std::string(name);
  ks.config = normalized;
  ks.created = now;
  KeyRecord first;
  first.kid = NewKid();
  first.created = now;
  first.published = now;
  first.promote_at = now;  // the first key signs at once: no verifier can hold an older JWKS
  first.key = std::move(signing);
  ks.keys.push_back(std::move(first));
  ASSIGN_OR_RETURN(SecretBytes encoded, EncodeKeyset(ks));
  storage::WriteBatch batch;
  batch.ExpectModIndex(key, 0);
  batch.Put(key, std::move(encoded));
  absl::StatusOr<uint64_t> committed = store_.Commit(batch);
  if (absl::IsAborted(committed.status())) {
    return absl::AbortedError(
        rekey::StrCat("JWT keyset \"", name, "\" was created concurrently; try again"));
  }
  if (!committed.ok()) return committed.status();
  Created out{ViewOf(ks, now), true};
  auto entry = std::make_shared<const Entry>(Entry{std::move(ks), *committed});
  absl::MutexLock lock(&cache_mu_);
  cache_[std::string(name)] = entry;
  return out;
}

absl::StatusOr<KeysetView> JwtService::GetKeyset(std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  return ViewOf(entry->keyset, clock_.Now());
}

absl::StatusOr<std::vector<std::string>> JwtService::ListKeysets() {
  const std::string prefix = rekey::StrCat(prefix_, "keysets/");
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(prefix, "", 0));
  std::vector<std::string> out;
  for (const std::string& k : keys) out.push_back(k.substr(prefix.size()));
  return out;
}

bool JwtService::Cached(std::string_view name) const {
  absl::MutexLock lock(&cache_mu_);
  return cache_.contains(ToAbsl(name));
}

absl::StatusOr<JwksDocument> JwtService::Jwks(std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  JwksDocument doc;
  doc.body = entry->keyset.JwksJson(clock_.Now());
  doc.etag = rekey::StrCat("\"", crypto::Sha256Hex(doc.body).substr(0, 32), "\"");
  doc.max_age = entry->keyset.config.jwks_cache_ttl;
  return doc;
}

absl::StatusOr<SignedToken> JwtService::SignWith(const Keyset& keyset, const KeyRecord& key,
                                                 const json::object& claims, absl::Duration ttl,
                                                 absl::Time now) {
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must not be negative");
  for (std::string_view reserved : {"iat", "exp"}) {
    if (claims.contains(View(reserved))) {
      return absl::InvalidArgumentError(rekey::StrCat("claims must not contain \"", reserved,
                                                      "\": the server sets it (use ttl)"));
    }
  }
  if (const json::value* nbf = claims.if_contains("nbf");
      nbf != nullptr && !Number(*nbf).has_value()) {
    return absl::InvalidArgumentError("claim \"nbf\" must be a number (NumericDate)");
  }
  SignedToken out;
  if (ttl == absl::ZeroDuration()) ttl = keyset.config.max_token_ttl;
  if (ttl > keyset.config.max_token_ttl) {
    ttl = keyset.config.max_token_ttl;
    out.ttl_capped = true;
  }
  const int64_t iat = absl::ToUnixSeconds(now);
  const int64_t exp = iat + std::max<int64_t>(1, absl::ToInt64Seconds(ttl));
  json::object payload = claims;
  if (!keyset.config.issuer.empty() && !payload.contains("iss")) {
    payload["iss"] = View(keyset.config.issuer);
  }
  payload["iat"] = iat;
  payload["exp"] = exp;
  const std::string text = json::serialize(payload);
  if (text.size() > kMaxClaimsSize) {
    return absl::InvalidArgumentError(
        rekey::StrCat("claims are longer than ", kMaxClaimsSize, " bytes"));
  }
  ASSIGN_OR_RETURN(out.token, SignCompact(*key.key, key.kid, text));
  out.kid = key.kid;
  out.issued_at = absl::FromUnixSeconds(iat);
  out.expires_at = absl::FromUnixSeconds(exp);
  return out;
}

absl::StatusOr<SignedToken> JwtService::Sign(std::string_view name, const json::object& claims,
                                             absl::Duration ttl) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  const absl::Time now = clock_.Now();
  const KeyRecord* signer = entry->keyset.SignerAt(now);
  if (signer == nullptr) {
    return absl::FailedPreconditionError(
        rekey::StrCat("JWT keyset \"", name, "\" has no active key"));
  }
  return SignWith(entry->keyset, *signer, claims, ttl, now);
}

absl::StatusOr<SignedToken> JwtService::SignWithKey(std::string_view name, std::string_view kid,
                                                    const json::object& claims,
                                                    absl::Duration ttl) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  const absl::Time now = clock_.Now();
  const KeyRecord* key = entry->keyset.Find(kid);
  if (key == nullptr || !key->key.has_value() || key->StatusAt(now) == KeyStatus::kRemoved) {
    return KeyNotFound(name, kid);
  }
  return SignWith(entry->keyset, *key, claims, ttl, now);
}

absl::StatusOr<VerifiedToken> JwtService::Verify(std::string_view name, std::string_view token,
                                                 const VerifyOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  ASSIGN_OR_RETURN(ParsedJws jws, ParseCompact(token));
  const absl::Time now = clock_.Now();
  const Keyset& ks = entry->keyset;
  if (jws.kid.empty()) return Invalid("token has no \"kid\" header");
  const KeyRecord* key = ks.Find(jws.kid);
  if (key == nullptr || !key->key.has_value() || key->StatusAt(now) == KeyStatus::kRemoved) {
    return Invalid("token was not signed by a key in the keyset's JWKS (unknown kid)");
  }
  if (jws.alg != AlgorithmName(ks.config.alg)) {
    return Invalid("token \"alg\" is not the algorithm of its key");
  }
  if (!key->key->Verify(jws.signing_input, jws.signature)) {
    return Invalid("token signature does not verify");
  }
  boost::system::error_code ec;
  json::value payload = json::parse(jws.payload, ec);
  if (ec || !payload.is_object()) {
    return absl::InvalidArgumentError("token payload is not a JSON object (JWT claims set)");
  }
  VerifiedToken out;
  out.kid = key->kid;
  out.claims = std::move(payload.get_object());
  const double now_s = absl::ToDoubleSeconds(now - absl::UnixEpoch());
  const json::value* exp = out.claims.if_contains("exp");
  if (exp == nullptr || !Number(*exp).has_value()) return Invalid("token has no numeric \"exp\"");
  if (now_s >= *Number(*exp)) return Invalid("token has expired");
  if (const json::value* nbf = out.claims.if_contains("nbf"); nbf != nullptr) {
    if (!Number(*nbf).has_value()) return Invalid("token \"nbf\" is not numeric");
    if (now_s < *Number(*nbf)) return Invalid("token is not valid yet (nbf)");
  }
  if (!options.issuer.empty()) {
    const json::value* iss = out.claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != View(options.issuer)) {
      return Invalid("token \"iss\" is not the expected issuer");
    }
  }
  if (!options.audience.empty()) {
    const json::value* aud = out.claims.if_contains("aud");
    bool found = aud != nullptr && aud->is_string() && aud->get_string() == View(options.audience);
    if (aud != nullptr && aud->is_array()) {
      for (const json::value& a : aud->get_array()) {
        found = found || (a.is_string() && a.get_string() == View(options.audience));
      }
    }
    if (!found) return Invalid("token \"aud\" does not contain the expected audience");
  }
  return out;
}

absl::StatusOr<std::optional<KeyView>> JwtService::FindKeyByRequest(std::string_view name,
                                                                    std::string_view request_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> entry, Load(name));
  const KeyRecord* key = FindByRequest(entry->keyset, request_id);
  if (key == nullptr) return std::nullopt;
  return ViewOf(*key, clock_.Now());
}

absl::StatusOr<KeyView> JwtService::PublishKey(std::string_view name, std::string_view request_id) {
  ASSIGN_OR_RETURN(std::optional<KeyView> existing, FindKeyByRequest(name, request_id));
  if (existing.has_value()) return *existing;
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> before, Load(name));
  ASSIGN_OR_RETURN(SigningKey signing, SigningKey::Generate(before->keyset.config.alg));
  const std::string kid = NewKid();
  KeyView out;
  ASSIGN_OR_RETURN(std::shared_ptr<const Entry> after,
                   Mutate(name, [&](Keyset& ks, absl::Time now) -> absl::Status {
                     if (KeyRecord* k = FindByRequest(ks, request_id); k != nullptr) {
                       out = ViewOf(*k, now);  // published concurrently by the same request
                       return absl::OkStatus();
                     }
                     if (ks.config.alg != signing.alg()) {
                       return absl::AbortedError("the keyset was replaced concurrently");
                     }
                     KeyRecord k;
                     k.kid = kid;
                     k.request_id = std::string(request_id);
                     k.created = now;
                     k.published = now;
                     k.key = signing;
                     out = ViewOf(k, now);
                     ks.keys.push_back(std::move(k));
                     return absl::OkStatus();
                   }));
  (void)after;
  return out;
}

absl::StatusOr<KeyView> JwtService::SchedulePromotion(std::string_view name, std::string_view kid) {
  KeyView out;
  RETURN_IF_ERROR(Mutate(name, [&](Keyset& ks, absl::Time now) -> absl::Status {
                    KeyRecord* key = ks.Find(kid);
                    if (key == nullptr) return KeyNotFound(name, kid);
                    if (key->StatusAt(now) == KeyStatus::kRemoved) {
                      return absl::FailedPreconditionError(rekey::StrCat(
                          "JWT key \"", kid, "\" of keyset \"", name, "\" was removed"));
                    }
                    if (key->promote_at != absl::InfiniteFuture()) {
                      out = ViewOf(*key, now);
                      return absl::OkStatus();
                    }
                    absl::Time at = std::max(now, key->published + ks.config.prepublish);
                    KeyRecord* predecessor = nullptr;
                    for (KeyRecord& k : ks.keys) {
                      if (&k == key || k.promote_at == absl::InfiniteFuture() ||
                          k.StatusAt(now) == KeyStatus::kRemoved) {
                        continue;
                      }
                      at = std::max(at, k.promote_at);
                      if (k.retire_at == absl::InfiniteFuture()) predecessor = &k;
                    }
                    key->promote_at = at;
                    if (predecessor != nullptr) predecessor->retire_at = at;
                    out = ViewOf(*key, now);
                    return absl::OkStatus();
                  }).status());
  return out;
}

absl::StatusOr<std::vector<KeyView>> JwtService::ScheduleRemoval(std::string_view name,
                                                                 std::string_view kid) {
  std::vector<KeyView> out;
  RETURN_IF_ERROR(Mutate(name, [&](Keyset& ks, absl::Time now) -> absl::Status {
                    out.clear();
                    if (!kid.empty()) {
                      const KeyRecord* key = ks.Find(kid);
                      if (key == nullptr) return KeyNotFound(name, kid);
                      if (key->StatusAt(now) != KeyStatus::kRemoved &&
                          key->retire_at == absl::InfiniteFuture()) {
                        return absl::FailedPreconditionError(rekey::StrCat(
                            "JWT key \"", kid, "\" of keyset \"", name,
                            "\" still signs (no successor is scheduled); it cannot be removed"));
                      }
                    }
                    for (KeyRecord& k : ks.keys) {
                      if (k.StatusAt(now) == KeyStatus::kRemoved ||
                          k.retire_at == absl::InfiniteFuture() ||
                          k.remove_at != absl::InfiniteFuture()) {
                        continue;
                      }
                      k.remove_at = std::max(now, k.retire_at + ks.config.max_token_ttl);
                      out.push_back(ViewOf(k, now));
                    }
                    return absl::OkStatus();
                  }).status());
  return out;
}

namespace {

// CancelKey's undoing of one key (see the header).
void CancelOne(Keyset& ks, KeyRecord* key, absl::Time now) {
  if (key->StatusAt(now) == KeyStatus::kRemoved) return;
  KeyRecord* predecessor = nullptr;
  if (key->promote_at != absl::InfiniteFuture()) {
    for (KeyRecord& k : ks.keys) {
      if (&k != key && k.retire_at == key->promote_at && k.StatusAt(now) != KeyStatus::kRemoved &&
          k.key.has_value()) {
        predecessor = &k;
      }
    }
  }
  const KeyStatus status = key->StatusAt(now);
  if (status == KeyStatus::kPublished) {
    // Never signed: it can leave the JWKS at once.
    if (predecessor != nullptr) predecessor->retire_at = absl::InfiniteFuture();
    key->promote_at = absl::InfiniteFuture();
    key->remove_at = now;
    return;
  }
  if (status == KeyStatus::kActive && predecessor == nullptr) {
    return;  // nothing else could sign: it stays
  }
  // It signed: its tokens must keep verifying until they expire.
  if (status == KeyStatus::kActive) {
    predecessor->retire_at = absl::InfiniteFuture();
    key->retire_at = now;
  }
  key->remove_at = std::max(now, key->retire_at + ks.config.max_token_ttl);
}

}  // namespace

absl::Status JwtService::CancelKey(std::string_view name, std::string_view request_id) {
  return Mutate(name,
                [&](Keyset& ks, absl::Time now) -> absl::Status {
                  KeyRecord* key = FindByRequest(ks, request_id);
                  if (key != nullptr) CancelOne(ks, key, now);
                  return absl::OkStatus();
                })
      .status();
}

absl::StatusOr<std::vector<std::string>> JwtService::CancelKeysOf(std::string_view name,
                                                                  std::string_view request_prefix,
                                                                  std::string_view except) {
  if (request_prefix.empty()) return absl::InvalidArgumentError("empty request prefix");
  std::vector<std::string> cancelled;
  RETURN_IF_ERROR(Mutate(name, [&](Keyset& ks, absl::Time now) -> absl::Status {
                    cancelled.clear();
                    for (KeyRecord& k : ks.keys) {
                      if (k.request_id.empty() || k.request_id == except ||
                          k.request_id.compare(0, request_prefix.size(), request_prefix) != 0 ||
                          k.StatusAt(now) == KeyStatus::kRemoved) {
                        continue;
                      }
                      CancelOne(ks, &k, now);
                      cancelled.push_back(k.kid);
                    }
                    return absl::OkStatus();
                  }).status());
  return cancelled;
}

}  // namespace rekey::jwt
