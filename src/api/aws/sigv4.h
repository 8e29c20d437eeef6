// AWS Signature Version 4 verification for the AWS Secrets Manager surface: parses the
// Authorization header, rebuilds the canonical request from the headers the client says it
// signed, and compares signatures in constant time. Failures carry the AWS error code a real
// endpoint answers with, so SDKs raise the exception their users expect.
#ifndef REKEY_API_AWS_SIGV4_H_
#define REKEY_API_AWS_SIGV4_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "api/http/message.h"
#include "core/secret_bytes.h"

namespace rekey::api::aws {

// An error in AWS's wire shape: HTTP status, `__type` and `Message`.
struct AwsError {
  int status = 400;
  std::string type;
  std::string message;
};

// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex` plus the request time.
struct SigV4Auth {
  std::string access_key_id;
  std::string scope_date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, as received
  std::string signature;                    // 64 lower-case hex characters
  std::string amz_date;                     // YYYYMMDD'T'HHMMSS'Z'
  absl::Time time;
};

struct SigV4Options {
  std::string region = "us-east-1";
  std::string service = "secretsmanager";
  absl::Duration max_skew = absl::Minutes(5);
};

// Parses and checks everything that does not need the key's secret: header syntax, date format,
// skew against `now`, credential scope (date, region, service, terminator), and that `host`,
// `x-amz-target` and the date header are among the signed headers (so nobody can re-target a
// signed request). Errors: MissingAuthenticationTokenException (no Authorization header),
// IncompleteSignatureException (malformed), InvalidSignatureException (expired or wrong scope).
// Pure; thread-safe.
bool ParseSigV4(const http::Request& req, absl::Time now, const SigV4Options& options,
                SigV4Auth& out, AwsError& error);

// The canonical request of `req` as signed with `auth.signed_headers` and `payload_hash`.
std::string CanonicalRequest(const http::Request& req,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);

// hex(HMAC(signing key, StringToSign)) for `auth` with `secret_access_key`.
std::string ComputeSignature(const http::Request& req, const SigV4Auth& auth,
                             const SecretBytes& secret_access_key);

// Verifies the signature of `req` (already parsed into `auth`) with the key's secret, comparing in
// constant time. Also checks an `x-amz-content-sha256` header against the body. false with
// InvalidSignatureException on any mismatch.
bool VerifySigV4(const http::Request& req, const SigV4Auth& auth,
                 const SecretBytes& secret_access_key, AwsError& error);

// Signs `req` in place (Authorization, X-Amz-Date; Host must be set), as botocore would: for
// tests and the bench.
void SignForTest(http::Request& req, std::string_view access_key_id,
                 const SecretBytes& secret_access_key, absl::Time now, std::string_view region);

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_SIGV4_H_
