#include "transit/transit_service.h"

#include <algorithm>
#include <map>

#include "core/status_macros.h"
#include "core/strings.h"
#include "transit/internal/codec.h"

namespace rekey::transit {

// One cached key: its current snapshot and its usage counter. The snapshot is replaced, never
// modified; writers of the key serialize on write_mu.
struct TransitService::Entry {
  Entry(std::string key_name, storage::Store& store, std::string usage_record, UsageLimits limits)
      : name(std::move(key_name)), usage(store, std::move(usage_record), limits) {}

  std::shared_ptr<const KeyPolicy> Policy() const {
    absl::MutexLock lock(&mu);
    return policy;
  }

  const std::string name;
  absl::Mutex write_mu;  // held for the whole of a change of this key
  mutable absl::Mutex mu;
  std::shared_ptr<const KeyPolicy> policy ABSL_GUARDED_BY(mu);
  uint64_t mod_index ABSL_GUARDED_BY(mu) = 0;
  bool deleted ABSL_GUARDED_BY(mu) = false;
  absl::Time last_catch_up ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  bool last_catch_up_found_newer ABSL_GUARDED_BY(mu) = true;
  UsageCounter usage;
};

namespace {

constexpr int kMaxMutateAttempts = 4;
// How often a key is reread for inputs naming a version newer than the cached one.
constexpr absl::Duration kCatchUpInterval = absl::Seconds(1);
constexpr std::string_view kKeyNotFound = "encryption key not found";

absl::Status NotFoundAs(const absl::Status& s, std::string_view message) {
  if (s.code() == absl::StatusCode::kNotFound) return absl::NotFoundError(ToAbsl(message));
  return s;
}

absl::Status InvalidName() {
  return absl::InvalidArgumentError(
      "invalid key name: use letters, digits, '_', '-' and '.', starting and ending with a "
      "letter, digit or '_' (at most 128 bytes)");
}

}  // namespace

std::optional<ExportKind> ParseExportKind(std::string_view name) {
  if (name == "encryption-key") return ExportKind::kEncryptionKey;
  if (name == "signing-key") return ExportKind::kSigningKey;
  if (name == "hmac-key") return ExportKind::kHmacKey;
  if (name == "public-key") return ExportKind::kPublicKey;
  return std::nullopt;
}

TransitService::TransitService(storage::Store& store, const Clock& clock, Random& random,
                               TransitOptions options)
    : store_(store), clock_(clock), random_(random), options_(std::move(options)) {}

TransitService::~TransitService() = default;

std::string TransitService::KeyRecord(std::string_view name) const {
  return rekey::StrCat(options_.prefix, "keys/", name);
}

std::string TransitService::UsageRecord(std::string_view name) const {
  return rekey::StrCat(options_.prefix, "usage/", name);
}

absl::StatusOr<std::shared_ptr<TransitService::Entry>> TransitService::GetEntry(
    std::string_view name) {
  if (!IsValidKeyName(name)) return InvalidName();
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(ToAbsl(name));
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(KeyRecord(name)));
  if (!rec.has_value()) return absl::NotFoundError(ToAbsl(kKeyNotFound));
  ASSIGN_OR_RETURN(KeyPolicy policy, KeyPolicy::Deserialize(rec->value));
  if (policy.name != name) return absl::DataLossError("stored transit key has another name");
  auto entry =
      std::make_shared<Entry>(std::string(name), store_, UsageRecord(name), options_.usage);
  RETURN_IF_ERROR(entry->usage.Load());
  {
    absl::MutexLock lock(&entry->mu);
    entry->policy = std::make_shared<const KeyPolicy>(std::move(policy));
    entry->mod_index = rec->mod_index;
  }
  absl::MutexLock lock(&cache_mu_);
  auto [it, inserted] = cache_.emplace(std::string(name), entry);
  return it->second;  // another thread's entry if it loaded the key first
}

