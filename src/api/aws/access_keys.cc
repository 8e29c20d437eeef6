#include "api/aws/access_keys.h"

#include <boost/json.hpp>

#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;
constexpr std::string_view kPrefix = "sys/aws-access-keys/";

std::string RandomChars(Random& random, std::string_view alphabet, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += alphabet[random.Uniform(alphabet.size())];
  return out;
}

}  // namespace

AccessKeyStore::AccessKeyStore(storage::Store& store, const Clock& clock, Random& random)
    : store_(store), clock_(clock), random_(random) {}

absl::Status AccessKeyStore::Write(const AccessKey& key) {
  json::object doc;
  doc["secret"] = json::string_view(key.secret.Reveal().data(), key.secret.Reveal().size());
  json::array policies;
  for (const std::string& p : key.policies) policies.emplace_back(json::string_view(p));
  doc["policies"] = std::move(policies);
  doc["created"] = absl::ToUnixSeconds(key.created);
  std::string text = json::serialize(doc);
  json::string& copy = doc["secret"].as_string();  // the document's copy of the secret
  SecureWipe(copy.data(), copy.size());
  storage::WriteBatch batch;
  batch.Put(StrCat(kPrefix, key.id), SecretBytes(text));
  SecureWipe(text);
  RETURN_IF_ERROR(store_.Commit(batch).status());
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(key.id);
  return absl::OkStatus();
}

absl::StatusOr<AccessKey> AccessKeyStore::Create(std::vector<std::string> policies) {
  if (policies.empty()) return absl::InvalidArgumentError("an access key needs a policy");
  AccessKey key;
  key.id = StrCat("AKIA", RandomChars(random_, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
  std::string secret =
      RandomChars(random_, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  key.secret = SecretBytes(secret);
  SecureWipe(secret);
  key.policies = std::move(policies);
  key.created = clock_.Now();
  RETURN_IF_ERROR(Write(key));
  return key;
}

absl::Status AccessKeyStore::Ensure(std::string_view id, const SecretBytes& secret,
                                    std::vector<std::string> policies) {
  if (id.size() < 16 || id.size() > 128 || !std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      })) {
    return absl::InvalidArgumentError(
        "access key id must be 16 to 128 characters of upper-case letters and digits");
  }
  std::string_view s = secret.Reveal();
  if (s.size() < 16 || s.size() > 128 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 127; })) {
    return absl::InvalidArgumentError(
        "secret access key must be 16 to 128 printable characters without spaces");
  }
  AccessKey key;
  key.id = std::string(id);
  key.secret = secret;
  key.policies = std::move(policies);
  key.created = clock_.Now();
  return Write(key);
}

absl::StatusOr<std::shared_ptr<const AccessKey>> AccessKeyStore::Lookup(std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(std::string(id)); it != cache_.end()) return it->second;
  }
  if (id.empty() || id.size() > 128 || id.find('/') != std::string_view::npos) {
    return absl::NotFoundError("no such access key");
  }
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(StrCat(kPrefix, id)));
  if (!record.has_value()) return absl::NotFoundError("no such access key");
  boost::system::error_code ec;
  json::value doc = json::parse(record->value.Reveal(), ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("secret")) {
    return absl::DataLossError(StrCat("access key record ", id, " is corrupt"));
  }
  auto key = std::make_shared<AccessKey>();
  key->id = std::string(id);
  json::string& secret = doc.as_object()["secret"].as_string();
  key->secret = SecretBytes(std::string_view(secret.data(), secret.size()));
  std::fill(secret.begin(), secret.end(), '\0');
  if (const json::value* p = doc.as_object().if_contains("policies"); p && p->is_array()) {
    for (const json::value& v : p->as_array()) {
      if (v.is_string()) key->policies.emplace_back(v.as_string().c_str());
    }
  }
  if (const json::value* c = doc.as_object().if_contains("created"); c && c->is_int64()) {
    key->created = absl::FromUnixSeconds(c->as_int64());
  }
  std::lock_guard<std::mutex> lock(mu_);
  cache_[key->id] = key;
  return std::shared_ptr<const AccessKey>(key);
}

absl::StatusOr<std::vector<std::string>> AccessKeyStore::List() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(kPrefix, "", 0));
  for (std::string& k : keys) k = k.substr(kPrefix.size());
  return keys;
}

absl::Status AccessKeyStore::Delete(std::string_view id) {
  storage::WriteBatch batch;
  batch.Delete(StrCat(kPrefix, id));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(std::string(id));
  return absl::OkStatus();
}

}  // namespace rekey::api::aws
