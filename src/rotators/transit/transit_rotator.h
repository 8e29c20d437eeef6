// The `transit` rotator: rotates a Transit key (src/transit) through the rotation engine, so a key
// rotation is scheduled, journaled, audited and evented like every other rotation (Vault only
// logs it at debug level). Old versions keep decrypting: nothing is revoked.
#ifndef REKEY_ROTATORS_TRANSIT_TRANSIT_ROTATOR_H_
#define REKEY_ROTATORS_TRANSIT_TRANSIT_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "rotation/registry.h"
#include "rotation/rotator.h"
#include "transit/transit_service.h"

namespace rekey::rotators::transit {

// params:
//   key  (required) the name of an existing transit key
//
// The value is a JSON object (no key material): {"key": <name>, "version": <latest version>}.
//
// Steps:
//   create   the next version number (latest + 1); no side effect.
//   set      rotate the key unless its latest version already reached that number (a resumed
//            set, or a rotation through the API meanwhile): idempotent.
//   test     the key's latest version is at least that number.
//   revoke   nothing: every version from min_decryption_version up keeps decrypting.
//   rollback nothing: a version set created is the key's latest and works; it stays.
class TransitRotator final : public rotation::Rotator {
 public:
  // `service` must outlive the rotator.
  explicit TransitRotator(rekey::transit::TransitService& service) : service_(service) {}

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;
  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  rekey::transit::TransitService& service_;
};

// Registers a TransitRotator as "transit"; `service` must outlive `registry`.
absl::Status RegisterTransitRotator(rotation::RotatorRegistry& registry,
                                    rekey::transit::TransitService& service);

}  // namespace rekey::rotators::transit

#endif  // REKEY_ROTATORS_TRANSIT_TRANSIT_ROTATOR_H_
