// TokenStore on a MemoryStore and a FakeClock: creation rules, TTLs, renewal, use limits,
// revocation trees and orphans, accessors. No test sleeps.
#include "auth/token_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "storage/memory_store.h"

namespace rekey::auth {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(SecretBytes root, tokens_.CreateRootToken("root"));
    root_value_ = std::string(root.Reveal());
    ASSERT_OK_AND_ASSIGN(root_, tokens_.Lookup(root_value_));
  }

  // A child of `parent` with `policies` (and "default"), TTL 1h unless the request says more.
  CreatedToken MustCreate(const TokenEntry& parent, TokenRequest request, bool privileged = false) {
    absl::StatusOr<CreatedToken> created = tokens_.Create(parent, request, privileged);
    EXPECT_THAT(created, IsOk());
    if (!created.ok()) return CreatedToken{};
    return *std::move(created);
  }
  CreatedToken Child(const TokenEntry& parent, std::vector<std::string> policies,
                     absl::Duration ttl = absl::Hours(1)) {
    TokenRequest r;
    r.policies = std::move(policies);
    r.ttl = ttl;
    return MustCreate(parent, r);
  }
  bool Valid(const CreatedToken& t) { return tokens_.Lookup(t.token.Reveal()).ok(); }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  TokenStore tokens_{store_, clock_, random_};
  std::string root_value_;
  TokenEntry root_;
};

// --- Root tokens and storage ----------------------------------------------------------------

TEST_F(TokenStoreTest, RootTokenLooksUpAsRootAndNeverExpires) {
  EXPECT_TRUE(root_.IsRoot());
  EXPECT_FALSE(root_.accessor.empty());
  EXPECT_EQ(root_.expires, absl::InfiniteFuture());
  EXPECT_FALSE(root_.renewable);
  EXPECT_GT(root_value_.size(), 40u);
  EXPECT_TRUE(root_value_.starts_with("rks_"));
}

TEST_F(TokenStoreTest, UnknownTokenIsPermissionDenied) {
  EXPECT_THAT(tokens_.Lookup("nope"), StatusIs(kDenied, "permission denied"));
  EXPECT_THAT(tokens_.Lookup(""), StatusIs(kDenied));
  EXPECT_THAT(tokens_.Lookup(std::string(300, 'a')), StatusIs(kDenied));
}

TEST_F(TokenStoreTest, StoresOnlyHashesOfTokensAndAccessors) {
  CreatedToken child = Child(root_, {"app"});
  ASSERT_OK_AND_ASSIGN(auto records, store_.Scan("", "", 0));
  std::vector<std::string> keys;
  for (const auto& r : records) {
    keys.push_back(r.key);
    EXPECT_EQ(r.value.Reveal().find(child.token.Reveal()), std::string_view::npos) << r.key;
    EXPECT_EQ(r.value.Reveal().find(root_value_), std::string_view::npos) << r.key;
    EXPECT_EQ(r.key.find(child.entry.accessor), std::string::npos) << r.key;
  }
  EXPECT_THAT(keys, ::testing::Contains("auth/token/id/" +
                                        crypto::Sha256Hex(std::string(child.token.Reveal()))));
  EXPECT_THAT(
      keys, ::testing::Contains("auth/token/accessor/" + crypto::Sha256Hex(child.entry.accessor)));
}

TEST_F(TokenStoreTest, EnsureRootTokenIsIdempotentAndSurvivesANewStoreObject) {
  SecretBytes fixed("dev-root");
  ASSERT_OK(tokens_.EnsureRootToken(fixed));
  ASSERT_OK_AND_ASSIGN(TokenEntry first, tokens_.Lookup("dev-root"));
  ASSERT_OK(tokens_.EnsureRootToken(fixed));
  TokenStore reopened(store_, clock_, random_);
  ASSERT_OK_AND_ASSIGN(TokenEntry again, reopened.Lookup("dev-root"));
  EXPECT_EQ(first.accessor, again.accessor);
  ASSERT_OK_AND_ASSIGN(TokenEntry by_accessor, reopened.LookupAccessor(first.accessor));
  EXPECT_EQ(by_accessor.hash, first.hash);
}

