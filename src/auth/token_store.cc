#include "auth/token_store.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <deque>
#include <set>

#include "absl/strings/ascii.h"
#include "auth/policy.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "crypto/hash.h"

namespace rekey::auth {
namespace json = boost::json;
namespace {

constexpr std::string_view kIdPrefix = "auth/token/id/";
constexpr std::string_view kAccessorPrefix = "auth/token/accessor/";
constexpr std::string_view kParentPrefix = "auth/token/parent/";
constexpr std::string_view kRootPolicy = "root";
constexpr std::string_view kDefaultPolicy = "default";
constexpr int kMaxDepth = 64;        // parent chain length checked on lookup
constexpr int kMaxCasAttempts = 16;  // compare-and-set retries before giving up
constexpr size_t kMaxTokenBytes = 256;
constexpr size_t kMaxDisplayName = 128;

absl::Status Denied() { return absl::PermissionDeniedError("permission denied"); }
absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

std::string IdKey(std::string_view hash) { return StrCat(kIdPrefix, hash); }
std::string AccessorKey(std::string_view accessor) {
  return StrCat(kAccessorPrefix, crypto::Sha256Hex(accessor));
}
std::string ChildPrefix(std::string_view parent) { return StrCat(kParentPrefix, parent, "/"); }
std::string ChildKey(std::string_view parent, std::string_view child) {
  return StrCat(kParentPrefix, parent, "/", child);
}

int64_t TimeToJson(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return 0;
  return absl::ToUnixNanos(t);
}

std::string Encode(const TokenEntry& e) {
  json::object o;
  o["accessor"] = e.accessor;
  json::array policies;
  for (const auto& p : e.policies) policies.emplace_back(p);
  o["policies"] = std::move(policies);
  o["display_name"] = e.display_name;
  o["path"] = e.path;
  o["created"] = TimeToJson(e.created);
  o["expires"] = TimeToJson(e.expires);
  o["last_renewal"] = TimeToJson(e.last_renewal);
  o["ttl"] = absl::ToInt64Nanoseconds(e.ttl);
  o["explicit_max_ttl"] = absl::ToInt64Nanoseconds(e.explicit_max_ttl);
  o["renewable"] = e.renewable;
  o["num_uses"] = e.num_uses;
  json::object meta;
  for (const auto& [k, v] : e.meta) meta[k] = v;
  o["meta"] = std::move(meta);
  o["orphan"] = e.orphan;
  o["parent"] = e.parent;
  return json::serialize(o);
}

// Decodes a stored entry. Fields added after the first release are optional.
absl::StatusOr<TokenEntry> Decode(std::string_view hash, std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = v.if_object();
  auto corrupt = [] { return absl::DataLossError("stored token record is malformed"); };
  if (ec || o == nullptr) return corrupt();
  TokenEntry e;
  e.hash = std::string(hash);
  auto int_or = [&](std::string_view key, int64_t fallback) -> int64_t {
    const json::value* f = o->if_contains(key);
    return f == nullptr ? fallback : f->to_number<int64_t>();
  };
  try {
    e.accessor = std::string(o->at("accessor").as_string());
    for (const auto& p : o->at("policies").as_array()) e.policies.emplace_back(p.as_string());
    e.display_name = std::string(o->at("display_name").as_string());
    e.path = std::string(o->at("path").as_string());
    e.created = absl::FromUnixNanos(o->at("created").to_number<int64_t>());
    int64_t expires = o->at("expires").to_number<int64_t>();
    e.expires = expires == 0 ? absl::InfiniteFuture() : absl::FromUnixNanos(expires);
    int64_t renewed = int_or("last_renewal", 0);
    e.last_renewal = renewed == 0 ? absl::InfinitePast() : absl::FromUnixNanos(renewed);
    e.ttl = absl::Nanoseconds(int_or("ttl", 0));
    e.explicit_max_ttl = absl::Nanoseconds(int_or("explicit_max_ttl", 0));
    if (const json::value* r = o->if_contains("renewable")) e.renewable = r->as_bool();
    e.num_uses = int_or("num_uses", 0);
    for (const auto& kv : o->at("meta").as_object()) {
      e.meta[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    e.orphan = o->at("orphan").as_bool();
    if (const json::value* p = o->if_contains("parent")) e.parent = std::string(p->as_string());
  } catch (const std::exception&) {
    return corrupt();
  }
  return e;
}

// Vault's policyutil.SanitizePolicies: trimmed, lower-cased, no empties, sorted, unique; "root"
// swallows every other policy; "default" added when asked (and not root).
std::vector<std::string> SanitizePolicies(std::vector<std::string> in, bool add_default) {
  std::set<std::string> out;
  for (std::string& p : in) {
    std::string name(absl::StripAsciiWhitespace(ToAbsl(p)));
    absl::AsciiStrToLower(&name);
    if (name.empty()) continue;
    if (name == kRootPolicy) return {std::string(kRootPolicy)};
    out.insert(std::move(name));
  }
  if (add_default) out.insert(std::string(kDefaultPolicy));
  return std::vector<std::string>(out.begin(), out.end());
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Vault: "token-" + the name with every character outside [A-Za-z0-9-] replaced by '-'.
std::string DisplayName(std::string_view requested) {
  if (requested.empty()) return "token";
  std::string out = StrCat("token-", requested);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

bool TokenEntry::IsRoot() const { return Contains(policies, kRootPolicy); }

TokenStore::TokenStore(storage::Store& store, const Clock& clock, Random& random,
                       TokenStoreOptions options)
    : store_(store), clock_(clock), random_(random), options_(options) {}

std::string TokenStore::HashOf(std::string_view token) { return crypto::Sha256Hex(token); }

absl::StatusOr<SecretBytes> TokenStore::NewSecret(std::string_view prefix, int length) {
  return crypto::GenerateApiKey(
      crypto::ApiKeyFormat{.prefix = std::string(prefix),
                           .length = length,
                           .alphabet = crypto::ApiKeyFormat::Alphabet::kBase62},
      random_);
}

void TokenStore::CachePut(const TokenEntry& entry) {
  std::unique_lock lock(mu_);
  if (cache_.size() >= options_.max_cached && !cache_.contains(entry.hash)) cache_.clear();
  cache_[entry.hash] = entry;
}

void TokenStore::CacheErase(const std::vector<std::string>& hashes) {
  std::unique_lock lock(mu_);
  for (const std::string& h : hashes) cache_.erase(h);
}

absl::StatusOr<std::optional<TokenStore::Loaded>> TokenStore::Load(const std::string& hash) {
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(IdKey(hash)));
  if (!record.has_value()) return std::nullopt;
  ASSIGN_OR_RETURN(TokenEntry entry, Decode(hash, record->value.Reveal()));
  return Loaded{std::move(entry), record->mod_index};
}

absl::Status TokenStore::SaveNew(const TokenEntry& entry) {
  storage::WriteBatch batch;
  std::string key = IdKey(entry.hash);
  batch.ExpectModIndex(key, 0);
  batch.Put(std::move(key), SecretBytes(Encode(entry)));
  std::string akey = AccessorKey(entry.accessor);
  batch.ExpectModIndex(akey, 0);
  json::object index;
  index["token"] = entry.hash;
  index["accessor"] = entry.accessor;
  batch.Put(std::move(akey), SecretBytes(json::serialize(index)));
  if (!entry.parent.empty()) batch.Put(ChildKey(entry.parent, entry.hash), SecretBytes(""));
  absl::StatusOr<uint64_t> committed = store_.Commit(batch);
  if (committed.status().code() == absl::StatusCode::kAborted) {
    // A collision of 256-bit random values: the random source is broken.
    return absl::InternalError("token or accessor collision");
  }
  RETURN_IF_ERROR(committed.status());
  CachePut(entry);
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> TokenStore::CreateRootToken(std::string_view display_name) {
  // 43 base62 characters carry 256 bits, as 32 random bytes would.
  ASSIGN_OR_RETURN(SecretBytes token, NewSecret("rks_", 43));
  ASSIGN_OR_RETURN(SecretBytes accessor, NewSecret("", 24));
  TokenEntry entry;
  entry.hash = HashOf(token.Reveal());
  entry.accessor = std::string(accessor.Reveal());
  entry.policies = {std::string(kRootPolicy)};
  entry.display_name = std::string(display_name);
  entry.path = "auth/token/root";
  entry.created = clock_.Now();
  std::lock_guard write(write_mu_);
  RETURN_IF_ERROR(SaveNew(entry));
  return token;
}

absl::Status TokenStore::EnsureRootToken(const SecretBytes& token) {
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return Invalid("a root token must be 1 to 256 bytes");
  }
  absl::StatusOr<TokenEntry> existing = Lookup(token.Reveal());
  if (existing.ok() && existing->IsRoot()) return absl::OkStatus();
  std::lock_guard write(write_mu_);
  const std::string hash = HashOf(token.Reveal());
  // Whatever was stored under this value (a non-root or expired token) is replaced.
  storage::WriteBatch batch;
  std::vector<std::string> revoked;
  RETURN_IF_ERROR(AddRevokeTree(hash, batch, revoked));
  if (!batch.empty()) RETURN_IF_ERROR(store_.Commit(batch).status());
  CacheErase(revoked);
  ASSIGN_OR_RETURN(SecretBytes accessor, NewSecret("", 24));
  TokenEntry entry;
  entry.hash = hash;
  entry.accessor = std::string(accessor.Reveal());
  entry.policies = {std::string(kRootPolicy)};
  entry.display_name = "root";
  entry.path = "auth/token/root";
  entry.created = clock_.Now();
  return SaveNew(entry);
}

absl::StatusOr<CreatedToken> TokenStore::Create(const TokenEntry& parent,
                                                const TokenRequest& request,
                                                bool parent_is_privileged) {
  const bool parent_root = parent.IsRoot();
  const bool privileged = parent_root || parent_is_privileged;
  const bool orphan = request.no_parent || request.path == "auth/token/create-orphan";
  if (request.no_parent && !privileged) {
    return Invalid("root or sudo privileges required to create orphan token");
  }
  if (request.num_uses < 0) return Invalid("number of uses cannot be negative");
  if (request.ttl.has_value() && *request.ttl < absl::ZeroDuration()) {
    return Invalid("invalid value for \"ttl\": must not be negative");
  }
  if (request.explicit_max_ttl.has_value() && *request.explicit_max_ttl < absl::ZeroDuration()) {
    return Invalid("invalid value for \"explicit_max_ttl\": must not be negative");
  }
  if (request.display_name.size() > kMaxDisplayName) {
    return Invalid("invalid value for \"display_name\": longer than 128 characters");
  }

  // Policies: the parent's when none are given (Vault), then the subset rule.
  std::vector<std::string> requested = SanitizePolicies(
      request.policies.has_value() && !request.policies->empty() ? *request.policies
                                                                 : parent.policies,
      /*add_default=*/false);
  for (const std::string& name : requested) {
    if (name == kRootPolicy) continue;
    if (absl::Status valid = Policy::ValidateName(name); !valid.ok()) return valid;
  }
  if (Contains(requested, kRootPolicy) && !parent_root) {
    return Invalid("root tokens may not be created without parent token being root");
  }
  if (!privileged) {
    for (const std::string& name : requested) {
      if (name != kDefaultPolicy && !Contains(parent.policies, name)) {
        return Invalid(
            StrCat("child policies must be subset of parent: the caller does not have "
                   "policy \"",
                   name, "\""));
      }
    }
  }
  TokenEntry entry;
  entry.policies = SanitizePolicies(std::move(requested), !request.no_default_policy);
  const bool root = entry.IsRoot();

  // TTL (Vault): the request's, else the default, except that a root token may live forever;
  // explicit_max_ttl and the system max TTL cap it.
  const absl::Time now = clock_.Now();
  absl::Duration ttl = request.ttl.value_or(absl::ZeroDuration());
  const absl::Duration explicit_max = request.explicit_max_ttl.value_or(absl::ZeroDuration());
  if (ttl == absl::ZeroDuration() && !root) ttl = options_.default_ttl;
  if (explicit_max > absl::ZeroDuration() && (ttl == absl::ZeroDuration() || ttl > explicit_max)) {
    ttl = explicit_max;
  }
  if (ttl > options_.max_ttl) ttl = options_.max_ttl;

  entry.display_name = DisplayName(request.display_name);
  entry.path = request.path;
  entry.created = now;
  entry.ttl = ttl;
  entry.explicit_max_ttl = explicit_max;
  entry.expires = ttl > absl::ZeroDuration() ? now + ttl : absl::InfiniteFuture();
  // A token that never expires cannot be renewed (Vault does not advertise it as renewable).
  entry.renewable = request.renewable.value_or(true) && ttl > absl::ZeroDuration();
  entry.num_uses = request.num_uses;
  entry.meta = request.meta;
  entry.orphan = orphan;

  std::lock_guard write(write_mu_);
  // The parent must still be valid when its child is recorded.
  ASSIGN_OR_RETURN(TokenEntry current_parent, LookupHashAt(parent.hash, now, 0));
  if (!orphan) entry.parent = current_parent.hash;
  ASSIGN_OR_RETURN(SecretBytes token, NewSecret("rks_", 43));
  ASSIGN_OR_RETURN(SecretBytes accessor, NewSecret("", 24));
  entry.hash = HashOf(token.Reveal());
  entry.accessor = std::string(accessor.Reveal());
  RETURN_IF_ERROR(SaveNew(entry));
  return CreatedToken{std::move(token), std::move(entry)};
}

absl::StatusOr<TokenEntry> TokenStore::Lookup(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Denied();
  return LookupHashAt(HashOf(token), clock_.Now(), 0);
}

absl::StatusOr<TokenEntry> TokenStore::LookupHash(const std::string& hash) {
  return LookupHashAt(hash, clock_.Now(), 0);
}

absl::StatusOr<TokenEntry> TokenStore::LookupHashAt(const std::string& hash, absl::Time now,
                                                    int depth) {
  if (depth > kMaxDepth) return Denied();
  std::optional<TokenEntry> entry;
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(hash); it != cache_.end()) entry = it->second;
  }
  if (!entry.has_value()) {
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(hash));
    if (!loaded.has_value()) return Denied();
    entry = std::move(loaded->entry);
    if (entry->expires > now) CachePut(*entry);
  }
  if (entry->expires <= now || entry->num_uses < 0) return Denied();
  if (!entry->parent.empty()) {
    absl::StatusOr<TokenEntry> parent = LookupHashAt(entry->parent, now, depth + 1);
    if (!parent.ok()) {
      return parent.status().code() == absl::StatusCode::kPermissionDenied ? Denied()
                                                                           : parent.status();
    }
  }
  return *std::move(entry);
}

absl::StatusOr<TokenEntry> TokenStore::LookupAccessor(std::string_view accessor) {
  auto invalid = [] { return absl::InvalidArgumentError("invalid accessor"); };
  if (accessor.empty() || accessor.size() > kMaxTokenBytes) return invalid();
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(AccessorKey(accessor)));
  if (!record.has_value()) return invalid();
  boost::system::error_code ec;
  json::value v = json::parse(record->value.Reveal(), ec);
  const json::object* o = v.if_object();
  const json::value* token = o == nullptr ? nullptr : o->if_contains("token");
  if (ec || token == nullptr || !token->is_string()) {
    return absl::DataLossError("stored accessor record is malformed");
  }
  absl::StatusOr<TokenEntry> entry = LookupHash(std::string(token->get_string()));
  if (entry.status().code() == absl::StatusCode::kPermissionDenied) return invalid();
  return entry;
}

absl::StatusOr<TokenEntry> TokenStore::Renew(const std::string& hash, absl::Duration increment) {
  if (increment < absl::ZeroDuration()) {
    return Invalid("invalid value for \"increment\": must not be negative");
  }
  std::lock_guard write(write_mu_);
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    const absl::Time now = clock_.Now();
    RETURN_IF_ERROR(LookupHashAt(hash, now, 0).status());
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(hash));
    if (!loaded.has_value()) return Denied();
    TokenEntry& e = loaded->entry;
    if (!e.renewable || e.expires == absl::InfiniteFuture()) {
      return Invalid("lease is not renewable");
    }
    absl::Duration extend = increment > absl::ZeroDuration() ? increment : e.ttl;
    absl::Time limit = e.created + options_.max_ttl;
    if (e.explicit_max_ttl > absl::ZeroDuration()) {
      limit = std::min(limit, e.created + e.explicit_max_ttl);
    }
    e.expires = std::min(now + extend, limit);
    e.last_renewal = now;
    storage::WriteBatch batch;
    batch.ExpectModIndex(IdKey(hash), loaded->mod_index);
    batch.Put(IdKey(hash), SecretBytes(Encode(e)));
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(committed.status());
    CachePut(e);
    return e;
  }
  return absl::AbortedError("the token changed concurrently; try again");
}

