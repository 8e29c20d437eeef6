// TransitService: Vault-compatible transit keys over the Store. Keys live encrypted at rest (the
// store is the barrier) under "<prefix>keys/<name>", their usage counters under
// "<prefix>usage/<name>". Loaded keys are cached as immutable snapshots: cryptographic operations
// take a snapshot and never block each other; changes to one key (create, config, rotate, trim,
// delete) are serialized by that key's lock and committed compare-and-set, so a change made
// elsewhere (another node) is detected, reloaded and retried, never overwritten.
//
// Every error is a Status whose message is Vault's text where Vault has one (for the API layer to
// render as is): kNotFound for a missing key, kInvalidArgument for a request Vault answers with
// 400, kFailedPrecondition for a version past its encryption limit, kAborted when a key kept
// changing concurrently, store errors as they come. Messages never contain key material,
// plaintext, or input.
#ifndef REKEY_TRANSIT_TRANSIT_SERVICE_H_
#define REKEY_TRANSIT_TRANSIT_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "storage/store.h"
#include "transit/key_ops.h"
#include "transit/key_policy.h"
#include "transit/usage_counter.h"

namespace rekey::transit {

// Called (on the thread that encrypted, after every lock is released) the first time this process
// sees a key version reach the usage rotation threshold. Must be quick and must not block.
using RotationNeededListener =
    std::function<void(std::string_view key_name, uint32_t version, uint64_t encryptions)>;

struct TransitOptions {
  std::string prefix = "transit/";  // store prefix of every record
  UsageLimits usage;
  RotationNeededListener on_rotation_needed;
};

// One version as a read shows it (no material).
struct KeyVersionInfo {
  uint32_t number = 0;
  absl::Time created;
  std::string public_key;  // asymmetric types (for derived Ed25519: under the read's context)
  uint64_t encryptions = 0;
};

// A key as a read shows it (no material).
struct KeyInfo {
  std::string name;
  KeyType type = KeyType::kAes256Gcm96;
  bool derived = false;
  bool convergent = false;
  bool exportable = false;
  bool allow_plaintext_backup = false;
  bool deletion_allowed = false;
  uint32_t latest_version = 0;
  uint32_t min_decryption_version = 0;
  uint32_t min_encryption_version = 0;
  uint32_t min_available_version = 0;
  absl::Duration auto_rotate_period = absl::ZeroDuration();
  absl::Time last_rotated;               // creation of the latest version
  bool rotation_needed = false;          // the latest version reached the usage threshold
  std::vector<KeyVersionInfo> versions;  // ascending
};

// What a rotation scheduler needs to know about one key.
struct KeyRotationStatus {
  std::string name;
  absl::Duration auto_rotate_period = absl::ZeroDuration();  // zero: no periodic rotation
  absl::Time last_rotated;
  // last_rotated + auto_rotate_period, or InfiniteFuture when periodic rotation is off.
  absl::Time next_periodic_rotation;
  uint32_t latest_version = 0;
  uint64_t latest_version_encryptions = 0;
  bool usage_rotation_needed = false;  // rotate now: the latest version reached the threshold
};

// A change of key settings (POST keys/:name/config); unset fields stay as they are.
struct KeyConfigUpdate {
  std::optional<uint64_t> min_decryption_version;
  std::optional<uint64_t> min_encryption_version;
  std::optional<bool> deletion_allowed;
  std::optional<bool> exportable;              // can only be turned on
  std::optional<bool> allow_plaintext_backup;  // can only be turned on
  std::optional<absl::Duration> auto_rotate_period;
};

enum class ExportKind { kEncryptionKey, kSigningKey, kHmacKey, kPublicKey };
// "encryption-key", "signing-key", "hmac-key", "public-key".
std::optional<ExportKind> ParseExportKind(std::string_view name);

struct ExportedKeys {
  std::string name;
  KeyType type = KeyType::kAes256Gcm96;
  // version -> the key as Vault exports it (base64 or PEM).
  std::vector<std::pair<uint32_t, SecretBytes>> keys;
};

struct EncryptItem {
  SecretBytes plaintext;
  std::string context;
  std::string nonce;
  std::string associated_data;
  uint32_t key_version = 0;
};

struct DecryptItem {
  std::string ciphertext;
  std::string context;
  std::string nonce;
  std::string associated_data;
};

struct RewrapItem {
  std::string ciphertext;
  std::string context;
  std::string nonce;
  uint32_t key_version = 0;  // of the new ciphertext; 0 = latest
};

struct DataKeyRequest {
  size_t bits = 256;  // 128, 256 or 512
  std::string context;
  std::string nonce;
  uint32_t key_version = 0;
};

struct DataKey {
  Ciphertext ciphertext;
  std::optional<SecretBytes> plaintext;  // set when asked for
};

struct HmacItem {
  SecretBytes input;
  uint32_t key_version = 0;
};

struct SignItem {
  SecretBytes input;
  std::string context;
  uint32_t key_version = 0;  // sign only
  std::string signature;     // verify only: "vault:v<N>:..." signature ...
  std::string hmac;          // ... or HMAC (verify checks the HMAC when set)
};

// Options shared by every item of a sign or verify request.
struct SignOptions {
  HashAlgorithm hash = HashAlgorithm::kSha2_256;
  bool prehashed = false;
  RsaPadding rsa_padding = RsaPadding::kPss;
  int salt_length = kPssSaltAuto;
  Marshaling marshaling = Marshaling::kAsn1;
};

// Thread-safe. `store`, `clock` and `random` must outlive the service.
class TransitService {
 public:
  TransitService(storage::Store& store, const Clock& clock, Random& random,
                 TransitOptions options = {});
  ~TransitService();
  TransitService(const TransitService&) = delete;
  TransitService& operator=(const TransitService&) = delete;

