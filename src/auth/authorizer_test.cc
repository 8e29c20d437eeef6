// Authorizer: authentication and the capability decision, including Vault's create-vs-update
// split and its LIST rule.
#include "auth/authorizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::auth {
namespace {

using ::rekey::testing::StatusIs;
using C = Capability;

// An OK StatusOr<bool> holding `expected`.
MATCHER_P(Holds, expected, "") { return arg.ok() && *arg == expected; }

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(tokens_.EnsureRootToken(SecretBytes("root"))); }

  // A token holding only policy `name` = {path: caps}.
  std::string TokenWith(const std::string& name, const std::string& rules) {
    EXPECT_OK(policies_.Write(name, rules));
    absl::StatusOr<TokenEntry> root = tokens_.Lookup("root");
    TokenRequest r;
    r.policies = {name};
    r.no_default_policy = true;
    absl::StatusOr<CreatedToken> t = tokens_.Create(*root, r, false);
    EXPECT_OK(t.status());
    return t.ok() ? std::string(t->token.Reveal()) : "";
  }

  static absl::StatusOr<bool> Permits(const PolicySet& set, std::string_view path, Requirement need,
                                      std::optional<bool> exists = std::nullopt,
                                      bool list = false) {
    int calls = 0;
    absl::StatusOr<bool> out =
        Authorizer::Permits(set, path, list, need, [&]() -> absl::StatusOr<bool> {
          ++calls;
          if (!exists.has_value()) return absl::InternalError("existence was not expected");
          return *exists;
        });
    return out;
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  TokenStore tokens_{store_, clock_, random_};
  PolicyStore policies_{store_};
  Authorizer authz_{tokens_, policies_};
};

TEST_F(AuthorizerTest, AuthenticateGivesTheTokensPolicySet) {
  std::string token = TokenWith("app", R"({"path":{"secret/data/app":{"capabilities":["read"]}}})");
  ASSERT_OK_AND_ASSIGN(Principal p, authz_.Authenticate(token));
  EXPECT_TRUE(p.policies->Allows("secret/data/app", C::kRead));
  ASSERT_OK_AND_ASSIGN(Principal root, authz_.Authenticate("root"));
  EXPECT_TRUE(root.policies->IsRoot());
  EXPECT_THAT(authz_.Authenticate("nope"),
              StatusIs(absl::StatusCode::kPermissionDenied, "permission denied"));
  EXPECT_THAT(authz_.Authenticate(p.token.accessor), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(AuthorizerTest, APolicyChangeAppliesToTheNextAuthentication) {
  std::string token = TokenWith("app", R"({"path":{"secret/data/app":{"capabilities":["read"]}}})");
  ASSERT_OK_AND_ASSIGN(Principal before, authz_.Authenticate(token));
  EXPECT_TRUE(before.policies->Allows("secret/data/app", C::kRead));
  ASSERT_OK(policies_.Write("app", R"({"path":{}})"));
  ASSERT_OK_AND_ASSIGN(Principal after, authz_.Authenticate(token));
  EXPECT_FALSE(after.policies->Allows("secret/data/app", C::kRead));
}

TEST_F(AuthorizerTest, EveryRequiredCapabilityMustBeGranted) {
  ASSERT_OK_AND_ASSIGN(Policy p, Policy::Parse("p", R"({"path":{
      "auth/token/revoke-orphan":{"capabilities":["update"]},
      "auth/token/accessors":{"capabilities":["list","sudo"]}}})"));
  PolicySet set(std::span<const Policy>(&p, 1));
  EXPECT_THAT(Permits(set, "auth/token/revoke-orphan", {.all_of = {C::kUpdate, C::kSudo}}),
              Holds(false));
  EXPECT_THAT(Permits(set, "auth/token/revoke-orphan", {.all_of = {C::kUpdate}}), Holds(true));
  EXPECT_THAT(Permits(set, "auth/token/accessors", {.all_of = {C::kList, C::kSudo}}), Holds(true));
}

TEST_F(AuthorizerTest, DenyByDefaultAndExplicitDenyWins) {
  ASSERT_OK_AND_ASSIGN(Policy p, Policy::Parse("p", R"({"path":{
      "secret/*":{"capabilities":["read","update","create","list","delete","patch","sudo"]},
      "secret/data/locked":{"capabilities":["deny"]}}})"));
  PolicySet set(std::span<const Policy>(&p, 1));
  EXPECT_THAT(Permits(set, "secret/data/open", {.all_of = {C::kRead}}), Holds(true));
  EXPECT_THAT(Permits(set, "secret/data/locked", {.all_of = {C::kRead}}), Holds(false));
  EXPECT_THAT(Permits(set, "rotation/status", {.all_of = {C::kRead}}), Holds(false));
  // A requirement that needs nothing is never a grant.
  EXPECT_THAT(Permits(set, "secret/data/open", {}), Holds(false));
  EXPECT_FALSE(Authorizer::GrantsAnything(set, "secret/data/locked", false));
  EXPECT_FALSE(Authorizer::GrantsAnything(set, "sys/policy", false));
  EXPECT_TRUE(Authorizer::GrantsAnything(set, "secret/x", false));
}