absl::Status TokenStore::AddRevokeTree(const std::string& hash, storage::WriteBatch& batch,
                                       std::vector<std::string>& revoked) {
  std::deque<std::string> queue = {hash};
  std::set<std::string> seen;
  while (!queue.empty()) {
    std::string h = std::move(queue.front());
    queue.pop_front();
    if (!seen.insert(h).second) continue;
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(h));
    if (loaded.has_value()) {
      batch.Delete(IdKey(h));
      batch.Delete(AccessorKey(loaded->entry.accessor));
      if (!loaded->entry.parent.empty()) batch.Delete(ChildKey(loaded->entry.parent, h));
    }
    const std::string prefix = ChildPrefix(h);
    ASSIGN_OR_RETURN(std::vector<std::string> children, store_.ScanKeys(prefix, "", 0));
    for (std::string& key : children) {
      queue.push_back(key.substr(prefix.size()));
      batch.Delete(std::move(key));
    }
    revoked.push_back(std::move(h));
  }
  return absl::OkStatus();
}

absl::Status TokenStore::Revoke(const std::string& hash) {
  std::lock_guard write(write_mu_);
  storage::WriteBatch batch;
  std::vector<std::string> revoked;
  RETURN_IF_ERROR(AddRevokeTree(hash, batch, revoked));
  if (!batch.empty()) RETURN_IF_ERROR(store_.Commit(batch).status());
  CacheErase(revoked);
  return absl::OkStatus();
}

