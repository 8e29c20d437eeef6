// AccessKeyStore: the AWS access keys rekey issues (access key id + secret access key), each bound
// to rekey policies. SigV4 needs the raw secret to recompute signatures, so the secret is stored
// encrypted (the store given is the encrypted barrier), never hashed.
#ifndef REKEY_API_AWS_ACCESS_KEYS_H_
#define REKEY_API_AWS_ACCESS_KEYS_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "storage/store.h"

namespace rekey::api::aws {

struct AccessKey {
  std::string id;  // "AKIA" + 16 characters of [A-Z2-7]
  SecretBytes secret;
  std::vector<std::string> policies;
  absl::Time created = absl::InfinitePast();
};

// Thread-safe. Lookups are cached in memory after the first hit (this process is the store's only
// writer).
class AccessKeyStore {
 public:
  // All must outlive the store; `store` should be the encrypted barrier.
  AccessKeyStore(storage::Store& store, const Clock& clock, Random& random);

  // Issues a new key bound to `policies` (non-empty; names are not checked against the policy
  // store, as with tokens). The secret is returned only here.
  absl::StatusOr<AccessKey> Create(std::vector<std::string> policies);
  // Creates or replaces key `id` with `secret` (dev mode's fixed key). kInvalidArgument for an id
  // not of 16..128 characters of [A-Z0-9] or a secret not of 16..128 printable characters.
  absl::Status Ensure(std::string_view id, const SecretBytes& secret,
                      std::vector<std::string> policies);
  // The key `id`; kNotFound when there is none.
  absl::StatusOr<std::shared_ptr<const AccessKey>> Lookup(std::string_view id);
  // Key ids (no secrets), in order.
  absl::StatusOr<std::vector<std::string>> List();
  // Removes key `id`; OK when absent.
  absl::Status Delete(std::string_view id);

 private:
  absl::Status Write(const AccessKey& key);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const AccessKey>> cache_;  // guarded by mu_
};

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_ACCESS_KEYS_H_
