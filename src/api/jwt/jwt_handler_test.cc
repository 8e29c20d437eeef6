// Wire shapes of /v1/jwt/ and /.well-known/jwks/, in-process (no sockets): envelopes, the JWK Set
// with its cache headers and ETag/304, status codes, which routes need no token, and capabilities.
#include "api/jwt/jwt_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCreate[] = R"({"alg":"EdDSA","jwks_cache_ttl":"10s","max_token_ttl":"60s"})";

class JwtHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(tokens_.EnsureRootToken(SecretBytes("root"))); }

  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::string token = "root", std::vector<http::Header> headers = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.body = std::move(body);
    req.request_id = "req-1";
    req.headers = std::move(headers);
    if (!token.empty()) req.headers.push_back({"x-vault-token", token});
    return handler_.Handle(req);
  }
  static json::value Data(const http::Response& res) { return json::parse(res.body).at("data"); }
  static std::string Header(const http::Response& res, std::string_view name) {
    for (const http::Header& h : res.headers) {
      if (h.name == name) return h.value;
    }
    return "<none>";
  }
  std::string TokenFor(const std::string& policy) {
    EXPECT_OK(policies_.Write("p", policy));
    absl::StatusOr<auth::TokenEntry> root = tokens_.Lookup("root");
    auth::TokenRequest r;
    r.policies = {"p"};
    r.no_default_policy = true;
    absl::StatusOr<auth::CreatedToken> t = tokens_.Create(*root, r, false);
    EXPECT_OK(t.status());
    return std::string(t->token.Reveal());
  }
  std::string Sign(std::string_view claims = R"({"sub":"alice"})") {
    http::Response res =
        Call("POST", "/v1/jwt/sign/app", StrCat(R"({"claims":)", claims, R"(,"ttl":"30s"})"));
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(Data(res).at("token").as_string());
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  auth::TokenStore tokens_{store_, clock_, random_};
  auth::PolicyStore policies_{store_};
  auth::Authorizer authz_{tokens_, policies_};
  jwt::JwtService jwt_{store_, clock_, random_};
  JwtHandler handler_{jwt_, authz_};
};

