// The `mysql` rotator: rotates a MariaDB / MySQL account's password through libmariadb, by
// alternating between two accounts that share a role (zero downtime on every server), or in place
// (zero downtime only on MySQL 8.0.14+, which keeps the old password with RETAIN CURRENT
// PASSWORD; detected from the server version). docs/rotators/mysql.md.
#ifndef REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_
#define REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::mysql {

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
class MysqlRotator final : public rotation::Rotator {
 public:
  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // "mysql://host:port".
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;
};

// Registers MysqlRotator as "mysql".
absl::Status RegisterMysqlRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::mysql

#endif  // REKEY_ROTATORS_MYSQL_MYSQL_ROTATOR_H_