absl::Status TokenStore::RevokeOrphan(const std::string& hash) {
  std::lock_guard write(write_mu_);
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(hash));
    if (!loaded.has_value()) return absl::OkStatus();
    storage::WriteBatch batch;
    batch.ExpectModIndex(IdKey(hash), loaded->mod_index);
    batch.Delete(IdKey(hash));
    batch.Delete(AccessorKey(loaded->entry.accessor));
    if (!loaded->entry.parent.empty()) batch.Delete(ChildKey(loaded->entry.parent, hash));
    std::vector<std::string> touched = {hash};
    const std::string prefix = ChildPrefix(hash);
    ASSIGN_OR_RETURN(std::vector<std::string> children, store_.ScanKeys(prefix, "", 0));
    for (std::string& key : children) {
      std::string child = key.substr(prefix.size());
      batch.Delete(std::move(key));
      ASSIGN_OR_RETURN(std::optional<Loaded> c, Load(child));
      if (!c.has_value()) continue;
      c->entry.parent.clear();
      c->entry.orphan = true;
      batch.ExpectModIndex(IdKey(child), c->mod_index);
      batch.Put(IdKey(child), SecretBytes(Encode(c->entry)));
      touched.push_back(std::move(child));
    }
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(committed.status());
    CacheErase(touched);
    return absl::OkStatus();
  }
  return absl::AbortedError("the token changed concurrently; try again");
}

