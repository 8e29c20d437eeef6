#include "secrets/secrets_service.h"

#include <algorithm>
#include <boost/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "secrets/merge_patch.h"
#include "secrets/path.h"

namespace rekey::secrets {
namespace {

constexpr int kMaxAttempts = 16;
// Metadata cache bound; past it an arbitrary entry is dropped per insert.
constexpr size_t kMaxCachedSecrets = 200000;
constexpr char kCasMismatch[] = "check-and-set parameter did not match the current version";
constexpr char kCasRequired[] = "check-and-set parameter required for this call";

absl::Status ValidateLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) {
    return absl::InvalidArgumentError("label must be 1 to 256 characters");
  }
  for (char c : label) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError("label may contain only printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckVersionList(const std::vector<uint64_t>& versions) {
  if (versions.empty()) return absl::InvalidArgumentError("no versions provided");
  return absl::OkStatus();
}

// Parses JSON text that must be an object; the message never quotes the text.
absl::StatusOr<boost::json::value> ParseObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) {
    return absl::InvalidArgumentError(rekey::StrCat(what, " must be a JSON object"));
  }
  return v;
}

}  // namespace

SecretsService::SecretsService(storage::Store& store, const Clock& clock, Random& random,
                               std::string mount)
    : store_(store), clock_(clock), random_(random), mount_(std::move(mount)) {}

std::string SecretsService::MetaKey(std::string_view path) const {
  // A secret's metadata and its versions' values share one key range ("<path>" then
  // "<path>#<version>"), so the records one write touches sit together in the B-tree.
  return rekey::StrCat("kv/", mount_, "/s/", path);
}

std::string SecretsService::DataKey(std::string_view path, uint64_t version) const {
  // '#' cannot appear in a path, so one secret's data keys never prefix another's.
  return absl::StrFormat("kv/%s/s/%s#%020d", mount_, ToAbsl(path), version);
}

absl::StatusOr<MountConfig> SecretsService::GetConfig() {
  std::lock_guard<std::mutex> lock(config_mu_);
  if (config_.has_value()) return *config_;
  ASSIGN_OR_RETURN(auto record, store_.Get(rekey::StrCat("kv/", mount_, "/config")));
  MountConfig config;
  if (record.has_value()) {
    ASSIGN_OR_RETURN(config, DecodeMountConfig(record->value.Reveal()));
  }
  config_ = config;
  return config;
}

absl::Status SecretsService::SetConfig(const MountConfig& config) {
  MountConfig stored = config;
  if (stored.max_versions == 0) stored.max_versions = MountConfig().max_versions;
  std::lock_guard<std::mutex> lock(config_mu_);
  storage::WriteBatch batch;
  batch.Put(rekey::StrCat("kv/", mount_, "/config"), SecretBytes(EncodeMountConfig(stored)));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  config_ = stored;
  return absl::OkStatus();
}

size_t SecretsService::StripeOf(std::string_view path) const {
  return std::hash<std::string_view>{}(path) % path_locks_.size();
}

void SecretsService::Remember(std::string_view path, Snapshot snapshot) {
  std::unique_lock lock(cache_mu_);
  auto it = cache_.find(std::string(path));
  if (it != cache_.end()) {
    // Writers finish in any order (asynchronous commits call back late): never go back in time.
    if (snapshot.as_of >= it->second.as_of) it->second = std::move(snapshot);
    return;
  }
  if (cache_.size() >= kMaxCachedSecrets) {
    cache_.erase(cache_.begin());  // any entry: it is re-read on its next use
  }
  cache_.emplace(std::string(path), std::move(snapshot));
}

void SecretsService::Forget(std::string_view path) {
  std::unique_lock lock(cache_mu_);
  cache_.erase(std::string(path));
}