TEST_F(TokenStoreTest, TokensAreDistinctAndOpaque) {
  CreatedToken a = Child(root_, {"app"});
  CreatedToken b = Child(root_, {"app"});
  EXPECT_NE(a.token.Reveal(), b.token.Reveal());
  EXPECT_NE(a.entry.accessor, b.entry.accessor);
  EXPECT_EQ(a.token.size(), 47u);  // "rks_" + 43 base62 characters (256 bits)
}

// --- Create: policies -----------------------------------------------------------------------

TEST_F(TokenStoreTest, CreateSanitizesPoliciesAndAddsDefault) {
  CreatedToken t = Child(root_, {" App ", "app", "ops", ""});
  EXPECT_THAT(t.entry.policies, ElementsAre("app", "default", "ops"));
  EXPECT_EQ(t.entry.path, "auth/token/create");
  EXPECT_FALSE(t.entry.orphan);
  EXPECT_EQ(t.entry.parent, root_.hash);
}

TEST_F(TokenStoreTest, NoDefaultPolicyLeavesItOut) {
  TokenRequest r;
  r.policies = {"app"};
  r.no_default_policy = true;
  EXPECT_THAT(MustCreate(root_, r).entry.policies, ElementsAre("app"));
}

TEST_F(TokenStoreTest, WithoutPoliciesTheChildInheritsTheParents) {
  CreatedToken parent = Child(root_, {"app", "ops"});
  TokenRequest r;
  CreatedToken child = MustCreate(parent.entry, r);
  EXPECT_THAT(child.entry.policies, ElementsAre("app", "default", "ops"));
  // A root parent passes on root.
  EXPECT_THAT(MustCreate(root_, TokenRequest{}).entry.policies, ElementsAre("root"));
}

TEST_F(TokenStoreTest, ChildPoliciesMustBeASubsetOfTheParentsUnlessPrivileged) {
  CreatedToken parent = Child(root_, {"app"});
  TokenRequest r;
  r.policies = {"app", "admin"};
  EXPECT_THAT(tokens_.Create(parent.entry, r, /*parent_is_privileged=*/false),
              StatusIs(kInvalid, HasSubstr("child policies must be subset of parent")));
  // "default" is always allowed.
  r.policies = {"app", "default"};
  EXPECT_OK(tokens_.Create(parent.entry, r, false).status());
  // With sudo on the create path (Vault's rule) the subset rule does not apply...
  r.policies = {"admin"};
  EXPECT_OK(tokens_.Create(parent.entry, r, /*parent_is_privileged=*/true).status());
  // ...nor for a root parent.
  EXPECT_OK(tokens_.Create(root_, r, false).status());
}

TEST_F(TokenStoreTest, OnlyARootParentCreatesRootTokens) {
  CreatedToken parent = Child(root_, {"app"});
  TokenRequest r;
  r.policies = {"root"};
  EXPECT_THAT(tokens_.Create(parent.entry, r, /*parent_is_privileged=*/true),
              StatusIs(kInvalid, HasSubstr("root tokens may not be created")));
  ASSERT_OK_AND_ASSIGN(CreatedToken root2, tokens_.Create(root_, r, false));
  EXPECT_THAT(root2.entry.policies, ElementsAre("root"));  // root swallows the rest
  EXPECT_EQ(root2.entry.expires, absl::InfiniteFuture());
}

TEST_F(TokenStoreTest, InvalidPolicyNamesAreRejected) {
  TokenRequest r;
  r.policies = {"bad name!"};
  EXPECT_THAT(tokens_.Create(root_, r, false), StatusIs(kInvalid, HasSubstr("bad name!")));
}

// --- Create: other parameters ---------------------------------------------------------------

