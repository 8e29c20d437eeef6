// Tests for the password, API key, random byte and UUID generators.
#include "crypto/generators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "core/random.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "crypto/os_random.h"

namespace rekey::crypto {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr std::string_view kPunctuation = R"(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)";
constexpr int kSamples = 200;

bool IsPunct(char c) { return kPunctuation.find(c) != std::string_view::npos; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// All characters of kSamples passwords generated under `policy`.
std::string Sample(const PasswordPolicy& policy, Random& random) {
  std::string all;
  for (int i = 0; i < kSamples; ++i) {
    absl::StatusOr<SecretBytes> password = GeneratePassword(policy, random);
    EXPECT_THAT(password, IsOk());
    if (!password.ok()) return all;
    EXPECT_EQ(password->size(), static_cast<size_t>(policy.length));
    all += password->Reveal();
  }
  return all;
}

template <typename Pred>
bool Any(std::string_view s, Pred pred) {
  for (char c : s) {
    if (pred(c)) return true;
  }
  return false;
}

class GeneratePasswordTest : public ::testing::Test {
 protected:
  FakeRandom random_{1234};
};

TEST_F(GeneratePasswordTest, DefaultPolicyGives32CharactersFromAllFourClassesAndNoSpace) {
  const std::string all = Sample(PasswordPolicy{}, random_);
  EXPECT_TRUE(Any(all, IsLower));
  EXPECT_TRUE(Any(all, IsUpper));
  EXPECT_TRUE(Any(all, IsDigit));
  EXPECT_TRUE(Any(all, IsPunct));
  EXPECT_FALSE(Any(all, [](char c) { return c == ' '; }));
  EXPECT_FALSE(
      Any(all, [](char c) { return !IsLower(c) && !IsUpper(c) && !IsDigit(c) && !IsPunct(c); }));
}

TEST_F(GeneratePasswordTest, PunctuationSetIsExactlyTheAwsSet) {
  const std::string all = Sample(PasswordPolicy{.length = 256}, random_);
  std::set<char> seen;
  for (char c : all) {
    if (!IsLower(c) && !IsUpper(c) && !IsDigit(c)) seen.insert(c);
  }
  EXPECT_EQ(seen, std::set<char>(kPunctuation.begin(), kPunctuation.end()));
}

TEST_F(GeneratePasswordTest, ExcludeNumbersExcludesDigits) {
  const std::string all = Sample({.exclude_numbers = true}, random_);
  EXPECT_FALSE(Any(all, IsDigit));
  EXPECT_TRUE(Any(all, IsLower));
}

TEST_F(GeneratePasswordTest, ExcludePunctuationExcludesPunctuation) {
  const std::string all = Sample({.exclude_punctuation = true}, random_);
  EXPECT_FALSE(Any(all, IsPunct));
  EXPECT_TRUE(Any(all, IsDigit));
}

TEST_F(GeneratePasswordTest, ExcludeUppercaseExcludesUppercase) {
  const std::string all = Sample({.exclude_uppercase = true}, random_);
  EXPECT_FALSE(Any(all, IsUpper));
  EXPECT_TRUE(Any(all, IsLower));
}

TEST_F(GeneratePasswordTest, ExcludeLowercaseExcludesLowercase) {
  const std::string all = Sample({.exclude_lowercase = true}, random_);
  EXPECT_FALSE(Any(all, IsLower));
  EXPECT_TRUE(Any(all, IsUpper));
}

TEST_F(GeneratePasswordTest, ExcludeCharactersAreNeverUsed) {
  const std::string excluded = "aeiouAEIOU01lI|\"'`";
  const std::string all = Sample({.exclude_characters = excluded}, random_);
  EXPECT_FALSE(Any(all, [&](char c) { return excluded.find(c) != std::string::npos; }));
}

TEST_F(GeneratePasswordTest, IncludeSpaceAddsSpace) {
  const std::string all = Sample({.include_space = true}, random_);
  EXPECT_TRUE(Any(all, [](char c) { return c == ' '; }));
}

TEST_F(GeneratePasswordTest, ExcludeCharactersCanRemoveTheSpace) {
  const std::string all = Sample({.exclude_characters = " ", .include_space = true}, random_);
  EXPECT_FALSE(Any(all, [](char c) { return c == ' '; }));
}

TEST_F(GeneratePasswordTest, RequireEachIncludedTypeGuaranteesEveryClassInShortPasswords) {
  for (int i = 0; i < kSamples; ++i) {
    ASSERT_OK_AND_ASSIGN(SecretBytes password, GeneratePassword({.length = 4}, random_));
    const std::string_view p = password.Reveal();
    EXPECT_TRUE(Any(p, IsLower) && Any(p, IsUpper) && Any(p, IsDigit) && Any(p, IsPunct)) << i;
  }
}

TEST_F(GeneratePasswordTest, RequiredCharactersLandInEveryPosition) {
  // With only digits and lower-case letters (36 characters, 10 digits) and length 2, the
  // guaranteed digit is drawn first; after the shuffle a digit leads in about 64% of passwords
  // (100% without a shuffle).
  int digit_first = 0;
  for (int i = 0; i < kSamples; ++i) {
    ASSERT_OK_AND_ASSIGN(
        SecretBytes password,
        GeneratePassword({.length = 2, .exclude_punctuation = true, .exclude_uppercase = true},
                         random_));
    if (IsDigit(password.Reveal()[0])) ++digit_first;
  }
  EXPECT_GT(digit_first, kSamples / 4);
  EXPECT_LT(digit_first, kSamples * 3 / 4 + kSamples / 8);
}

TEST_F(GeneratePasswordTest, ClassEmptiedByExcludeCharactersIsNotRequired) {
  ASSERT_OK_AND_ASSIGN(
      SecretBytes password,
      GeneratePassword({.length = 3, .exclude_characters = "0123456789"}, random_));
  EXPECT_FALSE(Any(password.Reveal(), IsDigit));
}

TEST_F(GeneratePasswordTest, WithoutRequirementShortPasswordsNeedNotCoverClasses) {
  EXPECT_THAT(GeneratePassword({.length = 1, .require_each_included_type = false}, random_),
              IsOk());
}

TEST_F(GeneratePasswordTest, LengthBoundsAreOneTo4096) {
  EXPECT_THAT(GeneratePassword({.length = 4096}, random_), IsOk());
  EXPECT_THAT(GeneratePassword({.length = 1, .require_each_included_type = false}, random_),
              IsOk());
  EXPECT_THAT(GeneratePassword({.length = 0}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length")));
  EXPECT_THAT(GeneratePassword({.length = 4097}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length")));
  EXPECT_THAT(GeneratePassword({.length = -5}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length")));
}

TEST_F(GeneratePasswordTest, LengthShorterThanRequiredClassesIsRejected) {
  EXPECT_THAT(
      ValidatePasswordPolicy({.length = 3}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("require_each_included_type")));
  EXPECT_THAT(ValidatePasswordPolicy({.length = 3, .exclude_numbers = true}), IsOk());
}

TEST_F(GeneratePasswordTest, EmptyAlphabetIsRejected) {
  EXPECT_THAT(GeneratePassword({.exclude_numbers = true,
                                .exclude_punctuation = true,
                                .exclude_uppercase = true,
                                .exclude_lowercase = true},
                               random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(GeneratePasswordTest, ExcludeCharactersCoveringEverythingIsRejected) {
  std::string everything(kPunctuation);
  everything += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  EXPECT_THAT(ValidatePasswordPolicy({.exclude_characters = everything}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(GeneratePasswordTest, OnlySpaceAlphabetIsAllowed) {
  ASSERT_OK_AND_ASSIGN(SecretBytes password, GeneratePassword({.length = 3,
                                                               .exclude_numbers = true,
                                                               .exclude_punctuation = true,
                                                               .exclude_uppercase = true,
                                                               .exclude_lowercase = true,
                                                               .include_space = true},
                                                              random_));
  EXPECT_EQ(password.Reveal(), "   ");
}

TEST_F(GeneratePasswordTest, OverlongExcludeCharactersIsRejected) {
  EXPECT_THAT(ValidatePasswordPolicy({.exclude_characters = std::string(4097, 'a')}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exclude_characters")));
}

TEST_F(GeneratePasswordTest, SameSeedGivesSamePassword) {
  FakeRandom a(99), b(99);
  ASSERT_OK_AND_ASSIGN(SecretBytes pa, GeneratePassword({}, a));
  ASSERT_OK_AND_ASSIGN(SecretBytes pb, GeneratePassword({}, b));
  EXPECT_TRUE(pa == pb);
}

TEST_F(GeneratePasswordTest, OsRandomPasswordsDiffer) {
  OsRandom random;
  ASSERT_OK_AND_ASSIGN(SecretBytes a, GeneratePassword({}, random));
  ASSERT_OK_AND_ASSIGN(SecretBytes b, GeneratePassword({}, random));
  EXPECT_FALSE(a == b);
}

class GenerateApiKeyTest : public ::testing::Test {
 protected:
  FakeRandom random_{5};
};

TEST_F(GenerateApiKeyTest, PrefixFollowedByBase62Characters) {
  ASSERT_OK_AND_ASSIGN(SecretBytes key,
                       GenerateApiKey({.prefix = "rk_live_", .length = 40}, random_));
  EXPECT_THAT(std::string(key.Reveal()), MatchesRegex("rk_live_[A-Za-z0-9]{40}"));
}

TEST_F(GenerateApiKeyTest, HexAlphabetIsLowerCaseHex) {
  ASSERT_OK_AND_ASSIGN(
      SecretBytes key,
      GenerateApiKey({.length = 64, .alphabet = ApiKeyFormat::Alphabet::kHex}, random_));
  EXPECT_THAT(std::string(key.Reveal()), MatchesRegex("[0-9a-f]{64}"));
}

TEST_F(GenerateApiKeyTest, Base62UsesAllThreeCharacterKinds) {
  ASSERT_OK_AND_ASSIGN(SecretBytes key, GenerateApiKey({.length = 512}, random_));
  EXPECT_TRUE(Any(key.Reveal(), IsLower));
  EXPECT_TRUE(Any(key.Reveal(), IsUpper));
  EXPECT_TRUE(Any(key.Reveal(), IsDigit));
}

TEST_F(GenerateApiKeyTest, LengthBoundsAre8To512) {
  EXPECT_THAT(GenerateApiKey({.length = 8}, random_), IsOk());
  EXPECT_THAT(GenerateApiKey({.length = 512}, random_), IsOk());
  EXPECT_THAT(GenerateApiKey({.length = 7}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length")));
  EXPECT_THAT(GenerateApiKey({.length = 513}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length")));
}

TEST_F(GenerateApiKeyTest, PrefixOver64CharactersIsRejected) {
  EXPECT_THAT(ValidateApiKeyFormat({.prefix = std::string(64, 'p')}), IsOk());
  EXPECT_THAT(ValidateApiKeyFormat({.prefix = std::string(65, 'p')}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")));
}

TEST_F(GenerateApiKeyTest, PrefixWithDisallowedCharacterIsRejected) {
  EXPECT_THAT(ValidateApiKeyFormat({.prefix = "ok_-AZaz09"}), IsOk());
  for (std::string bad : {"sk.live", "sk live", "sk/", "sk\xc3\xa9"}) {
    EXPECT_THAT(ValidateApiKeyFormat({.prefix = bad}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")))
        << bad;
  }
}

TEST(GenerateRandomBytesTest, HexDecodesBackToNBytes) {
  FakeRandom random;
  ASSERT_OK_AND_ASSIGN(SecretBytes text, GenerateRandomBytes(33, ByteEncoding::kHex, random));
  EXPECT_THAT(std::string(text.Reveal()), MatchesRegex("[0-9a-f]{66}"));
  EXPECT_EQ(absl::HexStringToBytes(ToAbsl(text.Reveal())).size(), 33u);
}

TEST(GenerateRandomBytesTest, Base64IsPaddedAndDecodesBackToNBytes) {
  FakeRandom random;
  ASSERT_OK_AND_ASSIGN(SecretBytes text, GenerateRandomBytes(32, ByteEncoding::kBase64, random));
  EXPECT_EQ(text.size(), 44u);
  EXPECT_EQ(text.Reveal().back(), '=');
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(ToAbsl(text.Reveal()), &decoded));
  EXPECT_EQ(decoded.size(), 32u);
}

TEST(GenerateRandomBytesTest, Base64UrlIsUnpaddedUrlSafeAndDecodesBackToNBytes) {
  FakeRandom random;
  for (size_t n : {1, 2, 3, 31, 32, 4096}) {
    ASSERT_OK_AND_ASSIGN(SecretBytes text,
                         GenerateRandomBytes(n, ByteEncoding::kBase64Url, random));
    EXPECT_THAT(std::string(text.Reveal()), MatchesRegex("[A-Za-z0-9_-]+")) << n;
    std::string decoded;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(ToAbsl(text.Reveal()), &decoded)) << n;
    EXPECT_EQ(decoded.size(), n);
  }
}

TEST(GenerateRandomBytesTest, CountBoundsAre1To4096) {
  FakeRandom random;
  EXPECT_THAT(GenerateRandomBytes(0, ByteEncoding::kHex, random),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(GenerateRandomBytes(4097, ByteEncoding::kHex, random),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(GenerateRandomBytes(4096, ByteEncoding::kHex, random), IsOk());
}

TEST(GenerateUuidV4Test, CanonicalLowerCaseWithVersionAndVariant) {
  OsRandom random;
  for (int i = 0; i < kSamples; ++i) {
    EXPECT_THAT(
        GenerateUuidV4(random),
        MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  }
}

TEST(GenerateUuidV4Test, UuidsAreUnique) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(GenerateUuidV4(random));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ParseNamesTest, ApiKeyAlphabetNamesRoundTrip) {
  for (auto alphabet : {ApiKeyFormat::Alphabet::kBase62, ApiKeyFormat::Alphabet::kHex}) {
    ASSERT_OK_AND_ASSIGN(auto parsed, ParseApiKeyAlphabet(ApiKeyAlphabetName(alphabet)));
    EXPECT_EQ(parsed, alphabet);
  }
  EXPECT_THAT(ParseApiKeyAlphabet("base64"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseApiKeyAlphabet("HEX"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseNamesTest, ByteEncodingNamesRoundTrip) {
  for (auto encoding : {ByteEncoding::kHex, ByteEncoding::kBase64, ByteEncoding::kBase64Url}) {
    ASSERT_OK_AND_ASSIGN(auto parsed, ParseByteEncoding(ByteEncodingName(encoding)));
    EXPECT_EQ(parsed, encoding);
  }
  EXPECT_THAT(ParseByteEncoding("base32"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseByteEncoding(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::crypto