absl::StatusOr<SecretsService::Snapshot> SecretsService::Fetch(std::string_view path,
                                                               bool stripe_held) {
  auto cached = [&]() -> std::optional<Snapshot> {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(std::string(path));
    if (it == cache_.end()) return std::nullopt;
    return it->second;
  };
  if (std::optional<Snapshot> hit = cached()) return *hit;
  // A reader never waits for a writer (whose commit may be waiting for an fsync): it reads the
  // store and fills the cache only if no writer of this stripe finished in between (see
  // Mutate), so it cannot put back a state older than a writer's.
  const size_t stripe = StripeOf(path);
  const uint64_t generation = stripe_generation_[stripe].load(std::memory_order_acquire);
  ASSIGN_OR_RETURN(auto record, store_.Get(MetaKey(path)));
  Snapshot snapshot;
  if (record.has_value()) {
    ASSIGN_OR_RETURN(SecretMetadata meta, DecodeMetadata(record->value.Reveal()));
    snapshot.mod_index = record->mod_index;
    snapshot.as_of = record->mod_index;
    snapshot.meta = std::make_shared<const SecretMetadata>(std::move(meta));
  }
  if (stripe_held) {
    Remember(path, snapshot);
  } else {
    std::unique_lock lock(cache_mu_);
    if (stripe_generation_[stripe].load(std::memory_order_acquire) == generation &&
        !cache_.contains(std::string(path)) && cache_.size() < kMaxCachedSecrets) {
      cache_[std::string(path)] = snapshot;
    }
  }
  return snapshot;
}

absl::StatusOr<SecretsService::Loaded> SecretsService::Load(std::string_view path) {
  ASSIGN_OR_RETURN(Snapshot snapshot, Fetch(path, /*stripe_held=*/true));
  Loaded loaded;
  if (snapshot.meta == nullptr) return loaded;
  loaded.exists = true;
  loaded.mod_index = snapshot.mod_index;
  loaded.meta = *snapshot.meta;
  return loaded;
}

absl::Status SecretsService::Mutate(
    std::string_view path, const std::function<absl::Status(Loaded&, storage::WriteBatch&)>& mutate,
    std::shared_ptr<const SecretMetadata>* committed_meta) {
  RETURN_IF_ERROR(ValidateSecretPath(path));
  // Writers of one secret in this process queue here instead of racing to the store; the
  // compare-and-set below still guards against other processes sharing the store.
  const size_t stripe = StripeOf(path);
  std::lock_guard<std::mutex> lock(path_locks_[stripe]);
  // Readers that started before this point must not cache what they read (see Fetch).
  absl::Cleanup bump = [&] { stripe_generation_[stripe].fetch_add(1, std::memory_order_acq_rel); };
  const std::string meta_key = MetaKey(path);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(Loaded loaded, Load(path));
    storage::WriteBatch batch;
    uint64_t expected = loaded.exists ? loaded.mod_index : 0;
    RETURN_IF_ERROR(mutate(loaded, batch));
    if (batch.empty()) return absl::OkStatus();  // nothing to change
    batch.ExpectModIndex(meta_key, expected);
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.ok()) {
      // The last op on the metadata record decides what the cache holds now.
      std::optional<bool> put;
      for (const storage::WriteBatch::Op& op : batch.ops()) {
        if (op.key == meta_key) put = op.value.has_value();
      }
      if (put == true) {
        auto meta = std::make_shared<const SecretMetadata>(std::move(loaded.meta));
        if (committed_meta != nullptr) *committed_meta = meta;
        Remember(path, Snapshot{*committed, std::move(meta), *committed});
      } else if (put == false) {
        Remember(path, Snapshot{0, nullptr, *committed});
      }
      return absl::OkStatus();
    }
    // Someone else changed the record (or the store failed): trust only the store from here.
    Forget(path);
    if (committed.status().code() != absl::StatusCode::kAborted) return committed.status();
  }
  return absl::AbortedError(
      rekey::StrCat("secret \"", path, "\" is changing too often to update; try again"));
}

