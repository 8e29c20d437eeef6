#include "secrets/path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/testing/status_matchers.h"

namespace rekey::secrets {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ValidateSecretPathTest, AcceptsNestedPaths) {
  EXPECT_THAT(ValidateSecretPath("prod/db/orders"), IsOk());
  EXPECT_THAT(ValidateSecretPath("a.b_c-d/E9"), IsOk());
}

TEST(ValidateSecretPathTest, RejectsDotSegments) {
  EXPECT_THAT(ValidateSecretPath("a/../b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"..\"")));
  EXPECT_THAT(ValidateSecretPath("./a"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateSecretPathTest, RejectsEmptySegments) {
  EXPECT_THAT(ValidateSecretPath("a//b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty path segment")));
  EXPECT_THAT(ValidateSecretPath("a/"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateSecretPath(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateSecretPathTest, RejectsOtherCharactersAndLength) {
  EXPECT_THAT(ValidateSecretPath("a b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateSecretPath("a%2e"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateSecretPath(std::string(513, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer than 512")));
  EXPECT_THAT(ValidateSecretPath(std::string(512, 'a')), IsOk());
}

TEST(ValidateFolderPathTest, AllowsRootAndTrailingSlash) {
  EXPECT_THAT(ValidateFolderPath(""), IsOk());
  EXPECT_THAT(ValidateFolderPath("a/b/"), IsOk());
  EXPECT_THAT(ValidateFolderPath("a//"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::secrets
