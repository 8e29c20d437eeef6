#include "storage/rewrap.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "storage/seal.h"

namespace rekey::storage {
namespace {

// Keyset ciphertext header: version byte 0x01, then the key id (big-endian).
std::optional<uint32_t> KeyIdOf(std::string_view ciphertext) {
  if (ciphertext.size() < 5 || static_cast<uint8_t>(ciphertext[0]) != 0x01) return std::nullopt;
  uint32_t id = 0;
  for (int i = 1; i <= 4; ++i) id = (id << 8) | static_cast<uint8_t>(ciphertext[i]);
  return id;
}

bool Reserved(std::string_view key) { return key == kKeyringKey || key == kRewrapStateKey; }

int64_t TimeToNanos(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t); }
absl::Time NanosToTime(int64_t n) { return n == 0 ? absl::InfinitePast() : absl::FromUnixNanos(n); }

// "v1" and one field a line; the cursor (a store key) is last and runs to the end.
std::string EncodeState(const RewrapProgress& p) {
  return rekey::StrCat("v1\n", p.active ? 1 : 0, "\n", p.target_key, "\n", p.pass, "\n", p.done,
                       "\n", p.total, "\n", p.rewrapped, "\n", p.unreadable, "\n", p.pass_moved,
                       "\n", TimeToNanos(p.started), "\n", TimeToNanos(p.finished), "\n", p.cursor);
}

absl::StatusOr<RewrapProgress> DecodeState(std::string_view text) {
  constexpr int kFields = 11;  // before the cursor, "v1" included
  std::string_view fields[kFields];
  for (int i = 0; i < kFields; ++i) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    fields[i] = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (i == kFields - 1) {
      RewrapProgress p;
      uint64_t active = 0, target = 0, pass = 0;
      int64_t started = 0, finished = 0;
      const bool ok = fields[0] == "v1" && absl::SimpleAtoi(ToAbsl(fields[1]), &active) &&
                      absl::SimpleAtoi(ToAbsl(fields[2]), &target) &&
                      absl::SimpleAtoi(ToAbsl(fields[3]), &pass) &&
                      absl::SimpleAtoi(ToAbsl(fields[4]), &p.done) &&
                      absl::SimpleAtoi(ToAbsl(fields[5]), &p.total) &&
                      absl::SimpleAtoi(ToAbsl(fields[6]), &p.rewrapped) &&
                      absl::SimpleAtoi(ToAbsl(fields[7]), &p.unreadable) &&
                      absl::SimpleAtoi(ToAbsl(fields[8]), &p.pass_moved) &&
                      absl::SimpleAtoi(ToAbsl(fields[9]), &started) &&
                      absl::SimpleAtoi(ToAbsl(fields[10]), &finished);
      if (!ok) break;
      p.active = active != 0;
      p.target_key = static_cast<uint32_t>(target);
      p.pass = static_cast<int>(pass);
      p.started = NanosToTime(started);
      p.finished = NanosToTime(finished);
      p.cursor = std::string(text);
      return p;
    }
  }
  return absl::DataLossError(
      rekey::StrCat("the rewrap state at '", kRewrapStateKey, "' is malformed"));
}

absl::StatusOr<uint64_t> CountRecords(Store& raw) {
  uint64_t count = 0;
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, raw.ScanKeys("", after, 4096));
    for (const std::string& k : keys) {
      if (!Reserved(k)) ++count;
    }
    if (keys.size() < 4096) return count;
    after = keys.back();
  }
}

}  // namespace

StorageKeyManager::StorageKeyManager(Store& raw, crypto::Keyset& keyring,
                                     const SecretBytes& root_key, Random& random,
                                     const Clock& clock, StorageKeyOptions options)
    : raw_(raw),
      keyring_(keyring),
      root_key_(root_key),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

StorageKeyManager::~StorageKeyManager() { Stop(); }

void StorageKeyManager::Log(std::string_view message) const {
  if (options_.log) options_.log(message);
}

absl::Status StorageKeyManager::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<Record> record, raw_.Get(kRewrapStateKey));
  if (!record.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(state_, DecodeState(record->value.Reveal()));
  return absl::OkStatus();
}

absl::Status StorageKeyManager::SaveState() {
  WriteBatch batch;
  batch.Put(kRewrapStateKey, SecretBytes(EncodeState(state_)));
  return raw_.Commit(batch).status();
}