absl::Status TokenStore::ConsumeUse(const std::string& hash) {
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.num_uses == 0) return absl::OkStatus();  // unlimited
  }
  std::lock_guard write(write_mu_);
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    const absl::Time now = clock_.Now();
    RETURN_IF_ERROR(LookupHashAt(hash, now, 0).status());
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(hash));
    if (!loaded.has_value()) return Denied();
    TokenEntry& e = loaded->entry;
    if (e.num_uses == 0) return absl::OkStatus();
    if (e.num_uses < 0) return Denied();
    storage::WriteBatch batch;
    batch.ExpectModIndex(IdKey(hash), loaded->mod_index);
    std::vector<std::string> revoked;
    if (e.num_uses == 1) {
      // The last use: allowed, and the token (with its children) is gone afterwards.
      RETURN_IF_ERROR(AddRevokeTree(hash, batch, revoked));
    } else {
      e.num_uses -= 1;
      batch.Put(IdKey(hash), SecretBytes(Encode(e)));
    }
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(committed.status());
    if (revoked.empty()) {
      CachePut(e);
    } else {
      CacheErase(revoked);
    }
    return absl::OkStatus();
  }
  return absl::AbortedError("the token changed concurrently; try again");
}

bool TokenStore::MayNeedWrite(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  const std::string hash = HashOf(token);
  {
    // Validity does not matter here (an invalid token is refused wherever it runs).
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(hash); it != cache_.end()) return it->second.num_uses > 0;
  }
  absl::StatusOr<TokenEntry> entry = LookupHashAt(hash, clock_.Now(), 0);  // caches it
  return entry.ok() && entry->num_uses > 0;
}

