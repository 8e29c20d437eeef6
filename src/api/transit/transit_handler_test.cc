// Wire shapes of /v1/transit/, in-process (no sockets): envelopes, Vault's batch status codes,
// errors, and the create/update split of encrypt.
#include "api/transit/transit_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"
#include "transit/base64.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TransitHandlerTest : public ::testing::Test {
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
    return handler_.Handle(req);
  }
  static json::value Body(const http::Response& res) { return json::parse(res.body); }
  static json::value Data(const http::Response& res) { return Body(res).at("data"); }
  static std::string B64(std::string_view s) { return transit::Base64Encode(s); }

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

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  auth::TokenStore tokens_{store_, clock_, random_};
  auth::PolicyStore policies_{store_};
  auth::Authorizer authz_{tokens_, policies_};
  transit::TransitService transit_{store_, clock_, random_};
  TransitHandler handler_{transit_, authz_};
};

TEST_F(TransitHandlerTest, KeyLifecycleShapes) {
  EXPECT_EQ(Call("LIST", "/v1/transit/keys").status, 404);
  EXPECT_EQ(Call("LIST", "/v1/transit/keys").body, R"({"errors":[]})");
  http::Response created = Call("POST", "/v1/transit/keys/app", R"({"type":"ecdsa-p256"})");
  ASSERT_EQ(created.status, 200) << created.body;
  json::value d = Data(created);
  EXPECT_EQ(d.at("name"), "app");
  EXPECT_EQ(d.at("type"), "ecdsa-p256");
  EXPECT_EQ(d.at("latest_version"), 1);
  EXPECT_EQ(d.at("min_decryption_version"), 1);
  EXPECT_EQ(d.at("supports_signing"), true);
  EXPECT_EQ(d.at("supports_encryption"), false);
  const json::object k1 = d.at("keys").at("1").as_object();
  EXPECT_EQ(k1.at("name"), "P-256");
  EXPECT_THAT(std::string(k1.at("public_key").as_string()), HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_THAT(std::string(k1.at("creation_time").as_string()), StartsWith("2023-11-14T22:13:20"));
  EXPECT_TRUE(Body(created).at("warnings").is_null());
  http::Response again = Call("POST", "/v1/transit/keys/app", "");
  EXPECT_EQ(Body(again).at("warnings"), json::parse(R"(["key app already existed"])"));

  ASSERT_EQ(Call("POST", "/v1/transit/keys/sym", "").status, 200);
  json::value sym = Data(Call("GET", "/v1/transit/keys/sym"));
  EXPECT_EQ(sym.at("keys").at("1"), 1700000000);
  EXPECT_EQ(sym.at("type"), "aes256-gcm96");
  EXPECT_EQ(Data(Call("GET", "/v1/transit/keys?list=true")).at("keys"),
            json::parse(R"(["app","sym"])"));
  EXPECT_EQ(Call("GET", "/v1/transit/keys/nope").status, 404);

  http::Response del = Call("DELETE", "/v1/transit/keys/sym");
  EXPECT_EQ(del.status, 400);
  EXPECT_EQ(del.body,
            R"({"errors":["error deleting policy sym: deletion is not allowed for this policy"]})");
  ASSERT_EQ(Call("POST", "/v1/transit/keys/sym/config", R"({"deletion_allowed":true})").status,
            200);
  EXPECT_EQ(Call("DELETE", "/v1/transit/keys/sym").status, 204);

  http::Response rotated = Call("POST", "/v1/transit/keys/app/rotate");
  EXPECT_EQ(Data(rotated).at("latest_version"), 2);
  EXPECT_EQ(Call("POST", "/v1/transit/keys/none/rotate").body, R"({"errors":["key not found"]})");
  EXPECT_EQ(Call("POST", "/v1/transit/keys/k", R"({"type":"blowfish"})").body,
            R"({"errors":["unknown key type blowfish"]})");
}

TEST_F(TransitHandlerTest, EncryptDecryptSingleAndUpsert) {
  http::Response enc = Call("POST", "/v1/transit/encrypt/auto",
                            json::serialize(json::object{{"plaintext", B64("hi")}}));
  ASSERT_EQ(enc.status, 200) << enc.body;
  const std::string ct(Data(enc).at("ciphertext").as_string());
  EXPECT_THAT(ct, StartsWith("vault:v1:"));
  EXPECT_EQ(Data(enc).at("key_version"), 1);
  http::Response dec =
      Call("POST", "/v1/transit/decrypt/auto", json::serialize(json::object{{"ciphertext", ct}}));
  ASSERT_EQ(dec.status, 200);
  EXPECT_EQ(std::string(Data(dec).at("plaintext").as_string()), B64("hi"));
  // hvac sends "plaintext": null next to batch_input; a missing plaintext is Vault's 400.
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/auto", "{}").body,
            R"({"errors":["missing plaintext to encrypt"]})");
  EXPECT_EQ(Call("POST", "/v1/transit/decrypt/auto", "{}").body,
            R"({"errors":["missing ciphertext to decrypt"]})");
  EXPECT_EQ(Call("POST", "/v1/transit/decrypt/nope", R"({"ciphertext":"vault:v1:AA=="})").body,
            R"({"errors":["encryption key not found"]})");
  http::Response tampered = Call("POST", "/v1/transit/decrypt/auto",
                                 json::serialize(json::object{{"ciphertext", ct + "AAAA"}}));
  EXPECT_EQ(tampered.status, 400);
  EXPECT_EQ(tampered.body, R"({"errors":["cipher: message authentication failed"]})");
}

