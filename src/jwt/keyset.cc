#include "jwt/keyset.h"

#include <boost/json.hpp>
#include <utility>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "transit/internal/codec.h"

namespace rekey::jwt {
namespace {

namespace json = boost::json;
using transit::internal::ParseSecretJson;
using transit::internal::SerializeSecretJson;
using transit::internal::ZeroingJsonStorage;

constexpr size_t kMaxKeysetNameSize = 128;
constexpr size_t kMaxIssuerSize = 1024;
constexpr int kFormatVersion = 1;

json::string_view View(std::string_view s) { return {s.data(), s.size()}; }

bool WholeSeconds(absl::Duration d) { return d == absl::Seconds(absl::ToInt64Seconds(d)); }

// Times are stored as Unix nanoseconds; an infinite time is stored as an absent member.
void PutTime(json::object& o, std::string_view name, absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return;
  o[View(name)] = absl::ToUnixNanos(t);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(rekey::StrCat("stored JWT keyset is corrupt: ", what));
}

absl::StatusOr<int64_t> GetInt(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(View(name));
  if (v == nullptr || !v->is_int64()) return Corrupt(rekey::StrCat("bad \"", name, "\""));
  return v->get_int64();
}

absl::StatusOr<absl::Time> GetTime(const json::object& o, std::string_view name,
                                   absl::Time if_absent) {
  if (!o.contains(View(name))) return if_absent;
  ASSIGN_OR_RETURN(int64_t ns, GetInt(o, name));
  return absl::FromUnixNanos(ns);
}

absl::StatusOr<std::string> GetString(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(View(name));
  if (v == nullptr || !v->is_string()) return Corrupt(rekey::StrCat("bad \"", name, "\""));
  return std::string(v->get_string());
}

}  // namespace

std::string_view KeyStatusName(KeyStatus status) {
  switch (status) {
    case KeyStatus::kPublished:
      return "published";
    case KeyStatus::kActive:
      return "active";
    case KeyStatus::kRetiring:
      return "retiring";
    case KeyStatus::kRemoved:
      return "removed";
  }
  return "unknown";
}

absl::Duration DefaultPrepublish(absl::Duration jwks_cache_ttl) {
  absl::Duration margin = absl::Ceil(jwks_cache_ttl / 10, absl::Seconds(1));
  return jwks_cache_ttl + std::max(margin, absl::Seconds(1));
}

absl::StatusOr<KeysetConfig> NormalizeConfig(KeysetConfig config) {
  std::vector<std::string> problems;
  if (config.jwks_cache_ttl < kMinJwksCacheTtl || config.jwks_cache_ttl > kMaxJwksCacheTtl ||
      !WholeSeconds(config.jwks_cache_ttl)) {
    problems.push_back("jwks_cache_ttl must be whole seconds from 1s to 24h");
  }
  if (config.max_token_ttl < kMinTokenTtl || config.max_token_ttl > kMaxTokenTtlLimit ||
      !WholeSeconds(config.max_token_ttl)) {
    problems.push_back("max_token_ttl must be whole seconds from 1s to 744h");
  }
  if (config.prepublish == absl::ZeroDuration()) {
    config.prepublish = DefaultPrepublish(config.jwks_cache_ttl);
  } else if (config.prepublish < config.jwks_cache_ttl || config.prepublish > kMaxPrepublish) {
    problems.push_back(
        "prepublish must be at least jwks_cache_ttl (verifiers must see a key before it signs) "
        "and at most 744h");
  }
  if (config.issuer.size() > kMaxIssuerSize) {
    problems.push_back(rekey::StrCat("issuer must be at most ", kMaxIssuerSize, " bytes"));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return config;
}

absl::Status ValidateKeysetName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxKeysetNameSize && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "keyset name must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-' (not . or ..)");
}

KeyStatus KeyRecord::StatusAt(absl::Time now) const {
  if (remove_at <= now) return KeyStatus::kRemoved;
  if (now < promote_at) return KeyStatus::kPublished;
  if (retire_at <= now) return KeyStatus::kRetiring;
  return KeyStatus::kActive;
}

