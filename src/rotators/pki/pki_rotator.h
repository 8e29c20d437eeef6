// The `pki` rotator: keeps a secret holding a certificate from rekey's internal CA fresh. Every
// rotation issues a new certificate with a NEW private key through the CA's role; the old one
// stays valid (grace) until it expires or, with revoke_on_retire, is revoked at revoke.
#ifndef REKEY_ROTATORS_PKI_PKI_ROTATOR_H_
#define REKEY_ROTATORS_PKI_PKI_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pki/ca_service.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::pki {

// params:
//   role              (required) the CA role that issues the certificate
//   common_name       (required)
//   alt_names         DNS names: a list or a comma-separated string
//   ip_sans           IP addresses: a list or a comma-separated string
//   ttl               the certificate's lifetime ("720h", "30d", seconds); default: the role's
//   revoke_on_retire  revoke the previous certificate at the revoke step (default false)
//
// The value is a JSON object:
//   {"certificate", "private_key", "private_key_type", "issuing_ca", "chain" (PEM: the issuing
//    CA then its issuers), "serial_number", "not_before", "not_after" (RFC 3339)}
// so `before_expiry(D)` and `at_fraction(p/q)` schedules follow the certificate's lifetime.
//
// Steps: check = the role exists and would issue these names; create = issue; set = nothing to
// deploy (consumers read the new version); test = the key matches the certificate, the chain
// leads to the CA's trust bundle, now is inside the validity window, the SANs are the requested
// ones, and an in-memory TLS handshake with the pair succeeds for a client trusting the bundle;
// revoke = revoke the previous serial when revoke_on_retire; rollback = revoke the pending
// certificate (never handed out as current).
//
// Errors: a role refusal or an invalid pending value → kFailedPrecondition / kInvalidArgument
// (the engine rolls back and retries); CA storage failures pass through. Messages carry serials,
// names and roles, never key material. Thread-safe (the CaService is).
class PkiRotator final : public rotation::Rotator {
 public:
  // `ca` must outlive the rotator.
  explicit PkiRotator(rekey::pki::CaService& ca) : ca_(ca) {}

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // Issuing from a role is what POST pki/issue/<role> does: update there.
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  rekey::pki::CaService& ca_;
};

// Registers PkiRotator over `ca` as "pki".
absl::Status RegisterPkiRotator(rotation::RotatorRegistry& registry, rekey::pki::CaService& ca);

}  // namespace rekey::rotators::pki

#endif  // REKEY_ROTATORS_PKI_PKI_ROTATOR_H_