TEST_F(TokenStoreTest, CreateKeepsMetaDisplayNameAndUses) {
  TokenRequest r;
  r.policies = {"app"};
  r.meta = {{"team", "payments"}};
  r.display_name = "ci job/7";
  r.num_uses = 3;
  CreatedToken t = MustCreate(root_, r);
  ASSERT_OK_AND_ASSIGN(TokenEntry e, tokens_.Lookup(t.token.Reveal()));
  EXPECT_EQ(e.meta.at("team"), "payments");
  EXPECT_EQ(e.display_name, "token-ci-job-7");
  EXPECT_EQ(e.num_uses, 3);
  EXPECT_EQ(MustCreate(root_, TokenRequest{}).entry.display_name, "token");
}

TEST_F(TokenStoreTest, NegativeUsesAndTtlsAreRejected) {
  TokenRequest r;
  r.num_uses = -1;
  EXPECT_THAT(tokens_.Create(root_, r, false), StatusIs(kInvalid, HasSubstr("negative")));
  r.num_uses = 0;
  r.ttl = absl::Seconds(-1);
  EXPECT_THAT(tokens_.Create(root_, r, false), StatusIs(kInvalid, HasSubstr("ttl")));
  r.ttl.reset();
  r.explicit_max_ttl = absl::Seconds(-1);
  EXPECT_THAT(tokens_.Create(root_, r, false), StatusIs(kInvalid, HasSubstr("explicit_max_ttl")));
}

TEST_F(TokenStoreTest, OrphansNeedPrivilegeUnlessMadeByCreateOrphan) {
  CreatedToken parent = Child(root_, {"app"});
  TokenRequest r;
  r.policies = {"app"};
  r.no_parent = true;
  EXPECT_THAT(tokens_.Create(parent.entry, r, false),
              StatusIs(kInvalid, HasSubstr("root or sudo")));
  ASSERT_OK_AND_ASSIGN(CreatedToken sudo_orphan, tokens_.Create(parent.entry, r, true));
  EXPECT_TRUE(sudo_orphan.entry.orphan);
  EXPECT_EQ(sudo_orphan.entry.parent, "");
  r.no_parent = false;
  r.path = "auth/token/create-orphan";
  ASSERT_OK_AND_ASSIGN(CreatedToken orphan, tokens_.Create(parent.entry, r, false));
  EXPECT_TRUE(orphan.entry.orphan);
  EXPECT_EQ(orphan.entry.path, "auth/token/create-orphan");
}

TEST_F(TokenStoreTest, ARevokedParentCannotCreate) {
  CreatedToken parent = Child(root_, {"app"});
  ASSERT_OK(tokens_.Revoke(parent.entry.hash));
  EXPECT_THAT(tokens_.Create(parent.entry, TokenRequest{}, false), StatusIs(kDenied));
}

// --- TTL ------------------------------------------------------------------------------------

TEST_F(TokenStoreTest, ExpiredTokensAreDenied) {
  CreatedToken t = Child(root_, {"app"}, absl::Hours(1));
  EXPECT_EQ(t.entry.expires, clock_.Now() + absl::Hours(1));
  clock_.Advance(absl::Minutes(59));
  EXPECT_TRUE(Valid(t));
  clock_.Advance(absl::Minutes(1));
  EXPECT_THAT(tokens_.Lookup(t.token.Reveal()), StatusIs(kDenied, "permission denied"));
}

TEST_F(TokenStoreTest, DefaultTtlAppliesToNonRootTokens) {
  TokenStore small(store_, clock_, random_,
                   TokenStoreOptions{.default_ttl = absl::Hours(2), .max_ttl = absl::Hours(10)});
  TokenRequest r;
  r.policies = {"app"};
  ASSERT_OK_AND_ASSIGN(CreatedToken t, small.Create(root_, r, false));
  EXPECT_EQ(t.entry.ttl, absl::Hours(2));
  EXPECT_TRUE(t.entry.renewable);
}

