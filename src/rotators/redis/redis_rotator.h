// The `redis` rotator: rotates a Redis ACL user's password with no downtime (an ACL user holds
// several passwords: set adds the new one, revoke removes the old one after the grace period), or
// the `requirepass` of a server without ACL users (with downtime). docs/rotators/redis.md.
#ifndef REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_
#define REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_

#include "absl/status/status.h"
#include "rotation/registry.h"

namespace rekey::rotators::redis {

// Registers the rotator as "redis"; its TargetKey is "redis://host:port".
//
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
absl::Status RegisterRedisRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::redis

#endif  // REKEY_ROTATORS_REDIS_REDIS_ROTATOR_H_