absl::Status SecretsService::BuildVersion(
    std::string_view path, const WriteOptions& options, const MountConfig& config, Loaded& loaded,
    const std::function<absl::StatusOr<SecretBytes>(const Loaded&)>& make_value,
    storage::WriteBatch& batch, VersionInfo& version) {
  SecretMetadata& meta = loaded.meta;
  const uint64_t current = loaded.exists ? meta.CurrentVersion() : 0;
  if (options.stage_label.has_value()) {
    RETURN_IF_ERROR(ValidateLabel(*options.stage_label));
    if (*options.stage_label == kLabelCurrent || *options.stage_label == kLabelPrevious) {
      return absl::InvalidArgumentError(
          rekey::StrCat("a new version cannot be staged as \"", *options.stage_label, "\""));
    }
  }
  if (options.cas.has_value()) {
    if (*options.cas != current) return absl::FailedPreconditionError(kCasMismatch);
  } else if (!options.stage_label.has_value() &&
             (config.cas_required || (loaded.exists && meta.cas_required))) {
    return absl::FailedPreconditionError(kCasRequired);
  }
  if (!options.version_id.empty()) {
    for (const auto& [n, v] : meta.versions) {
      if (v.id == options.version_id) {
        return absl::AlreadyExistsError(
            rekey::StrCat("version ", n, " already has the id \"", options.version_id, "\""));
      }
    }
  }
  ASSIGN_OR_RETURN(SecretBytes value, make_value(loaded));
  const absl::Time now = clock_.Now();
  if (!loaded.exists) meta.created = now;
  meta.updated = now;
  version = VersionInfo{};
  version.number = ++meta.last_version;
  version.id = options.version_id.empty() ? crypto::GenerateUuidV4(random_) : options.version_id;
  version.created = now;
  version.created_by = options.actor;
  absl::Duration dva = meta.delete_version_after;
  if (config.delete_version_after > absl::ZeroDuration() &&
      (dva == absl::ZeroDuration() || config.delete_version_after < dva)) {
    dva = config.delete_version_after;
  }
  if (dva > absl::ZeroDuration()) version.deletion_time = now + dva;
  meta.versions[version.number] = version;
  if (options.stage_label.has_value()) {
    meta.labels[*options.stage_label] = version.number;
  } else {
    if (current != 0) meta.labels[kLabelPrevious] = current;
    meta.labels[kLabelCurrent] = version.number;
  }
  batch.Put(DataKey(path, version.number), std::move(value));

  const uint64_t max_versions = meta.max_versions > 0 ? meta.max_versions : config.max_versions;
  for (auto it = meta.versions.begin();
       meta.versions.size() > max_versions && it != meta.versions.end();) {
    if (!meta.LabelsOf(it->first).empty()) {
      ++it;
      continue;
    }
    if (!it->second.destroyed) batch.Delete(DataKey(path, it->first));
    it = meta.versions.erase(it);
  }
  batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(meta)));
  return absl::OkStatus();
}

absl::StatusOr<WriteResult> SecretsService::WriteVersion(
    std::string_view path, const WriteOptions& options,
    const std::function<absl::StatusOr<SecretBytes>(const Loaded&)>& make_value) {
  ASSIGN_OR_RETURN(MountConfig config, GetConfig());
  WriteResult result;
  RETURN_IF_ERROR(Mutate(
      path,
      [&](Loaded& loaded, storage::WriteBatch& batch) {
        return BuildVersion(path, options, config, loaded, make_value, batch, result.version);
      },
      &result.meta));
  return result;
}

