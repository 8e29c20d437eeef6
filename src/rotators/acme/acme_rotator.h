// The `acme` rotator: keeps a secret holding a certificate from an ACME CA (RFC 8555: Let's
// Encrypt, a private step-ca, pebble in tests) fresh. Every rotation orders a new certificate for
// a NEW private key, proving control of the names with http-01 (a responder rekey runs on a
// configured address for the length of the order) or dns-01 (a hook command publishes the TXT
// record). The ACME account key lives in a rekey secret of its own, created on first use.
// docs/rotators/acme.md.
#ifndef REKEY_ROTATORS_ACME_ACME_ROTATOR_H_
#define REKEY_ROTATORS_ACME_ACME_ROTATOR_H_

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "acme/client.h"
#include "core/secret_bytes.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"

namespace rekey::rotators::acme {
namespace internal {
class ResponderPool;
}  // namespace internal

// Where ACME account keys are kept: rekey secrets (KV paths). The rotator only reads an account
// and creates one the first time; it never overwrites one. Thread-safe.
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // The current value of the secret at `path` (JSON text); kNotFound when there is none.
  virtual absl::StatusOr<SecretBytes> Read(std::string_view path) = 0;
  // Writes `value` as the first version of the secret at `path`; kAlreadyExists when the secret
  // exists (another rotation created it first).
  virtual absl::Status Create(std::string_view path, const SecretBytes& value) = 0;
};

// An AccountStore from two functions (the app wires them to its secrets service).
class FunctionAccountStore final : public AccountStore {
 public:
  using ReadFn = std::function<absl::StatusOr<SecretBytes>(std::string_view)>;
  using CreateFn = std::function<absl::Status(std::string_view, const SecretBytes&)>;
  FunctionAccountStore(ReadFn read, CreateFn create)
      : read_(std::move(read)), create_(std::move(create)) {}
  absl::StatusOr<SecretBytes> Read(std::string_view path) override { return read_(path); }
  absl::Status Create(std::string_view path, const SecretBytes& value) override {
    return create_(path, value);
  }

 private:
  ReadFn read_;
  CreateFn create_;
};

struct AcmeRotatorOptions {
  // Null: accounts are read through StepContext::ReadSecret and a missing account secret is an
  // error (it cannot be created).
  std::shared_ptr<AccountStore> accounts;
  // Not owned. Null: real sleeping while polling the CA (tests inject a fake).
  rekey::acme::Sleeper* sleeper = nullptr;
  // Polling the CA when it sends no Retry-After: this, doubling up to max_poll_interval.
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration max_poll_interval = absl::Seconds(10);
  // What the test step verifies the chain against when params.trust_bundle_file is not set.
  std::string default_trust_bundle_file = "/etc/ssl/certs/ca-certificates.crt";
};

// params:
//   directory_url          (required) the CA's ACME directory, https://...
//   ca_file                PEM file of the roots to trust for the directory's TLS (default: the
//                          system's)
//   account_secret         (required) rekey path of the account: {"account_key" (PEM, P-256),
//                          "account_url", "directory_url"}; created (and registered) on first use
//   agree_tos              agree to the CA's terms of service when registering (default false;
//                          registering with a CA that has terms fails without it)
//   contact                e-mail addresses for the account ("mailto:" optional)
//   domains                (required) DNS names (list or comma-separated; "*.x" needs dns-01);
//                          the first of at most 64 characters is the subject CN
//   challenge              "http-01" (default) or "dns-01"
//   http01_listen          where the http-01 responder listens ("ip:port", default "0.0.0.0:80");
//                          the CA must reach it as http://<domain>:80 (directly or forwarded)
//   dns01_hook             ["/abs/path", "arg", ...] run with REKEY_ACME_ACTION=present|cleanup,
//                          REKEY_ACME_DOMAIN, REKEY_ACME_RECORD (_acme-challenge.<domain>),
//                          REKEY_ACME_TXT, REKEY_ACME_WILDCARD in its environment
//   dns01_hook_timeout     per hook run (default 60s)
//   dns01_propagation_wait wait after publishing before asking the CA to look (default 0s)
//   key_type               ec-p256 (default), ec-p384, rsa-2048, rsa-3072
//   trust_bundle_file      PEM roots the test step verifies the chain against (default: the
//                          system bundle)
//   revoke_on_retire       revoke the previous certificate at the revoke step (default false)
//
// The value: {"certificate", "private_key", "private_key_type", "issuing_ca", "chain" (PEM, the
// issuers the CA sent), "serial_number", "not_before", "not_after" (RFC 3339), "certificate_url"},
// so before_expiry/at_fraction schedules follow the certificate.
//
// Steps: check = reach the directory, find the account, bind the responder or find the hook;
// create = the whole order with a new key; set = nothing to deploy; test = the key matches, now is
// inside the validity, the SANs cover the domains, the chain verifies to the trust bundle and an
// in-memory TLS handshake succeeds; revoke = revoke the previous certificate when
// revoke_on_retire; rollback = the same for the pending one (best effort).
//
// Errors: the CA unreachable → kUnavailable / kDeadlineExceeded; the CA refusing (validation
// failed, order invalid, terms not agreed) → kFailedPrecondition or kPermissionDenied; a value
// that fails its test → kFailedPrecondition. Messages name the CA's URLs, the domains and the
// CA's reasons, never a key. Thread-safe.
class AcmeRotator final : public rotation::Rotator {
 public:
  explicit AcmeRotator(AcmeRotatorOptions options = {});

  std::vector<rotation::Problem> Validate(const boost::json::object& params) const override;
  // "acme:<directory_url>": rotations against one CA are spaced out.
  std::string TargetKey(const boost::json::object& params) const override;
  std::vector<rotation::Reference> References(const boost::json::object& params) const override;

  absl::Status Check(rotation::StepContext& ctx) override;
  absl::StatusOr<SecretBytes> Create(rotation::StepContext& ctx) override;
  absl::Status Set(rotation::StepContext& ctx) override;
  absl::Status Test(rotation::StepContext& ctx) override;
  absl::Status Revoke(rotation::StepContext& ctx) override;
  absl::Status Rollback(rotation::StepContext& ctx) override;

  ~AcmeRotator() override;

 private:
  rekey::acme::Sleeper& sleeper() { return options_.sleeper ? *options_.sleeper : real_sleeper_; }

  AcmeRotatorOptions options_;
  rekey::acme::RealSleeper real_sleeper_;
  // http-01 responders shared by the orders running at the same time, one per address.
  std::unique_ptr<internal::ResponderPool> responders_;
};

// Registers AcmeRotator as "acme".
absl::Status RegisterAcmeRotator(rotation::RotatorRegistry& registry,
                                 AcmeRotatorOptions options = {});

}  // namespace rekey::rotators::acme

#endif  // REKEY_ROTATORS_ACME_ACME_ROTATOR_H_