TEST_F(TransitHandlerTest, BatchesFailWhole400WithEveryResult) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k").status, 200);
  json::object body;
  body["plaintext"] = nullptr;
  body["batch_input"] = json::array{json::object{{"plaintext", B64("a")}, {"reference", "r1"}},
                                    json::object{{"plaintext", "%%%"}, {"reference", "r2"}}};
  http::Response res = Call("POST", "/v1/transit/encrypt/k", json::serialize(body));
  EXPECT_EQ(res.status, 400);
  json::value b = Body(res);
  EXPECT_FALSE(b.as_object().contains("errors"));
  const json::array& results = b.at("data").at("batch_results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_THAT(std::string(results[0].at("ciphertext").as_string()), StartsWith("vault:v1:"));
  EXPECT_EQ(results[0].at("reference"), "r1");
  EXPECT_FALSE(results[0].as_object().contains("error"));
  EXPECT_THAT(std::string(results[1].at("error").as_string()), HasSubstr("base64"));
  EXPECT_EQ(results[1].at("reference"), "r2");
  // partial_failure_response_code replaces the status when some items succeeded.
  body["partial_failure_response_code"] = 207;
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/k", json::serialize(body)).status, 207);
  // All good: 200.
  body["batch_input"] = json::array{json::object{{"plaintext", B64("a")}}};
  http::Response ok = Call("POST", "/v1/transit/encrypt/k", json::serialize(body));
  EXPECT_EQ(ok.status, 200);
  const std::string ct(Data(ok).at("batch_results").at(0).at("ciphertext").as_string());
  // Decrypt batch.
  json::object dbody;
  dbody["batch_input"] =
      json::array{json::object{{"ciphertext", ct}}, json::object{{"ciphertext", "vault:v1:bad"}}};
  http::Response dres = Call("POST", "/v1/transit/decrypt/k", json::serialize(dbody));
  EXPECT_EQ(dres.status, 400);
  const json::value dres_data = Data(dres);
  const json::array& dr = dres_data.at("batch_results").as_array();
  EXPECT_EQ(std::string(dr[0].at("plaintext").as_string()), B64("a"));
  EXPECT_EQ(dr[1].at("error"), "cipher: message authentication failed");
  // Empty batch and mixed contexts are whole-request errors.
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/k", R"({"batch_input":[]})").body,
            R"({"errors":["missing batch input to process"]})");
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/k",
                 R"({"batch_input":[{"plaintext":"","context":"YQ=="},{"plaintext":""}]})")
                .body,
            R"({"errors":["context should be set either in all the request blocks or in none"]})");
}