absl::StatusOr<TransitService::Snapshot> TransitService::Get(std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, GetEntry(name));
  std::shared_ptr<const KeyPolicy> policy = entry->Policy();
  return Snapshot{std::move(entry), std::move(policy)};
}

void TransitService::Evict(std::string_view name, const Entry* entry) {
  absl::MutexLock lock(&cache_mu_);
  auto it = cache_.find(ToAbsl(name));
  if (it != cache_.end() && it->second.get() == entry) cache_.erase(it);
}

absl::Status TransitService::Reload(const std::shared_ptr<Entry>& entry) {
  ASSIGN_OR_RETURN(std::optional<storage::Record> rec, store_.Get(KeyRecord(entry->name)));
  if (!rec.has_value()) {
    {
      absl::MutexLock lock(&entry->mu);
      entry->deleted = true;
    }
    Evict(entry->name, entry.get());
    return absl::NotFoundError(ToAbsl(kKeyNotFound));
  }
  ASSIGN_OR_RETURN(KeyPolicy policy, KeyPolicy::Deserialize(rec->value));
  absl::MutexLock lock(&entry->mu);
  // The read above took no lock: a change committed meanwhile (rotate, trim, config) may
  // already be installed. Never go back to an older record.
  if (rec->mod_index <= entry->mod_index) return absl::OkStatus();
  entry->policy = std::make_shared<const KeyPolicy>(std::move(policy));
  entry->mod_index = rec->mod_index;
  return absl::OkStatus();
}

absl::Status TransitService::CatchUp(Snapshot& s, uint32_t newest) {
  if (newest <= s.policy->latest_version) return absl::OkStatus();
  {
    absl::MutexLock lock(&s.entry->mu);
    const absl::Time now = clock_.Now();
    if (!s.entry->last_catch_up_found_newer && now - s.entry->last_catch_up < kCatchUpInterval) {
      return absl::OkStatus();
    }
    s.entry->last_catch_up = now;
  }
  const uint32_t before = s.policy->latest_version;
  RETURN_IF_ERROR(Reload(s.entry));
  s.policy = s.entry->Policy();
  absl::MutexLock lock(&s.entry->mu);
  s.entry->last_catch_up_found_newer = s.policy->latest_version > before;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const KeyPolicy>> TransitService::Mutate(
    std::string_view name, const std::function<absl::Status(KeyPolicy&)>& change) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, GetEntry(name));
  absl::MutexLock write_lock(&entry->write_mu);
  for (int attempt = 0; attempt < kMaxMutateAttempts; ++attempt) {
    std::shared_ptr<const KeyPolicy> current;
    uint64_t index = 0;
    {
      absl::MutexLock lock(&entry->mu);
      if (entry->deleted) return absl::NotFoundError(ToAbsl(kKeyNotFound));
      current = entry->policy;
      index = entry->mod_index;
    }
    KeyPolicy next = *current;
    RETURN_IF_ERROR(change(next));
    if (absl::Status valid = next.Validate(); !valid.ok()) {
      return absl::InternalError(
          rekey::StrCat("transit key change broke an invariant: ", valid.message()));
    }
    storage::WriteBatch batch;
    batch.Put(KeyRecord(name), next.Serialize());
    batch.ExpectModIndex(KeyRecord(name), index);
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.ok()) {
      auto snapshot = std::make_shared<const KeyPolicy>(std::move(next));
      absl::MutexLock lock(&entry->mu);
      entry->policy = snapshot;
      entry->mod_index = *committed;
      return snapshot;
    }
    if (committed.status().code() != absl::StatusCode::kAborted) return committed.status();
    RETURN_IF_ERROR(Reload(entry));  // changed elsewhere: start again from the stored key
  }
  return absl::AbortedError("the key kept changing concurrently; try again");
}

