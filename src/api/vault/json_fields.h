// Typed reads of request-body fields with Vault's lenient decoding (numbers may come as strings,
// booleans as "true"/"false"), each failure naming the field.
#ifndef REKEY_API_VAULT_JSON_FIELDS_H_
#define REKEY_API_VAULT_JSON_FIELDS_H_

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::api {

// Each returns nullopt when the field is absent or null, and kInvalidArgument
// "invalid value for \"<field>\": expected ..." when it has the wrong type. The message never
// quotes the value.
absl::StatusOr<std::optional<uint64_t>> GetUint(const boost::json::object& o,
                                                std::string_view field);
absl::StatusOr<std::optional<bool>> GetBool(const boost::json::object& o, std::string_view field);
absl::StatusOr<std::optional<absl::Duration>> GetDuration(const boost::json::object& o,
                                                          std::string_view field);
// An object of strings, with Vault's limits for custom_metadata (64 keys, key <= 128 bytes,
// value <= 512 bytes).
absl::StatusOr<std::optional<std::map<std::string, std::string>>> GetStringMap(
    const boost::json::object& o, std::string_view field);
// A list of version numbers: a JSON array of integers, or a comma-separated string.
absl::StatusOr<std::optional<std::vector<uint64_t>>> GetVersionList(const boost::json::object& o,
                                                                    std::string_view field);
// A non-negative decimal integer from text (a query parameter).
absl::StatusOr<uint64_t> ParseUintParam(std::string_view field, std::string_view text);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_JSON_FIELDS_H_
