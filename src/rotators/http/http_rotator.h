// The `http` rotator: rotates API keys at any provider that speaks rekey's webhook protocol
// (docs/rotators/http.md): one signed JSON POST per step, a JSON answer back.
#ifndef REKEY_ROTATORS_HTTP_HTTP_ROTATOR_H_
#define REKEY_ROTATORS_HTTP_HTTP_ROTATOR_H_

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::http {

struct HttpRotatorOptions {
  // Waits between deliveries of one step (transport retries). Default: absl::SleepFor. Tests
  // pass a function that records the waits (and may advance a FakeClock).
  std::function<void(absl::Duration)> sleep;
  // Backoff before retry n (1-based) is min(initial_backoff * 2^(n-1), max_backoff), scaled by a
  // random factor in [0.5, 1).
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(8);
};

// Thread-safe and stateless between calls: everything a step needs comes from its context.
//
// Step errors (the rotator.h contract): the provider's 400/422 → kInvalidArgument and other 4xx
// (404, 409, 410, …) and 3xx → kFailedPrecondition (the engine rolls back and retries with a new
// value); 401/403 → kPermissionDenied; 408, 429, 5xx, an unreachable provider or a transport
// timeout are retried `retries` times and then → kUnavailable / kDeadlineExceeded; an answer that
// breaks the protocol → kInternal. Messages name the provider's origin, the step, the HTTP status
// and the provider's "message" (printable, at most 200 characters), never a value or a body.
class HttpRotator final : public rotation::Rotator {
 public:
  explicit HttpRotator(HttpRotatorOptions options = {});

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // The URL's origin, e.g. "https://keys.example.com:443".
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Finish(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  HttpRotatorOptions options_;
};

// Registers HttpRotator as "http".
absl::Status RegisterHttpRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::http

#endif  // REKEY_ROTATORS_HTTP_HTTP_ROTATOR_H_
