// Secret generators over Random::Uniform (rejection sampling, so no modulo bias).
#include "crypto/generators.h"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::crypto {
namespace {

constexpr int kMaxPasswordLength = 4096;
constexpr size_t kMaxExcludeCharacters = 4096;
constexpr int kMinApiKeyLength = 8;
constexpr int kMaxApiKeyLength = 512;
constexpr size_t kMaxApiKeyPrefix = 64;
constexpr size_t kMaxRandomBytes = 4096;

constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kPunctuation = R"(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)";
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kHexDigits = "0123456789abcdef";

// The characters a policy draws from: each included, non-empty class, and their union (plus the
// space when included).
struct PasswordAlphabet {
  std::vector<std::string> classes;
  std::string all;
};

absl::StatusOr<PasswordAlphabet> BuildPasswordAlphabet(const PasswordPolicy& policy) {
  if (policy.length < 1 || policy.length > kMaxPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("length must be between 1 and ", kMaxPasswordLength));
  }
  if (policy.exclude_characters.size() > kMaxExcludeCharacters) {
    return absl::InvalidArgumentError(
        absl::StrCat("exclude_characters must be at most ", kMaxExcludeCharacters, " characters"));
  }
  auto allowed = [&](char c) { return policy.exclude_characters.find(c) == std::string::npos; };
  PasswordAlphabet alphabet;
  const std::pair<bool, std::string_view> classes[] = {{policy.exclude_lowercase, kLowercase},
                                                       {policy.exclude_uppercase, kUppercase},
                                                       {policy.exclude_numbers, kDigits},
                                                       {policy.exclude_punctuation, kPunctuation}};
  for (const auto& [excluded, characters] : classes) {
    if (excluded) continue;
    std::string kept;
    for (char c : characters) {
      if (allowed(c)) kept.push_back(c);
    }
    if (kept.empty()) continue;
    alphabet.all += kept;
    alphabet.classes.push_back(std::move(kept));
  }
  if (policy.include_space && allowed(' ')) alphabet.all.push_back(' ');

  if (alphabet.all.empty()) {
    return absl::InvalidArgumentError(
        "the exclude flags and exclude_characters leave no character to draw from");
  }
  if (policy.require_each_included_type &&
      static_cast<size_t>(policy.length) < alphabet.classes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("length ", policy.length, " is shorter than the ", alphabet.classes.size(),
                     " character types require_each_included_type asks for"));
  }
  return alphabet;
}

char Pick(std::string_view characters, Random& random) {
  return characters[random.Uniform(characters.size())];
}

bool IsPrefixChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

absl::Status ValidatePasswordPolicy(const PasswordPolicy& policy) {
  return BuildPasswordAlphabet(policy).status();
}

absl::StatusOr<SecretBytes> GeneratePassword(const PasswordPolicy& policy, Random& random) {
  ASSIGN_OR_RETURN(const PasswordAlphabet alphabet, BuildPasswordAlphabet(policy));
  const size_t length = static_cast<size_t>(policy.length);
  SecretBytes out = SecretBytes::Zeroed(length);
  uint8_t* p = out.MutableData();
  size_t i = 0;
  if (policy.require_each_included_type) {
    for (const std::string& characters : alphabet.classes) p[i++] = Pick(characters, random);
  }
  for (; i < length; ++i) p[i] = Pick(alphabet.all, random);
  if (policy.require_each_included_type) {
    // Fisher–Yates, so the guaranteed characters land at uniformly random positions.
    for (size_t k = length - 1; k > 0; --k) std::swap(p[k], p[random.Uniform(k + 1)]);
  }
  return out;
}

