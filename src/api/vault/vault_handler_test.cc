// In-process tests of the Vault surface's wire shapes (no sockets): envelopes, status codes and
// error bodies exactly as api-compat.md describes them.
#include "api/vault/vault_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class VaultHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(tokens_.EnsureRootToken(SecretBytes("root"))); }

  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::string token = "root", std::string content_type = "application/json") {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.body = std::move(body);
    req.request_id = "req-1";
    if (!token.empty()) req.headers.push_back({"x-vault-token", token});
    if (!content_type.empty()) req.headers.push_back({"content-type", content_type});
    return handler_.Handle(req);
  }
  static json::value Body(const http::Response& res) { return json::parse(res.body); }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  secrets::SecretsService kv_{store_, clock_, random_, "secret"};
  auth::TokenStore tokens_{store_, clock_, random_};
  VaultHandler handler_{kv_, tokens_, clock_, VaultHandlerOptions{.cluster_id = "c1"}};
};

TEST_F(VaultHandlerTest, HealthNeedsNoTokenAndHasNoEnvelope) {
  http::Response res = Call("GET", "/v1/sys/health", "", "");
  EXPECT_EQ(res.status, 200);
  json::value b = Body(res);
  EXPECT_EQ(b.at("initialized"), true);
  EXPECT_EQ(b.at("sealed"), false);
  EXPECT_FALSE(b.as_object().contains("data"));
  EXPECT_EQ(Call("HEAD", "/v1/sys/health", "", "").status, 200);
}

TEST_F(VaultHandlerTest, MissingOrBadTokenIs403WithVaultErrorShape) {
  for (const char* token : {"", "wrong"}) {
    http::Response res = Call("GET", "/v1/secret/data/x", "", token);
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_EQ(res.body, R"({"errors":["permission denied"]})");
  }
}

TEST_F(VaultHandlerTest, WriteThenReadUsesTheEnvelope) {
  http::Response w = Call("POST", "/v1/secret/data/app/db", R"({"data":{"password":"p"}})");
  ASSERT_EQ(w.status, 200) << w.body;
  json::value wb = Body(w);
  EXPECT_EQ(wb.at("data").at("version"), 1);
  EXPECT_EQ(wb.at("data").at("deletion_time"), "");
  EXPECT_EQ(wb.at("request_id"), "req-1");

  http::Response r = Call("GET", "/v1/secret/data/app/db");
  ASSERT_EQ(r.status, 200);
  json::value rb = Body(r);
  EXPECT_EQ(rb.at("data").at("data").at("password"), "p");
  EXPECT_EQ(rb.at("data").at("metadata").at("version"), 1);
  EXPECT_EQ(rb.at("data").at("metadata").at("destroyed"), false);
  EXPECT_TRUE(rb.at("data").at("metadata").at("custom_metadata").is_null());
  for (const char* key :
       {"lease_id", "renewable", "lease_duration", "wrap_info", "warnings", "auth"}) {
    EXPECT_TRUE(rb.as_object().contains(key)) << key;
  }
}

TEST_F(VaultHandlerTest, MissingSecretIs404WithEmptyErrors) {
  http::Response r = Call("GET", "/v1/secret/data/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"errors":[]})");
  EXPECT_EQ(Call("GET", "/v1/secret/metadata/nope").body, R"({"errors":[]})");
}

TEST_F(VaultHandlerTest, DeletedVersionIs404WithFullEnvelopeAndNoErrors) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":"1"}})").status, 200);
  EXPECT_EQ(Call("DELETE", "/v1/secret/data/s").status, 204);
  http::Response r = Call("GET", "/v1/secret/data/s");
  EXPECT_EQ(r.status, 404);
  json::value b = Body(r);
  EXPECT_FALSE(b.as_object().contains("errors"));
  EXPECT_TRUE(b.at("data").at("data").is_null());
  EXPECT_NE(b.at("data").at("metadata").at("deletion_time"), "");
}

TEST_F(VaultHandlerTest, CheckAndSetMessagesMatchVault) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":"1"}})").status, 200);
  http::Response r = Call("POST", "/v1/secret/data/s", R"({"data":{"a":"2"},"options":{"cas":0}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"errors":["check-and-set parameter did not match the current version"]})");
  EXPECT_EQ(Call("POST", "/v1/secret/data/s", R"({"options":{}})").body,
            R"({"errors":["no data provided"]})");
}

TEST_F(VaultHandlerTest, ListByVerbAndByQuery) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/a/b", R"({"data":{}})").status, 200);
  ASSERT_EQ(Call("POST", "/v1/secret/data/c", R"({"data":{}})").status, 200);
  for (const char* target :
       {"/v1/secret/metadata/", "/v1/secret/metadata?list=true", "/v1/secret/metadata/?list=1"}) {
    const char* method =
        std::string_view(target).find("list=") == std::string_view::npos ? "LIST" : "GET";
    http::Response r = Call(method, target);
    ASSERT_EQ(r.status, 200) << target << r.body;
    EXPECT_EQ(Body(r).at("data").at("keys"), json::parse(R"(["a/","c"])")) << target;
  }
  EXPECT_EQ(Call("LIST", "/v1/secret/metadata/zzz").status, 404);
  EXPECT_EQ(Call("GET", "/v1/secret/metadata/?list=maybe").status, 400);
}

