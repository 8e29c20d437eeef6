// Notifier: delivers a secret's rotation events to the webhooks its rotation config names
// (`notify`), signed like the http rotator's calls, retried, on its own thread so that neither
// the engine nor a request ever waits for a webhook.
#ifndef REKEY_ROTATION_NOTIFIER_H_
#define REKEY_ROTATION_NOTIFIER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/secret_bytes.h"
#include "rotation/config.h"
#include "rotation/events.h"
#include "rotation/rotator.h"
#include "secrets/secrets_service.h"

namespace rekey::rotation {

struct NotifierOptions {
  int attempts = 3;                           // per webhook and event
  absl::Duration backoff = absl::Seconds(2);  // before the second attempt; doubled after
  absl::Duration timeout = absl::Seconds(5);  // per attempt
  size_t max_queued = 10000;                  // events beyond this are dropped (and logged)
};

// Thread-safe.
class Notifier {
 public:
  // Looks up the targets of a secret (its config's `notify`); kNotFound = none.
  using TargetsOf = std::function<absl::StatusOr<std::vector<NotifyTarget>>(std::string_view)>;
  // Reads the HMAC key from a signing secret (the `hmac_key` field of its current value).
  using KeyOf = std::function<absl::StatusOr<SecretBytes>(std::string_view)>;

  // Every argument must outlive the notifier. Starts the delivery thread.
  Notifier(TargetsOf targets, KeyOf key, HttpTransport& http, const Clock& clock,
           NotifierOptions options = {});
  ~Notifier();  // Stop()

  // Queues `event` for the secret's webhooks; returns at once.
  void Enqueue(const Event& event);
  // Delivers what is queued (one attempt each, for at most 5 s), then stops the thread.
  void Stop();

  // The request body for `event` (exposed for tests and docs).
  static std::string Body(const Event& event);
  // "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
  static absl::StatusOr<std::string> Signature(const SecretBytes& key, absl::Time now,
                                               std::string_view body);

 private:
  void Loop();
  // One event to one target, with retries; false when every attempt failed.
  bool Deliver(const Event& event, const NotifyTarget& target, bool last_chance);

  TargetsOf targets_;
  KeyOf key_;
  HttpTransport& http_;
  const Clock& clock_;
  const NotifierOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;  // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  // Once stopping, queued events still get one attempt until then; the rest are dropped.
  std::chrono::steady_clock::time_point drain_deadline_;  // guarded by mu_
  std::once_flag joined_;
  std::thread thread_;
};

// The `hmac_key` field of the current value of the secret at `path` (at least 16 bytes), for
// signing webhooks. kNotFound / kFailedPrecondition naming the path and field, never the value.
absl::StatusOr<SecretBytes> ReadHmacKey(secrets::SecretsService& kv, std::string_view path);

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_NOTIFIER_H_
