// Reading transit requests: the body, typed fields with Vault's messages, path segments and hash
// algorithms. Field errors are kInvalidArgument and name the field, never its value.
#ifndef REKEY_API_TRANSIT_INTERNAL_REQUEST_H_
#define REKEY_API_TRANSIT_INTERNAL_REQUEST_H_

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/http/message.h"
#include "api/vault/vault_wire.h"
#include "core/secret_bytes.h"
#include "transit/algorithms.h"

namespace rekey::api::transit_internal {

namespace json = boost::json;

// The request body as a JSON object in zeroing storage; an error for any other body.
absl::StatusOr<json::object> BodyObject(const http::Request& req);

// Where a field sits, for messages: "plaintext", or '[3].plaintext' in batch item 3.
std::string FieldName(std::optional<size_t> index, std::string_view field);

// A string field, viewing into `o`: nullopt when absent or null, an error for another type.
absl::StatusOr<std::optional<std::string_view>> StringField(const json::object& o,
                                                            std::string_view field,
                                                            std::optional<size_t> index = {});

// StringField of each of `fields` in order; the first error, if any.
template <size_t N>
absl::StatusOr<std::array<std::optional<std::string_view>, N>> StringFields(
    const json::object& o, const std::string_view (&fields)[N], std::optional<size_t> index) {
  std::array<std::optional<std::string_view>, N> out;
  for (size_t i = 0; i < N; ++i) {
    absl::StatusOr<std::optional<std::string_view>> v = StringField(o, fields[i], index);
    if (!v.ok()) return v.status();
    out[i] = *v;
  }
  return out;
}

// A key version field (key_version): 0 when absent, an error unless a uint32.
absl::StatusOr<uint32_t> VersionField(const json::object& o, std::string_view field,
                                      std::optional<size_t> index = {});

// A boolean field: false when absent or null.
absl::StatusOr<bool> BoolField(const json::object& o, std::string_view field);

// Base64 `text` of a non-secret field (context, nonce, associated data); "" decodes to "".
absl::StatusOr<std::string> DecodeField(std::string_view field, std::string_view text);

// Base64 `text` of a secret field (plaintext, input).
absl::StatusOr<SecretBytes> DecodeSecretField(std::string_view field, std::string_view text);

// The string "reference" of a batch item, else "".
std::string ReferenceOf(const json::object& item);

// Path segment `i` of `vreq` ("transit" is 0), or "" past the end.
std::string_view Segment(const VaultRequest& vreq, size_t i);

// The hash algorithm named `name` (Vault's spellings); an error for an unknown name.
absl::StatusOr<transit::HashAlgorithm> HashAlgorithmOf(std::string_view name);

// The algorithm of hmac/sign/verify/hash: `url_algorithm` if set, else the first of `fields` set
// in `body`, else sha2-256.
absl::StatusOr<transit::HashAlgorithm> AlgorithmFrom(
    std::string_view url_algorithm, const json::object& body,
    std::initializer_list<std::string_view> fields);

}  // namespace rekey::api::transit_internal

#endif  // REKEY_API_TRANSIT_INTERNAL_REQUEST_H_