KeyInfo TransitService::InfoOf(const Entry& entry, const KeyPolicy& p) const {
  KeyInfo info;
  info.name = p.name;
  info.type = p.type;
  info.derived = p.derived;
  info.convergent = p.convergent;
  info.exportable = p.exportable;
  info.allow_plaintext_backup = p.allow_plaintext_backup;
  info.deletion_allowed = p.deletion_allowed;
  info.latest_version = p.latest_version;
  info.min_decryption_version = p.min_decryption_version;
  info.min_encryption_version = p.min_encryption_version;
  info.min_available_version = p.min_available_version;
  info.auto_rotate_period = p.auto_rotate_period;
  info.last_rotated = p.LastRotated();
  const bool counts = SupportsEncryption(p.type);
  info.rotation_needed = counts && entry.usage.RotationNeeded(p.latest_version);
  for (const auto& [n, v] : p.versions) {
    KeyVersionInfo vi;
    vi.number = n;
    vi.created = v.created;
    vi.public_key = p.derived ? "" : v.public_key;
    vi.encryptions = counts ? entry.usage.Count(n) : 0;
    info.versions.push_back(std::move(vi));
  }
  return info;
}

// --- keys -------------------------------------------------------------------------------------

absl::StatusOr<TransitService::Created> TransitService::CreateKey(std::string_view name,
                                                                  const KeyCreateOptions& options) {
  if (!IsValidKeyName(name)) return InvalidName();
  absl::StatusOr<Snapshot> existing = Get(name);
  if (existing.ok()) return Created{InfoOf(*existing->entry, *existing->policy), false};
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();

  ASSIGN_OR_RETURN(KeyPolicy policy, KeyPolicy::Create(name, options, random_, clock_));
  storage::WriteBatch batch;
  batch.Put(KeyRecord(name), policy.Serialize());
  batch.ExpectModIndex(KeyRecord(name), 0);
  batch.Delete(UsageRecord(name));  // a leftover of an earlier key of this name
  absl::StatusOr<uint64_t> committed = store_.Commit(batch);
  if (!committed.ok()) {
    if (committed.status().code() != absl::StatusCode::kAborted) return committed.status();
    // Created concurrently: that key wins.
    ASSIGN_OR_RETURN(Snapshot raced, Get(name));
    return Created{InfoOf(*raced.entry, *raced.policy), false};
  }
  auto entry =
      std::make_shared<Entry>(std::string(name), store_, UsageRecord(name), options_.usage);
  {
    absl::MutexLock lock(&entry->mu);
    entry->policy = std::make_shared<const KeyPolicy>(std::move(policy));
    entry->mod_index = *committed;
  }
  {
    absl::MutexLock lock(&cache_mu_);
    cache_[std::string(name)] = entry;
  }
  return Created{InfoOf(*entry, *entry->Policy()), true};
}

absl::StatusOr<KeyInfo> TransitService::GetKey(std::string_view name, std::string_view context) {
  if (!IsValidKeyName(name)) return absl::NotFoundError(ToAbsl(kKeyNotFound));
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  KeyInfo info = InfoOf(*s.entry, *s.policy);
  if (s.policy->derived && s.policy->type == KeyType::kEd25519 && !context.empty()) {
    for (KeyVersionInfo& v : info.versions) {
      ASSIGN_OR_RETURN(v.public_key, DerivedEd25519PublicKey(*s.policy, v.number, context));
    }
  }
  return info;
}

absl::StatusOr<bool> TransitService::KeyExists(std::string_view name) {
  if (!IsValidKeyName(name)) return false;
  {
    absl::MutexLock lock(&cache_mu_);
    if (cache_.contains(ToAbsl(name))) return true;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(KeyRecord(name), "", 1));
  return !keys.empty() && keys.front() == KeyRecord(name);
}

