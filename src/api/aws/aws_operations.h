// The AWS Secrets Manager operations rekey serves, each with the capability it needs and the
// rekey path that capability is checked on: the AWS surface's route table. AwsCall dispatches
// through it (an operation is served only if it has a row, and the row names its handler, so an
// operation cannot exist without a declared capability), aws_matrix_test walks it (granted,
// missing, denied path, unknown key, wrong secret for every row), and docs/api/aws.md embeds
// AwsOperationsMarkdown() (a test keeps them equal).
#ifndef REKEY_API_AWS_AWS_OPERATIONS_H_
#define REKEY_API_AWS_AWS_OPERATIONS_H_

#include <span>
#include <string>
#include <string_view>

#include "auth/policy.h"

namespace rekey::api::aws {

// What a capability is checked on, for the secret `name` a request names.
enum class AwsResource {
  kSecretData,      // secret/data/<name>
  kSecretMetadata,  // secret/metadata/<name>
  kRotate,          // rotation/rotate/<name>
  kRotationConfig,  // rotation/config/<name>
  kRandom,          // sys/tools/random (no secret)
};

struct AwsOperationRule {
  std::string_view name;  // "GetSecretValue"
  auth::Capability capability;
  AwsResource resource;
  // Results are filtered per secret instead of refused (ListSecrets, BatchGetSecretValue): a
  // caller without the capability gets no entries (or per-item AccessDenied), not an error.
  bool filtered = false;
  // Test and documentation data: a request body that succeeds on the secret "matrix/app"
  // (which exists, with a generic rotation config). "{name}" stands for the secret's name.
  std::string_view example_body = "";
  std::string_view note = "";  // further rules, for the docs
};

// Every operation, in documentation order.
std::span<const AwsOperationRule> AwsOperationRules();
// The row of `name`, or null.
const AwsOperationRule* FindAwsOperation(std::string_view name);
// The path `resource` means for secret `name`.
std::string AwsPolicyPath(AwsResource resource, std::string_view name);
// The permissions table as Markdown (docs/api/aws.md embeds it).
std::string AwsOperationsMarkdown();

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_AWS_OPERATIONS_H_
