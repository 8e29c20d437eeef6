// The AWS Secrets Manager surface: `POST /` with `X-Amz-Target: secretsmanager.<Operation>` and
// an application/x-amz-json-1.1 body, signed with SigV4 by an access key rekey issued. Every
// operation is a thin layer over the same SecretsService the Vault KV surface uses (one store,
// two faces); docs/api/aws.md describes the mapping.
#ifndef REKEY_API_AWS_AWS_HANDLER_H_
#define REKEY_API_AWS_AWS_HANDLER_H_

#include <string>

#include "api/aws/access_keys.h"
#include "api/aws/sigv4.h"
#include "api/http/message.h"
#include "auth/authorizer.h"
#include "core/clock.h"
#include "core/random.h"
#include "rotation/engine.h"
#include "secrets/secrets_service.h"

namespace rekey::api::aws {

struct AwsHandlerOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";  // 12 digits, shown in ARNs
};

// True for requests the AWS surface serves: POST / with an X-Amz-Target header.
bool IsAwsRequest(const http::Request& req);

// True for an AWS request whose operation only reads (GetSecretValue, DescribeSecret, ...): it
// runs on the I/O thread, and the audit recorder records it once, with its response.
bool IsAwsReadRequest(const http::Request& req);

// The AWS account id rekey shows for a cluster: 12 digits derived from its id.
std::string AccountIdForCluster(std::string_view cluster_id);

// Thread-safe. Every request is authenticated (SigV4) before anything else, then authorized
// against the access key's policies on the secret's KV paths (secret/data/<name> for values,
// secret/metadata/<name> for metadata), and only then looks at storage: an unauthenticated or
// unauthorized caller learns nothing about which secrets exist.
class AwsHandler final : public http::Handler {
 public:
  // All references must outlive the handler. `engine` (RotateSecret, CancelRotateSecret and the
  // rotation members of DescribeSecret) may be null: rotation is then unavailable.
  AwsHandler(secrets::SecretsService& kv, rotation::RotationEngine* engine, AccessKeyStore& keys,
             auth::PolicyStore& policies, const Clock& clock, Random& random,
             AwsHandlerOptions options);

  // Read-only operations (GetSecretValue, DescribeSecret, ...) run on the I/O thread like KV
  // reads; everything that writes goes to the blocking pool.
  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;

 private:
  secrets::SecretsService& kv_;
  rotation::RotationEngine* engine_;
  AccessKeyStore& keys_;
  auth::PolicyStore& policies_;
  const Clock& clock_;
  Random& random_;
  const AwsHandlerOptions options_;
};

// Sends AWS requests (IsAwsRequest) to `aws` and everything else to `other` (the PrefixRouter of
// the Vault-shaped surfaces). Both must outlive it. Thread-safe.
class AwsSplitter final : public http::Handler {
 public:
  AwsSplitter(http::Handler& aws, http::Handler& other) : aws_(aws), other_(other) {}
  bool MayBlock(const http::Request& req) const override { return Pick(req).MayBlock(req); }
  http::Response Handle(http::Request& req) override { return Pick(req).Handle(req); }
  bool HandleAsync(http::Request& req, http::Responder respond) override {
    return Pick(req).HandleAsync(req, std::move(respond));
  }

 private:
  http::Handler& Pick(const http::Request& req) const { return IsAwsRequest(req) ? aws_ : other_; }
  http::Handler& aws_;
  http::Handler& other_;
};

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_AWS_HANDLER_H_