absl::StatusOr<std::vector<std::string>> TokenStore::ListAccessors() {
  ASSIGN_OR_RETURN(std::vector<storage::Record> records, store_.Scan(kAccessorPrefix, "", 0));
  std::vector<std::string> out;
  for (const storage::Record& r : records) {
    boost::system::error_code ec;
    json::value v = json::parse(r.value.Reveal(), ec);
    const json::object* o = v.if_object();
    const json::value* a = o == nullptr ? nullptr : o->if_contains("accessor");
    if (ec || a == nullptr || !a->is_string()) continue;
    out.emplace_back(a->get_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<size_t> TokenStore::Tidy() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(kIdPrefix, "", 0));
  std::set<std::string> removed;
  const absl::Time now = clock_.Now();
  for (const std::string& key : keys) {
    const std::string hash = key.substr(kIdPrefix.size());
    if (removed.contains(hash)) continue;
    absl::StatusOr<TokenEntry> entry = LookupHashAt(hash, now, 0);
    if (entry.ok()) continue;
    if (entry.status().code() != absl::StatusCode::kPermissionDenied) return entry.status();
    std::lock_guard write(write_mu_);
    storage::WriteBatch batch;
    std::vector<std::string> revoked;
    RETURN_IF_ERROR(AddRevokeTree(hash, batch, revoked));
    if (!batch.empty()) RETURN_IF_ERROR(store_.Commit(batch).status());
    CacheErase(revoked);
    removed.insert(revoked.begin(), revoked.end());
  }
  return removed.size();
}

}  // namespace rekey::auth
