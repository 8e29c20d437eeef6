// KeyringSaver: keeps the storage keyring's usage counters durable while the server runs.
#ifndef REKEY_APP_KEYRING_SAVER_H_
#define REKEY_APP_KEYRING_SAVER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "crypto/keyset.h"
#include "storage/store.h"

namespace rekey::app {

// Writes the keyring back (wrapped by the root key) every `interval` in which its encryption
// counters moved, and once more on Stop(), so a crash undercounts at most one interval's worth
// of encryptions. Failures are logged and retried at the next tick. Every reference must outlive
// the saver.
class KeyringSaver {
 public:
  KeyringSaver(storage::Store& raw, const crypto::Keyset& keyring, const SecretBytes& root_key,
               Random& random, absl::Duration interval);
  ~KeyringSaver();  // Stop()

  // Saves one last time if anything changed and joins the thread. Idempotent.
  void Stop();

  // What one tick of the saver thread does, run on the calling thread.
  void TickForTest() { SaveIfChanged(); }

 private:
  uint64_t TotalEncryptions() const;
  void SaveIfChanged();
  void Run();

  storage::Store& raw_;
  const crypto::Keyset& keyring_;
  const SecretBytes& root_key_;
  Random& random_;
  const absl::Duration interval_;
  uint64_t saved_total_;  // touched by the saver thread, then by Stop() after the join
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rekey::app

#endif  // REKEY_APP_KEYRING_SAVER_H_