TEST_F(VaultHandlerTest, MetadataHasStringVersionKeys) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":"1"}})").status, 200);
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":"2"}})").status, 200);
  json::value b = Body(Call("GET", "/v1/secret/metadata/s"));
  const json::object& versions = b.at("data").at("versions").as_object();
  EXPECT_TRUE(versions.contains("1"));
  EXPECT_TRUE(versions.contains("2"));
  EXPECT_EQ(versions.at("1").at("deletion_time"), "");
  EXPECT_EQ(b.at("data").at("current_version"), 2);
  EXPECT_EQ(b.at("data").at("oldest_version"), 1);
  EXPECT_EQ(b.at("data").at("delete_version_after"), "0s");
}

TEST_F(VaultHandlerTest, PatchNeedsMergePatchContentType) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":"1"}})").status, 200);
  EXPECT_EQ(Call("PATCH", "/v1/secret/data/s", R"({"data":{"b":"2"}})").status, 415);
  http::Response p = Call("PATCH", "/v1/secret/data/s", R"({"data":{"b":"2"}})", "root",
                          "application/merge-patch+json");
  ASSERT_EQ(p.status, 200) << p.body;
  json::value b = Body(Call("GET", "/v1/secret/data/s"));
  EXPECT_EQ(b.at("data").at("data"), json::parse(R"({"a":"1","b":"2"})"));
}

TEST_F(VaultHandlerTest, SubkeysHonourDepth) {
  ASSERT_EQ(Call("POST", "/v1/secret/data/s", R"({"data":{"a":{"b":{"c":"x"}},"d":"y"}})").status,
            200);
  EXPECT_EQ(Body(Call("GET", "/v1/secret/subkeys/s")).at("data").at("subkeys"),
            json::parse(R"({"a":{"b":{"c":null}},"d":null})"));
  EXPECT_EQ(Body(Call("GET", "/v1/secret/subkeys/s?depth=1")).at("data").at("subkeys"),
            json::parse(R"({"a":null,"d":null})"));
}

TEST_F(VaultHandlerTest, BadInputNamesWhatIsWrong) {
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    int status;
    const char* message_part;
  };
  const Case cases[] = {
      {"POST", "/v1/secret/data/s", "{not json", 400, "invalid JSON"},
      {"POST", "/v1/secret/data/s", R"({"data":"x"})", 400, "data\\\": expected a JSON object"},
      {"POST", "/v1/secret/data/s", R"({"data":{},"options":{"cas":"x"}})", 400, "options.cas"},
      {"GET", "/v1/secret/data/s?version=abc", "", 400, "version"},
      {"GET", "/v1/secret/data/a/../b", "", 400, "is not allowed"},
      {"GET", "/v1/secret/data/a/%2e%2e/b", "", 400, "is not allowed"},
      {"GET", "/v1/secret/data/a//b", "", 400, "empty path segment"},
      {"POST", "/v1/secret/destroy/s", R"({"versions":[]})", 400, "version"},
      {"POST", "/v1/secret/delete/s", R"({"versions":"x"})", 400, "versions"},
      {"GET", "/v1/secret/nope/s", "", 404, "no handler for route"},
      {"GET", "/v1/nomount/data/s", "", 404, "no handler for route"},
      {"BREW", "/v1/secret/data/s", "", 405, "unsupported HTTP method"},
      {"LIST", "/v1/secret/data/s", "", 405, "unsupported operation"},
      {"POST", "/v1/secret/metadata/s", R"({"max_versions":"many"})", 400, "max_versions"},
      {"POST", "/v1/secret/metadata/s", R"({"custom_metadata":{"a":1}})", 400, "custom_metadata"},
  };
  for (const Case& c : cases) {
    http::Response r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_THAT(r.body, HasSubstr(c.message_part)) << c.method << " " << c.target;
  }
}

TEST_F(VaultHandlerTest, LookupSelfReportsRootPolicy) {
  http::Response r = Call("GET", "/v1/auth/token/lookup-self");
  ASSERT_EQ(r.status, 200);
  json::value b = Body(r);
  EXPECT_EQ(b.at("data").at("policies"), json::parse(R"(["root"])"));
  EXPECT_FALSE(b.at("data").at("accessor").as_string().empty());
}

TEST_F(VaultHandlerTest, ConfigRoundTrips) {
  EXPECT_EQ(Call("POST", "/v1/secret/config", R"({"max_versions":5,"cas_required":true})").status,
            204);
  json::value b = Body(Call("GET", "/v1/secret/config"));
  EXPECT_EQ(b.at("data").at("max_versions"), 5);
  EXPECT_EQ(b.at("data").at("cas_required"), true);
}

TEST_F(VaultHandlerTest, WritesAreDeclaredBlockingAndReadsAreNot) {
  http::Request req;
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE"}) {
    req.method = m;
    EXPECT_TRUE(handler_.MayBlock(req)) << m;
  }
  for (const char* m : {"GET", "HEAD", "LIST"}) {
    req.method = m;
    EXPECT_FALSE(handler_.MayBlock(req)) << m;
  }
}

}  // namespace
}  // namespace rekey::api