TEST_F(TokenStoreTest, TtlIsCappedByExplicitMaxAndMaxTtl) {
  TokenStore small(store_, clock_, random_,
                   TokenStoreOptions{.default_ttl = absl::Hours(2), .max_ttl = absl::Hours(10)});
  TokenRequest r;
  r.policies = {"app"};
  r.ttl = absl::Hours(100);
  ASSERT_OK_AND_ASSIGN(CreatedToken capped, small.Create(root_, r, false));
  EXPECT_EQ(capped.entry.ttl, absl::Hours(10));
  r.explicit_max_ttl = absl::Hours(3);
  ASSERT_OK_AND_ASSIGN(CreatedToken explicit_capped, small.Create(root_, r, false));
  EXPECT_EQ(explicit_capped.entry.ttl, absl::Hours(3));
  EXPECT_EQ(explicit_capped.entry.expires, clock_.Now() + absl::Hours(3));
}

// --- Renew ----------------------------------------------------------------------------------

TEST_F(TokenStoreTest, RenewExtendsFromNowByIncrementOrCreationTtl) {
  CreatedToken t = Child(root_, {"app"}, absl::Hours(1));
  clock_.Advance(absl::Minutes(50));
  ASSERT_OK_AND_ASSIGN(TokenEntry renewed, tokens_.Renew(t.entry.hash, absl::ZeroDuration()));
  EXPECT_EQ(renewed.expires, clock_.Now() + absl::Hours(1));
  EXPECT_EQ(renewed.last_renewal, clock_.Now());
  ASSERT_OK_AND_ASSIGN(renewed, tokens_.Renew(t.entry.hash, absl::Minutes(5)));
  EXPECT_EQ(renewed.expires, clock_.Now() + absl::Minutes(5));
  clock_.Advance(absl::Minutes(30));  // would have expired without the first renewal
  EXPECT_FALSE(Valid(t));
}

TEST_F(TokenStoreTest, RenewNeverPassesExplicitMaxTtl) {
  TokenRequest r;
  r.policies = {"app"};
  r.ttl = absl::Hours(1);
  r.explicit_max_ttl = absl::Hours(2);
  CreatedToken t = MustCreate(root_, r);
  clock_.Advance(absl::Minutes(50));
  ASSERT_OK_AND_ASSIGN(TokenEntry renewed, tokens_.Renew(t.entry.hash, absl::Hours(5)));
  EXPECT_EQ(renewed.expires, t.entry.created + absl::Hours(2));
  clock_.Advance(absl::Minutes(70));
  EXPECT_FALSE(Valid(t));
  EXPECT_THAT(tokens_.Renew(t.entry.hash, absl::Hours(1)), StatusIs(kDenied));
}

TEST_F(TokenStoreTest, RenewNeverPassesMaxTtl) {
  TokenStore small(store_, clock_, random_,
                   TokenStoreOptions{.default_ttl = absl::Hours(1), .max_ttl = absl::Hours(3)});
  TokenRequest r;
  r.policies = {"app"};
  ASSERT_OK_AND_ASSIGN(CreatedToken t, small.Create(root_, r, false));
  TokenEntry renewed;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Minutes(50));
    ASSERT_OK_AND_ASSIGN(renewed, small.Renew(t.entry.hash, absl::Hours(1)));
  }
  EXPECT_EQ(renewed.expires, t.entry.created + absl::Hours(3));  // not 150m + 1h
}

TEST_F(TokenStoreTest, NonRenewableTokensAndRootTokensCannotBeRenewed) {
  TokenRequest r;
  r.policies = {"app"};
  r.renewable = false;
  CreatedToken t = MustCreate(root_, r);
  EXPECT_FALSE(t.entry.renewable);
  EXPECT_THAT(tokens_.Renew(t.entry.hash, absl::ZeroDuration()),
              StatusIs(kInvalid, "lease is not renewable"));
  EXPECT_THAT(tokens_.Renew(root_.hash, absl::ZeroDuration()),
              StatusIs(kInvalid, "lease is not renewable"));
  EXPECT_THAT(tokens_.Renew("no-such-hash", absl::ZeroDuration()), StatusIs(kDenied));
}

// --- Revocation -----------------------------------------------------------------------------

