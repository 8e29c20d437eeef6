// Secret generators: passwords (AWS Secrets Manager GetRandomPassword semantics), API keys,
// encoded random bytes and UUIDv4, all drawing from an injected Random.
#ifndef REKEY_CRYPTO_GENERATORS_H_
#define REKEY_CRYPTO_GENERATORS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/random.h"
#include "core/secret_bytes.h"

namespace rekey::crypto {

// Characters are drawn from the classes lower-case letters, upper-case letters, digits and the
// 32 punctuation characters !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ (plus the space, only when
// include_space), minus every character in exclude_characters.
struct PasswordPolicy {
  int length = 32;                   // 1..4096.
  std::string exclude_characters{};  // At most 4096 characters.
  bool exclude_numbers = false;
  bool exclude_punctuation = false;
  bool exclude_uppercase = false;
  bool exclude_lowercase = false;
  bool include_space = false;
  // At least one character of each included class (lower, upper, digits, punctuation; the space
  // is not a class). A class left empty by exclude_characters is not included.
  bool require_each_included_type = true;
};

// OK if GeneratePassword can satisfy `policy`; otherwise kInvalidArgument naming the field
// (length out of range, exclude_characters too long, no character left to draw from, or fewer
// characters than included classes when require_each_included_type).
absl::Status ValidatePasswordPolicy(const PasswordPolicy& policy);

// A password following `policy`, each character chosen uniformly; kInvalidArgument as
// ValidatePasswordPolicy.
absl::StatusOr<SecretBytes> GeneratePassword(const PasswordPolicy& policy, Random& random);

struct ApiKeyFormat {
  enum class Alphabet { kBase62, kHex };  // kHex is lower-case.
  std::string prefix{};                   // At most 64 characters of [A-Za-z0-9_-].
  int length = 32;                        // Random characters after the prefix: 8..512.
  Alphabet alphabet = Alphabet::kBase62;
};

// OK if `format` is within the bounds above; otherwise kInvalidArgument naming the field.
absl::Status ValidateApiKeyFormat(const ApiKeyFormat& format);

// prefix followed by `length` characters drawn uniformly from the alphabet.
absl::StatusOr<SecretBytes> GenerateApiKey(const ApiKeyFormat& format, Random& random);

enum class ByteEncoding {
  kHex,        // Lower-case.
  kBase64,     // RFC 4648 section 4, padded.
  kBase64Url,  // RFC 4648 section 5, unpadded.
};

// `n` (1..4096) random bytes in `encoding`; kInvalidArgument for `n` out of range.
absl::StatusOr<SecretBytes> GenerateRandomBytes(size_t n, ByteEncoding encoding, Random& random);

// A random (version 4, RFC 4122 variant) UUID, as 36 lower-case characters 8-4-4-4-12.
std::string GenerateUuidV4(Random& random);

// Names as used in configuration: "base62", "hex"; "hex", "base64", "base64url".
// Parse* return kInvalidArgument for any other name (matching is exact, case-sensitive).
absl::StatusOr<ApiKeyFormat::Alphabet> ParseApiKeyAlphabet(std::string_view name);
std::string_view ApiKeyAlphabetName(ApiKeyFormat::Alphabet alphabet);
absl::StatusOr<ByteEncoding> ParseByteEncoding(std::string_view name);
std::string_view ByteEncodingName(ByteEncoding encoding);

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_GENERATORS_H_
