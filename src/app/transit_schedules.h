// TransitSchedules: hands Transit keys' rotation to the rotation engine, so it is scheduled,
// journaled, audited and evented like every other rotation.
//
// For every transit key with `auto_rotate_period` set, the secret "transit/<key>" gets the rotation
// config {"rotator": "transit", "params": {"key": <key>}, "schedule": "rate(<period>)"} (a period
// changed through POST transit/keys/:name/config is picked up at the next pass; a period set to 0
// removes the schedule, the config stays for manual rotations). A key whose latest version passed
// the usage threshold (transit.usage: default 2^31 encryptions) is rotated at the next pass with
// trigger "usage", whatever its period. Passes run at Start and then every `interval`.
#ifndef REKEY_APP_TRANSIT_SCHEDULES_H_
#define REKEY_APP_TRANSIT_SCHEDULES_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rotation/engine.h"
#include "secrets/secrets_service.h"
#include "transit/transit_service.h"

namespace rekey::app {

// The KV path whose rotation config rotates transit key `key`.
std::string TransitRotationPath(std::string_view key);

// One pass: brings every key's rotation config in line with its auto_rotate_period and starts a
// usage-triggered rotation where needed. Returns the first error (every key is still tried).
// A KV secret already at a key's path without a transit config is someone else's: skipped.
absl::Status SyncTransitSchedules(transit::TransitService& transit,
                                  rotation::RotationEngine& engine, secrets::SecretsService& kv);

// Runs SyncTransitSchedules on a background thread. Both references must outlive it.
class TransitSchedules {
 public:
  TransitSchedules(transit::TransitService& transit, rotation::RotationEngine& engine,
                   secrets::SecretsService& kv, absl::Duration interval = absl::Seconds(30));
  ~TransitSchedules();  // Stop()
  void Start();
  void Stop();

 private:
  void Loop();

  transit::TransitService& transit_;
  rotation::RotationEngine& engine_;
  secrets::SecretsService& kv_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rekey::app

#endif  // REKEY_APP_TRANSIT_SCHEDULES_H_
