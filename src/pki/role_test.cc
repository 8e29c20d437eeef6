// Tests of roles (parsing, rendering, name checks), host-name rules and TTL parsing.
#include "pki/role.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "pki/names.h"
#include "pki/testing/matchers.h"
#include "pki/ttl.h"

namespace rekey::pki {
namespace {

using ::rekey::pki::testing::IsOkAndHolds;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

boost::json::object Obj(std::string_view text) {
  return boost::json::parse(boost::json::string_view(text.data(), text.size())).as_object();
}

Role MustRole(std::string_view json) {
  absl::StatusOr<Role> role = RoleFromJson("web", Obj(json), nullptr);
  EXPECT_TRUE(role.ok()) << role.status();
  return role.ok() ? *role : Role{};
}

TEST(RoleTest, DefaultsFollowVault) {
  Role r = MustRole("{}");
  EXPECT_EQ(r.key_type, "rsa");
  EXPECT_EQ(r.key_bits, 2048);
  EXPECT_TRUE(r.allow_localhost);
  EXPECT_TRUE(r.allow_ip_sans);
  EXPECT_TRUE(r.enforce_hostnames);
  EXPECT_FALSE(r.allow_subdomains);
  EXPECT_EQ(r.issuer_ref, "default");
  EXPECT_EQ(r.not_before_duration, absl::Seconds(30));
  EXPECT_EQ(r.GeneratedKeyType(), KeyType::kRsa2048);
}

TEST(RoleTest, ParsesVaultFieldShapes) {
  Role r =
      MustRole(R"({"allowed_domains": "Example.com, .corp.internal", "allow_subdomains": "true",
      "key_type": "ec", "key_bits": 384, "ttl": "72h", "max_ttl": 864000,
      "key_usage": ["DigitalSignature"], "ext_key_usage": "CodeSigning",
      "server_flag": false})");
  EXPECT_THAT(r.allowed_domains, ElementsAre("example.com", "corp.internal"));
  EXPECT_TRUE(r.allow_subdomains);
  EXPECT_EQ(r.GeneratedKeyType(), KeyType::kEcP384);
  EXPECT_EQ(r.ttl, absl::Hours(72));
  EXPECT_EQ(r.max_ttl, absl::Hours(240));
  EXPECT_EQ(r.key_usage, kDigitalSignature);
  EXPECT_THAT(LeafExtKeyUsage(r), ElementsAre(ExtKeyUsage::kClientAuth, ExtKeyUsage::kCodeSigning));
}

TEST(RoleTest, ReportsEveryProblemAtOnce) {
  absl::StatusOr<Role> r = RoleFromJson(
      "web", Obj(R"({"key_type": "ec", "key_bits": 521, "ttl": "soon", "allow_subdomains": 3,
                     "key_usage": ["Telepathy", "CertSign"], "allowed_domains": "*.x.com"})"),
      nullptr);
  EXPECT_THAT(
      r, StatusIs(absl::StatusCode::kInvalidArgument,
                  AllOf(HasSubstr("key_bits:"), HasSubstr("ttl:"), HasSubstr("allow_subdomains:"),
                        HasSubstr("Telepathy"), HasSubstr("CA certificates only"),
                        HasSubstr("allow_glob_domains is false"))));
}