TEST_F(AuthorizerTest, CreateOrUpdateLooksOnlyWhenItMatters) {
  const Requirement write{.all_of = {}, .create_or_update = true};
  ASSERT_OK_AND_ASSIGN(Policy both, Policy::Parse("both", R"({"path":{
      "secret/data/*":{"capabilities":["create","update"]}}})"));
  ASSERT_OK_AND_ASSIGN(Policy create, Policy::Parse("create", R"({"path":{
      "secret/data/*":{"capabilities":["create"]}}})"));
  ASSERT_OK_AND_ASSIGN(Policy update, Policy::Parse("update", R"({"path":{
      "secret/data/*":{"capabilities":["update"]}}})"));
  ASSERT_OK_AND_ASSIGN(Policy read, Policy::Parse("read", R"({"path":{
      "secret/data/*":{"capabilities":["read"]}}})"));
  PolicySet both_set(std::span<const Policy>(&both, 1));
  PolicySet create_set(std::span<const Policy>(&create, 1));
  PolicySet update_set(std::span<const Policy>(&update, 1));
  PolicySet read_set(std::span<const Policy>(&read, 1));
  // Both granted, or neither: no existence check (the callback would fail the call).
  EXPECT_THAT(Permits(both_set, "secret/data/a", write), Holds(true));
  EXPECT_THAT(Permits(read_set, "secret/data/a", write), Holds(false));
  // create only: new secrets yes, existing no; update only: the reverse.
  EXPECT_THAT(Permits(create_set, "secret/data/a", write, false), Holds(true));
  EXPECT_THAT(Permits(create_set, "secret/data/a", write, true), Holds(false));
  EXPECT_THAT(Permits(update_set, "secret/data/a", write, true), Holds(true));
  EXPECT_THAT(Permits(update_set, "secret/data/a", write, false), Holds(false));
  // An existence check that fails fails the decision.
  EXPECT_THAT(Authorizer::Permits(create_set, "secret/data/a", false, write,
                                  [] { return absl::UnavailableError("store down"); }),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(AuthorizerTest, ListFollowsVaultsTrailingSlashRule) {
  ASSERT_OK_AND_ASSIGN(Policy p, Policy::Parse("p", R"({"path":{
      "secret/metadata/team":{"capabilities":["list"]},
      "secret/metadata/ops/*":{"capabilities":["list"]}}})"));
  PolicySet set(std::span<const Policy>(&p, 1));
  const Requirement list{.all_of = {C::kList}};
  EXPECT_THAT(Permits(set, "secret/metadata/team/", list, std::nullopt, /*list=*/true),
              Holds(true));
  EXPECT_THAT(Permits(set, "secret/metadata/team/", list, std::nullopt, /*list=*/false),
              Holds(false));
  EXPECT_THAT(Permits(set, "secret/metadata/ops/", list, std::nullopt, true), Holds(true));
  EXPECT_THAT(Permits(set, "secret/metadata/", list, std::nullopt, true), Holds(false));
}

TEST_F(AuthorizerTest, ConsumeUseCountsLimitedTokens) {
  ASSERT_OK(policies_.Write("app", R"({"path":{}})"));
  ASSERT_OK_AND_ASSIGN(TokenEntry root, tokens_.Lookup("root"));
  TokenRequest r;
  r.policies = {"app"};
  r.num_uses = 1;
  ASSERT_OK_AND_ASSIGN(CreatedToken t, tokens_.Create(root, r, false));
  ASSERT_OK_AND_ASSIGN(Principal p, authz_.Authenticate(t.token.Reveal()));
  EXPECT_TRUE(authz_.MayNeedWrite(t.token.Reveal()));
  ASSERT_OK(authz_.ConsumeUse(p));
  EXPECT_THAT(authz_.Authenticate(t.token.Reveal()), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace rekey::auth
