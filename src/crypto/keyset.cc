// Keyset: AES-256-GCM keys by random 32-bit id, one primary; see keyset.h for the wire format.
#include "crypto/keyset.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/status_macros.h"
#include "crypto/internal/aes_gcm.h"
#include "crypto/internal/keyset_format.h"

namespace rekey::crypto {
namespace {

using internal::kAesGcmKeySize;
using internal::kAesGcmNonceSize;
using internal::kAesGcmTagSize;

constexpr uint8_t kCiphertextVersion = 0x01;
// Format version byte and big-endian key id; authenticated as the first part of the AAD.
constexpr size_t kHeaderSize = 1 + 4;
constexpr size_t kMinCiphertextSize = kHeaderSize + kAesGcmNonceSize + kAesGcmTagSize;

absl::Status DecryptionFailed() { return absl::InvalidArgumentError("decryption failed"); }

void WriteHeader(uint32_t key_id, char (&header)[kHeaderSize]) {
  header[0] = static_cast<char>(kCiphertextVersion);
  for (int i = 0; i < 4; ++i) header[1 + i] = static_cast<char>(key_id >> (8 * (3 - i)));
}

uint32_t ReadKeyId(std::string_view ciphertext) {
  uint32_t id = 0;
  for (int i = 1; i < 5; ++i) id = (id << 8) | static_cast<uint8_t>(ciphertext[i]);
  return id;
}

}  // namespace

// One key. `id`, `created` and the identity of the object never change; `status` and `material`
// change only under State::mu held exclusively; `encryptions` is atomic so that Encrypt can
// count under a shared lock.
struct Keyset::Key {
  uint32_t id = 0;
  KeyStatus status = KeyStatus::kEnabled;
  absl::Time created;
  std::atomic<uint64_t> encryptions{0};
  SecretBytes material;  // kAesGcmKeySize bytes; empty once destroyed.
};

struct Keyset::State {
  State(Random& r, const Clock& c) : random(r), clock(c), aes(internal::AesGcm256::Create()) {}

  Random& random;
  const Clock& clock;
  // An error here (OpenSSL without AES-256-GCM) is returned by every Encrypt and Decrypt.
  const absl::StatusOr<internal::AesGcm256> aes;

  mutable absl::Mutex mu;
  std::vector<std::unique_ptr<Key>> keys ABSL_GUARDED_BY(mu);  // In creation order.
  absl::flat_hash_map<uint32_t, Key*> by_id ABSL_GUARDED_BY(mu);
  Key* primary ABSL_GUARDED_BY(mu) = nullptr;  // Never null once the keyset is built.

  Key* Find(uint32_t id) const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second;
  }

  Key& Insert(std::unique_ptr<Key> key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Key& ref = *key;
    by_id.emplace(ref.id, &ref);
    keys.push_back(std::move(key));
    return ref;
  }

  // Adds a fresh ENABLED key with a random, nonzero id unused in this keyset.
  Key& AddFreshKey() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto key = std::make_unique<Key>();
    // A working CSPRNG collides with a handful of ids essentially never; a bounded loop turns a
    // broken Random (e.g. constant output) into a crash instead of a hang.
    for (int attempt = 0;; ++attempt) {
      if (attempt == 1000) {
        std::fprintf(stderr, "FATAL: Keyset could not draw an unused key id\n");
        std::abort();
      }
      key->id = random.Uint32();
      if (key->id != 0 && !by_id.contains(key->id)) break;
    }
    key->created = clock.Now();
    key->material = SecretBytes::Zeroed(kAesGcmKeySize);
    random.Fill(absl::MakeSpan(key->material.MutableData(), key->material.size()));
    return Insert(std::move(key));
  }

  absl::StatusOr<Key*> FindOrNotFound(uint32_t id) const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    Key* key = Find(id);
    if (key == nullptr) return absl::NotFoundError(absl::StrCat("no key with id ", id));
    return key;
  }
};

Keyset::Keyset(Random& random, const Clock& clock)
    : state_(std::make_unique<State>(random, clock)) {}

Keyset::~Keyset() = default;

std::unique_ptr<Keyset> Keyset::Generate(Random& random, const Clock& clock) {
  std::unique_ptr<Keyset> keyset(new Keyset(random, clock));
  State& s = *keyset->state_;
  absl::MutexLock lock(&s.mu);
  s.primary = &s.AddFreshKey();
  return keyset;
}

absl::StatusOr<std::unique_ptr<Keyset>> Keyset::Deserialize(const SecretBytes& serialized,
                                                            Random& random, const Clock& clock) {
  ASSIGN_OR_RETURN(std::vector<internal::KeyRecord> records,
                   internal::DecodeKeyset(serialized.Reveal()));
  std::unique_ptr<Keyset> keyset(new Keyset(random, clock));
  State& s = *keyset->state_;
  absl::MutexLock lock(&s.mu);
  for (internal::KeyRecord& record : records) {
    auto key = std::make_unique<Key>();
    key->id = record.info.id;
    key->status = record.info.status;
    key->created = record.info.created;
    key->encryptions.store(record.info.encryptions, std::memory_order_relaxed);
    key->material = std::move(record.material);
    Key& inserted = s.Insert(std::move(key));
    if (record.info.primary) s.primary = &inserted;
  }
  return keyset;
}

