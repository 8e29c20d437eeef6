// Storage key rotation: StorageKeyManager adds a new storage key, makes it primary, and moves
// every record of the raw store to it with a resumable, paged, rate-limited background rewrap.
// RekeyRoot re-wraps the keyring itself under a new root key.
//
// Rewrap: the raw store is scanned in key order, a page at a time. A record whose ciphertext
// names a key other than the primary is decrypted and encrypted again under the primary (the
// AAD is still its key) and written back with compare-and-set on its mod_index, so a concurrent
// write always wins (it was encrypted under the primary anyway). The cursor is written in the
// same batch as the page, under kRewrapStateKey, so a restart resumes after the last page.
// A pass that finds nothing to rewrap ends the job (the first pass after a rotation normally
// moves everything; a second, verifying pass catches a write encrypted under the old key that
// committed behind the cursor). Only then are the older keys DISABLED — never DESTROYED: their
// material stays in the keyring, so a record that was somehow missed can still be recovered by
// enabling its key again.
#ifndef REKEY_STORAGE_REWRAP_H_
#define REKEY_STORAGE_REWRAP_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "crypto/keyset.h"
#include "storage/store.h"

namespace rekey::storage {

// The rewrap job's state, in the raw store (not encrypted: it holds keys and counters only).
inline constexpr char kRewrapStateKey[] = "core/rewrap";

struct RewrapProgress {
  bool active = false;      // a rewrap is in progress
  uint32_t target_key = 0;  // the primary the records are moved to
  int pass = 0;             // 1 = moving records; 2+ = verifying passes
  uint64_t done = 0;        // records examined in this pass
  uint64_t total = 0;       // records in the store when this pass began (an estimate)
  uint64_t rewrapped = 0;   // records moved to the target key by this job, all passes
  uint64_t unreadable = 0;  // records that no enabled key decrypts (left as they are)
  uint64_t pass_moved = 0;  // records this pass moved or saw rewritten concurrently
  std::string cursor;       // last key examined in this pass ("" = start)
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();  // when the last job completed
};

struct StorageKeyOptions {
  size_t page_size = 256;
  // Pause between pages of the background job, so that it does not starve requests.
  absl::Duration page_pause = absl::Milliseconds(5);
  // Rotate automatically once the primary key has made this many encryptions (0 = never).
  uint64_t rotation_threshold = uint64_t{1} << 31;
  // How often the idle background thread checks the threshold.
  absl::Duration poll_interval = absl::Seconds(5);
  // Where the job reports what it did (rotations, completion, unreadable records); never given
  // secret material. May be empty.
  std::function<void(std::string_view)> log = nullptr;
};

// Thread-safe. Every reference must outlive the manager.
class StorageKeyManager {
 public:
  StorageKeyManager(Store& raw, crypto::Keyset& keyring, const SecretBytes& root_key,
                    Random& random, const Clock& clock, StorageKeyOptions options = {});
  ~StorageKeyManager();  // Stop()
  StorageKeyManager(const StorageKeyManager&) = delete;
  StorageKeyManager& operator=(const StorageKeyManager&) = delete;

  // Reads the persisted job state (a rewrap interrupted by a restart resumes from its cursor).
  absl::Status Load();
  // Adds a new storage key, makes it primary, saves the keyring (wrapped by the root key) and
  // starts a rewrap (restarting one in progress). Returns the new key's id. New writes use the
  // new key as soon as this returns.
  absl::StatusOr<uint32_t> Rotate();
  // Rotates if the primary key's encryption count (not counting the rewrap's own re-encryptions
  // into it) has reached the threshold. Returns whether it rotated.
  absl::StatusOr<bool> MaybeAutoRotate();
  // One page of rewrap work on the calling thread. Returns true while there is more to do.
  absl::StatusOr<bool> Step();
  RewrapProgress Progress() const;

  // Background thread: runs Step() with a pause between pages, and MaybeAutoRotate() when idle.
  void Start();
  void Stop();  // idempotent; a page in progress finishes first, the cursor is saved with it

 private:
  absl::Status SaveState();  // mu_ held
  absl::Status Finish();     // mu_ held
  void Log(std::string_view message) const;
  void Run();

  Store& raw_;
  crypto::Keyset& keyring_;
  const SecretBytes& root_key_;
  Random& random_;
  const Clock& clock_;
  const StorageKeyOptions options_;

  mutable std::mutex mu_;  // the job state; held for a whole page by Step()
  RewrapProgress state_;

  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by thread_mu_
  bool wake_ = false;      // guarded by thread_mu_
  std::thread thread_;
};

// Offline root key change: unwraps the keyring in `raw` with `old_root` and writes it back
// wrapped by `new_root`, in one compare-and-set commit. kPermissionDenied when `old_root` does
// not open it. Afterwards only `new_root` opens the store.
absl::Status RekeyRoot(Store& raw, const SecretBytes& old_root, const SecretBytes& new_root,
                       Random& random, const Clock& clock);

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_REWRAP_H_