absl::StatusOr<std::vector<std::string>> TransitService::ListKeys() {
  const std::string prefix = KeyRecord("");
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_.ScanKeys(prefix, "", 0));
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const std::string& k : keys) names.push_back(k.substr(prefix.size()));
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status TransitService::DeleteKey(std::string_view name) {
  absl::StatusOr<std::shared_ptr<Entry>> found = GetEntry(name);
  if (!found.ok()) {
    if (found.status().code() == absl::StatusCode::kNotFound ||
        found.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::NotFoundError("could not delete key; not found");
    }
    return found.status();
  }
  std::shared_ptr<Entry> entry = *std::move(found);
  absl::MutexLock write_lock(&entry->write_mu);
  for (int attempt = 0; attempt < kMaxMutateAttempts; ++attempt) {
    std::shared_ptr<const KeyPolicy> current;
    uint64_t index = 0;
    {
      absl::MutexLock lock(&entry->mu);
      if (entry->deleted) return absl::NotFoundError("could not delete key; not found");
      current = entry->policy;
      index = entry->mod_index;
    }
    if (!current->deletion_allowed) {
      return absl::InvalidArgumentError("deletion is not allowed for this policy");
    }
    storage::WriteBatch batch;
    batch.Delete(KeyRecord(name));
    batch.Delete(UsageRecord(name));
    batch.ExpectModIndex(KeyRecord(name), index);
    absl::StatusOr<uint64_t> committed = store_.Commit(batch);
    if (committed.ok()) {
      {
        absl::MutexLock lock(&entry->mu);
        entry->deleted = true;
      }
      Evict(name, entry.get());
      return absl::OkStatus();
    }
    if (committed.status().code() != absl::StatusCode::kAborted) return committed.status();
    RETURN_IF_ERROR(NotFoundAs(Reload(entry), "could not delete key; not found"));
  }
  return absl::AbortedError("the key kept changing concurrently; try again");
}