TEST_F(TransitHandlerTest, MinDecryptionVersionRefusalIsVaultsError) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k").status, 200);
  const std::string old(
      Data(Call("POST", "/v1/transit/encrypt/k", json::serialize(json::object{{"plaintext", ""}})))
          .at("ciphertext")
          .as_string());
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k/rotate").status, 200);
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k/config", R"({"min_decryption_version":2})").status,
            200);
  http::Response res =
      Call("POST", "/v1/transit/decrypt/k", json::serialize(json::object{{"ciphertext", old}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(
      res.body,
      R"j({"errors":["ciphertext or signature version is disallowed by policy (too old)"]})j");
  // Rewrap answers with a ciphertext, never the plaintext.
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k/config", R"({"min_decryption_version":1})").status,
            200);
  http::Response rewrapped =
      Call("POST", "/v1/transit/rewrap/k", json::serialize(json::object{{"ciphertext", old}}));
  ASSERT_EQ(rewrapped.status, 200) << rewrapped.body;
  EXPECT_THAT(std::string(Data(rewrapped).at("ciphertext").as_string()), StartsWith("vault:v2:"));
  EXPECT_FALSE(Data(rewrapped).as_object().contains("plaintext"));
}

TEST_F(TransitHandlerTest, DatakeyHmacSignVerifyHashRandom) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k").status, 200);
  json::value dk = Data(Call("POST", "/v1/transit/datakey/plaintext/k", R"({"bits":128})"));
  EXPECT_EQ(transit::Base64Decode(std::string(dk.at("plaintext").as_string()))->size(), 16u);
  json::value wrapped = Data(Call("POST", "/v1/transit/datakey/wrapped/k", "{}"));
  EXPECT_FALSE(wrapped.as_object().contains("plaintext"));
  EXPECT_EQ(Call("POST", "/v1/transit/datakey/other/k", "{}").status, 400);

  json::value h = Data(Call("POST", "/v1/transit/hmac/k/sha2-512",
                            json::serialize(json::object{{"input", B64("x")}})));
  const std::string mac(h.at("hmac").as_string());
  EXPECT_THAT(mac, StartsWith("vault:v1:"));
  json::value v = Data(Call("POST", "/v1/transit/verify/k/sha2-512",
                            json::serialize(json::object{{"input", B64("x")}, {"hmac", mac}})));
  EXPECT_EQ(v.at("valid"), true);
  EXPECT_EQ(Call("POST", "/v1/transit/hmac/k/md5", "{}").body,
            R"({"errors":["unsupported algorithm md5"]})");

  ASSERT_EQ(Call("POST", "/v1/transit/keys/s", R"({"type":"rsa-2048"})").status, 200);
  json::value sig = Data(
      Call("POST", "/v1/transit/sign/s", R"({"input":"aGk=","signature_algorithm":"pkcs1v15"})"));
  EXPECT_EQ(sig.at("key_version"), 1);
  json::object vb{
      {"input", "aGk="}, {"signature", sig.at("signature")}, {"signature_algorithm", "pkcs1v15"}};
  EXPECT_EQ(Data(Call("POST", "/v1/transit/verify/s", json::serialize(vb))).at("valid"), true);
  vb["input"] = "aGo=";
  EXPECT_EQ(Data(Call("POST", "/v1/transit/verify/s", json::serialize(vb))).at("valid"), false);
  EXPECT_EQ(Call("POST", "/v1/transit/verify/s", R"({"input":"aGk="})").status, 400);

  json::value sum = Data(Call("POST", "/v1/transit/hash", R"({"input":"YWJj"})"));
  EXPECT_EQ(sum.at("sum"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  json::value rnd = Data(Call("POST", "/v1/transit/random/24", R"({"format":"hex"})"));
  EXPECT_EQ(rnd.at("random_bytes").as_string().size(), 48u);
  EXPECT_EQ(Call("POST", "/v1/transit/random", R"({"bytes":200000})").status, 400);
}

TEST_F(TransitHandlerTest, ExportShapes) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/e", R"({"exportable":true})").status, 200);
  json::value d = Data(Call("GET", "/v1/transit/export/encryption-key/e/latest"));
  EXPECT_EQ(d.at("name"), "e");
  EXPECT_EQ(d.at("type"), "aes256-gcm96");
  EXPECT_EQ(transit::Base64Decode(std::string(d.at("keys").at("1").as_string()))->size(), 32u);
  EXPECT_EQ(Call("GET", "/v1/transit/export/signing-key/e").status, 400);
  EXPECT_EQ(Call("GET", "/v1/transit/export/bogus/e").status, 400);
  EXPECT_EQ(Call("GET", "/v1/transit/export/encryption-key/missing").status, 404);
}

TEST_F(TransitHandlerTest, EncryptNeedsCreateForAMissingKeyAndUpdateForAnExistingOne) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/exists").status, 200);
  const std::string update_only =
      TokenFor(R"({"path":{"transit/encrypt/*":{"capabilities":["update"]}}})");
  const std::string body = json::serialize(json::object{{"plaintext", B64("x")}});
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/exists", body, update_only).status, 200);
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/new", body, update_only).status, 403);
  const std::string create_only =
      TokenFor(R"({"path":{"transit/encrypt/*":{"capabilities":["create"]}}})");
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/new", body, create_only).status, 200);
  EXPECT_EQ(Call("POST", "/v1/transit/encrypt/exists", body, create_only).status, 403);
  EXPECT_EQ(Call("GET", "/v1/transit/keys/exists", "", "bogus").status, 403);
}

TEST_F(TransitHandlerTest, WarmKeysRunInline) {
  ASSERT_EQ(Call("POST", "/v1/transit/keys/k").status, 200);
  http::Request req;
  req.method = "POST";
  req.path = "/v1/transit/encrypt/k";
  req.headers.push_back({"x-vault-token", "root"});
  req.body = R"({"plaintext":"aGk="})";
  EXPECT_TRUE(handler_.MayBlock(req));  // no usage reserved yet
  req.target = req.path;
  ASSERT_EQ(handler_.Handle(req).status, 200);
  EXPECT_FALSE(handler_.MayBlock(req));
  req.path = "/v1/transit/keys/k/rotate";
  EXPECT_TRUE(handler_.MayBlock(req));
  req.path = "/v1/transit/decrypt/cold";
  EXPECT_TRUE(handler_.MayBlock(req));
}

}  // namespace
}  // namespace rekey::api
