#include "auth/policy_store.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::auth {
namespace {

constexpr std::string_view kPrefix = "sys/policy/";
constexpr std::string_view kRoot = "root";
constexpr std::string_view kDefault = "default";

std::string Key(std::string_view name) { return StrCat(kPrefix, name); }

// Vault accepts HCL and JSON; rekey only JSON. A document that does not start like a JSON object
// gets a message saying so instead of a JSON parser error.
absl::Status RequireJson(std::string_view name, std::string_view document) {
  size_t first = document.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || document[first] != '{') {
    return absl::InvalidArgumentError(StrCat(
        "policy \"", name,
        "\": policies must be written in JSON (Vault's JSON policy syntax, e.g. "
        "{\"path\": {\"secret/data/*\": {\"capabilities\": [\"read\"]}}}); HCL is not supported"));
  }
  return absl::OkStatus();
}

}  // namespace

PolicyStore::PolicyStore(storage::Store& store) : store_(store) {}

absl::StatusOr<std::vector<std::string>> PolicyStore::List() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(kPrefix, "", 0));
  std::set<std::string> names = {std::string(kRoot), std::string(kDefault)};
  for (const std::string& key : keys) names.insert(key.substr(kPrefix.size()));
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::optional<std::string>> PolicyStore::Read(std::string_view name) {
  if (name == kRoot) return std::string();
  RETURN_IF_ERROR(Policy::ValidateName(name));
  ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(Key(name)));
  if (record.has_value()) return std::string(record->value.Reveal());
  if (name == kDefault) return std::string(kDefaultPolicyJson);
  return std::nullopt;
}

absl::Status PolicyStore::Write(std::string_view name, std::string_view document) {
  if (name == kRoot) return absl::InvalidArgumentError("cannot update root policy");
  RETURN_IF_ERROR(Policy::ValidateName(name));
  RETURN_IF_ERROR(RequireJson(name, document));
  RETURN_IF_ERROR(Policy::Parse(name, document).status());
  storage::WriteBatch batch;
  batch.Put(Key(name), SecretBytes(std::string(document)));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  std::unique_lock lock(mu_);
  ++generation_;
  policies_.clear();
  sets_.clear();
  return absl::OkStatus();
}

absl::Status PolicyStore::Delete(std::string_view name) {
  if (name == kRoot) return absl::InvalidArgumentError("cannot delete root policy");
  if (name == kDefault) return absl::InvalidArgumentError("cannot delete default policy");
  RETURN_IF_ERROR(Policy::ValidateName(name));
  storage::WriteBatch batch;
  batch.Delete(Key(name));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  std::unique_lock lock(mu_);
  ++generation_;
  policies_.clear();
  sets_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Policy>> PolicyStore::Load(const std::string& name,
                                                                uint64_t generation) {
  {
    std::shared_lock lock(mu_);
    if (auto it = policies_.find(name); it != policies_.end()) return it->second;
  }
  std::shared_ptr<const Policy> policy;
  if (Policy::ValidateName(name).ok()) {
    ASSIGN_OR_RETURN(std::optional<storage::Record> record, store_.Get(Key(name)));
    std::string_view text;
    if (record.has_value()) {
      text = record->value.Reveal();
    } else if (name == kDefault) {
      text = kDefaultPolicyJson;
    }
    if (!text.empty()) {
      // A stored policy always parsed when written; if it no longer does (a newer format), it
      // grants nothing rather than failing every request.
      absl::StatusOr<Policy> parsed = Policy::Parse(name, text);
      if (parsed.ok()) policy = std::make_shared<const Policy>(*std::move(parsed));
    }
  }
  std::unique_lock lock(mu_);
  if (generation == generation_) policies_[name] = policy;
  return policy;
}

absl::StatusOr<std::shared_ptr<const PolicySet>> PolicyStore::SetFor(
    const std::vector<std::string>& names) {
  std::string key;
  for (const std::string& n : names) {
    key += n;
    key += '\n';
  }
  uint64_t generation = 0;
  {
    std::shared_lock lock(mu_);
    if (auto it = sets_.find(key); it != sets_.end()) return it->second;
    generation = generation_;
  }
  std::vector<Policy> policies;
  for (const std::string& name : names) {
    if (name == kRoot) {
      policies.push_back(Policy::Root());
      continue;
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, Load(name, generation));
    if (policy != nullptr) policies.push_back(*policy);
  }
  auto set = std::make_shared<const PolicySet>(policies);
  std::unique_lock lock(mu_);
  // Only cache what was built from the current policies; a concurrent change wins.
  if (generation == generation_) {
    if (sets_.size() > 10000) sets_.clear();
    sets_[key] = set;
  }
  return set;
}

}  // namespace rekey::auth
