// JSON whose every allocation is wiped (for stored keys), and base64 (see transit/base64.h).
// Internal to src/transit.
#ifndef REKEY_TRANSIT_INTERNAL_CODEC_H_
#define REKEY_TRANSIT_INTERNAL_CODEC_H_

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "transit/base64.h"

namespace rekey::transit::internal {

using ::rekey::transit::Base64Decode;
using ::rekey::transit::Base64DecodeSecret;
using ::rekey::transit::Base64Encode;
using ::rekey::transit::Base64EncodeSecret;
using ::rekey::transit::Base64UrlDecode;
using ::rekey::transit::Base64UrlEncode;

// A Boost.JSON storage that zeroes memory before freeing it. Stateless; lives forever.
boost::json::storage_ptr ZeroingJsonStorage();
// Parses `text` into zeroing storage. kDataLoss "<what> is not valid JSON" on a parse error.
absl::StatusOr<boost::json::value> ParseSecretJson(std::string_view text, std::string_view what);
// Serializes `v` into SecretBytes without leaving unwiped copies behind.
SecretBytes SerializeSecretJson(const boost::json::value& v);

}  // namespace rekey::transit::internal

#endif  // REKEY_TRANSIT_INTERNAL_CODEC_H_