TEST_F(TokenStoreTest, RevokingAParentRevokesTheWholeSubtree) {
  CreatedToken parent = Child(root_, {"app"});
  CreatedToken child = Child(parent.entry, {"app"});
  CreatedToken grandchild = Child(child.entry, {"app"});
  CreatedToken sibling = Child(root_, {"app"});
  ASSERT_OK(tokens_.Revoke(parent.entry.hash));
  EXPECT_FALSE(Valid(parent));
  EXPECT_FALSE(Valid(child));
  EXPECT_FALSE(Valid(grandchild));
  EXPECT_TRUE(Valid(sibling));
  // Records and indexes are gone, not just unreachable.
  for (const CreatedToken* t : {&parent, &child, &grandchild}) {
    ASSERT_OK_AND_ASSIGN(auto rec, store_.Get("auth/token/id/" + t->entry.hash));
    EXPECT_FALSE(rec.has_value());
    EXPECT_THAT(tokens_.LookupAccessor(t->entry.accessor), StatusIs(kInvalid, "invalid accessor"));
  }
  ASSERT_OK_AND_ASSIGN(auto index,
                       store_.ScanKeys("auth/token/parent/" + parent.entry.hash, "", 0));
  EXPECT_TRUE(index.empty());
}

TEST_F(TokenStoreTest, RevokeIsIdempotent) {
  CreatedToken t = Child(root_, {"app"});
  ASSERT_OK(tokens_.Revoke(t.entry.hash));
  EXPECT_OK(tokens_.Revoke(t.entry.hash));
  EXPECT_OK(tokens_.Revoke("unknown"));
}

TEST_F(TokenStoreTest, OrphansSurviveTheirCreatorsRevocation) {
  CreatedToken parent = Child(root_, {"app"});
  TokenRequest r;
  r.path = "auth/token/create-orphan";
  CreatedToken orphan = MustCreate(parent.entry, r);
  ASSERT_OK(tokens_.Revoke(parent.entry.hash));
  EXPECT_TRUE(Valid(orphan));
}

TEST_F(TokenStoreTest, RevokeOrphanKeepsTheChildrenAsOrphans) {
  CreatedToken parent = Child(root_, {"app"});
  CreatedToken child = Child(parent.entry, {"app"});
  CreatedToken grandchild = Child(child.entry, {"app"});
  ASSERT_OK(tokens_.RevokeOrphan(parent.entry.hash));
  EXPECT_FALSE(Valid(parent));
  ASSERT_OK_AND_ASSIGN(TokenEntry c, tokens_.Lookup(child.token.Reveal()));
  EXPECT_TRUE(c.orphan);
  EXPECT_EQ(c.parent, "");
  EXPECT_TRUE(Valid(grandchild));  // still a child of `child`
  ASSERT_OK(tokens_.Revoke(child.entry.hash));
  EXPECT_FALSE(Valid(grandchild));
}

TEST_F(TokenStoreTest, AParentsExpiryInvalidatesItsChildren) {
  CreatedToken parent = Child(root_, {"app"}, absl::Hours(1));
  CreatedToken child = Child(parent.entry, {"app"}, absl::Hours(5));
  clock_.Advance(absl::Hours(2));
  EXPECT_FALSE(Valid(parent));
  EXPECT_FALSE(Valid(child));
}

TEST_F(TokenStoreTest, ARevocationIsSeenByAnotherTokenStoreOnTheSameStore) {
  CreatedToken parent = Child(root_, {"app"});
  CreatedToken child = Child(parent.entry, {"app"});
  TokenStore other(store_, clock_, random_);
  ASSERT_OK(other.Lookup(child.token.Reveal()).status());
  ASSERT_OK(tokens_.Revoke(parent.entry.hash));
  TokenStore fresh(store_, clock_, random_);
  EXPECT_THAT(fresh.Lookup(child.token.Reveal()), StatusIs(kDenied));
}

TEST_F(TokenStoreTest, TidyRemovesExpiredTokens) {
  CreatedToken short_lived = Child(root_, {"app"}, absl::Hours(1));
  CreatedToken child = Child(short_lived.entry, {"app"}, absl::Hours(10));
  CreatedToken long_lived = Child(root_, {"app"}, absl::Hours(10));
  clock_.Advance(absl::Hours(2));
  ASSERT_OK_AND_ASSIGN(size_t removed, tokens_.Tidy());
  EXPECT_EQ(removed, 2u);
  ASSERT_OK_AND_ASSIGN(auto keys, store_.ScanKeys("auth/token/id/", "", 0));
  EXPECT_EQ(keys.size(), 2u);  // root and long_lived
  EXPECT_TRUE(Valid(long_lived));
}