TEST(RoleTest, TtlAboveMaxTtlIsRefused) {
  EXPECT_THAT(RoleFromJson("web", Obj(R"({"ttl": "10d", "max_ttl": "1d"})"), nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_ttl")));
}

TEST(RoleTest, BadNameIsRefused) {
  EXPECT_THAT(RoleFromJson("a/b", Obj("{}"), nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(RoleFromJson("", Obj("{}"), nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RoleTest, UnknownFieldsBecomeWarnings) {
  std::vector<std::string> warnings;
  ASSERT_OK(RoleFromJson("web", Obj(R"({"organization": "ACME"})"), &warnings).status());
  EXPECT_THAT(warnings, ElementsAre(HasSubstr("organization")));
}

TEST(RoleTest, JsonRoundTrip) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_bare_domains": true,
      "key_type": "ed25519", "ttl": 3600, "max_ttl": "2h", "ext_key_usage": ["ClientAuth"],
      "issuer_ref": "next", "no_store": true, "key_usage": []})");
  absl::StatusOr<Role> back = RoleFromJson("web", RoleToJson(r), nullptr);
  ASSERT_OK(back.status());
  EXPECT_EQ(boost::json::serialize(RoleToJson(*back)), boost::json::serialize(RoleToJson(r)));
  EXPECT_EQ(back->key_usage, 0u);
  EXPECT_EQ(back->GeneratedKeyType(), KeyType::kEd25519);
}

TEST(CheckNamesTest, SubdomainsBareAndLocalhost) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_subdomains": true})");
  EXPECT_THAT(CheckNames(r, "a.example.com", {"b.c.example.com", "localhost"}, {}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "example.com", {}, {}),
              ElementsAre(HasSubstr("common_name \"example.com\" is not allowed")));
  r.allow_bare_domains = true;
  EXPECT_THAT(CheckNames(r, "example.com", {}, {}), IsEmpty());
  r.allow_localhost = false;
  EXPECT_THAT(CheckNames(r, "a.example.com", {"localhost"}, {}),
              ElementsAre(HasSubstr("alt_names \"localhost\"")));
}

TEST(CheckNamesTest, SuffixWithoutADotIsNotASubdomain) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_subdomains": true})");
  EXPECT_THAT(CheckNames(r, "evilexample.com", {}, {}), ElementsAre(HasSubstr("not allowed")));
}

TEST(CheckNamesTest, StarsAndControlCharactersAreRefusedEvenWithoutHostnameEnforcement) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                        "enforce_hostnames": false, "allow_wildcard_certificates": false})");
  EXPECT_THAT(CheckNames(r, "ok.example.com", {"free form.example.com"}, {}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "f*.example.com", {}, {}), ElementsAre(HasSubstr("not allowed")));
  EXPECT_THAT(CheckNames(r, "*.example.com", {}, {}), ElementsAre(HasSubstr("not allowed")));
  EXPECT_THAT(CheckNames(r, std::string("evil.com\x01.example.com"), {}, {}),
              ElementsAre(HasSubstr("not allowed")));
  r.allow_wildcard_certificates = true;
  EXPECT_THAT(CheckNames(r, "*.example.com", {}, {}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "a.*.example.com", {}, {}), ElementsAre(HasSubstr("not allowed")));
}

TEST(CheckNamesTest, ListsEveryRefusedName) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                        "allow_ip_sans": false})");
  EXPECT_THAT(CheckNames(r, "evil.net", {"ok.example.com", "bad.org", "under_score.example.com"},
                         {"10.0.0.1"}),
              ElementsAre(HasSubstr("\"evil.net\""), HasSubstr("\"bad.org\""),
                          HasSubstr("not a valid host name"), HasSubstr("ip_sans")));
}

TEST(CheckNamesTest, WildcardsNeedSubdomainsAndThePermission) {
  Role r = MustRole(R"({"allowed_domains": ["example.com"], "allow_subdomains": true})");
  EXPECT_THAT(CheckNames(r, "*.example.com", {}, {}), IsEmpty());
  r.allow_wildcard_certificates = false;
  EXPECT_THAT(CheckNames(r, "*.example.com", {}, {}), ::testing::SizeIs(1));
}

TEST(CheckNamesTest, GlobDomains) {
  Role r = MustRole(R"({"allowed_domains": ["web-*.example.com"], "allow_glob_domains": true})");
  EXPECT_THAT(CheckNames(r, "web-01.example.com", {}, {}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "db-01.example.com", {}, {}), ::testing::SizeIs(1));
}

