#include "auth/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "core/strings.h"
#include "core/testing/status_matchers.h"

namespace rekey::auth {

// Readable failure output for EXPECT_EQ on capability sets.
void PrintTo(const CapabilitySet& caps, std::ostream* os) { *os << caps.ToString(); }

namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

using C = Capability;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// A policy from a JSON literal; the test fails if it does not parse.
Policy MustParse(std::string_view name, std::string_view text) {
  absl::StatusOr<Policy> policy = Policy::Parse(name, text);
  EXPECT_THAT(policy, IsOk()) << text;
  if (policy.ok()) return *std::move(policy);
  return *Policy::Create("parse-failed", {});  // grants nothing
}

// {"path": {pattern: {"capabilities": [caps]}}} for a single rule.
std::string OneRule(std::string_view pattern, std::string_view caps) {
  return StrCat(R"({"path": {")", pattern, R"(": {"capabilities": [)", caps, "]}}}");
}

PolicySet SetOf(std::vector<Policy> policies) { return PolicySet(policies); }

// --- Capabilities -------------------------------------------------------------------------------

TEST(CapabilityTest, NamesRoundTrip) {
  for (Capability c : kAllCapabilities) {
    ASSERT_OK_AND_ASSIGN(Capability parsed, ParseCapability(CapabilityName(c)));
    EXPECT_EQ(parsed, c);
  }
  EXPECT_EQ(CapabilityName(C::kRotate), "rotate");
}

TEST(CapabilityTest, UnknownNameIsInvalidArgument) {
  EXPECT_THAT(ParseCapability("Read"),
              StatusIs(kInvalid, HasSubstr("unknown capability \"Read\"")));
}

TEST(CapabilitySetTest, ToStringListsInCanonicalOrder) {
  EXPECT_EQ((CapabilitySet{C::kList, C::kRotate, C::kRead}).ToString(), "[read, list, rotate]");
  EXPECT_EQ(CapabilitySet().ToString(), "[]");
}

TEST(CapabilitySetTest, AllGrantingExcludesDeny) {
  CapabilitySet all = CapabilitySet::AllGranting();
  for (Capability c : kAllCapabilities) {
    EXPECT_EQ(all.Has(c), c != C::kDeny) << CapabilityName(c);
  }
}

// --- Parse: accepted documents ------------------------------------------------------------------

TEST(PolicyParseTest, ParsesRules) {
  ASSERT_OK_AND_ASSIGN(Policy p, Policy::Parse("dev", R"({"path": {
      "secret/data/*": {"capabilities": ["read", "list"]},
      "secret/data/app": {"capabilities": ["rotate"]}}})"));
  EXPECT_EQ(p.name(), "dev");
  EXPECT_FALSE(p.IsRoot());
  EXPECT_THAT(p.rules(), ::testing::ElementsAre(PathRule{"secret/data/*", {C::kRead, C::kList}},
                                                PathRule{"secret/data/app", {C::kRotate}}));
}

TEST(PolicyParseTest, EmptyDocumentsAreValidAndGrantNothing) {
  ASSERT_OK_AND_ASSIGN(Policy a, Policy::Parse("empty", "{}"));
  ASSERT_OK_AND_ASSIGN(Policy b, Policy::Parse("empty", R"({"path": {}})"));
  EXPECT_TRUE(a.rules().empty());
  EXPECT_TRUE(b.rules().empty());
}

TEST(PolicyParseTest, DenyWithOtherCapabilitiesKeepsOnlyDeny) {
  ASSERT_OK_AND_ASSIGN(Policy p, Policy::Parse("p", OneRule("secret/x", R"("read", "deny")")));
  ASSERT_EQ(p.rules().size(), 1u);
  EXPECT_EQ(p.rules()[0].capabilities, CapabilitySet{C::kDeny});
}

// --- Parse: every rejection, each with its message -----------------------------------------------

