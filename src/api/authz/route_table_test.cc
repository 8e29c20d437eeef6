// The route table itself: every route declares what it needs, ids are unique, examples match
// their own rows, and docs/api/auth.md shows the current table.
#include "api/authz/route_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace rekey::api {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

TEST(RouteTableTest, EveryAuthenticatedOperationDeclaresACapability) {
  for (const Route& route : Routes()) {
    EXPECT_FALSE(route.ops.empty()) << route.pattern;
    for (const OpRule& rule : route.ops) {
      EXPECT_EQ(rule.need.NeedsSomething(), route.authenticated)
          << route.pattern << " " << OpName(rule.op);
    }
  }
}

TEST(RouteTableTest, OnlyHealthAndPublicPkiReadsAreUnauthenticated) {
  // The PKI reads Vault serves without a token: CA certificates, the trust bundle, CRLs and
  // certificates (all public); and JWT keysets' JWK Sets (public keys).
  const std::set<RouteId> kPublic = {
      RouteId::kSysHealth,      RouteId::kPkiCaPem, RouteId::kPkiCaDer,  RouteId::kPkiCaChain,
      RouteId::kPkiCertCaChain, RouteId::kPkiCert,  RouteId::kPkiCrlDer, RouteId::kPkiCrlPem,
      RouteId::kPkiIssuerCrl,   RouteId::kJwtJwks};
  for (const Route& route : Routes()) {
    EXPECT_EQ(route.authenticated, !kPublic.contains(route.id)) << route.pattern;
    if (!route.authenticated) {
      for (const OpRule& rule : route.ops) EXPECT_EQ(rule.op, Op::kRead) << route.pattern;
    }
  }
}

TEST(RouteTableTest, IdsPatternsAndOperationsAreUnique) {
  std::set<RouteId> ids;
  std::set<std::string_view> patterns;
  for (const Route& route : Routes()) {
    EXPECT_TRUE(ids.insert(route.id).second) << route.pattern;
    EXPECT_TRUE(patterns.insert(route.pattern).second) << route.pattern;
    std::set<Op> ops;
    for (const OpRule& rule : route.ops) EXPECT_TRUE(ops.insert(rule.op).second) << route.pattern;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(RouteId::kEndOfRouteIds)) << "a RouteId has no row";
}

TEST(RouteTableTest, EveryExampleMatchesItsOwnRowForEveryOperation) {
  for (const Route& route : Routes()) {
    for (const OpRule& rule : route.ops) {
      RouteMatch m = MatchRoute(rule.op, Split(route.example));
      EXPECT_EQ(m.route, &route) << route.example;
      EXPECT_EQ(m.rule, &rule) << route.example;
    }
  }
}

TEST(RouteTableTest, SurfacesOwnTheirPrefixes) {
  for (const Route& route : Routes()) {
    EXPECT_EQ(route.pattern.starts_with("rotation/"), route.surface == Surface::kRotation)
        << route.pattern;
  }
}

TEST(RouteTableTest, PolicyPathIsTheRequestPathWithASlashForLists) {
  RouteMatch read = MatchRoute(Op::kRead, Split("secret/data/a/b"));
  ASSERT_NE(read.route, nullptr);
  EXPECT_EQ(read.route->id, RouteId::kKvData);
  EXPECT_EQ(read.policy_path, "secret/data/a/b");
  EXPECT_FALSE(read.list);
  RouteMatch list = MatchRoute(Op::kList, Split("secret/metadata/a"));
  EXPECT_EQ(list.route->id, RouteId::kKvMetadata);
  EXPECT_EQ(list.policy_path, "secret/metadata/a/");
  EXPECT_TRUE(list.list);
  RouteMatch root_list = MatchRoute(Op::kList, Split("secret/metadata/"));
  EXPECT_EQ(root_list.route->id, RouteId::kKvMetadata);
  EXPECT_EQ(root_list.policy_path, "secret/metadata/");
  RouteMatch acl = MatchRoute(Op::kList, Split("sys/policies/acl/"));
  EXPECT_EQ(acl.route->id, RouteId::kSysPoliciesAclList);
}

TEST(RouteTableTest, UnknownPathsAndOperationsDoNotMatch) {
  EXPECT_EQ(MatchRoute(Op::kRead, Split("secret/nope/a")).route, nullptr);
  EXPECT_EQ(MatchRoute(Op::kRead, Split("secret/data")).route, nullptr);  // "*" needs a segment
  EXPECT_EQ(MatchRoute(Op::kRead, Split("sys/policies/acl/")).route, nullptr);
  RouteMatch m = MatchRoute(Op::kList, Split("secret/data/a"));
  EXPECT_NE(m.route, nullptr);
  EXPECT_EQ(m.rule, nullptr);
}

TEST(RouteTableTest, TheDocumentationShowsTheCurrentTable) {
  std::ifstream in(REKEY_AUTH_DOC);
  ASSERT_TRUE(in) << "cannot read " << REKEY_AUTH_DOC;
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(RouteTableMarkdown()), std::string::npos)
      << "docs/api/auth.md is out of date; paste this table into it:\n"
      << RouteTableMarkdown();
}

}  // namespace
}  // namespace rekey::api
