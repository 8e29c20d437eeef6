#include "auth/token_store.h"

#include <algorithm>
#include <boost/json.hpp>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "crypto/hash.h"

namespace rekey::auth {
namespace json = boost::json;
namespace {

constexpr char kTokenPrefix[] = "auth/token/id/";

absl::Status Denied() { return absl::PermissionDeniedError("permission denied"); }

std::string Encode(const TokenEntry& e) {
  json::object o;
  o["accessor"] = e.accessor;
  json::array policies;
  for (const auto& p : e.policies) policies.emplace_back(p);
  o["policies"] = std::move(policies);
  o["display_name"] = e.display_name;
  o["path"] = e.path;
  o["created"] = absl::ToUnixNanos(e.created);
  o["expires"] = e.expires == absl::InfiniteFuture() ? 0 : absl::ToUnixNanos(e.expires);
  json::object meta;
  for (const auto& [k, v] : e.meta) meta[k] = v;
  o["meta"] = std::move(meta);
  o["orphan"] = e.orphan;
  return json::serialize(o);
}

absl::StatusOr<TokenEntry> Decode(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = v.if_object();
  auto corrupt = [] { return absl::DataLossError("stored token record is malformed"); };
  if (ec || o == nullptr) return corrupt();
  TokenEntry e;
  try {
    e.accessor = std::string(o->at("accessor").as_string());
    for (const auto& p : o->at("policies").as_array()) e.policies.emplace_back(p.as_string());
    e.display_name = std::string(o->at("display_name").as_string());
    e.path = std::string(o->at("path").as_string());
    e.created = absl::FromUnixNanos(o->at("created").to_number<int64_t>());
    int64_t expires = o->at("expires").to_number<int64_t>();
    e.expires = expires == 0 ? absl::InfiniteFuture() : absl::FromUnixNanos(expires);
    for (const auto& kv : o->at("meta").as_object()) {
      e.meta[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    e.orphan = o->at("orphan").as_bool();
  } catch (const std::exception&) {
    return corrupt();
  }
  return e;
}

}  // namespace

bool TokenEntry::IsRoot() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

TokenStore::TokenStore(storage::Store& store, const Clock& clock, Random& random)
    : store_(store), clock_(clock), random_(random) {}

absl::StatusOr<SecretBytes> TokenStore::MakeAccessor() {
  return crypto::GenerateApiKey(
      crypto::ApiKeyFormat{
          .prefix = "", .length = 24, .alphabet = crypto::ApiKeyFormat::Alphabet::kBase62},
      random_);
}

absl::Status TokenStore::Save(std::string_view token_hash, const TokenEntry& entry,
                              bool must_be_new) {
  storage::WriteBatch batch;
  std::string key = rekey::StrCat(kTokenPrefix, token_hash);
  if (must_be_new) batch.ExpectModIndex(key, 0);
  batch.Put(std::move(key), SecretBytes(Encode(entry)));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  std::unique_lock lock(mu_);
  cache_[std::string(token_hash)] = entry;
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> TokenStore::CreateRootToken(std::string_view display_name) {
  ASSIGN_OR_RETURN(
      SecretBytes token,
      crypto::GenerateApiKey(
          crypto::ApiKeyFormat{
              .prefix = "rks_", .length = 43, .alphabet = crypto::ApiKeyFormat::Alphabet::kBase62},
          random_));
  ASSIGN_OR_RETURN(SecretBytes accessor, MakeAccessor());
  TokenEntry entry;
  entry.accessor = std::string(accessor.Reveal());
  entry.policies = {"root"};
  entry.display_name = std::string(display_name);
  entry.path = "auth/token/root";
  entry.created = clock_.Now();
  RETURN_IF_ERROR(Save(crypto::Sha256Hex(token.Reveal()), entry, /*must_be_new=*/true));
  return token;
}

absl::Status TokenStore::EnsureRootToken(const SecretBytes& token) {
  if (token.empty() || token.size() > 256) {
    return absl::InvalidArgumentError("a root token must be 1 to 256 bytes");
  }
  absl::StatusOr<TokenEntry> existing = Lookup(token.Reveal());
  if (existing.ok() && existing->IsRoot()) return absl::OkStatus();
  ASSIGN_OR_RETURN(SecretBytes accessor, MakeAccessor());
  TokenEntry entry;
  entry.accessor = std::string(accessor.Reveal());
  entry.policies = {"root"};
  entry.display_name = "root";
  entry.path = "auth/token/root";
  entry.created = clock_.Now();
  return Save(crypto::Sha256Hex(token.Reveal()), entry, /*must_be_new=*/false);
}

absl::StatusOr<TokenEntry> TokenStore::Lookup(std::string_view token) {
  if (token.empty() || token.size() > 256) return Denied();
  const std::string hash = crypto::Sha256Hex(token);
  const absl::Time now = clock_.Now();
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      if (it->second.expires <= now) return Denied();
      return it->second;
    }
  }
  ASSIGN_OR_RETURN(auto record, store_.Get(rekey::StrCat(kTokenPrefix, hash)));
  if (!record.has_value()) return Denied();
  ASSIGN_OR_RETURN(TokenEntry entry, Decode(record->value.Reveal()));
  if (entry.expires <= now) return Denied();
  std::unique_lock lock(mu_);
  cache_[hash] = entry;
  return entry;
}

}  // namespace rekey::auth