// --- Accessors ------------------------------------------------------------------------------

TEST_F(TokenStoreTest, AccessorsLookUpButNeverAuthenticate) {
  CreatedToken t = Child(root_, {"app"});
  ASSERT_OK_AND_ASSIGN(TokenEntry e, tokens_.LookupAccessor(t.entry.accessor));
  EXPECT_EQ(e.hash, t.entry.hash);
  EXPECT_THAT(tokens_.Lookup(t.entry.accessor), StatusIs(kDenied, "permission denied"));
  EXPECT_THAT(tokens_.LookupAccessor(t.token.Reveal()), StatusIs(kInvalid, "invalid accessor"));
  EXPECT_THAT(tokens_.LookupAccessor(""), StatusIs(kInvalid));
}

TEST_F(TokenStoreTest, ListAccessorsListsEveryToken) {
  CreatedToken a = Child(root_, {"app"});
  CreatedToken b = Child(root_, {"app"});
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> list, tokens_.ListAccessors());
  EXPECT_EQ(list.size(), 3u);
  EXPECT_THAT(list, ::testing::IsSupersetOf({a.entry.accessor, b.entry.accessor, root_.accessor}));
}

// --- Use limits -----------------------------------------------------------------------------

TEST_F(TokenStoreTest, UsesAreCountedAndTheLastUseRevokes) {
  TokenRequest r;
  r.policies = {"app"};
  r.num_uses = 2;
  CreatedToken t = MustCreate(root_, r);
  CreatedToken child = Child(t.entry, {"app"});
  EXPECT_TRUE(tokens_.MayNeedWrite(t.token.Reveal()));
  ASSERT_OK(tokens_.ConsumeUse(t.entry.hash));
  ASSERT_OK_AND_ASSIGN(TokenEntry after_one, tokens_.Lookup(t.token.Reveal()));
  EXPECT_EQ(after_one.num_uses, 1);
  ASSERT_OK(tokens_.ConsumeUse(t.entry.hash));  // the last use is allowed
  EXPECT_FALSE(Valid(t));
  EXPECT_FALSE(Valid(child));
  EXPECT_THAT(tokens_.ConsumeUse(t.entry.hash), StatusIs(kDenied));
}

TEST_F(TokenStoreTest, UnlimitedTokensDoNotWrite) {
  CreatedToken t = Child(root_, {"app"});
  EXPECT_FALSE(tokens_.MayNeedWrite(t.token.Reveal()));
  const uint64_t before = store_.CommitIndex();
  ASSERT_OK(tokens_.ConsumeUse(t.entry.hash));
  EXPECT_EQ(store_.CommitIndex(), before);
}

TEST_F(TokenStoreTest, UseCountsAreSharedBetweenTokenStoresOnOneStore) {
  TokenRequest r;
  r.policies = {"app"};
  r.num_uses = 2;
  CreatedToken t = MustCreate(root_, r);
  TokenStore other(store_, clock_, random_);
  ASSERT_OK(other.Lookup(t.token.Reveal()).status());  // cached there with 2 uses
  ASSERT_OK(tokens_.ConsumeUse(t.entry.hash));
  ASSERT_OK(other.ConsumeUse(t.entry.hash));  // reads the store, not its cache: the last use
  EXPECT_THAT(tokens_.ConsumeUse(t.entry.hash), StatusIs(kDenied));
}

TEST_F(TokenStoreTest, ConcurrentUsesNeverExceedTheLimit) {
  TokenRequest r;
  r.policies = {"app"};
  r.num_uses = 50;
  CreatedToken t = MustCreate(root_, r);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 40; ++j) {
        if (tokens_.ConsumeUse(t.entry.hash).ok()) allowed.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 50);
  EXPECT_FALSE(Valid(t));
}

}  // namespace
}  // namespace rekey::auth