  // --- keys ---------------------------------------------------------------------------------

  struct Created {
    KeyInfo info;
    bool created = false;  // false: the key already existed and is returned unchanged
  };
  // Creates key `name`, or returns the existing key unchanged (as Vault does).
  absl::StatusOr<Created> CreateKey(std::string_view name, const KeyCreateOptions& options);
  // kNotFound if there is no such key. `context` fills in public keys of derived Ed25519 keys.
  absl::StatusOr<KeyInfo> GetKey(std::string_view name, std::string_view context = "");
  // Whether key `name` exists (reads the store when it is not cached; never writes).
  absl::StatusOr<bool> KeyExists(std::string_view name);
  // Every key name, sorted.
  absl::StatusOr<std::vector<std::string>> ListKeys();
  // kInvalidArgument "deletion is not allowed for this policy" unless deletion_allowed.
  absl::Status DeleteKey(std::string_view name);
  struct Configured {
    KeyInfo info;
    std::vector<std::string> warnings;
  };
  absl::StatusOr<Configured> UpdateKeyConfig(std::string_view name, const KeyConfigUpdate& update);
  // Adds a new version, which becomes the one new encryptions use. The one call a rotator makes.
  absl::StatusOr<KeyInfo> RotateKey(std::string_view name);
  // Permanently deletes versions below `min_available_version` (Vault's rules).
  absl::StatusOr<KeyInfo> TrimKey(std::string_view name, uint64_t min_available_version);
  // `version`: nullopt for every version from min_decryption_version up, else one version
  // (0 = latest).
  absl::StatusOr<ExportedKeys> ExportKey(std::string_view name, ExportKind kind,
                                         std::optional<uint32_t> version);

  // --- rotation hooks -----------------------------------------------------------------------

  absl::StatusOr<KeyRotationStatus> RotationStatus(std::string_view name);
  // Every key's status (loads every key).
  absl::StatusOr<std::vector<KeyRotationStatus>> RotationStatuses();
  // Gives unspent usage reservations back to the store (call at shutdown). The first error.
  absl::Status FlushUsage();

  // --- cryptographic operations -------------------------------------------------------------
  // Each returns one result per item, in order; the outer status is for failures that concern
  // the whole request (a missing key: kNotFound "encryption key not found").