absl::StatusOr<uint32_t> StorageKeyManager::Rotate() {
  uint32_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint32_t old_primary = keyring_.primary_id();
    id = keyring_.AddKey();
    // The new key is durable before anything is encrypted under it.
    RETURN_IF_ERROR(SaveKeyring(raw_, keyring_, root_key_, random_));
    RETURN_IF_ERROR(keyring_.Promote(id));
    if (absl::Status s = SaveKeyring(raw_, keyring_, root_key_, random_); !s.ok()) {
      (void)keyring_.Promote(old_primary);  // still ENABLED: it was the primary
      return s;
    }
    RewrapProgress next;
    next.active = true;
    next.target_key = id;
    next.pass = 1;
    next.started = clock_.Now();
    next.finished = state_.finished;
    ASSIGN_OR_RETURN(next.total, CountRecords(raw_));
    state_ = std::move(next);
    // If this write fails the job still runs from memory; a restart before the next page would
    // not resume it (the old keys stay enabled, so nothing is lost; rotate again).
    if (absl::Status s = SaveState(); !s.ok()) {
      Log(rekey::StrCat("storage key rotation: the rewrap state was not saved: ", s.message()));
    }
  }
  Log(rekey::StrCat("storage key rotated: new primary key ", id, "; rewrap started"));
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return id;
}

absl::StatusOr<bool> StorageKeyManager::MaybeAutoRotate() {
  if (options_.rotation_threshold == 0) return false;
  uint64_t used = 0;
  for (const crypto::KeyInfo& k : keyring_.Keys()) {
    if (k.primary) used = k.encryptions;
  }
  {
    // The rewrap's own encryptions do not count: with a small threshold they would rotate again
    // after every rewrap.
    std::lock_guard<std::mutex> lock(mu_);
    if (state_.target_key == keyring_.primary_id()) {
      used = used > state_.rewrapped ? used - state_.rewrapped : 0;
    }
  }
  if (used < options_.rotation_threshold) return false;
  Log(rekey::StrCat("storage key ", keyring_.primary_id(), " has made ", used,
                    " encryptions (threshold ", options_.rotation_threshold,
                    "): rotating it automatically"));
  RETURN_IF_ERROR(Rotate().status());
  return true;
}

absl::StatusOr<bool> StorageKeyManager::Step() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!state_.active) return false;
  const uint32_t primary = keyring_.primary_id();
  RewrapProgress next = state_;
  next.target_key = primary;
  ASSIGN_OR_RETURN(std::vector<Record> page, raw_.Scan("", state_.cursor, options_.page_size));

  struct Pending {
    std::string key;
    uint64_t mod_index;
    std::string ciphertext;
  };
  std::vector<Pending> pending;
  for (const Record& r : page) {
    if (Reserved(r.key)) continue;
    ++next.done;
    const std::string_view value = r.value.Reveal();
    if (KeyIdOf(value) == primary) continue;
    absl::StatusOr<SecretBytes> plain = keyring_.Decrypt(value, r.key);
    if (!plain.ok()) {
      ++next.unreadable;
      Log(rekey::StrCat("rewrap: record '", r.key,
                        "' does not decrypt under any enabled key; left as it is"));
      continue;
    }
    ASSIGN_OR_RETURN(std::string ciphertext, keyring_.Encrypt(plain->Reveal(), r.key));
    pending.push_back(Pending{r.key, r.mod_index, std::move(ciphertext)});
  }
  if (!page.empty()) next.cursor = page.back().key;
  next.pass_moved += pending.size();

  // The page and the cursor in one batch; if a concurrent write changed one of the records,
  // record by record (the concurrent write wins: it was encrypted under the primary).
  WriteBatch batch;
  for (const Pending& p : pending) {
    batch.ExpectModIndex(p.key, p.mod_index);
    batch.Put(p.key, SecretBytes(p.ciphertext));
  }
  next.rewrapped += pending.size();
  batch.Put(kRewrapStateKey, SecretBytes(EncodeState(next)));
  absl::StatusOr<uint64_t> committed = raw_.Commit(batch);
  if (committed.status().code() == absl::StatusCode::kAborted) {
    uint64_t moved = 0;
    for (const Pending& p : pending) {
      WriteBatch one;
      one.ExpectModIndex(p.key, p.mod_index);
      one.Put(p.key, SecretBytes(p.ciphertext));
      absl::StatusOr<uint64_t> c = raw_.Commit(one);
      if (c.ok()) {
        ++moved;
      } else if (c.status().code() != absl::StatusCode::kAborted) {
        return c.status();
      }
    }
    next.rewrapped = state_.rewrapped + moved;
    WriteBatch cursor;
    cursor.Put(kRewrapStateKey, SecretBytes(EncodeState(next)));
    committed = raw_.Commit(cursor);
  }
  RETURN_IF_ERROR(committed.status());
  state_ = std::move(next);

  if (page.size() < options_.page_size || options_.page_size == 0) {  // end of this pass
    if (state_.pass_moved == 0) {
      RETURN_IF_ERROR(Finish());
      return false;
    }
    state_.total = state_.done;
    state_.done = 0;
    state_.cursor.clear();
    state_.pass_moved = 0;
    ++state_.pass;
    RETURN_IF_ERROR(SaveState());
  }
  return true;
}

