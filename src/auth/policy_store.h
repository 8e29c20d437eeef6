// PolicyStore: named ACL policies kept in the barrier at sys/policy/<name>, with the built-in
// "root" and "default" policies, and a cache of parsed policies and of the PolicySets built from
// them.
#ifndef REKEY_AUTH_POLICY_STORE_H_
#define REKEY_AUTH_POLICY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/policy.h"
#include "storage/store.h"

namespace rekey::auth {

// The built-in default policy (Vault's, reduced to the paths rekey serves): a token may look
// itself up, renew and revoke itself, and ask for its own capabilities. Stored policies named
// "default" replace it; it cannot be deleted.
inline constexpr std::string_view kDefaultPolicyJson = R"({
  "path": {
    "auth/token/lookup-self": {"capabilities": ["read"]},
    "auth/token/renew-self": {"capabilities": ["update"]},
    "auth/token/revoke-self": {"capabilities": ["update"]},
    "sys/capabilities-self": {"capabilities": ["update"]}
  }
})";

// Thread-safe. A written or deleted policy applies to every request that starts after Write or
// Delete returned.
class PolicyStore {
 public:
  // `store` (normally the encrypted barrier) must outlive the PolicyStore.
  explicit PolicyStore(storage::Store& store);

  // Every policy name, sorted, including "root" and "default".
  absl::StatusOr<std::vector<std::string>> List();

  // The policy document as written (for "root": "", for an unwritten "default": the built-in
  // text); nullopt when there is no such policy. kInvalidArgument for a malformed name.
  absl::StatusOr<std::optional<std::string>> Read(std::string_view name);

  // Creates or replaces a policy after validating it with Policy::Parse. kInvalidArgument with a
  // message naming the problem: "root" ("cannot update root policy"), a bad name, a document that
  // is not JSON (HCL is not supported) or any error Policy::Parse reports.
  absl::Status Write(std::string_view name, std::string_view document);

  // Deletes a policy; OK when it does not exist. kInvalidArgument for "root" and "default".
  absl::Status Delete(std::string_view name);

  // The PolicySet for a token's policy names. Names without a policy grant nothing (as in Vault);
  // "root" grants everything. Cached until any policy changes.
  absl::StatusOr<std::shared_ptr<const PolicySet>> SetFor(const std::vector<std::string>& names);

 private:
  // The parsed policy `name` (nullptr when it does not exist or its stored text no longer
  // parses), from the cache or the store.
  absl::StatusOr<std::shared_ptr<const Policy>> Load(const std::string& name, uint64_t generation);

  storage::Store& store_;
  std::shared_mutex mu_;
  uint64_t generation_ = 0;  // bumped by every change; guarded by mu_
  absl::flat_hash_map<std::string, std::shared_ptr<const Policy>> policies_;  // guarded by mu_
  absl::flat_hash_map<std::string, std::shared_ptr<const PolicySet>> sets_;   // guarded by mu_
};

}  // namespace rekey::auth

#endif  // REKEY_AUTH_POLICY_STORE_H_