TEST(CheckNamesTest, AnyNameStillEnforcesHostnamesUnlessTurnedOff) {
  Role r = MustRole(R"({"allow_any_name": true})");
  EXPECT_THAT(CheckNames(r, "anything.test", {}, {}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "My Service", {}, {}), ::testing::SizeIs(1));
  r.enforce_hostnames = false;
  EXPECT_THAT(CheckNames(r, "My Service", {}, {}), IsEmpty());
}

TEST(CheckNamesTest, IpCommonNameAndBadIps) {
  Role r = MustRole(R"({"allow_any_name": true})");
  EXPECT_THAT(CheckNames(r, "10.0.0.1", {}, {"::1"}), IsEmpty());
  EXPECT_THAT(CheckNames(r, "x.test", {}, {"300.1.1.1"}),
              ElementsAre(HasSubstr("not an IP address")));
  r.allow_ip_sans = false;
  EXPECT_THAT(CheckNames(r, "10.0.0.1", {}, {}), ElementsAre(HasSubstr("IP address")));
}

TEST(CheckNamesTest, RequireCn) {
  Role r = MustRole(R"({"allow_any_name": true})");
  EXPECT_THAT(CheckNames(r, "", {"a.test"}, {}), ElementsAre(HasSubstr("common_name")));
  r.require_cn = false;
  EXPECT_THAT(CheckNames(r, "", {"a.test"}, {}), IsEmpty());
}

TEST(LeafKeyUsageTest, DropsUsagesTheKeyCannotHave) {
  Role r;  // DigitalSignature | KeyAgreement | KeyEncipherment
  EXPECT_EQ(LeafKeyUsage(r, KeyType::kRsa2048), kDigitalSignature | kKeyEncipherment);
  EXPECT_EQ(LeafKeyUsage(r, KeyType::kEcP256), kDigitalSignature | kKeyAgreement);
  EXPECT_EQ(LeafKeyUsage(r, KeyType::kEd25519), kDigitalSignature);
}

TEST(HostnameTest, Syntax) {
  EXPECT_TRUE(IsValidHostname("a-b.example.com", false));
  EXPECT_TRUE(IsValidHostname("*.example.com", true));
  EXPECT_FALSE(IsValidHostname("*.example.com", false));
  EXPECT_FALSE(IsValidHostname("-a.example.com", false));
  EXPECT_FALSE(IsValidHostname("a-.example.com", false));
  EXPECT_FALSE(IsValidHostname("a..b", false));
  EXPECT_FALSE(IsValidHostname("a.b.", false));
  EXPECT_FALSE(IsValidHostname(std::string(64, 'a') + ".com", false));
  EXPECT_FALSE(IsValidHostname("a*.example.com", true));
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatch("*.example.com", "a.b.example.com"));
  EXPECT_TRUE(GlobMatch("web-*-prod.example.com", "WEB-1-prod.example.com"));
  EXPECT_FALSE(GlobMatch("*.example.com", "example.com"));
  EXPECT_FALSE(GlobMatch("a*c", "abcd"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

TEST(TtlTest, Forms) {
  EXPECT_THAT(ParseTtl("3600"), IsOkAndHolds(absl::Hours(1)));
  EXPECT_THAT(ParseTtl("72h"), IsOkAndHolds(absl::Hours(72)));
  EXPECT_THAT(ParseTtl("1h30m"), IsOkAndHolds(absl::Minutes(90)));
  EXPECT_THAT(ParseTtl("30d"), IsOkAndHolds(absl::Hours(720)));
  EXPECT_THAT(ParseTtl(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTtl("1h30"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTtl("-5s"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTtl("5y"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTtl("99999999999d"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TtlFromJson(boost::json::value(-1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TtlFromJson(boost::json::value(60)), IsOkAndHolds(absl::Minutes(1)));
}

}  // namespace
}  // namespace rekey::pki