void SecretsService::PutAsync(std::string_view path, SecretBytes value, WriteOptions options,
                              WriteCallback done) {
  auto fail = [&done](absl::Status status) { done(std::move(status)); };
  if (absl::Status s = ValidateSecretPath(path); !s.ok()) return fail(s);
  if (absl::Status s = ParseObject(value.Reveal(), "secret data").status(); !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<MountConfig> config = GetConfig();
  if (!config.ok()) return fail(config.status());
  // No stripe lock: the compare-and-set on the metadata record decides, and a conflict comes
  // back as kAborted for the caller to redo with Put().
  absl::StatusOr<Snapshot> snapshot = Fetch(path, /*stripe_held=*/false);
  if (!snapshot.ok()) return fail(snapshot.status());
  Loaded loaded;
  if (snapshot->meta != nullptr) {
    loaded.exists = true;
    loaded.mod_index = snapshot->mod_index;
    loaded.meta = *snapshot->meta;
  }
  storage::WriteBatch batch;
  VersionInfo version;
  absl::Status built = BuildVersion(
      path, options, *config, loaded,
      [&value](const Loaded&) -> absl::StatusOr<SecretBytes> { return std::move(value); }, batch,
      version);
  if (!built.ok()) return fail(built);
  batch.ExpectModIndex(MetaKey(path), loaded.exists ? loaded.mod_index : 0);
  auto meta = std::make_shared<const SecretMetadata>(std::move(loaded.meta));
  const size_t stripe = StripeOf(path);
  store_.CommitAsync(
      std::move(batch),
      [this, path = std::string(path), meta = std::move(meta), version = std::move(version), stripe,
       done = std::move(done)](absl::StatusOr<uint64_t> committed) mutable {
        if (committed.ok()) {
          Remember(path, Snapshot{*committed, meta, *committed});
        } else {
          Forget(path);
        }
        // Readers that read the store before this point must not cache what they read.
        stripe_generation_[stripe].fetch_add(1, std::memory_order_acq_rel);
        if (!committed.ok()) return done(committed.status());
        done(WriteResult{std::move(meta), std::move(version)});
      });
}

absl::StatusOr<WriteResult> SecretsService::Put(std::string_view path, const SecretBytes& value,
                                                const WriteOptions& options) {
  RETURN_IF_ERROR(ParseObject(value.Reveal(), "secret data").status());
  return WriteVersion(path, options,
                      [&](const Loaded&) -> absl::StatusOr<SecretBytes> { return value; });
}

absl::StatusOr<WriteResult> SecretsService::Patch(std::string_view path, const SecretBytes& patch,
                                                  const WriteOptions& options) {
  ASSIGN_OR_RETURN(boost::json::value patch_json, ParseObject(patch.Reveal(), "patch data"));
  return WriteVersion(path, options, [&](const Loaded& loaded) -> absl::StatusOr<SecretBytes> {
    const uint64_t current = loaded.exists ? loaded.meta.CurrentVersion() : 0;
    auto it = loaded.meta.versions.find(current);
    if (current == 0 || it == loaded.meta.versions.end() ||
        !it->second.IsReadableAt(clock_.Now())) {
      return absl::NotFoundError(
          rekey::StrCat("no readable current version of \"", path, "\" to patch"));
    }
    ASSIGN_OR_RETURN(auto record, store_.Get(DataKey(path, current)));
    if (!record.has_value()) {
      return absl::DataLossError(
          rekey::StrCat("value of \"", path, "\" version ", current, " is missing from the store"));
    }
    ASSIGN_OR_RETURN(boost::json::value merged,
                     ParseObject(record->value.Reveal(), "stored secret data"));
    ApplyMergePatch(merged, patch_json);
    std::string text = boost::json::serialize(merged);
    return SecretBytes::TakeFrom(text);
  });
}

absl::StatusOr<ReadResult> SecretsService::ReadVersion(std::string_view path,
                                                       std::shared_ptr<const SecretMetadata> meta,
                                                       uint64_t version) {
  auto it = meta->versions.find(version);
  if (version == 0 || it == meta->versions.end()) {
    return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no version ", version));
  }
  ReadResult result;
  result.version = it->second;
  result.meta = std::move(meta);
  if (!result.version.IsReadableAt(clock_.Now())) return result;
  ASSIGN_OR_RETURN(auto record, store_.Get(DataKey(path, version)));
  if (!record.has_value()) {
    return absl::DataLossError(
        rekey::StrCat("value of \"", path, "\" version ", version, " is missing from the store"));
  }
  result.value = std::move(record->value);
  return result;
}

absl::StatusOr<ReadResult> SecretsService::Read(std::string_view path, uint64_t version) {
  RETURN_IF_ERROR(ValidateSecretPath(path));
  ASSIGN_OR_RETURN(Snapshot snapshot, Fetch(path, /*stripe_held=*/false));
  if (snapshot.meta == nullptr) {
    return absl::NotFoundError(rekey::StrCat("no secret at \"", path, "\""));
  }
  if (version == 0) {
    version = snapshot.meta->CurrentVersion();
    if (version == 0) {
      return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no current version"));
    }
  }
  return ReadVersion(path, std::move(snapshot.meta), version);
}

absl::StatusOr<ReadResult> SecretsService::ReadLabel(std::string_view path,
                                                     std::string_view label) {
  RETURN_IF_ERROR(ValidateSecretPath(path));
  RETURN_IF_ERROR(ValidateLabel(label));
  ASSIGN_OR_RETURN(Snapshot snapshot, Fetch(path, /*stripe_held=*/false));
  if (snapshot.meta == nullptr) {
    return absl::NotFoundError(rekey::StrCat("no secret at \"", path, "\""));
  }
  auto it = snapshot.meta->labels.find(std::string(label));
  if (it == snapshot.meta->labels.end()) {
    return absl::NotFoundError(
        rekey::StrCat("secret \"", path, "\" has no version labelled \"", label, "\""));
  }
  const uint64_t version = it->second;
  return ReadVersion(path, std::move(snapshot.meta), version);
}

absl::StatusOr<SecretMetadata> SecretsService::GetMetadata(std::string_view path) {
  RETURN_IF_ERROR(ValidateSecretPath(path));
  ASSIGN_OR_RETURN(Snapshot snapshot, Fetch(path, /*stripe_held=*/false));
  if (snapshot.meta == nullptr) {
    return absl::NotFoundError(rekey::StrCat("no secret at \"", path, "\""));
  }
  return *snapshot.meta;
}

absl::Status SecretsService::UpdateMetadata(std::string_view path, const MetadataUpdate& update) {
  if (update.custom_metadata.has_value() && update.custom_metadata->size() > 64) {
    return absl::InvalidArgumentError("custom_metadata may hold at most 64 keys");
  }
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    SecretMetadata& meta = loaded.meta;
    const absl::Time now = clock_.Now();
    if (!loaded.exists) meta.created = now;
    meta.updated = now;
    if (update.max_versions) meta.max_versions = *update.max_versions;
    if (update.cas_required) meta.cas_required = *update.cas_required;
    if (update.delete_version_after) meta.delete_version_after = *update.delete_version_after;
    if (update.custom_metadata) meta.custom_metadata = *update.custom_metadata;
    if (update.description) meta.description = *update.description;
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(meta)));
    return absl::OkStatus();
  });
}

