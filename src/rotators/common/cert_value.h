// The certificate fields of a secret version's value, as the pki and acme rotators write them:
// {"certificate", "chain", "private_key", "serial_number", ...}.
#ifndef REKEY_ROTATORS_COMMON_CERT_VALUE_H_
#define REKEY_ROTATORS_COMMON_CERT_VALUE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "rotation/rotator.h"

namespace rekey::rotators {

struct CertValue {
  std::string certificate;  // PEM leaf ("" when absent)
  std::string chain;        // PEM issuers ("" when absent)
  SecretBytes private_key;  // PEM (empty when absent)
  std::string serial_number;
};

// The fields of `version` (named `what` in messages: "pending", "previous").
// kFailedPrecondition "the <what> value is not readable" when there is no value; the parse error
// (never quoting the value) when it is not a JSON object. Missing fields are empty.
absl::StatusOr<CertValue> CertValueOf(const std::optional<rotation::VersionView>& version,
                                      std::string_view what);

}  // namespace rekey::rotators

#endif  // REKEY_ROTATORS_COMMON_CERT_VALUE_H_
