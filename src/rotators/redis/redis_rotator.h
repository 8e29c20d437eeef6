// The `redis` rotator: rotates a Redis ACL user's password with no downtime (an ACL user holds
// several passwords: set adds the new one, revoke removes the old one after the grace period), or
// the `requirepass` of a server without ACL users (with downtime). docs/rotators/redis.md.
#ifndef REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_
#define REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::redis {

// Thread-safe and stateless: every step opens its own connection (hiredis 0.14, blocking, no
// TLS) with a connect and command timeout of min(params.timeout, time left before the deadline).
//
// The value is {"username", "password", "host", "port"} (other fields are carried over).
// Commands are sent as binary-safe argument vectors, so names and passwords need no quoting;
// error replies are redacted before they reach a Status (Redis echoes ACL modifiers).
//
// Errors: unreachable → kUnavailable / kDeadlineExceeded; the admin credential missing →
// kFailedPrecondition, refused (WRONGPASS) or lacking ACL rights (NOPERM) → kPermissionDenied;
// the ACL user missing → kFailedPrecondition; the new password refused at test →
// kFailedPrecondition.
class RedisRotator final : public rotation::Rotator {
 public:
  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // "redis://host:port".
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;
};

// Registers RedisRotator as "redis".
absl::Status RegisterRedisRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::redis

#endif  // REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_