absl::StatusOr<TransitService::Configured> TransitService::UpdateKeyConfig(
    std::string_view name, const KeyConfigUpdate& update) {
  std::vector<std::string> warnings;
  absl::StatusOr<std::shared_ptr<const KeyPolicy>> committed =
      Mutate(name, [&](KeyPolicy& p) -> absl::Status {
        warnings.clear();
        if (update.min_decryption_version.has_value()) {
          uint64_t v = *update.min_decryption_version;
          if (v == 0) {
            v = 1;
            warnings.push_back(
                "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1");
          }
          if (v != p.min_decryption_version) {
            if (v > p.latest_version) {
              return absl::InvalidArgumentError(
                  rekey::StrCat("cannot set min decryption version of ", v,
                                ", latest key version is ", p.latest_version));
            }
            p.min_decryption_version = static_cast<uint32_t>(v);
          }
        }
        if (update.min_encryption_version.has_value()) {
          const uint64_t v = *update.min_encryption_version;
          if (v != p.min_encryption_version) {
            if (v > p.latest_version) {
              return absl::InvalidArgumentError(
                  rekey::StrCat("cannot set min encryption version of ", v,
                                ", latest key version is ", p.latest_version));
            }
            p.min_encryption_version = static_cast<uint32_t>(v);
          }
        }
        if (p.min_encryption_version > 0 && p.min_encryption_version < p.min_decryption_version) {
          return absl::InvalidArgumentError(rekey::StrCat(
              "cannot set min encryption/decryption values; min encryption version of ",
              p.min_encryption_version,
              " must be greater than or equal to min decryption version of ",
              p.min_decryption_version));
        }
        if (update.deletion_allowed.has_value()) p.deletion_allowed = *update.deletion_allowed;
        if (update.exportable.value_or(false)) p.exportable = true;
        if (update.allow_plaintext_backup.value_or(false)) p.allow_plaintext_backup = true;
        if (update.auto_rotate_period.has_value()) {
          const absl::Duration d = *update.auto_rotate_period;
          if (d != absl::ZeroDuration() && d < kMinAutoRotatePeriod) {
            return absl::InvalidArgumentError(
                "auto rotate period must be 0 to disable or at least an hour");
          }
          p.auto_rotate_period = d;
        }
        if (p.min_available_version > 0) {
          if (p.min_available_version > p.min_encryption_version) {
            return absl::InvalidArgumentError(
                "min encryption version should not be less than min available version");
          }
          if (p.min_available_version > p.min_decryption_version) {
            return absl::InvalidArgumentError(
                "min decryption version should not be less then min available version");
          }
        }
        return absl::OkStatus();
      });
  if (!committed.ok()) {
    return NotFoundAs(committed.status(),
                      rekey::StrCat("no existing key named ", name, " could be found"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, GetEntry(name));
  return Configured{InfoOf(*entry, **committed), std::move(warnings)};
}

absl::StatusOr<KeyInfo> TransitService::RotateKey(std::string_view name) {
  absl::StatusOr<std::shared_ptr<const KeyPolicy>> committed =
      Mutate(name, [&](KeyPolicy& p) { return p.Rotate(random_, clock_); });
  if (!committed.ok()) return NotFoundAs(committed.status(), "key not found");
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, GetEntry(name));
  return InfoOf(*entry, **committed);
}

absl::StatusOr<KeyInfo> TransitService::TrimKey(std::string_view name,
                                                uint64_t min_available_version) {
  absl::StatusOr<std::shared_ptr<const KeyPolicy>> committed =
      Mutate(name, [&](KeyPolicy& p) -> absl::Status {
        const uint64_t v = min_available_version;
        if (v < p.min_available_version) {
          return absl::InvalidArgumentError("minimum available version cannot be decremented");
        }
        if (p.min_encryption_version == 0) {
          return absl::InvalidArgumentError(
              "minimum available version cannot be set when minimum encryption version is not "
              "set");
        }
        if (v > p.min_encryption_version) {
          return absl::InvalidArgumentError(
              "minimum available version cannot be greater than minmum encryption version");
        }
        if (v > p.min_decryption_version) {
          return absl::InvalidArgumentError(
              "minimum available version cannot be greater than minimum decryption version");
        }
        if (v == 0) {
          return absl::InvalidArgumentError("minimum available version should be positive");
        }
        p.min_available_version = static_cast<uint32_t>(v);
        for (auto it = p.versions.begin(); it != p.versions.end() && it->first < v;) {
          it = p.versions.erase(it);  // the material is wiped with it
        }
        return absl::OkStatus();
      });
  if (!committed.ok()) return NotFoundAs(committed.status(), "invalid key name");
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, GetEntry(name));
  return InfoOf(*entry, **committed);
}

absl::StatusOr<ExportedKeys> TransitService::ExportKey(std::string_view name, ExportKind kind,
                                                       std::optional<uint32_t> version) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  const KeyPolicy& p = *s.policy;
  if (kind != ExportKind::kPublicKey && !p.exportable) {
    return absl::InvalidArgumentError("private key material is not exportable");
  }
  switch (kind) {
    case ExportKind::kEncryptionKey:
      if (!SupportsEncryption(p.type)) {
        return absl::InvalidArgumentError("encryption not supported for the key");
      }
      break;
    case ExportKind::kSigningKey:
      if (!SupportsSigning(p.type)) {
        return absl::InvalidArgumentError("signing not supported for the key");
      }
      break;
    case ExportKind::kPublicKey:
      if (IsSymmetric(p.type)) {
        return absl::InvalidArgumentError("public key not available for this key type");
      }
      break;
    case ExportKind::kHmacKey:
      break;
  }
  std::vector<uint32_t> numbers;
  if (version.has_value()) {
    const uint32_t v = *version == 0 ? p.latest_version : *version;
    if (v < p.min_decryption_version) {
      return absl::InvalidArgumentError("version for export is below minimum decryption version");
    }
    if (p.Find(v) == nullptr) return absl::InvalidArgumentError("version does not exist");
    numbers.push_back(v);
  } else {
    for (const auto& [n, v] : p.versions) {
      if (n >= p.min_decryption_version) numbers.push_back(n);
    }
  }
  ExportedKeys out;
  out.name = p.name;
  out.type = p.type;
  for (uint32_t n : numbers) {
    const KeyVersion& v = *p.Find(n);
    SecretBytes value;
    switch (kind) {
      case ExportKind::kHmacKey:
        value = internal::Base64EncodeSecret(v.hmac_key.Reveal());
        break;
      case ExportKind::kEncryptionKey:
      case ExportKind::kSigningKey:
        if (IsSymmetric(p.type)) {
          value = internal::Base64EncodeSecret(v.key.Reveal());
        } else {
          ASSIGN_OR_RETURN(value, v.asymmetric->PrivateKeyExport());
        }
        break;
      case ExportKind::kPublicKey:
        if (p.derived) {
          return absl::InvalidArgumentError(
              "public keys of a derived key depend on a context; read the key with one");
        }
        value = SecretBytes(v.public_key);
        break;
    }
    out.keys.emplace_back(n, std::move(value));
  }
  return out;
}