SecretBytes Keyset::Serialize() const {
  const State& s = *state_;
  std::vector<internal::KeyRecord> records;
  absl::ReaderMutexLock lock(&s.mu);
  records.reserve(s.keys.size());
  for (const auto& key : s.keys) {
    records.push_back(internal::KeyRecord{
        .info = {.id = key->id,
                 .status = key->status,
                 .primary = key.get() == s.primary,
                 .created = key->created,
                 .encryptions = key->encryptions.load(std::memory_order_relaxed)},
        .material = key->material});
  }
  return internal::EncodeKeyset(records);
}

uint32_t Keyset::AddKey() {
  absl::MutexLock lock(&state_->mu);
  return state_->AddFreshKey().id;
}

absl::Status Keyset::Promote(uint32_t id) {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  ASSIGN_OR_RETURN(Key * key, s.FindOrNotFound(id));
  if (key->status != KeyStatus::kEnabled) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", id, " is not enabled and cannot become primary"));
  }
  s.primary = key;
  return absl::OkStatus();
}

absl::Status Keyset::Disable(uint32_t id) {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  ASSIGN_OR_RETURN(Key * key, s.FindOrNotFound(id));
  if (key == s.primary) {
    return absl::FailedPreconditionError(absl::StrCat("key ", id, " is primary"));
  }
  if (key->status == KeyStatus::kDestroyed) {
    return absl::FailedPreconditionError(absl::StrCat("key ", id, " is destroyed"));
  }
  key->status = KeyStatus::kDisabled;
  return absl::OkStatus();
}

absl::Status Keyset::Enable(uint32_t id) {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  ASSIGN_OR_RETURN(Key * key, s.FindOrNotFound(id));
  if (key->status == KeyStatus::kDestroyed) {
    return absl::FailedPreconditionError(absl::StrCat("key ", id, " is destroyed"));
  }
  key->status = KeyStatus::kEnabled;
  return absl::OkStatus();
}

absl::Status Keyset::Destroy(uint32_t id) {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  ASSIGN_OR_RETURN(Key * key, s.FindOrNotFound(id));
  if (key == s.primary) {
    return absl::FailedPreconditionError(absl::StrCat("key ", id, " is primary"));
  }
  key->status = KeyStatus::kDestroyed;
  key->material = SecretBytes();  // Move-assignment wipes the old buffer.
  return absl::OkStatus();
}

uint32_t Keyset::primary_id() const {
  absl::ReaderMutexLock lock(&state_->mu);
  return state_->primary->id;
}

std::vector<KeyInfo> Keyset::Keys() const {
  const State& s = *state_;
  absl::ReaderMutexLock lock(&s.mu);
  std::vector<KeyInfo> out;
  out.reserve(s.keys.size());
  for (const auto& key : s.keys) {
    out.push_back({.id = key->id,
                   .status = key->status,
                   .primary = key.get() == s.primary,
                   .created = key->created,
                   .encryptions = key->encryptions.load(std::memory_order_relaxed)});
  }
  return out;
}

absl::StatusOr<std::string> Keyset::Encrypt(std::string_view plaintext, std::string_view aad) {
  State& s = *state_;
  if (!s.aes.ok()) return s.aes.status();
  char nonce[kAesGcmNonceSize];
  s.random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(nonce), sizeof(nonce)));

  std::string out;
  out.reserve(kMinCiphertextSize + plaintext.size());
  absl::ReaderMutexLock lock(&s.mu);
  Key& key = *s.primary;
  char header[kHeaderSize];
  WriteHeader(key.id, header);
  // Counted before sealing: a failed seal may still have consumed a nonce.
  key.encryptions.fetch_add(1, std::memory_order_relaxed);
  out.append(header, sizeof(header));
  out.append(nonce, sizeof(nonce));
  RETURN_IF_ERROR(s.aes->Seal(key.material.Reveal(), std::string_view(nonce, sizeof(nonce)),
                              plaintext, {std::string_view(header, sizeof(header)), aad}, &out));
  return out;
}

absl::StatusOr<SecretBytes> Keyset::Decrypt(std::string_view ciphertext, std::string_view aad) {
  State& s = *state_;
  if (!s.aes.ok()) return s.aes.status();
  if (ciphertext.size() < kMinCiphertextSize ||
      static_cast<uint8_t>(ciphertext[0]) != kCiphertextVersion) {
    return DecryptionFailed();
  }
  const std::string_view header = ciphertext.substr(0, kHeaderSize);
  const std::string_view nonce = ciphertext.substr(kHeaderSize, kAesGcmNonceSize);
  const std::string_view sealed = ciphertext.substr(kHeaderSize + kAesGcmNonceSize);

  absl::ReaderMutexLock lock(&s.mu);
  const Key* key = s.Find(ReadKeyId(ciphertext));
  if (key == nullptr || key->status != KeyStatus::kEnabled) return DecryptionFailed();
  return s.aes->Open(key->material.Reveal(), nonce, sealed, {header, aad});
}

}  // namespace rekey::crypto
