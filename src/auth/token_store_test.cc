#include "auth/token_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "storage/memory_store.h"

namespace rekey::auth {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;

class TokenStoreTest : public ::testing::Test {
 protected:
  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  TokenStore tokens_{store_, clock_, random_};
};

TEST_F(TokenStoreTest, RootTokenLooksUpAsRoot) {
  ASSERT_OK_AND_ASSIGN(SecretBytes token, tokens_.CreateRootToken("root"));
  EXPECT_GT(token.size(), 40u);
  ASSERT_OK_AND_ASSIGN(TokenEntry entry, tokens_.Lookup(token.Reveal()));
  EXPECT_TRUE(entry.IsRoot());
  EXPECT_FALSE(entry.accessor.empty());
}

TEST_F(TokenStoreTest, UnknownTokenIsPermissionDenied) {
  EXPECT_THAT(tokens_.Lookup("nope"),
              StatusIs(absl::StatusCode::kPermissionDenied, "permission denied"));
  EXPECT_THAT(tokens_.Lookup(""), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(TokenStoreTest, StoresOnlyTheHash) {
  SecretBytes fixed("dev-root-token-value");
  ASSERT_OK(tokens_.EnsureRootToken(fixed));
  ASSERT_OK_AND_ASSIGN(auto keys, store_.ScanKeys("", "", 0));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], "auth/token/id/" + crypto::Sha256Hex("dev-root-token-value"));
  ASSERT_OK_AND_ASSIGN(auto record, store_.Get(keys[0]));
  EXPECT_EQ(record->value.Reveal().find("dev-root-token-value"), std::string_view::npos);
}

TEST_F(TokenStoreTest, EnsureRootTokenIsIdempotentAndSurvivesANewStoreObject) {
  SecretBytes fixed("root");
  ASSERT_OK(tokens_.EnsureRootToken(fixed));
  ASSERT_OK_AND_ASSIGN(TokenEntry first, tokens_.Lookup("root"));
  ASSERT_OK(tokens_.EnsureRootToken(fixed));
  TokenStore reopened(store_, clock_, random_);
  ASSERT_OK_AND_ASSIGN(TokenEntry again, reopened.Lookup("root"));
  EXPECT_EQ(first.accessor, again.accessor);
}

}  // namespace
}  // namespace rekey::auth
