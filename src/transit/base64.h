// Base64 as Vault's transit uses it (Go's encoding/base64): standard with padding for values,
// URL-safe without padding for JWS signatures; decoding straight into SecretBytes for material.
#ifndef REKEY_TRANSIT_BASE64_H_
#define REKEY_TRANSIT_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/secret_bytes.h"

namespace rekey::transit {

// RFC 4648 section 4 with padding (Go's base64.StdEncoding).
std::string Base64Encode(std::string_view data);
SecretBytes Base64EncodeSecret(std::string_view data);
// Appends the encoding of `data` to `*out`.
void Base64EncodeAppend(std::string_view data, std::string* out);
// Strict standard base64 with padding; CR and LF are skipped, as Go's decoder does. nullopt for
// anything else.
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<SecretBytes> Base64DecodeSecret(std::string_view text);

// RFC 4648 section 5 without padding (Go's base64.RawURLEncoding), for JWS signatures.
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);

namespace internal {
// The character-at-a-time decoder the functions above must agree with (Base64Decode when !url,
// Base64UrlDecode when url); for tests.
std::optional<std::string> Base64DecodeOneByOne(std::string_view text, bool url);
}  // namespace internal

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_BASE64_H_