TEST_F(JwtHandlerTest, CreateReadAndListKeysets) {
  http::Response created = Call("POST", "/v1/jwt/keys/app", kCreate);
  ASSERT_EQ(created.status, 200) << created.body;
  json::value d = Data(created);
  EXPECT_EQ(d.at("created"), true);
  EXPECT_EQ(d.at("alg"), "EdDSA");
  EXPECT_EQ(d.at("jwks_cache_ttl"), 10);
  EXPECT_EQ(d.at("max_token_ttl"), 60);
  EXPECT_EQ(d.at("prepublish"), 11);
  EXPECT_EQ(d.at("jwks_path"), "/.well-known/jwks/app.json");
  ASSERT_EQ(d.at("keys").as_array().size(), 1u);
  EXPECT_EQ(d.at("keys").at(0).at("status"), "active");
  EXPECT_EQ(d.at("keys").at(0).at("kid"), d.at("active_kid"));
  EXPECT_TRUE(d.at("keys").at(0).at("removed").is_null());

  EXPECT_EQ(Data(Call("POST", "/v1/jwt/keys/app", kCreate)).at("created"), false);
  http::Response changed = Call("POST", "/v1/jwt/keys/app", R"({"alg":"RS256"})");
  EXPECT_EQ(changed.status, 400);
  EXPECT_THAT(changed.body, HasSubstr("cannot be changed"));

  http::Response read = Call("GET", "/v1/jwt/keys/app");
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(Data(read).at("active_kid"), d.at("active_kid"));
  EXPECT_EQ(Call("GET", "/v1/jwt/keys/nope").status, 404);
  http::Response list = Call("LIST", "/v1/jwt/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::serialize(Data(list).at("keys")), R"(["app"])");
}

TEST_F(JwtHandlerTest, BadCreateRequestsAre400) {
  for (std::string_view body :
       {R"({"alg":"HS256"})", R"({"alg":"none"})", R"({"jwks_cache_ttl":"1.5s"})",
        R"({"jwks_cache_ttl":"10s","prepublish":"5s"})", R"({"max_token_ttl":"soon"})",
        R"({"algo":"ES256"})", "[1]", "{"}) {
    EXPECT_EQ(Call("POST", "/v1/jwt/keys/app", std::string(body)).status, 400) << body;
  }
  EXPECT_EQ(Call("POST", "/v1/jwt/keys/a%20b", kCreate).status, 400);
}

TEST_F(JwtHandlerTest, SignAndVerify) {
  ASSERT_EQ(Call("POST", "/v1/jwt/keys/app", kCreate).status, 200);
  http::Response signed_res =
      Call("POST", "/v1/jwt/sign/app", R"({"claims":{"sub":"alice"},"ttl":"1h"})");
  ASSERT_EQ(signed_res.status, 200) << signed_res.body;
  json::value d = Data(signed_res);
  EXPECT_EQ(d.at("ttl"), 60);
  EXPECT_EQ(d.at("expires_at").as_int64() - d.at("issued_at").as_int64(), 60);
  EXPECT_THAT(signed_res.body, HasSubstr("capped"));  // the warning
  const std::string token(d.at("token").as_string());

  http::Response ok = Call("POST", "/v1/jwt/verify/app", StrCat(R"({"token":")", token, "\"}"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Data(ok).at("valid"), true);
  EXPECT_EQ(Data(ok).at("kid"), d.at("kid"));
  EXPECT_EQ(Data(ok).at("claims").at("sub"), "alice");

  http::Response aud =
      Call("POST", "/v1/jwt/verify/app", StrCat(R"({"token":")", token, R"(","audience":"api"})"));
  EXPECT_EQ(Data(aud).at("valid"), false);
  EXPECT_THAT(std::string(Data(aud).at("error").as_string()), HasSubstr("aud"));

  clock_.Advance(absl::Seconds(60));
  http::Response expired =
      Call("POST", "/v1/jwt/verify/app", StrCat(R"({"token":")", token, "\"}"));
  ASSERT_EQ(expired.status, 200);
  EXPECT_EQ(Data(expired).at("valid"), false);
  EXPECT_THAT(std::string(Data(expired).at("error").as_string()), HasSubstr("expired"));

  http::Response garbage = Call("POST", "/v1/jwt/verify/app", R"({"token":"a.b"})");
  EXPECT_EQ(Data(garbage).at("valid"), false);
  EXPECT_EQ(Call("POST", "/v1/jwt/verify/app", "{}").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jwt/verify/nope", R"({"token":"a.b.c"})").status, 404);
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/app", R"({"claims":{"exp":1}})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/app", R"({"claims":"x"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/app", R"({"claims":{},"extra":1})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/nope", "{}").status, 404);
}

TEST_F(JwtHandlerTest, TheJwksIsPublicWithCacheHeadersAndAnETag) {
  ASSERT_EQ(Call("POST", "/v1/jwt/keys/app", kCreate).status, 200);
  http::Response jwks = Call("GET", "/.well-known/jwks/app.json", "", "");
  ASSERT_EQ(jwks.status, 200) << jwks.body;
  EXPECT_EQ(jwks.content_type, "application/json");
  EXPECT_EQ(Header(jwks, "Cache-Control"), "public, max-age=10");
  const std::string etag = Header(jwks, "ETag");
  EXPECT_EQ(etag.front(), '"');
  json::value doc = json::parse(jwks.body);
  ASSERT_EQ(doc.at("keys").as_array().size(), 1u);
  const json::value& key = doc.at("keys").at(0);
  EXPECT_EQ(key.at("kty"), "OKP");
  EXPECT_EQ(key.at("crv"), "Ed25519");
  EXPECT_EQ(key.at("alg"), "EdDSA");
  EXPECT_EQ(key.at("use"), "sig");
  EXPECT_FALSE(key.as_object().contains("d"));

  // The same document under /v1, and 304 for a matching If-None-Match.
  EXPECT_EQ(Call("GET", "/v1/jwt/jwks/app", "", "").body, jwks.body);
  http::Response not_modified =
      Call("GET", "/.well-known/jwks/app.json", "", "", {{"if-none-match", StrCat("W/", etag)}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body, "");
  EXPECT_EQ(Header(not_modified, "ETag"), etag);
  EXPECT_EQ(Call("GET", "/.well-known/jwks/app.json", "", "", {{"if-none-match", "\"x\""}}).status,
            200);

  // A new key changes the document and its ETag.
  ASSERT_OK(jwt_.PublishKey("app", "r").status());
  http::Response after = Call("GET", "/.well-known/jwks/app.json", "", "");
  EXPECT_NE(Header(after, "ETag"), etag);
  EXPECT_EQ(json::parse(after.body).at("keys").as_array().size(), 2u);

  EXPECT_EQ(Call("GET", "/.well-known/jwks/nope.json", "", "").status, 404);
  EXPECT_EQ(Call("GET", "/.well-known/jwks/app", "", "").status, 404);
  EXPECT_EQ(Call("GET", "/.well-known/jwks/.json", "", "").status, 404);
  EXPECT_EQ(Call("GET", "/.well-known/other/app.json", "", "").status, 404);
  EXPECT_EQ(Call("POST", "/.well-known/jwks/app.json", "{}", "").status, 405);
}

TEST_F(JwtHandlerTest, EverythingButTheJwksNeedsATokenWithTheCapability) {
  ASSERT_EQ(Call("POST", "/v1/jwt/keys/app", kCreate).status, 200);
  const std::string token = Sign();
  for (auto [method, path, body] :
       std::initializer_list<std::tuple<const char*, const char*, std::string>>{
           {"GET", "/v1/jwt/keys/app", ""},
           {"POST", "/v1/jwt/keys/app", kCreate},
           {"LIST", "/v1/jwt/keys", ""},
           {"POST", "/v1/jwt/sign/app", "{}"},
           {"POST", "/v1/jwt/verify/app", StrCat(R"({"token":")", token, "\"}")}}) {
    EXPECT_EQ(Call(method, path, body, "").status, 403) << path;
  }
  const std::string signer = TokenFor(R"({"path":{"jwt/sign/app":{"capabilities":["update"]}}})");
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/app", "{}", signer).status, 200);
  EXPECT_EQ(Call("POST", "/v1/jwt/sign/other", "{}", signer).status, 403);
  EXPECT_EQ(Call("POST", "/v1/jwt/verify/app", R"({"token":"a.b.c"})", signer).status, 403);
  EXPECT_EQ(Call("GET", "/v1/jwt/keys/app", "", signer).status, 403);
}

TEST_F(JwtHandlerTest, MayBlockOnlyWhatNeedsTheStoreOrSigning) {
  ASSERT_EQ(Call("POST", "/v1/jwt/keys/app", kCreate).status, 200);
  auto may_block = [&](std::string method, std::string path) {
    http::Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    return handler_.MayBlock(req);
  };
  EXPECT_FALSE(may_block("GET", "/.well-known/jwks/app.json"));
  EXPECT_FALSE(may_block("GET", "/v1/jwt/jwks/app"));
  EXPECT_FALSE(may_block("GET", "/v1/jwt/keys/app"));
  EXPECT_TRUE(may_block("GET", "/.well-known/jwks/cold.json"));
  EXPECT_TRUE(may_block("GET", "/.well-known/jwks/a%70p.json"));
  EXPECT_TRUE(may_block("POST", "/v1/jwt/sign/app"));
  EXPECT_TRUE(may_block("POST", "/v1/jwt/verify/app"));
}

TEST_F(JwtHandlerTest, ResponsesNeverEchoClaimsOrTokensInErrors) {
  ASSERT_EQ(Call("POST", "/v1/jwt/keys/app", kCreate).status, 200);
  http::Response res =
      Call("POST", "/v1/jwt/sign/app", R"({"claims":{"iat":"secret-claim-value"}})");
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, Not(HasSubstr("secret-claim-value")));
  const std::string token = Sign(R"({"sub":"x"})");
  http::Response bad = Call("POST", "/v1/jwt/verify/app",
                            StrCat(R"({"token":")", token.substr(0, token.size() - 4), "\"}"));
  EXPECT_EQ(Data(bad).at("valid"), false);
  EXPECT_THAT(bad.body, Not(HasSubstr(token.substr(0, 20))));
}

}  // namespace
}  // namespace rekey::api