absl::Status SecretsService::DeleteCurrent(std::string_view path) {
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::OkStatus();
    const absl::Time now = clock_.Now();
    auto it = loaded.meta.versions.find(loaded.meta.CurrentVersion());
    if (it == loaded.meta.versions.end() || it->second.IsDeletedAt(now)) return absl::OkStatus();
    it->second.deletion_time = now;
    loaded.meta.updated = now;
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(loaded.meta)));
    return absl::OkStatus();
  });
}

absl::Status SecretsService::ChangeVersions(
    std::string_view path, const std::vector<uint64_t>& versions,
    const std::function<bool(uint64_t, VersionInfo&, storage::WriteBatch&)>& change) {
  RETURN_IF_ERROR(CheckVersionList(versions));
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::OkStatus();
    bool changed = false;
    for (uint64_t n : versions) {
      auto it = loaded.meta.versions.find(n);
      if (it != loaded.meta.versions.end() && change(n, it->second, batch)) changed = true;
    }
    if (!changed) return absl::OkStatus();
    loaded.meta.updated = clock_.Now();
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(loaded.meta)));
    return absl::OkStatus();
  });
}

absl::Status SecretsService::DeleteVersions(std::string_view path,
                                            const std::vector<uint64_t>& versions) {
  const absl::Time now = clock_.Now();
  return ChangeVersions(path, versions, [&](uint64_t, VersionInfo& v, storage::WriteBatch&) {
    if (v.destroyed || v.IsDeletedAt(now)) return false;
    v.deletion_time = now;
    return true;
  });
}

absl::Status SecretsService::UndeleteVersions(std::string_view path,
                                              const std::vector<uint64_t>& versions) {
  return ChangeVersions(path, versions, [](uint64_t, VersionInfo& v, storage::WriteBatch&) {
    if (v.destroyed || v.deletion_time == absl::InfiniteFuture()) return false;
    v.deletion_time = absl::InfiniteFuture();
    return true;
  });
}

absl::Status SecretsService::DestroyVersions(std::string_view path,
                                             const std::vector<uint64_t>& versions) {
  return ChangeVersions(path, versions,
                        [&](uint64_t n, VersionInfo& v, storage::WriteBatch& batch) {
                          if (v.destroyed) return false;
                          v.destroyed = true;
                          batch.Delete(DataKey(path, n));
                          return true;
                        });
}

