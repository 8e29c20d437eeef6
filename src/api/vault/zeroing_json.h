// JSON parsing for request bodies that carry secret values: every byte Boost.JSON allocates while
// holding them is zeroed before it is freed.
#ifndef REKEY_API_VAULT_ZEROING_JSON_H_
#define REKEY_API_VAULT_ZEROING_JSON_H_

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"

namespace rekey::api {

// A storage for boost::json values that hold secrets: memory is zeroed on deallocation.
boost::json::storage_ptr ZeroingStorage();

// Parses a request body. kInvalidArgument "invalid JSON in request body: <reason>" (the reason
// never quotes the body) when it is not JSON; an empty body parses as an empty object.
absl::StatusOr<boost::json::value> ParseBody(std::string_view body);

// Serializes `v` straight into SecretBytes (the intermediate string is wiped).
SecretBytes SerializeSecret(const boost::json::value& v);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_ZEROING_JSON_H_