// --- rotation hooks ---------------------------------------------------------------------------

absl::StatusOr<KeyRotationStatus> TransitService::RotationStatus(std::string_view name) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  const KeyPolicy& p = *s.policy;
  KeyRotationStatus st;
  st.name = p.name;
  st.auto_rotate_period = p.auto_rotate_period;
  st.last_rotated = p.LastRotated();
  st.next_periodic_rotation = p.auto_rotate_period == absl::ZeroDuration()
                                  ? absl::InfiniteFuture()
                                  : st.last_rotated + p.auto_rotate_period;
  st.latest_version = p.latest_version;
  if (SupportsEncryption(p.type)) {
    st.latest_version_encryptions = s.entry->usage.Count(p.latest_version);
    st.usage_rotation_needed = s.entry->usage.RotationNeeded(p.latest_version);
  }
  return st;
}

absl::StatusOr<std::vector<KeyRotationStatus>> TransitService::RotationStatuses() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListKeys());
  std::vector<KeyRotationStatus> out;
  for (const std::string& name : names) {
    absl::StatusOr<KeyRotationStatus> st = RotationStatus(name);
    if (st.status().code() == absl::StatusCode::kNotFound) continue;  // deleted meanwhile
    RETURN_IF_ERROR(st.status());
    out.push_back(*std::move(st));
  }
  return out;
}

