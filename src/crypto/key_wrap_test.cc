#include "crypto/key_wrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "crypto/os_random.h"

namespace rekey::crypto {
namespace {

using ::rekey::testing::StatusIs;

SecretBytes Key(Random& random) {
  SecretBytes key = SecretBytes::Zeroed(kWrapKeySize);
  random.Fill(absl::MakeSpan(key.MutableData(), key.size()));
  return key;
}

TEST(KeyWrapTest, RoundTrips) {
  OsRandom random;
  SecretBytes key = Key(random);
  ASSERT_OK_AND_ASSIGN(std::string wrapped, WrapWithKey(key, "keyring bytes", "aad", random));
  ASSERT_OK_AND_ASSIGN(SecretBytes back, UnwrapWithKey(key, wrapped, "aad"));
  EXPECT_EQ(back.Reveal(), "keyring bytes");
}

TEST(KeyWrapTest, OtherKeyAadOrTamperingFails) {
  OsRandom random;
  SecretBytes key = Key(random);
  ASSERT_OK_AND_ASSIGN(std::string wrapped, WrapWithKey(key, "keyring bytes", "aad", random));
  EXPECT_THAT(UnwrapWithKey(Key(random), wrapped, "aad"),
              StatusIs(absl::StatusCode::kInvalidArgument, "decryption failed"));
  EXPECT_THAT(UnwrapWithKey(key, wrapped, "other"), StatusIs(absl::StatusCode::kInvalidArgument));
  for (size_t i = 0; i < wrapped.size(); ++i) {
    std::string bad = wrapped;
    bad[i] ^= 1;
    EXPECT_THAT(UnwrapWithKey(key, bad, "aad"), StatusIs(absl::StatusCode::kInvalidArgument))
        << "byte " << i;
  }
  EXPECT_THAT(UnwrapWithKey(key, wrapped.substr(0, 10), "aad"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyWrapTest, RejectsWrongKeySize) {
  OsRandom random;
  EXPECT_THAT(WrapWithKey(SecretBytes("short"), "x", "aad", random),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::crypto