TEST(PolicyParseErrorTest, UnknownCapability) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/*", R"("read", "raed")")),
              StatusIs(kInvalid, HasSubstr(R"(policy "dev": path "secret/*": unknown capability )"
                                           R"("raed" (expected one of create, read,)")));
}

TEST(PolicyParseErrorTest, CapabilitiesNotAList) {
  EXPECT_THAT(
      Policy::Parse("dev", R"({"path": {"secret/*": {"capabilities": "read"}}})"),
      StatusIs(kInvalid,
               R"(policy "dev": path "secret/*": "capabilities" must be a list of strings)"));
}

TEST(PolicyParseErrorTest, CapabilitiesListOfNonStrings) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/*", "1")),
              StatusIs(kInvalid, HasSubstr(R"("capabilities" must be a list of strings)")));
}

TEST(PolicyParseErrorTest, CapabilitiesMissing) {
  EXPECT_THAT(Policy::Parse("dev", R"({"path": {"secret/*": {}}})"),
              StatusIs(kInvalid, R"(policy "dev": path "secret/*": "capabilities" is missing)"));
}

TEST(PolicyParseErrorTest, CapabilitiesEmpty) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/*", "")),
              StatusIs(kInvalid, HasSubstr(R"(path "secret/*": no capabilities; use ["deny"])")));
}

TEST(PolicyParseErrorTest, EmptyPattern) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("", R"("read")")),
              StatusIs(kInvalid, R"(policy "dev": path "": the path pattern is empty)"));
}

TEST(PolicyParseErrorTest, StarNotAtTheEnd) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/*/config", R"("read")")),
              StatusIs(kInvalid, R"(policy "dev": path "secret/*/config": '*' is only allowed as )"
                                 "the last character of a path pattern"));
}

TEST(PolicyParseErrorTest, PlusInsideASegment) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/team+/config", R"("read")")),
              StatusIs(kInvalid, HasSubstr(R"(path "secret/team+/config": '+' is only allowed as )"
                                           "a whole path segment")));
}

TEST(PolicyParseErrorTest, PlusFollowedByStar) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret/+*", R"("read")")),
              StatusIs(kInvalid, HasSubstr(R"(path "secret/+*": invalid use of wildcards ('+*' is )"
                                           "forbidden)")));
}

TEST(PolicyParseErrorTest, LeadingSlash) {
  EXPECT_THAT(
      Policy::Parse("dev", OneRule("/secret/*", R"("read")")),
      StatusIs(kInvalid, HasSubstr(R"(path "/secret/*": the path pattern must not start )")));
}

TEST(PolicyParseErrorTest, EmptySegment) {
  EXPECT_THAT(Policy::Parse("dev", OneRule("secret//x", R"("read")")),
              StatusIs(kInvalid, HasSubstr(R"(path "secret//x": the path pattern has an empty )")));
}

TEST(PolicyParseErrorTest, ControlCharacterIsRejectedAndEscapedInTheMessage) {
  EXPECT_THAT(
      Policy::Parse("dev", OneRule(R"(secret/\n)", R"("read")")),
      StatusIs(kInvalid, HasSubstr(R"(path "secret/\n": the path pattern contains a control)")));
}

TEST(PolicyParseErrorTest, UnknownRuleKey) {
  EXPECT_THAT(
      Policy::Parse("dev", R"({"path": {"secret/*": {"capabilities": ["read"], "comment": "x"}}})"),
      StatusIs(kInvalid, R"(policy "dev": path "secret/*": unknown key "comment")"));
}

TEST(PolicyParseErrorTest, VaultOnlyKeysAreNotSupportedYet) {
  for (std::string_view key :
       {"allowed_parameters", "denied_parameters", "required_parameters", "min_wrapping_ttl",
        "max_wrapping_ttl", "mfa_methods", "control_group", "policy"}) {
    std::string text =
        StrCat(R"({"path": {"secret/*": {"capabilities": ["read"], ")", key, R"(": {}}}})");
    EXPECT_THAT(Policy::Parse("dev", text),
                StatusIs(kInvalid, StrCat(R"(policy "dev": path "secret/*": ")", key,
                                          R"(" is not supported yet)")));
  }
}

TEST(PolicyParseErrorTest, UnknownTopLevelKey) {
  EXPECT_THAT(Policy::Parse("dev", R"({"paths": {}})"),
              StatusIs(kInvalid, R"(policy "dev": unknown top-level key "paths" (only "path" is )"
                                 "allowed)"));
}

TEST(PolicyParseErrorTest, DocumentNotAnObject) {
  EXPECT_THAT(Policy::Parse("dev", "[]"),
              StatusIs(kInvalid, R"(policy "dev": the document must be a JSON object)"));
}

TEST(PolicyParseErrorTest, PathNotAnObject) {
  EXPECT_THAT(Policy::Parse("dev", R"({"path": ["secret/*"]})"),
              StatusIs(kInvalid, HasSubstr(R"("path" must be an object)")));
}

TEST(PolicyParseErrorTest, RuleNotAnObject) {
  EXPECT_THAT(Policy::Parse("dev", R"({"path": {"secret/*": ["read"]}})"),
              StatusIs(kInvalid, R"(policy "dev": path "secret/*": the rule must be an object)"));
}

TEST(PolicyParseErrorTest, MalformedJson) {
  EXPECT_THAT(Policy::Parse("dev", R"({"path": )"),
              StatusIs(kInvalid, HasSubstr(R"(policy "dev": malformed JSON: )")));
}

// Boost.JSON keeps the last of two equal keys; a dropped deny must not go unnoticed.
TEST(PolicyParseErrorTest, DuplicatePattern) {
  EXPECT_THAT(Policy::Parse("dev", R"({"path": {"secret/x": {"capabilities": ["deny"]},
                                                "secret/x": {"capabilities": ["read"]}}})"),
              StatusIs(kInvalid, R"(policy "dev": duplicate key "secret/x")"));
}

TEST(PolicyParseErrorTest, TooLarge) {
  std::string text(Policy::kMaxJsonBytes + 1, ' ');
  EXPECT_THAT(Policy::Parse("dev", text), StatusIs(kInvalid, HasSubstr("the limit is 1048576")));
}

TEST(PolicyParseErrorTest, InvalidNames) {
  for (std::string_view name : {"", "Dev", "dev team", "dev/x", "dév"}) {
    EXPECT_THAT(Policy::Parse(name, "{}"), StatusIs(kInvalid, HasSubstr("is invalid: use 1 to 128 "
                                                                        "characters of a-z")))
        << name;
  }
  EXPECT_THAT(Policy::Parse(std::string(129, 'a'), "{}"), StatusIs(kInvalid));
  EXPECT_THAT(Policy::Parse(std::string(128, 'a'), "{}"), IsOk());
  EXPECT_THAT(Policy::Parse("ops_team-2", "{}"), IsOk());
}

TEST(PolicyParseErrorTest, RootNameIsReserved) {
  EXPECT_THAT(Policy::Parse("root", "{}"),
              StatusIs(kInvalid, R"(policy name "root" is reserved for the built-in policy)"));
}

TEST(PolicyCreateTest, RejectsTheSamePatternTwice) {
  EXPECT_THAT(Policy::Create("dev", {{"a/*", {C::kRead}}, {"a/*", {C::kList}}}),
              StatusIs(kInvalid, R"(policy "dev": path "a/*": appears more than once)"));
}

// --- Serialize ---------------------------------------------------------------------------------

TEST(PolicySerializeTest, IsCanonical) {
  Policy p = MustParse("dev", R"({"path": {
      "secret/b": {"capabilities": ["list", "read", "read"]},
      "secret/a/*": {"capabilities": ["rotate", "sudo", "create"]}}})");
  EXPECT_EQ(p.Serialize(), R"({"path":{"secret/a/*":{"capabilities":["create","sudo","rotate"]},)"
                           R"("secret/b":{"capabilities":["read","list"]}}})");
}

TEST(PolicySerializeTest, RoundTrips) {
  Policy p = MustParse("dev", R"({"path": {
      "secret/data/*": {"capabilities": ["create", "read", "update", "patch", "delete"]},
      "secret/+/teams/*": {"capabilities": ["list"]},
      "secret/data/app": {"capabilities": ["deny"]},
      "*": {"capabilities": ["sudo", "rotate"]}}})");
  ASSERT_OK_AND_ASSIGN(Policy again, Policy::Parse("dev", p.Serialize()));
  EXPECT_EQ(again, p);
  EXPECT_EQ(again.Serialize(), p.Serialize());
}

TEST(PolicySerializeTest, RootHasNoRules) {
  EXPECT_EQ(Policy::Root().Serialize(), R"({"path":{}})");
}

// --- Matching ----------------------------------------------------------------------------------

TEST(PolicySetTest, GlobMatchesItsDirectoryButNotTheBareName) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/*", R"("read")"))});
  EXPECT_TRUE(set.Allows("secret/", C::kRead));
  EXPECT_TRUE(set.Allows("secret/a/b/c", C::kRead));
  EXPECT_FALSE(set.Allows("secret", C::kRead));
  EXPECT_FALSE(set.Allows("secrets/a", C::kRead));
}

// From the Vault docs: "secret/zip-*" matches "secret/zip-zap/zong" but not "secret/zip/zap".
TEST(PolicySetTest, GlobIsAPlainPrefixWithinASegment) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/zip-*", R"("read")"))});
  EXPECT_TRUE(set.Allows("secret/zip-zap", C::kRead));
  EXPECT_TRUE(set.Allows("secret/zip-zap/zong", C::kRead));
  EXPECT_FALSE(set.Allows("secret/zip/zap", C::kRead));
}

TEST(PolicySetTest, ExactPatternMatchesOnlyItself) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/foo", R"("read")"))});
  EXPECT_TRUE(set.Allows("secret/foo", C::kRead));
  EXPECT_FALSE(set.Allows("secret/food", C::kRead));
  EXPECT_FALSE(set.Allows("secret/foo/bar", C::kRead));
}

TEST(PolicySetTest, PlusMatchesExactlyOneNonEmptySegment) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/+/teams/*", R"("read")"))});
  EXPECT_TRUE(set.Allows("secret/a/teams/x", C::kRead));
  EXPECT_TRUE(set.Allows("secret/a/teams/", C::kRead));
  EXPECT_FALSE(set.Allows("secret/teams/x", C::kRead));
  EXPECT_FALSE(set.Allows("secret//teams/x", C::kRead));
  EXPECT_FALSE(set.Allows("secret/a/b/teams/x", C::kRead));
  EXPECT_FALSE(set.Allows("secret/a/teams", C::kRead));
}

TEST(PolicySetTest, LeadingSlashOfTheRequestPathIsIgnored) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/foo", R"("read")"))});
  EXPECT_TRUE(set.Allows("/secret/foo", C::kRead));
}

// --- Priority ----------------------------------------------------------------------------------

// The Vault docs' own example: secret/* grants all, secret/super-secret denies.
TEST(PolicyPriorityTest, ExactBeatsGlob) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "secret/*": {"capabilities": ["create", "read", "update", "patch", "delete", "list"]},
      "secret/super-secret": {"capabilities": ["deny"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("secret/super-secret"), CapabilitySet{C::kDeny});
  EXPECT_TRUE(set.Allows("secret/other", C::kRead));
}

// The winner alone decides: an exact grant is not cut down by a denying glob (no union).
TEST(PolicyPriorityTest, ExactGrantBeatsDenyingGlob) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "secret/*": {"capabilities": ["deny"]},
      "secret/open": {"capabilities": ["read"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("secret/open"), CapabilitySet{C::kRead});
  EXPECT_FALSE(set.Allows("secret/closed", C::kRead));
}

TEST(PolicyPriorityTest, LongerGlobBeatsShorterAndIsNotUnioned) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "secret/*": {"capabilities": ["read", "list"]},
      "secret/data/*": {"capabilities": ["create", "update"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("secret/data/x"), (CapabilitySet{C::kCreate, C::kUpdate}));
  EXPECT_EQ(set.CapabilitiesFor("secret/meta/x"), (CapabilitySet{C::kRead, C::kList}));
}

// Vault docs, "Policies", priority rule 3 and its example: for "secret/*" and
// "secret/+/+/foo/*" the first wildcard is at the same place and both end in '*', so the one with
// more '+' segments ("secret/+/+/foo/*") has lower priority.
TEST(PolicyPriorityTest, DocExampleGlobBeatsMorePlusSegments) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "secret/*": {"capabilities": ["read"]},
      "secret/+/+/foo/*": {"capabilities": ["update"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("secret/a/b/foo/c"), CapabilitySet{C::kRead});
}

// Rule 1 (vault/acl.go comment: "prefer foo/a* over foo/+"): a later first wildcard wins.
TEST(PolicyPriorityTest, LaterFirstWildcardWins) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "foo/a*": {"capabilities": ["read"]},
      "foo/+": {"capabilities": ["update"]},
      "foo/+/bar/baz": {"capabilities": ["list"]},
      "foo/bar/+/baz": {"capabilities": ["delete"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("foo/abc"), CapabilitySet{C::kRead});
  EXPECT_EQ(set.CapabilitiesFor("foo/xyz"), CapabilitySet{C::kUpdate});
  // acl.go: "prefer foo/bar/+/baz over foo/+/bar/baz".
  EXPECT_EQ(set.CapabilitiesFor("foo/bar/bar/baz"), CapabilitySet{C::kDelete});
}

// Rule 2 (acl.go: "prefer foo/+/bar over foo/+/ba*, foo/+ over foo/*"): '*' loses a tie.
TEST(PolicyPriorityTest, NonGlobBeatsGlobAtTheSameFirstWildcard) {
  PolicySet plus = SetOf({MustParse("p", R"({"path": {
      "foo/+/bar": {"capabilities": ["read"]},
      "foo/+/ba*": {"capabilities": ["update"]}}})")});
  EXPECT_EQ(plus.CapabilitiesFor("foo/x/bar"), CapabilitySet{C::kRead});
  EXPECT_EQ(plus.CapabilitiesFor("foo/x/baz"), CapabilitySet{C::kUpdate});
  PolicySet glob = SetOf({MustParse("p", R"({"path": {
      "foo/+": {"capabilities": ["list"]},
      "foo/*": {"capabilities": ["delete"]}}})")});
  EXPECT_EQ(glob.CapabilitiesFor("foo/x"), CapabilitySet{C::kList});
  EXPECT_EQ(glob.CapabilitiesFor("foo/x/y"), CapabilitySet{C::kDelete});
}

// Rule 3 between two globs, as in the doc example: "foo/*" beats the longer "foo/+/ba*" because
// both first wildcards sit at index 4 and "foo/*" has no '+'. Surprising, but it is Vault's order.
TEST(PolicyPriorityTest, PlainGlobBeatsLongerPlusGlobAtTheSameFirstWildcard) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "foo/+/ba*": {"capabilities": ["update"]},
      "foo/*": {"capabilities": ["delete"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("foo/x/baz"), CapabilitySet{C::kDelete});
}

// Rule 3: with the first '+' at the same place and neither a glob, fewer '+' segments win.
TEST(PolicyPriorityTest, FewerPlusSegmentsWin) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "foo/+/+/baz": {"capabilities": ["read"]},
      "foo/+/bar/baz": {"capabilities": ["update"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("foo/x/bar/baz"), CapabilitySet{C::kUpdate});
  EXPECT_EQ(set.CapabilitiesFor("foo/x/y/baz"), CapabilitySet{C::kRead});
}

// Rule 4 (acl.go: "prefer foo/+/bar/ba* over foo/+/bar/b*"): the longer pattern wins.
TEST(PolicyPriorityTest, LongerPatternWinsTheRemainingTie) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "foo/+/bar/ba*": {"capabilities": ["read"]},
      "foo/+/bar/b*": {"capabilities": ["update"]}}})")});
  EXPECT_EQ(set.CapabilitiesFor("foo/x/bar/baz"), CapabilitySet{C::kRead});
  EXPECT_EQ(set.CapabilitiesFor("foo/x/bar/bz"), CapabilitySet{C::kUpdate});
}

// A deny in a rule that loses the priority contest does not apply.
TEST(PolicyPriorityTest, DenyInALosingRuleDoesNotApply) {
  PolicySet set = SetOf({MustParse("p", R"({"path": {
      "secret/*": {"capabilities": ["deny"]},
      "secret/+/open": {"capabilities": ["read"]}}})")});
  EXPECT_TRUE(set.Allows("secret/a/open", C::kRead));
  EXPECT_FALSE(set.Allows("secret/a/closed", C::kRead));
}

TEST(PolicyPriorityTest, DenyInTheWinningRuleDeniesEverythingIncludingSudo) {
  PolicySet set = SetOf({MustParse("a", OneRule("sys/audit/*", R"("read", "sudo", "rotate")")),
                         MustParse("b", OneRule("sys/audit/*", R"("deny")"))});
  EXPECT_EQ(set.CapabilitiesFor("sys/audit/file"), CapabilitySet{C::kDeny});
  for (Capability c : kAllCapabilities) EXPECT_FALSE(set.Allows("sys/audit/file", c));
}

TEST(PolicyPriorityTest, SamePatternInTwoPoliciesMergesCapabilities) {
  PolicySet set = SetOf({MustParse("reader", OneRule("secret/data/*", R"("read")")),
                         MustParse("writer", OneRule("secret/data/*", R"("update", "rotate")"))});
  EXPECT_EQ(set.CapabilitiesFor("secret/data/x"),
            (CapabilitySet{C::kRead, C::kUpdate, C::kRotate}));
}

TEST(PolicyPriorityTest, UnmatchedPathIsDenied) {
  PolicySet set = SetOf({MustParse("p", OneRule("secret/data/*", R"("read")"))});
  EXPECT_TRUE(set.CapabilitiesFor("transit/keys/a").empty());
  EXPECT_FALSE(set.Allows("transit/keys/a", C::kRead));
  EXPECT_FALSE(PolicySet().Allows("secret/data/x", C::kRead));
}

TEST(PolicyPriorityTest, RootGrantsEverythingIncludingRotateAndSudo) {
  PolicySet set = SetOf({MustParse("p", OneRule("*", R"("deny")")), Policy::Root()});
  EXPECT_TRUE(set.IsRoot());
  EXPECT_EQ(set.CapabilitiesFor("sys/anything"), CapabilitySet::AllGranting());
  for (Capability c : kAllCapabilities) {
    EXPECT_EQ(set.Allows("any/path", c), c != C::kDeny) << CapabilityName(c);
  }
  EXPECT_TRUE(set.Allows("rotation/db/prod", C::kRotate));
  EXPECT_TRUE(set.Allows("sys/audit/file", C::kSudo));
}

TEST(PolicyPriorityTest, PolicySetOutlivesItsPolicies) {
  PolicySet set;
  {
    std::vector<Policy> policies = {MustParse("p", OneRule("secret/+/x", R"("read")"))};
    set = PolicySet(policies);
  }
  EXPECT_TRUE(set.Allows("secret/a/x", C::kRead));
}

// --- A realistic set, table-driven ------------------------------------------------------------

TEST(PolicySetTableTest, RealisticPolicies) {
  PolicySet set = SetOf({
      MustParse("app-team", R"({"path": {
          "secret/data/app/*": {"capabilities": ["create", "read", "update", "patch", "delete"]},
          "secret/metadata/app/*": {"capabilities": ["read", "list"]},
          "secret/data/app/prod/*": {"capabilities": ["read"]},
          "secret/data/app/prod/db-root": {"capabilities": ["deny"]},
          "secret/+/shared/*": {"capabilities": ["read", "list"]},
          "rotation/app/*": {"capabilities": ["read", "rotate"]}}})"),
      MustParse("ops", R"({"path": {
          "secret/data/app/prod/*": {"capabilities": ["update"]},
          "sys/audit": {"capabilities": ["read", "sudo"]},
          "sys/audit/*": {"capabilities": ["read", "list", "sudo"]},
          "rotation/+/status": {"capabilities": ["read"]},
          "transit/encrypt/+": {"capabilities": ["update"]}}})"),
  });
  const CapabilitySet kCrud = {C::kCreate, C::kRead, C::kUpdate, C::kPatch, C::kDelete};
  struct Case {
    std::string_view path;
    CapabilitySet want;
  };
  const Case cases[] = {
      {"secret/data/app/config", kCrud},
      {"secret/data/app/", kCrud},  // a glob covers its own directory
      {"secret/data/app", {}},      // ...but not the bare name
      {"/secret/data/app/config", kCrud},
      {"secret/data/app/prod/api-key", {C::kRead, C::kUpdate}},  // merged across policies
      {"secret/data/app/prod/db-root", {C::kDeny}},              // exact deny wins
      {"secret/data/app/prod/db-root/x", {C::kRead, C::kUpdate}},
      {"secret/metadata/app/", {C::kRead, C::kList}},
      {"secret/metadata/app/prod/x", {C::kRead, C::kList}},
      {"secret/data/shared/x", {C::kRead, C::kList}},
      {"secret/metadata/shared/", {C::kRead, C::kList}},
      {"secret/data/app/shared/x", kCrud},  // '+' is one segment: "app/shared" is not "shared"
      {"secret/other/shared", {}},
      {"rotation/app/db", {C::kRead, C::kRotate}},
      // "rotation/app/*" (first wildcard at 13) beats "rotation/+/status" (at 9): rule 1.
      {"rotation/app/status", {C::kRead, C::kRotate}},
      {"rotation/web/status", {C::kRead}},
      {"rotation/web/other", {}},
      {"sys/audit", {C::kRead, C::kSudo}},
      {"sys/audit/file", {C::kRead, C::kList, C::kSudo}},
      {"sys/auditx", {}},
      {"sys/policies/acl/app-team", {}},
      {"transit/encrypt/orders", {C::kUpdate}},
      {"transit/encrypt/orders/extra", {}},
      {"transit/encrypt/", {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(set.CapabilitiesFor(c.path), c.want) << c.path;
  }
}

}  // namespace
}  // namespace rekey::auth