absl::Status ValidateApiKeyFormat(const ApiKeyFormat& format) {
  if (format.prefix.size() > kMaxApiKeyPrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix must be at most ", kMaxApiKeyPrefix, " characters"));
  }
  for (char c : format.prefix) {
    if (!IsPrefixChar(c)) {
      return absl::InvalidArgumentError("prefix may contain only A-Z, a-z, 0-9, '_' and '-'");
    }
  }
  if (format.length < kMinApiKeyLength || format.length > kMaxApiKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("length must be between ", kMinApiKeyLength, " and ", kMaxApiKeyLength));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> GenerateApiKey(const ApiKeyFormat& format, Random& random) {
  RETURN_IF_ERROR(ValidateApiKeyFormat(format));
  const std::string_view alphabet =
      format.alphabet == ApiKeyFormat::Alphabet::kHex ? kHexDigits : kBase62;
  SecretBytes out = SecretBytes::Zeroed(format.prefix.size() + static_cast<size_t>(format.length));
  uint8_t* p = out.MutableData();
  if (!format.prefix.empty()) std::memcpy(p, format.prefix.data(), format.prefix.size());
  for (size_t i = format.prefix.size(); i < out.size(); ++i) p[i] = Pick(alphabet, random);
  return out;
}

absl::StatusOr<SecretBytes> GenerateRandomBytes(size_t n, ByteEncoding encoding, Random& random) {
  if (n < 1 || n > kMaxRandomBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("byte count must be between 1 and ", kMaxRandomBytes));
  }
  SecretBytes raw = SecretBytes::Zeroed(n);
  random.Fill(absl::MakeSpan(raw.MutableData(), raw.size()));
  // Each escaper sizes `encoded` once and writes in place, so no stray copy is left behind.
  std::string encoded;
  switch (encoding) {
    case ByteEncoding::kHex:
      encoded = absl::BytesToHexString(ToAbsl(raw.Reveal()));
      break;
    case ByteEncoding::kBase64:
      absl::Base64Escape(ToAbsl(raw.Reveal()), &encoded);
      break;
    case ByteEncoding::kBase64Url:
      absl::WebSafeBase64Escape(ToAbsl(raw.Reveal()), &encoded);
      break;
  }
  return SecretBytes::TakeFrom(encoded);
}

std::string GenerateUuidV4(Random& random) {
  uint8_t b[16];
  random.Fill(absl::MakeSpan(b));
  b[6] = (b[6] & 0x0f) | 0x40;  // Version 4.
  b[8] = (b[8] & 0x3f) | 0x80;  // Variant 10xx (RFC 4122).
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[b[i] >> 4]);
    out.push_back(kHexDigits[b[i] & 0x0f]);
  }
  return out;
}

absl::StatusOr<ApiKeyFormat::Alphabet> ParseApiKeyAlphabet(std::string_view name) {
  if (name == "base62") return ApiKeyFormat::Alphabet::kBase62;
  if (name == "hex") return ApiKeyFormat::Alphabet::kHex;
  return absl::InvalidArgumentError(absl::StrCat("unknown API key alphabet \"",
                                                 absl::CHexEscape(ToAbsl(name.substr(0, 32))),
                                                 "\"; expected base62 or hex"));
}

std::string_view ApiKeyAlphabetName(ApiKeyFormat::Alphabet alphabet) {
  switch (alphabet) {
    case ApiKeyFormat::Alphabet::kBase62:
      return "base62";
    case ApiKeyFormat::Alphabet::kHex:
      return "hex";
  }
  return "unknown";
}

absl::StatusOr<ByteEncoding> ParseByteEncoding(std::string_view name) {
  if (name == "hex") return ByteEncoding::kHex;
  if (name == "base64") return ByteEncoding::kBase64;
  if (name == "base64url") return ByteEncoding::kBase64Url;
  return absl::InvalidArgumentError(absl::StrCat("unknown byte encoding \"",
                                                 absl::CHexEscape(ToAbsl(name.substr(0, 32))),
                                                 "\"; expected hex, base64 or base64url"));
}

std::string_view ByteEncodingName(ByteEncoding encoding) {
  switch (encoding) {
    case ByteEncoding::kHex:
      return "hex";
    case ByteEncoding::kBase64:
      return "base64";
    case ByteEncoding::kBase64Url:
      return "base64url";
  }
  return "unknown";
}

}  // namespace rekey::crypto
