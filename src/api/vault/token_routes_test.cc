// Wire shapes of the auth/token/ and sys/ policy endpoints, in-process (no sockets), as Vault
// clients send and read them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/vault/vault_handler.h"
#include "auth/authorizer.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class TokenRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(tokens_.EnsureRootToken(SecretBytes("root"))); }

  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::string token = "root") {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.body = std::move(body);
    req.request_id = "req-1";
    if (!token.empty()) req.headers.push_back({"x-vault-token", token});
    req.headers.push_back({"content-type", "application/json"});
    return handler_.Handle(req);
  }
  static json::value Body(const http::Response& res) { return json::parse(res.body); }

  // Creates a token as root with `body`; returns the "auth" object.
  json::object Create(const std::string& body) {
    http::Response res = Call("POST", "/v1/auth/token/create", body);
    EXPECT_EQ(res.status, 200) << res.body;
    if (res.status != 200) return {};
    return Body(res).at("auth").as_object();
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  secrets::SecretsService kv_{store_, clock_, random_, "secret"};
  auth::TokenStore tokens_{store_, clock_, random_};
  auth::PolicyStore policies_{store_};
  auth::Authorizer authz_{tokens_, policies_};
  VaultHandler handler_{kv_, authz_, clock_, VaultHandlerOptions{}};
};

TEST_F(TokenRoutesTest, CreateAnswersWithVaultsAuthBlock) {
  http::Response res = Call("POST", "/v1/auth/token/create",
                            R"({"policies":["app"],"ttl":"1h","meta":{"team":"a"},
                                "display_name":"ci","num_uses":3})");
  ASSERT_EQ(res.status, 200) << res.body;
  json::value b = Body(res);
  EXPECT_TRUE(b.at("data").is_null());
  EXPECT_EQ(b.at("request_id"), "req-1");
  const json::object& auth = b.at("auth").as_object();
  EXPECT_TRUE(auth.at("client_token").as_string().starts_with("rks_"));
  EXPECT_EQ(auth.at("accessor").as_string().size(), 24u);
  EXPECT_EQ(auth.at("policies"), json::parse(R"(["app","default"])"));
  EXPECT_EQ(auth.at("token_policies"), json::parse(R"(["app","default"])"));
  EXPECT_EQ(auth.at("metadata"), json::parse(R"({"team":"a"})"));
  EXPECT_EQ(auth.at("lease_duration"), 3600);
  EXPECT_EQ(auth.at("renewable"), true);
  EXPECT_EQ(auth.at("orphan"), false);
  EXPECT_EQ(auth.at("num_uses"), 3);
  EXPECT_EQ(auth.at("token_type"), "service");
}

TEST_F(TokenRoutesTest, CreateTakesHvacsNullsAndVaultsLenientTypes) {
  // hvac 0.11's client.create_token sends every parameter, null when unset.
  json::object auth = Create(R"({"id":null,"policies":null,"meta":null,"no_parent":false,
      "display_name":null,"num_uses":null,"no_default_policy":false,"renewable":null,
      "ttl":null,"explicit_max_ttl":null})");
  EXPECT_EQ(auth.at("policies"), json::parse(R"(["root"])"));  // inherited from root
  EXPECT_EQ(auth.at("lease_duration"), 0);                     // root: no expiry
  EXPECT_EQ(Create(R"({"policies":"a, b","ttl":"90"})").at("policies"),
            json::parse(R"(["a","b","default"])"));
  EXPECT_EQ(Create(R"({"policies":["a"],"ttl":120})").at("lease_duration"), 120);
  EXPECT_EQ(Create(R"({"policies":["a"],"ttl":"2m","renewable":"false"})").at("renewable"), false);
}

TEST_F(TokenRoutesTest, UnsupportedParametersAreRefused) {
  for (const char* body : {R"({"id":"my-token"})", R"({"period":"1h"})", R"({"type":"batch"})",
                           R"({"ttl":"soon"})", R"({"num_uses":-1})"}) {
    http::Response res = Call("POST", "/v1/auth/token/create", body);
    EXPECT_EQ(res.status, 400) << body << " " << res.body;
  }
}

