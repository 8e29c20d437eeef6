// SecretsService: versioned secrets with labels, metadata, soft delete, destroy and
// check-and-set, over any Store (normally the encrypted barrier). The Vault KV v2 surface, and
// later the AWS surface and the rotation engine, are thin layers over it.
#ifndef REKEY_SECRETS_SECRETS_SERVICE_H_
#define REKEY_SECRETS_SECRETS_SERVICE_H_

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "secrets/model.h"
#include "storage/store.h"

namespace rekey::secrets {

struct ReadResult {
  std::shared_ptr<const SecretMetadata> meta;  // never null
  VersionInfo version;
  // JSON text of the value; nullopt when the version is deleted or destroyed.
  std::optional<SecretBytes> value;
};

struct WriteResult {
  std::shared_ptr<const SecretMetadata> meta;  // as committed; never null
  VersionInfo version;
};

struct WriteOptions {
  std::optional<uint64_t> cas;  // must equal the current version; 0 = the secret must not exist
  std::string actor;            // token accessor of the writer, for history
  // When set, the new version gets this label (e.g. "pending") instead of becoming current;
  // `current` and `previous` stay where they are. The label moves from wherever it was.
  std::optional<std::string> stage_label;
  // The new version's id; "" = a new random UUID. A caller-chosen id (the AWS surface's
  // ClientRequestToken) must differ from every id of the secret's versions: kAlreadyExists.
  std::string version_id = "";
};

// Fields of the metadata a caller may set; unset optionals are left as they are.
struct MetadataUpdate {
  std::optional<uint64_t> max_versions;
  std::optional<bool> cas_required;
  std::optional<absl::Duration> delete_version_after;
  std::optional<std::map<std::string, std::string>> custom_metadata;
  std::optional<std::string> description;
};

// Thread-safe. Every mutation is one atomic store transaction guarded by compare-and-set on the
// secret's metadata record, retried on a concurrent change; a crash leaves either the old or the
// new state, never a mix. Decoded metadata is cached in memory (the read path's index), which
// assumes this process is the store's only writer (the data dir is flock()ed); a compare-and-set
// failure drops the entry and re-reads it. Paths are validated here (kInvalidArgument); missing
// secrets are kNotFound; check-and-set failures are kFailedPrecondition with Vault's messages.
class SecretsService {
 public:
  // `store`, `clock` and `random` must outlive the service. `mount` names the keyspace ("secret").
  SecretsService(storage::Store& store, const Clock& clock, Random& random, std::string mount);

  absl::StatusOr<MountConfig> GetConfig();
  absl::Status SetConfig(const MountConfig& config);

  // Writes `value` (JSON text of an object) as a new version, moves `current` to it and
  // `previous` to the former current, prunes versions beyond max_versions (never a labelled one).
  absl::StatusOr<WriteResult> Put(std::string_view path, const SecretBytes& value,
                                  const WriteOptions& options);

  // Called with a PutAsync result, possibly on the storage writer's thread: it must be quick.
  using WriteCallback = std::function<void(absl::StatusOr<WriteResult>)>;
  // Put without a thread waiting for the commit: validation, metadata and encryption run on the
  // calling thread, and `done` runs exactly once, when the commit is durable (or failed). It
  // takes no per-secret lock: when another write of the same secret got in first, `done` gets
  // kAborted and the caller should redo the write with Put(), which queues behind it.
  void PutAsync(std::string_view path, SecretBytes value, WriteOptions options, WriteCallback done);
  // RFC 7386 merge of `patch` (JSON text of an object) into the current version, written as a new
  // version. kNotFound when there is no readable current version.
  absl::StatusOr<WriteResult> Patch(std::string_view path, const SecretBytes& patch,
                                    const WriteOptions& options);

  // Reads version `version` (0 = the version labelled current). kNotFound when the secret, or
  // that version, does not exist (pruned versions do not exist). A deleted or destroyed version is
  // returned with `value` unset.
  absl::StatusOr<ReadResult> Read(std::string_view path, uint64_t version);
  // Reads the version carrying `label`. kNotFound when the label is not attached.
  absl::StatusOr<ReadResult> ReadLabel(std::string_view path, std::string_view label);

  absl::StatusOr<SecretMetadata> GetMetadata(std::string_view path);
  // Creates the metadata entry if the secret does not exist yet.
  absl::Status UpdateMetadata(std::string_view path, const MetadataUpdate& update);

  // Soft-deletes the current version. OK when the secret does not exist.
  absl::Status DeleteCurrent(std::string_view path);
  // Soft-delete / undelete / destroy the listed versions; unknown versions are ignored.
  // kInvalidArgument for an empty list. Destroy wipes the material for good.
  absl::Status DeleteVersions(std::string_view path, const std::vector<uint64_t>& versions);
  absl::Status UndeleteVersions(std::string_view path, const std::vector<uint64_t>& versions);
  absl::Status DestroyVersions(std::string_view path, const std::vector<uint64_t>& versions);
  // Removes the secret: metadata and every version's material. OK when absent.
  absl::Status DeleteAll(std::string_view path);

