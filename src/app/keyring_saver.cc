#include "app/keyring_saver.h"

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "storage/seal.h"

namespace rekey::app {

KeyringSaver::KeyringSaver(storage::Store& raw, const crypto::Keyset& keyring,
                           const SecretBytes& root_key, Random& random, absl::Duration interval)
    : raw_(raw),
      keyring_(keyring),
      root_key_(root_key),
      random_(random),
      interval_(interval),
      saved_total_(TotalEncryptions()),
      thread_([this] { Run(); }) {}

KeyringSaver::~KeyringSaver() { Stop(); }

uint64_t KeyringSaver::TotalEncryptions() const {
  uint64_t total = 0;
  for (const crypto::KeyInfo& key : keyring_.Keys()) total += key.encryptions;
  return total;
}

void KeyringSaver::SaveIfChanged() {
  const uint64_t total = TotalEncryptions();
  if (total == saved_total_) return;
  absl::Status saved = storage::SaveKeyring(raw_, keyring_, root_key_, random_);
  if (!saved.ok()) {
    spdlog::warn("could not save the keyring's usage counters: {}", ToStd(saved.message()));
    return;
  }
  saved_total_ = total;
}

void KeyringSaver::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stopping_; })) {
      break;
    }
    lock.unlock();
    SaveIfChanged();
    lock.lock();
  }
}

void KeyringSaver::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  SaveIfChanged();
}

}  // namespace rekey::app