  // `upsert`: create the key with these options when it does not exist (the caller may create).
  absl::StatusOr<std::vector<absl::StatusOr<Ciphertext>>> Encrypt(
      std::string_view name, const std::vector<EncryptItem>& items,
      const std::optional<KeyCreateOptions>& upsert = std::nullopt);
  absl::StatusOr<std::vector<absl::StatusOr<SecretBytes>>> Decrypt(
      std::string_view name, const std::vector<DecryptItem>& items);
  // Decrypts and re-encrypts under `key_version` (latest by default); plaintext never leaves.
  absl::StatusOr<std::vector<absl::StatusOr<Ciphertext>>> Rewrap(
      std::string_view name, const std::vector<RewrapItem>& items);
  absl::StatusOr<DataKey> GenerateDataKey(std::string_view name, const DataKeyRequest& request,
                                          bool include_plaintext);
  absl::StatusOr<std::vector<absl::StatusOr<std::string>>> Hmac(std::string_view name,
                                                                HashAlgorithm algorithm,
                                                                const std::vector<HmacItem>& items);
  absl::StatusOr<std::vector<absl::StatusOr<Signature>>> Sign(std::string_view name,
                                                              const SignOptions& options,
                                                              const std::vector<SignItem>& items);
  // Verifies each item's signature, or its HMAC (with `hmac_algorithm`) when the item has one.
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> Verify(std::string_view name,
                                                           const SignOptions& options,
                                                           HashAlgorithm hmac_algorithm,
                                                           const std::vector<SignItem>& items);

  // `n` bytes from the service's random source (transit/random).
  SecretBytes RandomBytes(size_t n);

  // Whether an operation on `name` that encrypts `encryptions` times (0: does not encrypt) can run
  // without touching the store: the key is cached and its usage allowance suffices. For the HTTP
  // layer to decide whether a request may run on an I/O thread. Never blocks on I/O.
  bool CanServeWithoutStore(std::string_view name, uint64_t encryptions) const;

 private:
  struct Entry;
  struct Snapshot {
    std::shared_ptr<Entry> entry;
    std::shared_ptr<const KeyPolicy> policy;
  };

  std::string KeyRecord(std::string_view name) const;
  std::string UsageRecord(std::string_view name) const;
  // The cached entry of `name`, loading it on a miss. kNotFound if the key does not exist.
  absl::StatusOr<std::shared_ptr<Entry>> GetEntry(std::string_view name);
  absl::StatusOr<Snapshot> Get(std::string_view name);
  // Rereads the key from the store into `entry` (kNotFound if it is gone: then evicted).
  absl::Status Reload(const std::shared_ptr<Entry>& entry);
  // When `newest` (the highest version the request's ciphertexts or signatures name) is above the
  // snapshot's latest, another node may have rotated: rereads the key into `s`. After a reread
  // that found nothing newer, the next one waits a second, so that forged "vault:v999:" inputs
  // cost one store read a second, not one per request (they then fail as invalid); a genuinely
  // newer version may then be seen up to a second late.
  absl::Status CatchUp(Snapshot& s, uint32_t newest);
  // Applies `change` to a copy of the key and commits it compare-and-set; on a conflict, reloads
  // and tries again. Returns the committed snapshot.
  absl::StatusOr<std::shared_ptr<const KeyPolicy>> Mutate(
      std::string_view name, const std::function<absl::Status(KeyPolicy&)>& change);
  KeyInfo InfoOf(const Entry& entry, const KeyPolicy& policy) const;
  // Reserves `counts` (version -> encryptions) in the key's usage counter; failed versions get
  // their status in the returned map. Reports threshold crossings.
  std::map<uint32_t, absl::Status> TakeUsage(Entry& entry, std::string_view name,
                                             const std::map<uint32_t, uint64_t>& counts);
  void Evict(std::string_view name, const Entry* entry);
  // The shared end of Encrypt and Rewrap: takes usage for every item whose version resolved
  // (`versions`, one per item), then encrypts each granted item's plaintext with the params
  // `input(i)` gives (key_version is set here); the others get their error.
  std::vector<absl::StatusOr<Ciphertext>> EncryptResolved(
      Entry& entry, std::string_view name, const KeyPolicy& p,
      const std::vector<absl::StatusOr<uint32_t>>& versions,
      const std::function<std::pair<std::string_view, EncryptParams>(size_t)>& input);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const TransitOptions options_;
  mutable absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_TRANSIT_SERVICE_H_