absl::Status SecretsService::DeleteAll(std::string_view path) {
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<std::string> data_keys,
                     store_.ScanKeys(rekey::StrCat(MetaKey(path), "#"), "", 0));
    for (std::string& key : data_keys) batch.Delete(std::move(key));
    batch.Delete(MetaKey(path));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::string>> SecretsService::List(std::string_view folder) {
  RETURN_IF_ERROR(ValidateFolderPath(folder));
  std::string prefix = MetaKey(folder);
  if (!folder.empty() && folder.back() != '/') prefix += '/';
  std::vector<std::string> names;
  std::string start_after;
  constexpr size_t kPage = 512;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(prefix, start_after, kPage));
    if (keys.empty()) break;
    bool skipped = false;
    for (const std::string& key : keys) {
      std::string_view rest = std::string_view(key).substr(prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) {
        // "<name>" is a secret's metadata; "<name>#<version>" one of its values.
        if (rest.find('#') == std::string_view::npos) names.emplace_back(rest);
        start_after = key;
        continue;
      }
      // A sub-folder: list it once and skip the rest of its subtree ('\x7f' sorts after every
      // path character).
      names.push_back(std::string(rest.substr(0, slash + 1)));
      start_after = rekey::StrCat(prefix, rest.substr(0, slash + 1), "\x7f");
      skipped = true;
      break;
    }
    if (!skipped && keys.size() < kPage) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status SecretsService::MoveLabel(std::string_view path, std::string_view label,
                                       std::optional<uint64_t> to,
                                       std::optional<uint64_t> expected_from) {
  RETURN_IF_ERROR(ValidateLabel(label));
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::NotFoundError(rekey::StrCat("no secret at \"", path, "\""));
    SecretMetadata& meta = loaded.meta;
    const std::string name(label);
    auto at = meta.labels.find(name);
    const uint64_t from = at == meta.labels.end() ? 0 : at->second;
    if (expected_from.has_value() && *expected_from != from) {
      return absl::FailedPreconditionError(rekey::StrCat("label \"", label, "\" of \"", path,
                                                         "\" is on version ", from, ", not ",
                                                         *expected_from));
    }
    if (!to.has_value()) {
      if (at == meta.labels.end()) return absl::OkStatus();
      meta.labels.erase(at);
    } else {
      auto version = meta.versions.find(*to);
      if (version == meta.versions.end()) {
        return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no version ", *to));
      }
      if (version->second.destroyed) {
        return absl::FailedPreconditionError(
            rekey::StrCat("version ", *to, " of \"", path, "\" is destroyed"));
      }
      if (from == *to) return absl::OkStatus();
      if (meta.LabelsOf(*to).size() >= kMaxLabelsPerVersion) {
        return absl::FailedPreconditionError(rekey::StrCat(
            "version ", *to, " of \"", path, "\" already has ", kMaxLabelsPerVersion, " labels"));
      }
      meta.labels[name] = *to;
      if (name == kLabelCurrent && from != 0) meta.labels[kLabelPrevious] = from;
    }
    meta.updated = clock_.Now();
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(meta)));
    return absl::OkStatus();
  });
}

absl::Status SecretsService::Promote(std::string_view path, uint64_t version,
                                     uint64_t expected_current) {
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::NotFoundError(rekey::StrCat("no secret at \"", path, "\""));
    SecretMetadata& meta = loaded.meta;
    const uint64_t current = meta.CurrentVersion();
    auto pending = meta.labels.find(kLabelPending);
    const bool pending_here = pending != meta.labels.end() && pending->second == version;
    if (current == version && !pending_here) return absl::OkStatus();
    if (current != expected_current) {
      return absl::FailedPreconditionError(rekey::StrCat("current version of \"", path, "\" is ",
                                                         current, ", not ", expected_current));
    }
    auto it = meta.versions.find(version);
    if (it == meta.versions.end()) {
      return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no version ", version));
    }
    if (!it->second.IsReadableAt(clock_.Now())) {
      return absl::FailedPreconditionError(
          rekey::StrCat("version ", version, " of \"", path, "\" is deleted or destroyed"));
    }
    if (pending_here) meta.labels.erase(pending);
    if (current != version) {
      if (current != 0) meta.labels[kLabelPrevious] = current;
      meta.labels[kLabelCurrent] = version;
    }
    meta.updated = clock_.Now();
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(meta)));
    return absl::OkStatus();
  });
}

absl::Status SecretsService::Discard(std::string_view path, std::string_view label,
                                     uint64_t version) {
  RETURN_IF_ERROR(ValidateLabel(label));
  return Mutate(path, [&](Loaded& loaded, storage::WriteBatch& batch) -> absl::Status {
    if (!loaded.exists) return absl::OkStatus();
    SecretMetadata& meta = loaded.meta;
    auto it = meta.versions.find(version);
    if (it == meta.versions.end()) return absl::OkStatus();
    if (meta.CurrentVersion() == version) {
      return absl::FailedPreconditionError(rekey::StrCat("version ", version, " of \"", path,
                                                         "\" is current and cannot be discarded"));
    }
    bool changed = false;
    auto at = meta.labels.find(std::string(label));
    if (at != meta.labels.end() && at->second == version) {
      meta.labels.erase(at);
      changed = true;
    }
    if (!it->second.destroyed) {
      it->second.destroyed = true;
      batch.Delete(DataKey(path, version));
      changed = true;
    }
    if (!changed) return absl::OkStatus();
    meta.updated = clock_.Now();
    batch.Put(MetaKey(path), SecretBytes(EncodeMetadata(meta)));
    return absl::OkStatus();
  });
}

}  // namespace rekey::secrets