TEST_F(TokenRoutesTest, LookupsShowTheEntryAndIdOnlyForTheTokenItself) {
  json::object auth = Create(R"({"policies":["app"],"ttl":"1h"})");
  std::string token(auth.at("client_token").as_string());
  std::string accessor(auth.at("accessor").as_string());
  http::Response self = Call("GET", "/v1/auth/token/lookup-self", "", token);
  ASSERT_EQ(self.status, 200) << self.body;
  json::value d = Body(self).at("data");
  EXPECT_EQ(d.at("id"), token.c_str());
  EXPECT_EQ(d.at("accessor"), accessor.c_str());
  EXPECT_EQ(d.at("ttl"), 3600);
  EXPECT_EQ(d.at("creation_ttl"), 3600);
  EXPECT_EQ(d.at("path"), "auth/token/create");
  EXPECT_TRUE(d.at("expire_time").is_string());
  http::Response by_accessor = Call("POST", "/v1/auth/token/lookup-accessor",
                                    json::serialize(json::object{{"accessor", accessor}}));
  ASSERT_EQ(by_accessor.status, 200);
  EXPECT_EQ(Body(by_accessor).at("data").at("id"), "");
  http::Response bad = Call("POST", "/v1/auth/token/lookup", R"({"token":"nope"})");
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(bad.body, R"({"errors":["bad token"]})");
  EXPECT_EQ(Call("POST", "/v1/auth/token/lookup-accessor", R"({"accessor":"nope"})").body,
            R"({"errors":["invalid accessor"]})");
  EXPECT_EQ(Call("POST", "/v1/auth/token/lookup", "{}").status, 400);
}

TEST_F(TokenRoutesTest, RenewAndRevoke) {
  json::object auth = Create(R"({"policies":["app"],"ttl":"1h"})");
  std::string token(auth.at("client_token").as_string());
  clock_.Advance(absl::Minutes(30));
  http::Response renewed =
      Call("POST", "/v1/auth/token/renew-self", R"({"increment":"2h"})", token);
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_EQ(Body(renewed).at("auth").at("lease_duration"), 7200);
  EXPECT_EQ(Call("POST", "/v1/auth/token/renew", R"({"token":"nope"})").body,
            R"({"errors":["token not found"]})");
  EXPECT_EQ(Call("POST", "/v1/auth/token/renew-self", "{}").body,
            R"({"errors":["lease is not renewable"]})");  // root
  EXPECT_EQ(Call("POST", "/v1/auth/token/revoke", R"({"token":"nope"})").status, 204);
  EXPECT_EQ(Call("POST", "/v1/auth/token/revoke-self", "", token).status, 204);
  EXPECT_EQ(Call("GET", "/v1/auth/token/lookup-self", "", token).status, 403);
}

TEST_F(TokenRoutesTest, SysPolicyAnswersRepeatDataAtTheTopLevel) {
  ASSERT_EQ(Call("PUT", "/v1/sys/policy/app", R"({"policy":"{\"path\":{}}"})").status, 204);
  // The older endpoint also takes "rules" (node-vault's addPolicy).
  ASSERT_EQ(Call("PUT", "/v1/sys/policy/ops", R"({"rules":"{\"path\":{}}"})").status, 204);
  json::value list = Body(Call("GET", "/v1/sys/policy"));
  EXPECT_EQ(list.at("policies"), json::parse(R"(["app","default","ops","root"])"));
  EXPECT_EQ(list.at("data").at("keys"), list.at("policies"));
  json::value read = Body(Call("GET", "/v1/sys/policy/app"));
  EXPECT_EQ(read.at("rules"), R"({"path":{}})");
  EXPECT_EQ(read.at("data").at("name"), "app");
  json::value acl = Body(Call("GET", "/v1/sys/policies/acl/app"));
  EXPECT_EQ(acl.at("data").at("policy"), R"({"path":{}})");
  EXPECT_EQ(Call("GET", "/v1/sys/policies/acl/missing").body, R"({"errors":[]})");
  EXPECT_EQ(Call("GET", "/v1/sys/policies/acl?list=true").status, 200);
  EXPECT_EQ(Call("GET", "/v1/sys/policies/acl").status, 405);  // only LIST, as Vault
  http::Response hcl = Call("PUT", "/v1/sys/policies/acl/x", R"({"policy":"path \"a\" {}"})");
  EXPECT_EQ(hcl.status, 400);
  EXPECT_THAT(hcl.body, HasSubstr("HCL is not supported"));
  EXPECT_EQ(Call("PUT", "/v1/sys/policies/acl/x", R"({})").status, 400);
}

TEST_F(TokenRoutesTest, CapabilitiesSelf) {
  ASSERT_OK(policies_.Write("app", R"({"path":{"secret/data/app":{"capabilities":["read"]}}})"));
  json::object auth = Create(R"({"policies":["app"],"ttl":"1h"})");
  std::string token(auth.at("client_token").as_string());
  json::value b = Body(Call("POST", "/v1/sys/capabilities-self",
                            R"({"paths":["secret/data/app","secret/data/x"]})", token));
  EXPECT_EQ(b.at("secret/data/app"), json::parse(R"(["read"])"));
  EXPECT_EQ(b.at("data").at("secret/data/x"), json::parse(R"(["deny"])"));
  json::value root = Body(Call("POST", "/v1/sys/capabilities-self", R"({"path":"anything"})"));
  EXPECT_EQ(root.at("capabilities"), json::parse(R"(["root"])"));
}

}  // namespace
}  // namespace rekey::api