KeyRecord* Keyset::Find(std::string_view kid) {
  for (KeyRecord& k : keys) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

const KeyRecord* Keyset::Find(std::string_view kid) const {
  return const_cast<Keyset*>(this)->Find(kid);
}

const KeyRecord* Keyset::SignerAt(absl::Time now) const {
  const KeyRecord* best = nullptr;
  for (const KeyRecord& k : keys) {
    if (k.StatusAt(now) != KeyStatus::kActive || !k.key.has_value()) continue;
    if (best == nullptr || k.promote_at >= best->promote_at) best = &k;
  }
  return best;
}

std::string Keyset::JwksJson(absl::Time now) const {
  json::array list;
  for (const KeyRecord& k : keys) {
    if (k.StatusAt(now) == KeyStatus::kRemoved || !k.key.has_value()) continue;
    json::object jwk = k.key->public_jwk();
    jwk["kid"] = View(k.kid);
    jwk["alg"] = View(AlgorithmName(config.alg));
    jwk["use"] = "sig";
    list.emplace_back(std::move(jwk));
  }
  json::object doc;
  doc["keys"] = std::move(list);
  return json::serialize(doc);
}

void Keyset::Prune(absl::Time now, size_t keep_removed) {
  size_t removed = 0;
  for (KeyRecord& k : keys) {
    if (k.StatusAt(now) != KeyStatus::kRemoved) continue;
    k.key.reset();
    ++removed;
  }
  for (auto it = keys.begin(); it != keys.end() && removed > keep_removed;) {
    if (it->StatusAt(now) == KeyStatus::kRemoved) {
      it = keys.erase(it);
      --removed;
    } else {
      ++it;
    }
  }
}

absl::StatusOr<SecretBytes> EncodeKeyset(const Keyset& keyset) {
  json::object o(ZeroingJsonStorage());
  o["format"] = kFormatVersion;
  o["name"] = View(keyset.name);
  o["alg"] = View(AlgorithmName(keyset.config.alg));
  o["jwks_cache_ttl_ns"] = absl::ToInt64Nanoseconds(keyset.config.jwks_cache_ttl);
  o["max_token_ttl_ns"] = absl::ToInt64Nanoseconds(keyset.config.max_token_ttl);
  o["prepublish_ns"] = absl::ToInt64Nanoseconds(keyset.config.prepublish);
  o["issuer"] = View(keyset.config.issuer);
  PutTime(o, "created", keyset.created);
  json::array keys(ZeroingJsonStorage());
  for (const KeyRecord& k : keyset.keys) {
    json::object r(ZeroingJsonStorage());
    r["kid"] = View(k.kid);
    r["request_id"] = View(k.request_id);
    PutTime(r, "created", k.created);
    PutTime(r, "published", k.published);
    PutTime(r, "promote_at", k.promote_at);
    PutTime(r, "retire_at", k.retire_at);
    PutTime(r, "remove_at", k.remove_at);
    if (k.key.has_value()) {
      ASSIGN_OR_RETURN(SecretBytes stored, k.key->StoredForm());
      SecretBytes encoded = transit::Base64EncodeSecret(stored.Reveal());
      r["key"] = View(encoded.Reveal());
    }
    keys.emplace_back(std::move(r));
  }
  o["keys"] = std::move(keys);
  return SerializeSecretJson(o);
}

absl::StatusOr<Keyset> DecodeKeyset(const SecretBytes& data) {
  absl::StatusOr<json::value> parsed = ParseSecretJson(data.Reveal(), "stored JWT keyset");
  if (!parsed.ok() || !parsed->is_object()) return Corrupt("not a JSON object");
  const json::object& o = parsed->get_object();
  ASSIGN_OR_RETURN(int64_t format, GetInt(o, "format"));
  if (format != kFormatVersion) return Corrupt("unknown format");
  Keyset ks;
  ASSIGN_OR_RETURN(ks.name, GetString(o, "name"));
  ASSIGN_OR_RETURN(std::string alg, GetString(o, "alg"));
  std::optional<Algorithm> a = ParseAlgorithm(alg);
  if (!a.has_value()) return Corrupt("unknown alg");
  ks.config.alg = *a;
  ASSIGN_OR_RETURN(int64_t cache_ns, GetInt(o, "jwks_cache_ttl_ns"));
  ASSIGN_OR_RETURN(int64_t max_ns, GetInt(o, "max_token_ttl_ns"));
  ASSIGN_OR_RETURN(int64_t prepublish_ns, GetInt(o, "prepublish_ns"));
  ks.config.jwks_cache_ttl = absl::Nanoseconds(cache_ns);
  ks.config.max_token_ttl = absl::Nanoseconds(max_ns);
  ks.config.prepublish = absl::Nanoseconds(prepublish_ns);
  ASSIGN_OR_RETURN(ks.config.issuer, GetString(o, "issuer"));
  ASSIGN_OR_RETURN(ks.created, GetTime(o, "created", absl::InfinitePast()));
  const json::value* keys = o.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return Corrupt("bad \"keys\"");
  for (const json::value& v : keys->get_array()) {
    if (!v.is_object()) return Corrupt("a key is not an object");
    const json::object& r = v.get_object();
    KeyRecord k;
    ASSIGN_OR_RETURN(k.kid, GetString(r, "kid"));
    ASSIGN_OR_RETURN(k.request_id, GetString(r, "request_id"));
    ASSIGN_OR_RETURN(k.created, GetTime(r, "created", absl::InfinitePast()));
    ASSIGN_OR_RETURN(k.published, GetTime(r, "published", absl::InfinitePast()));
    ASSIGN_OR_RETURN(k.promote_at, GetTime(r, "promote_at", absl::InfiniteFuture()));
    ASSIGN_OR_RETURN(k.retire_at, GetTime(r, "retire_at", absl::InfiniteFuture()));
    ASSIGN_OR_RETURN(k.remove_at, GetTime(r, "remove_at", absl::InfiniteFuture()));
    if (const json::value* key = r.if_contains("key"); key != nullptr) {
      if (!key->is_string()) return Corrupt("bad \"key\"");
      std::optional<SecretBytes> stored = transit::Base64DecodeSecret(
          std::string_view(key->get_string().data(), key->get_string().size()));
      if (!stored.has_value()) return Corrupt("bad \"key\"");
      ASSIGN_OR_RETURN(SigningKey signing, SigningKey::FromStoredForm(ks.config.alg, *stored));
      k.key = std::move(signing);
    }
    ks.keys.push_back(std::move(k));
  }
  return ks;
}

}  // namespace rekey::jwt
