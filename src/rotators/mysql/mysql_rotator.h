// The `mysql` rotator: rotates a MariaDB / MySQL account's password through libmariadb, by
// alternating between two accounts that share a role (zero downtime on every server), or in place
// (zero downtime only on MySQL 8.0.14+, which keeps the old password with RETAIN CURRENT
// PASSWORD; detected from the server version). docs/rotators/mysql.md.
#ifndef REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_
#define REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_

#include "absl/status/status.h"
#include "rotation/registry.h"

namespace rekey::rotators::mysql {

// Registers the rotator as "mysql"; its TargetKey is "mysql://host:port".
//
// Thread-safe and stateless: each step opens its own blocking connection with connect, read and
// write timeouts of min(params.timeout, time left before the step's deadline).
//
// The value is {"username", "password", "host", "port"} (other fields carried over). Account
// names and passwords are escaped by libmariadb for the connection's character set; error
// messages are redacted of every value sent.
//
// Errors: unreachable → kUnavailable / kDeadlineExceeded; the admin credential missing →
// kFailedPrecondition, refused or lacking privileges → kPermissionDenied; a password the server's
// policy rejects → kInvalidArgument; the new password refused at test → kFailedPrecondition.
absl::Status RegisterMysqlRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::mysql

#endif  // REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_