absl::Status TransitService::FlushUsage() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&cache_mu_);
    for (const auto& [name, entry] : cache_) entries.push_back(entry);
  }
  absl::Status first;
  for (const auto& entry : entries) {
    absl::Status s = entry->usage.Release();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

// --- cryptographic operations -----------------------------------------------------------------

std::map<uint32_t, absl::Status> TransitService::TakeUsage(
    Entry& entry, std::string_view name, const std::map<uint32_t, uint64_t>& counts) {
  std::map<uint32_t, absl::Status> out;
  std::vector<std::pair<uint32_t, uint64_t>> crossed;
  for (const auto& [version, n] : counts) {
    bool crossed_now = false;
    out[version] = entry.usage.Take(version, n, &crossed_now);
    if (crossed_now) crossed.emplace_back(version, entry.usage.Count(version));
  }
  if (options_.on_rotation_needed) {
    for (const auto& [version, count] : crossed) options_.on_rotation_needed(name, version, count);
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<Ciphertext>>> TransitService::Encrypt(
    std::string_view name, const std::vector<EncryptItem>& items,
    const std::optional<KeyCreateOptions>& upsert) {
  absl::StatusOr<Snapshot> got = Get(name);
  if (got.status().code() == absl::StatusCode::kNotFound && upsert.has_value()) {
    RETURN_IF_ERROR(CreateKey(name, *upsert).status());
    got = Get(name);
  }
  RETURN_IF_ERROR(got.status());
  const KeyPolicy& p = *got->policy;
  std::vector<absl::StatusOr<uint32_t>> versions;
  for (const EncryptItem& item : items) {
    versions.push_back(
        SupportsEncryption(p.type)
            ? ResolveEncryptionVersion(p, item.key_version)
            : absl::StatusOr<uint32_t>(absl::InvalidArgumentError(rekey::StrCat(
                  "message encryption not supported for key type ", KeyTypeName(p.type)))));
  }
  return EncryptResolved(*got->entry, name, p, versions, [&](size_t i) {
    const EncryptItem& item = items[i];
    EncryptParams params;
    params.context = item.context;
    params.nonce = item.nonce;
    params.associated_data = item.associated_data;
    return std::make_pair(item.plaintext.Reveal(), params);
  });
}

std::vector<absl::StatusOr<Ciphertext>> TransitService::EncryptResolved(
    Entry& entry, std::string_view name, const KeyPolicy& p,
    const std::vector<absl::StatusOr<uint32_t>>& versions,
    const std::function<std::pair<std::string_view, EncryptParams>(size_t)>& input) {
  std::map<uint32_t, uint64_t> counts;
  for (const absl::StatusOr<uint32_t>& v : versions) {
    if (v.ok()) ++counts[*v];
  }
  std::map<uint32_t, absl::Status> taken = TakeUsage(entry, name, counts);
  EncryptSession session(p, random_, versions.size());
  std::vector<absl::StatusOr<Ciphertext>> out;
  out.reserve(versions.size());
  for (size_t i = 0; i < versions.size(); ++i) {
    if (!versions[i].ok()) {
      out.push_back(versions[i].status());
      continue;
    }
    if (const absl::Status& t = taken[*versions[i]]; !t.ok()) {
      out.push_back(t);
      continue;
    }
    auto [plaintext, params] = input(i);
    params.key_version = *versions[i];
    out.push_back(session.Encrypt(*versions[i], plaintext, params));
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<SecretBytes>>> TransitService::Decrypt(
    std::string_view name, const std::vector<DecryptItem>& items) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  uint32_t newest = 0;
  for (const DecryptItem& item : items) {
    newest = std::max(newest, PrefixVersion(item.ciphertext).value_or(0));
  }
  RETURN_IF_ERROR(CatchUp(s, newest));
  std::vector<absl::StatusOr<SecretBytes>> out;
  out.reserve(items.size());
  for (const DecryptItem& item : items) {
    DecryptParams params;
    params.context = item.context;
    params.nonce = item.nonce;
    params.associated_data = item.associated_data;
    out.push_back(transit::Decrypt(*s.policy, item.ciphertext, params));
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<Ciphertext>>> TransitService::Rewrap(
    std::string_view name, const std::vector<RewrapItem>& items) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  uint32_t newest = 0;
  for (const RewrapItem& item : items) {
    newest = std::max(newest, PrefixVersion(item.ciphertext).value_or(0));
  }
  RETURN_IF_ERROR(CatchUp(s, newest));
  const KeyPolicy& p = *s.policy;
  std::vector<absl::StatusOr<SecretBytes>> plains;
  std::vector<absl::StatusOr<uint32_t>> versions;
  for (const RewrapItem& item : items) {
    DecryptParams params;
    params.context = item.context;
    params.nonce = item.nonce;
    absl::StatusOr<SecretBytes> plain = transit::Decrypt(p, item.ciphertext, params);
    versions.push_back(plain.ok() ? ResolveEncryptionVersion(p, item.key_version)
                                  : absl::StatusOr<uint32_t>(plain.status()));
    plains.push_back(std::move(plain));
  }
  return EncryptResolved(*s.entry, name, p, versions, [&](size_t i) {
    EncryptParams params;
    params.context = items[i].context;
    return std::make_pair(plains[i]->Reveal(), params);
  });
}

absl::StatusOr<DataKey> TransitService::GenerateDataKey(std::string_view name,
                                                        const DataKeyRequest& request,
                                                        bool include_plaintext) {
  if (request.bits != 128 && request.bits != 256 && request.bits != 512) {
    return absl::InvalidArgumentError("invalid bits value: must be 128, 256 or 512");
  }
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  const KeyPolicy& p = *s.policy;
  if (!SupportsEncryption(p.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("message encryption not supported for key type ", KeyTypeName(p.type)));
  }
  ASSIGN_OR_RETURN(uint32_t version, ResolveEncryptionVersion(p, request.key_version));
  std::map<uint32_t, absl::Status> taken = TakeUsage(*s.entry, name, {{version, 1}});
  RETURN_IF_ERROR(taken[version]);
  SecretBytes key = SecretBytes::Zeroed(request.bits / 8);
  random_.Fill(absl::MakeSpan(key.MutableData(), key.size()));
  EncryptParams params;
  params.key_version = version;
  params.context = request.context;
  params.nonce = request.nonce;
  DataKey out;
  ASSIGN_OR_RETURN(out.ciphertext, transit::Encrypt(p, version, key.Reveal(), params, random_));
  if (include_plaintext) out.plaintext = std::move(key);
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<std::string>>> TransitService::Hmac(
    std::string_view name, HashAlgorithm algorithm, const std::vector<HmacItem>& items) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  std::vector<absl::StatusOr<std::string>> out;
  out.reserve(items.size());
  for (const HmacItem& item : items) {
    out.push_back(ComputeHmac(*s.policy, item.key_version, algorithm, item.input.Reveal()));
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<Signature>>> TransitService::Sign(
    std::string_view name, const SignOptions& options, const std::vector<SignItem>& items) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  std::vector<absl::StatusOr<Signature>> out;
  out.reserve(items.size());
  for (const SignItem& item : items) {
    SignParams params;
    params.key_version = item.key_version;
    params.context = item.context;
    params.hash = options.hash;
    params.prehashed = options.prehashed;
    params.rsa_padding = options.rsa_padding;
    params.salt_length = options.salt_length;
    params.marshaling = options.marshaling;
    out.push_back(transit::Sign(*s.policy, item.input.Reveal(), params));
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<bool>>> TransitService::Verify(
    std::string_view name, const SignOptions& options, HashAlgorithm hmac_algorithm,
    const std::vector<SignItem>& items) {
  ASSIGN_OR_RETURN(Snapshot s, Get(name));
  uint32_t newest = 0;
  for (const SignItem& item : items) {
    newest =
        std::max(newest, PrefixVersion(item.hmac.empty() ? item.signature : item.hmac).value_or(0));
  }
  RETURN_IF_ERROR(CatchUp(s, newest));
  std::vector<absl::StatusOr<bool>> out;
  out.reserve(items.size());
  for (const SignItem& item : items) {
    if (!item.hmac.empty()) {
      out.push_back(VerifyHmac(*s.policy, hmac_algorithm, item.input.Reveal(), item.hmac));
      continue;
    }
    SignParams params;
    params.context = item.context;
    params.hash = options.hash;
    params.prehashed = options.prehashed;
    params.rsa_padding = options.rsa_padding;
    params.salt_length = options.salt_length;
    params.marshaling = options.marshaling;
    out.push_back(transit::Verify(*s.policy, item.input.Reveal(), item.signature, params));
  }
  return out;
}

SecretBytes TransitService::RandomBytes(size_t n) {
  SecretBytes out = SecretBytes::Zeroed(n);
  random_.Fill(absl::MakeSpan(out.MutableData(), out.size()));
  return out;
}

bool TransitService::CanServeWithoutStore(std::string_view name, uint64_t encryptions) const {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(ToAbsl(name));
    if (it == cache_.end()) return false;
    entry = it->second;
  }
  if (encryptions == 0) return true;
  std::shared_ptr<const KeyPolicy> policy = entry->Policy();
  return entry->usage.CanTakeWithoutWrite(policy->latest_version, encryptions);
}

}  // namespace rekey::transit