  // Names directly under `folder` ("" = root; "a/b" or "a/b/"), sub-folders ending in '/', in
  // order. Empty when there is nothing.
  absl::StatusOr<std::vector<std::string>> List(std::string_view folder);

  // Moves `label` to version `to` (nullopt removes it). When `expected_from` is set, the label
  // must currently be on that version (0 = on none), else kFailedPrecondition. Moving `current`
  // also moves `previous` to the former current version. kNotFound for a missing secret or
  // version; kFailedPrecondition for a destroyed target or a version that would exceed 20 labels.
  absl::Status MoveLabel(std::string_view path, std::string_view label, std::optional<uint64_t> to,
                         std::optional<uint64_t> expected_from);

  // In one transaction: moves `current` to `version` and `previous` to the former current, and
  // removes `pending` if it is on `version`. `expected_current` (0 = none) must be the version
  // labelled current, else kFailedPrecondition (someone wrote the secret meanwhile). OK without
  // change when `version` is already current and not pending (an idempotent retry).
  absl::Status Promote(std::string_view path, uint64_t version, uint64_t expected_current);
  // In one transaction: removes `label` from `version` (if it is there) and destroys the
  // version's material, keeping its entry for history. OK when the secret or version is gone.
  // kFailedPrecondition when `version` is labelled current.
  absl::Status Discard(std::string_view path, std::string_view label, uint64_t version);

 private:
  struct Loaded {
    bool exists = false;
    uint64_t mod_index = 0;
    SecretMetadata meta;
  };
  // What the store holds for a secret's metadata record: `meta` is null when it is absent.
  struct Snapshot {
    uint64_t mod_index = 0;
    std::shared_ptr<const SecretMetadata> meta;
    uint64_t as_of = 0;  // commit index this state is known at; Remember never goes back
  };
  // The metadata of `path`, from the cache or the store. `stripe_held` says whether the caller
  // already holds the path's stripe lock (it is a writer).
  absl::StatusOr<Snapshot> Fetch(std::string_view path, bool stripe_held);
  void Remember(std::string_view path, Snapshot snapshot);
  void Forget(std::string_view path);
  size_t StripeOf(std::string_view path) const;
  // Applies `mutate` to the secret's metadata (and `batch`) and commits both atomically, retrying
  // when another writer changed the secret in between. `mutate` returns the status to give up
  // with; it may be called several times.
  // When `committed` is given, it receives the metadata as committed (null when the secret was
  // deleted or nothing changed).
  absl::Status Mutate(std::string_view path,
                      const std::function<absl::Status(Loaded&, storage::WriteBatch&)>& mutate,
                      std::shared_ptr<const SecretMetadata>* committed = nullptr);
  absl::StatusOr<Loaded> Load(std::string_view path);
  // Applies `change` to each listed version that exists (it returns whether it changed
  // anything) and commits the metadata when something changed. kInvalidArgument for an empty list.
  absl::Status ChangeVersions(
      std::string_view path, const std::vector<uint64_t>& versions,
      const std::function<bool(uint64_t, VersionInfo&, storage::WriteBatch&)>& change);
  absl::StatusOr<ReadResult> ReadVersion(std::string_view path,
                                         std::shared_ptr<const SecretMetadata> meta,
                                         uint64_t version);
  // Adds a new version made by `make_value` to `loaded` and the records to `batch` (value,
  // metadata, pruned versions). Errors: check-and-set, and whatever make_value returns.
  absl::Status BuildVersion(
      std::string_view path, const WriteOptions& options, const MountConfig& config, Loaded& loaded,
      const std::function<absl::StatusOr<SecretBytes>(const Loaded&)>& make_value,
      storage::WriteBatch& batch, VersionInfo& version);
  absl::StatusOr<WriteResult> WriteVersion(
      std::string_view path, const WriteOptions& options,
      const std::function<absl::StatusOr<SecretBytes>(const Loaded&)>& make_value);
  std::string MetaKey(std::string_view path) const;
  std::string DataKey(std::string_view path, uint64_t version) const;

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const std::string mount_;
  // Writers of one secret serialize on its stripe (1024 stripes by path hash); see Mutate.
  std::array<std::mutex, 1024> path_locks_;
  // Bumped by every writer of the stripe after it updates the cache; readers fill the cache
  // only when it did not move during their store read.
  std::array<std::atomic<uint64_t>, 1024> stripe_generation_{};
  std::shared_mutex cache_mu_;
  absl::flat_hash_map<std::string, Snapshot> cache_;  // guarded by cache_mu_
  std::mutex config_mu_;
  std::optional<MountConfig> config_;  // cache of the stored mount config
};

}  // namespace rekey::secrets

#endif  // REKEY_SECRETS_SECRETS_SERVICE_H_
