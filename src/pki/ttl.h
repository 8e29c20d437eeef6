// Vault-style durations for PKI fields (ttl, max_ttl, not_before_duration).
#ifndef REKEY_PKI_TTL_H_
#define REKEY_PKI_TTL_H_

#include <boost/json/value.hpp>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::pki {

// A whole number of seconds ("3600"), or a sequence of <digits><unit> with units s, m, h, d
// ("72h", "1h30m", "30d"). kInvalidArgument for anything else, negative, or above 100 years.
absl::StatusOr<absl::Duration> ParseTtl(std::string_view text);
// A JSON number of seconds (non-negative integer) or a string ParseTtl accepts.
absl::StatusOr<absl::Duration> TtlFromJson(const boost::json::value& v);

}  // namespace rekey::pki

#endif  // REKEY_PKI_TTL_H_
