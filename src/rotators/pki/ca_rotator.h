// The `pki-ca` rotator: rotates the internal CA's issuer (issue 5 item 2) through the rotation
// engine. A new root issuer is added beside the old one (the trust bundle, GET pki/ca_chain,
// carries both from then on), becomes the default issuer at finish (new leaves come from it), and
// the old one is retired at revoke, after the grace period: configure the rotation's `grace` at
// least as long as the longest leaf lifetime, so clients that trust the bundle never meet a leaf
// whose issuer left it.
#ifndef REKEY_ROTATORS_PKI_CA_ROTATOR_H_
#define REKEY_ROTATORS_PKI_CA_ROTATOR_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "pki/ca_service.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::pki {

// params:
//   common_name   (required) of the new root certificates
//   key_type      "ec-p256" (default), "ec-p384", "rsa-2048", "rsa-3072", "ed25519"
//   ttl           the CA certificate's lifetime, e.g. "87600h" (default: the CA's default, 10y)
//   name_prefix   issuer names are "<prefix>-<n>" (default "ca")
//   force_retire  retire the old issuer at revoke even if leaves it signed are still valid
//                 (default false: revoke fails, and is retried, until they expired)
//
// The value (no key material): {"issuer_name", "issuer_id", "certificate", "not_after"}; a value
// written before the first rotation may lack them.
//
// Steps:
//   create    the new issuer's name (unique per run and attempt); no side effect.
//   set       generate the new root issuer under that name, not default (idempotent: a resumed
//             set adopts the issuer it made).
//   test      the new issuer is active, valid now, and in the trust bundle.
//   finish    make it the default issuer.
//   revoke    retire the previous issuer (the one the previous value names).
//   rollback  retire the new issuer if it is not the default.
class CaRotator final : public rotation::Rotator {
 public:
  // `ca` must outlive the rotator.
  explicit CaRotator(rekey::pki::CaService& ca) : ca_(ca) {}

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  std::string TargetKey(const boost::json::object& params) const override { return "pki-ca"; }
  // Replacing the CA is what POST pki/root/generate and pki/config/issuers do: update and sudo.
  std::vector<rotation::Reference> References(const boost::json::object& params) const override {
    return {rotation::Reference{.path = "pki/root/generate/internal",
                                .capabilities = {"update", "sudo"},
                                .param = "rotator"}};
  }
  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Finish(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

 private:
  rekey::pki::CaService& ca_;
};

// Registers a CaRotator over `ca` as "pki-ca".
absl::Status RegisterCaRotator(rotation::RotatorRegistry& registry, rekey::pki::CaService& ca);

}  // namespace rekey::rotators::pki

#endif  // REKEY_ROTATORS_PKI_CA_ROTATOR_H_
