// PolicyStore on a MemoryStore: built-in policies, validation, caching and invalidation.
#include "auth/policy_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::auth {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr char kReadApp[] = R"({"path": {"secret/data/app": {"capabilities": ["read"]}}})";

class PolicyStoreTest : public ::testing::Test {
 protected:
  storage::MemoryStore store_;
  PolicyStore policies_{store_};
};

TEST_F(PolicyStoreTest, ListHasTheBuiltInsFromTheStart) {
  ASSERT_OK_AND_ASSIGN(auto names, policies_.List());
  EXPECT_THAT(names, ElementsAre("default", "root"));
}

TEST_F(PolicyStoreTest, WriteReadListDelete) {
  ASSERT_OK(policies_.Write("app", kReadApp));
  ASSERT_OK_AND_ASSIGN(auto text, policies_.Read("app"));
  EXPECT_EQ(text, std::optional<std::string>(kReadApp));  // as written
  ASSERT_OK_AND_ASSIGN(auto names, policies_.List());
  EXPECT_THAT(names, ElementsAre("app", "default", "root"));
  ASSERT_OK_AND_ASSIGN(auto stored, store_.Get("sys/policy/app"));
  EXPECT_TRUE(stored.has_value());
  ASSERT_OK(policies_.Delete("app"));
  ASSERT_OK_AND_ASSIGN(text, policies_.Read("app"));
  EXPECT_FALSE(text.has_value());
  EXPECT_OK(policies_.Delete("app"));  // deleting nothing is fine
}

TEST_F(PolicyStoreTest, RootCannotBeWrittenOrDeletedAndDefaultCannotBeDeleted) {
  EXPECT_THAT(policies_.Write("root", kReadApp), StatusIs(kInvalid, "cannot update root policy"));
  EXPECT_THAT(policies_.Delete("root"), StatusIs(kInvalid, "cannot delete root policy"));
  EXPECT_THAT(policies_.Delete("default"), StatusIs(kInvalid, "cannot delete default policy"));
  ASSERT_OK_AND_ASSIGN(auto root_text, policies_.Read("root"));
  EXPECT_EQ(root_text, std::optional<std::string>(""));
}

TEST_F(PolicyStoreTest, DefaultIsBuiltInAndCanBeReplaced) {
  ASSERT_OK_AND_ASSIGN(auto text, policies_.Read("default"));
  EXPECT_EQ(text, std::optional<std::string>(std::string(kDefaultPolicyJson)));
  ASSERT_OK_AND_ASSIGN(auto set, policies_.SetFor({"default"}));
  EXPECT_TRUE(set->Allows("auth/token/lookup-self", Capability::kRead));
  EXPECT_TRUE(set->Allows("auth/token/renew-self", Capability::kUpdate));
  EXPECT_TRUE(set->Allows("auth/token/revoke-self", Capability::kUpdate));
  EXPECT_FALSE(set->Allows("auth/token/create", Capability::kUpdate));
  ASSERT_OK(policies_.Write("default", R"({"path": {}})"));
  ASSERT_OK_AND_ASSIGN(set, policies_.SetFor({"default"}));
  EXPECT_FALSE(set->Allows("auth/token/lookup-self", Capability::kRead));
}

TEST_F(PolicyStoreTest, HclIsRejectedWithAClearMessage) {
  EXPECT_THAT(policies_.Write("app", R"(path "secret/*" { capabilities = ["read"] })"),
              StatusIs(kInvalid, HasSubstr("HCL is not supported")));
  EXPECT_THAT(policies_.Write("app", ""), StatusIs(kInvalid, HasSubstr("JSON")));
}

TEST_F(PolicyStoreTest, InvalidPoliciesAndNamesAreRejected) {
  EXPECT_THAT(policies_.Write("app", R"({"path": {"x": {"capabilities": ["fly"]}}})"),
              StatusIs(kInvalid, HasSubstr("unknown capability")));
  EXPECT_THAT(policies_.Write("Bad Name", kReadApp), StatusIs(kInvalid, HasSubstr("invalid")));
  EXPECT_THAT(policies_.Read("../x"), StatusIs(kInvalid));
  ASSERT_OK_AND_ASSIGN(auto names, policies_.List());
  EXPECT_EQ(names.size(), 2u);
}

TEST_F(PolicyStoreTest, SetForIgnoresMissingPoliciesAndHonoursRoot) {
  ASSERT_OK(policies_.Write("app", kReadApp));
  ASSERT_OK_AND_ASSIGN(auto set, policies_.SetFor({"app", "missing"}));
  EXPECT_TRUE(set->Allows("secret/data/app", Capability::kRead));
  EXPECT_FALSE(set->Allows("secret/data/other", Capability::kRead));
  ASSERT_OK_AND_ASSIGN(auto root, policies_.SetFor({"root"}));
  EXPECT_TRUE(root->IsRoot());
  ASSERT_OK_AND_ASSIGN(auto none, policies_.SetFor({}));
  EXPECT_FALSE(none->Allows("secret/data/app", Capability::kRead));
}

TEST_F(PolicyStoreTest, SetsAreCachedUntilAPolicyChanges) {
  ASSERT_OK(policies_.Write("app", kReadApp));
  ASSERT_OK_AND_ASSIGN(auto first, policies_.SetFor({"app"}));
  ASSERT_OK_AND_ASSIGN(auto second, policies_.SetFor({"app"}));
  EXPECT_EQ(first.get(), second.get());
  ASSERT_OK(policies_.Write("app", R"({"path": {"secret/data/app": {"capabilities": ["deny"]}}})"));
  ASSERT_OK_AND_ASSIGN(auto third, policies_.SetFor({"app"}));
  EXPECT_NE(first.get(), third.get());
  EXPECT_FALSE(third->Allows("secret/data/app", Capability::kRead));
  ASSERT_OK(policies_.Delete("app"));
  ASSERT_OK_AND_ASSIGN(auto fourth, policies_.SetFor({"app"}));
  EXPECT_FALSE(fourth->Allows("secret/data/app", Capability::kRead));
}

TEST_F(PolicyStoreTest, AnotherPolicyStoreOnTheSameStoreSeesWrittenPolicies) {
  ASSERT_OK(policies_.Write("app", kReadApp));
  PolicyStore reopened(store_);
  ASSERT_OK_AND_ASSIGN(auto set, reopened.SetFor({"app"}));
  EXPECT_TRUE(set->Allows("secret/data/app", Capability::kRead));
}

}  // namespace
}  // namespace rekey::auth