absl::Status StorageKeyManager::Finish() {
  std::vector<uint32_t> disabled;
  for (const crypto::KeyInfo& k : keyring_.Keys()) {
    if (!k.primary && k.status == crypto::KeyStatus::kEnabled) {
      RETURN_IF_ERROR(keyring_.Disable(k.id));
      disabled.push_back(k.id);
    }
  }
  if (absl::Status s = SaveKeyring(raw_, keyring_, root_key_, random_); !s.ok()) {
    for (uint32_t id : disabled) (void)keyring_.Enable(id);
    return s;
  }
  state_.active = false;
  state_.finished = clock_.Now();
  RETURN_IF_ERROR(SaveState());
  Log(rekey::StrCat("storage rewrap complete: ", state_.rewrapped, " records moved to key ",
                    state_.target_key, "; ", disabled.size(), " older key(s) disabled",
                    state_.unreadable > 0
                        ? rekey::StrCat("; ", state_.unreadable, " records did not decrypt")
                        : std::string()));
  return absl::OkStatus();
}

RewrapProgress StorageKeyManager::Progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void StorageKeyManager::Start() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void StorageKeyManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StorageKeyManager::Run() {
  auto wait = [this](absl::Duration d) {
    std::unique_lock<std::mutex> lock(thread_mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(d)),
                 [this] { return stopping_ || wake_; });
    wake_ = false;
    return !stopping_;
  };
  while (true) {
    {
      std::lock_guard<std::mutex> lock(thread_mu_);
      if (stopping_) return;
    }
    bool active = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active = state_.active;
    }
    if (active) {
      absl::StatusOr<bool> more = Step();
      if (!more.ok()) {
        Log(rekey::StrCat("storage rewrap: a page failed (retrying): ", more.status().message()));
        if (!wait(options_.poll_interval)) return;
      } else if (!wait(options_.page_pause)) {
        return;
      }
      continue;
    }
    absl::StatusOr<bool> rotated = MaybeAutoRotate();
    if (!rotated.ok()) {
      Log(rekey::StrCat("automatic storage key rotation failed: ", rotated.status().message()));
    }
    if (rotated.ok() && *rotated) continue;
    if (!wait(options_.poll_interval)) return;
  }
}

absl::Status RekeyRoot(Store& raw, const SecretBytes& old_root, const SecretBytes& new_root,
                       Random& random, const Clock& clock) {
  ASSIGN_OR_RETURN(std::optional<Record> before, raw.Get(kKeyringKey));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Keyset> keyring,
                   UnsealKeyring(raw, old_root, random, clock));
  if (!before.has_value()) return absl::FailedPreconditionError("the store has no keyring");
  // Offline (the caller holds the data dir lock): nothing else writes the keyring meanwhile.
  RETURN_IF_ERROR(SaveKeyring(raw, *keyring, new_root, random));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Keyset> check,
                   UnsealKeyring(raw, new_root, random, clock));
  if (check->primary_id() != keyring->primary_id()) {
    return absl::InternalError("the re-wrapped keyring does not match the original");
  }
  return absl::OkStatus();
}

}  // namespace rekey::storage
