// Wire shapes of /v1/pki/, in-process (no sockets): envelopes, raw PEM/DER bodies and their
// content types, Vault's status codes, the role create/update split, and which routes need no
// token.
#include "api/pki/pki_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/x509.h"
#include "storage/memory_store.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class PkiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(tokens_.EnsureRootToken(SecretBytes("root"))); }

  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::string token = "root") {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    req.body = std::move(body);
    req.request_id = "req-1";
    if (!token.empty()) req.headers.push_back({"x-vault-token", token});
    return handler_.Handle(req);
  }
  static json::value Body(const http::Response& res) { return json::parse(res.body); }
  static json::value Data(const http::Response& res) { return Body(res).at("data"); }
  static std::string Str(const json::value& v) { return std::string(v.as_string()); }

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

  // An EC root named "root-a" (the default) and role "web" for *.example.com, EC keys.
  void MakeRootAndRole() {
    http::Response root = Call("POST", "/v1/pki/root/generate/internal",
                               R"({"common_name":"Test Root","key_type":"ec",)"
                               R"("issuer_name":"root-a","ttl":"87600h"})");
    ASSERT_EQ(root.status, 200) << root.body;
    http::Response role =
        Call("POST", "/v1/pki/roles/web",
             R"({"allowed_domains":["example.com"],"allow_subdomains":true,"key_type":"ec",)"
             R"("max_ttl":"72h"})");
    ASSERT_EQ(role.status, 200) << role.body;
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  auth::TokenStore tokens_{store_, clock_, random_};
  auth::PolicyStore policies_{store_};
  auth::Authorizer authz_{tokens_, policies_};
  pki::CaService ca_{store_, clock_, random_};
  PkiHandler handler_{ca_, authz_};
};

TEST_F(PkiHandlerTest, GenerateRootInternalHidesTheKeyAndExportedShowsIt) {
  http::Response internal = Call("POST", "/v1/pki/root/generate/internal",
                                 R"({"common_name":"Root One","key_type":"ec"})");
  ASSERT_EQ(internal.status, 200) << internal.body;
  json::value d = Data(internal);
  EXPECT_THAT(Str(d.at("certificate")), StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(d.at("issuing_ca"), d.at("certificate"));
  EXPECT_FALSE(d.as_object().contains("private_key"));
  EXPECT_FALSE(Str(d.at("issuer_id")).empty());
  EXPECT_TRUE(d.at("expiration").is_int64());
  EXPECT_TRUE(Body(internal).at("warnings").is_null());

  http::Response exported = Call("POST", "/v1/pki/root/generate/exported",
                                 R"({"common_name":"Root Two","key_type":"ec"})");
  ASSERT_EQ(exported.status, 200) << exported.body;
  EXPECT_THAT(Str(Data(exported).at("private_key")), HasSubstr("PRIVATE KEY-----"));
  EXPECT_EQ(Data(exported).at("private_key_type"), "ec");
}

TEST_F(PkiHandlerTest, BadGenerateRequestsAre400) {
  http::Response kms = Call("POST", "/v1/pki/root/generate/kms", R"({"common_name":"x"})");
  EXPECT_EQ(kms.status, 400);
  EXPECT_THAT(kms.body, HasSubstr("unsupported type"));
  http::Response no_cn = Call("POST", "/v1/pki/root/generate/internal", R"({"key_type":"dsa"})");
  EXPECT_EQ(no_cn.status, 400);
  EXPECT_THAT(no_cn.body, HasSubstr("common_name"));
  EXPECT_THAT(no_cn.body, HasSubstr("key_type"));
  EXPECT_EQ(Call("POST", "/v1/pki/root/generate/internal", "not json").status, 400);
}

TEST_F(PkiHandlerTest, PublicReadsAreRawWithVaultContentTypesAndNeedNoToken) {
  // Before any issuer: a clear 400, not a crash.
  EXPECT_EQ(Call("GET", "/v1/pki/ca/pem", "", "").status, 400);
  MakeRootAndRole();
  http::Response pem = Call("GET", "/v1/pki/ca/pem", "", "");
  ASSERT_EQ(pem.status, 200);
  EXPECT_EQ(pem.content_type, "application/pem-file");
  EXPECT_THAT(pem.body, StartsWith("-----BEGIN CERTIFICATE-----"));
  http::Response der = Call("GET", "/v1/pki/ca", "", "");
  ASSERT_EQ(der.status, 200);
  EXPECT_EQ(der.content_type, "application/pkix-cert");
  ASSERT_OK_AND_ASSIGN(pki::X509Ptr from_der, pki::ParseCertificateDer(der.body));
  ASSERT_OK_AND_ASSIGN(std::string again, pki::CertificateToPem(from_der.get()));
  EXPECT_EQ(again, pem.body);
  http::Response chain = Call("GET", "/v1/pki/ca_chain", "", "");
  EXPECT_EQ(chain.content_type, "application/pem-file");
  EXPECT_THAT(chain.body, HasSubstr(pem.body));
  http::Response crl = Call("GET", "/v1/pki/crl", "", "");
  ASSERT_EQ(crl.status, 200);
  EXPECT_EQ(crl.content_type, "application/pkix-crl");
  EXPECT_EQ(static_cast<unsigned char>(crl.body[0]), 0x30);  // DER SEQUENCE
  http::Response crl_pem = Call("GET", "/v1/pki/crl/pem", "", "");
  EXPECT_THAT(crl_pem.body, StartsWith("-----BEGIN X509 CRL-----"));
  EXPECT_EQ(Call("GET", "/v1/pki/issuer/root-a/crl/pem", "", "").body, crl_pem.body);
  EXPECT_EQ(Call("GET", "/v1/pki/issuer/root-a/crl/der", "", "").body, crl.body);
  EXPECT_EQ(Call("GET", "/v1/pki/issuer/root-a/crl/txt", "", "").status, 404);
  http::Response json_chain = Call("GET", "/v1/pki/cert/ca_chain", "", "");
  ASSERT_EQ(json_chain.status, 200);
  EXPECT_EQ(Str(Data(json_chain).at("certificate")), chain.body);
  EXPECT_EQ(Str(Data(Call("GET", "/v1/pki/cert/ca", "", "")).at("certificate")), pem.body);
  // Everything else needs a token.
  EXPECT_EQ(Call("LIST", "/v1/pki/roles", "", "").status, 403);
  EXPECT_EQ(Call("GET", "/v1/pki/roles/web", "", "").status, 403);
  EXPECT_EQ(Call("POST", "/v1/pki/issue/web", R"({"common_name":"a.example.com"})", "").status,
            403);
}

TEST_F(PkiHandlerTest, IssueAnswersVaultsShapeAndAWarningWhenTheTtlIsCapped) {
  MakeRootAndRole();
  http::Response res = Call("POST", "/v1/pki/issue/web",
                            R"({"common_name":"a.example.com","alt_names":"b.example.com",)"
                            R"("ip_sans":"10.0.0.1","ttl":"100h"})");
  ASSERT_EQ(res.status, 200) << res.body;
  json::value d = Data(res);
  for (const char* field : {"certificate", "issuing_ca", "private_key", "serial_number"}) {
    EXPECT_FALSE(Str(d.at(field)).empty()) << field;
  }
  EXPECT_EQ(d.at("private_key_type"), "ec");
  EXPECT_EQ(d.at("ca_chain").as_array().size(), 1u);
  EXPECT_EQ(d.at("expiration").as_int64(), absl::ToUnixSeconds(clock_.Now() + absl::Hours(72)));
  ASSERT_TRUE(Body(res).at("warnings").is_array());
  EXPECT_THAT(Str(Body(res).at("warnings").as_array()[0]), HasSubstr("capped"));

  ASSERT_OK_AND_ASSIGN(pki::X509Ptr cert, pki::ParseCertificatePem(Str(d.at("certificate"))));
  ASSERT_OK_AND_ASSIGN(pki::CertificateInfo info, pki::DescribeCertificate(cert.get()));
  EXPECT_THAT(info.dns_names, ::testing::UnorderedElementsAre("a.example.com", "b.example.com"));
  EXPECT_THAT(info.ip_addresses, ::testing::ElementsAre("10.0.0.1"));

  // The stored certificate, by serial in either form; LIST shows Vault's '-' form.
  std::string serial = Str(d.at("serial_number"));
  http::Response read = Call("GET", "/v1/pki/cert/" + serial, "", "");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Data(read).at("certificate"), d.at("certificate"));
  EXPECT_EQ(Data(read).at("revocation_time"), 0);
  std::string dashed = serial;
  for (char& c : dashed) c = c == ':' ? '-' : c;
  EXPECT_EQ(Call("GET", "/v1/pki/cert/" + dashed, "", "").status, 200);
  http::Response list = Call("LIST", "/v1/pki/certs/");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Data(list).at("keys").as_array()[0], json::value(dashed));
}

TEST_F(PkiHandlerTest, RefusedNamesAndUnknownRolesAre400) {
  MakeRootAndRole();
  http::Response refused =
      Call("POST", "/v1/pki/issue/web", R"({"common_name":"db.evil.com","alt_names":"x.org"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.body, HasSubstr("db.evil.com"));
  EXPECT_THAT(refused.body, HasSubstr("x.org"));
  EXPECT_EQ(Call("POST", "/v1/pki/issue/nope", R"({"common_name":"a.example.com"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/pki/sign/web", R"({"csr":"garbage"})").status, 400);
  EXPECT_EQ(
      Call("POST", "/v1/pki/issue/web", R"({"common_name":"a.example.com","format":"der"})").status,
      400);
}

TEST_F(PkiHandlerTest, RevokeBySerialOrCertificateShowsInTheCrl) {
  MakeRootAndRole();
  http::Response a = Call("POST", "/v1/pki/issue/web", R"({"common_name":"a.example.com"})");
  http::Response b = Call("POST", "/v1/pki/issue/web", R"({"common_name":"b.example.com"})");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  const std::string serial_a = Str(Data(a).at("serial_number"));
  http::Response revoked =
      Call("POST", "/v1/pki/revoke", json::serialize(json::object{{"serial_number", serial_a}}));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(Data(revoked).at("state"), "revoked");
  EXPECT_EQ(Data(revoked).at("revocation_time").as_int64(), absl::ToUnixSeconds(clock_.Now()));
  http::Response by_cert =
      Call("POST", "/v1/pki/revoke",
           json::serialize(json::object{{"certificate", Data(b).at("certificate").as_string()}}));
  ASSERT_EQ(by_cert.status, 200) << by_cert.body;
  EXPECT_NE(Data(Call("GET", "/v1/pki/cert/" + serial_a, "", "")).at("revocation_time"), 0);

  EXPECT_EQ(Call("POST", "/v1/pki/revoke", R"({"serial_number":"01:02:03"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/pki/revoke", "{}").status, 400);
  EXPECT_EQ(Call("GET", "/v1/pki/cert/01:02:03", "", "").status, 404);
  EXPECT_EQ(Call("GET", "/v1/pki/crl/rotate").status, 200);
  EXPECT_EQ(Data(Call("GET", "/v1/pki/crl/rotate")).at("success"), true);
}

TEST_F(PkiHandlerTest, RolesListReadWriteDeleteWithVaultStatuses) {
  EXPECT_EQ(Call("LIST", "/v1/pki/roles").status, 404);
  EXPECT_EQ(Call("LIST", "/v1/pki/roles").body, R"({"errors":[]})");
  http::Response written =
      Call("POST", "/v1/pki/roles/app", R"({"allowed_domains":"a.com,b.com","bogus":1})");
  ASSERT_EQ(written.status, 200) << written.body;
  EXPECT_EQ(Data(written).at("allowed_domains").as_array().size(), 2u);
  ASSERT_TRUE(Body(written).at("warnings").is_array());  // the unknown field is named
  EXPECT_THAT(json::serialize(Body(written).at("warnings")), HasSubstr("bogus"));
  EXPECT_EQ(Data(Call("LIST", "/v1/pki/roles")).at("keys"), json::parse(R"(["app"])"));
  EXPECT_EQ(Call("GET", "/v1/pki/roles/app").status, 200);
  EXPECT_EQ(Call("POST", "/v1/pki/roles/app", R"({"key_type":"dsa"})").status, 400);
  EXPECT_EQ(Call("DELETE", "/v1/pki/roles/app").status, 204);
  EXPECT_EQ(Call("GET", "/v1/pki/roles/app").status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/pki/roles/app").status, 204);
}

TEST_F(PkiHandlerTest, RoleWriteIsCreateForNewRolesAndUpdateForExistingOnes) {
  const std::string creator =
      TokenFor(R"({"path":{"pki/roles/*":{"capabilities":["create","read"]}}})");
  EXPECT_EQ(Call("POST", "/v1/pki/roles/r1", R"({"allow_any_name":true})", creator).status, 200);
  EXPECT_EQ(Call("POST", "/v1/pki/roles/r1", R"({"allow_any_name":false})", creator).status, 403);
}

TEST_F(PkiHandlerTest, IntermediateThroughSignIntermediateAndSetSigned) {
  MakeRootAndRole();
  http::Response csr = Call("POST", "/v1/pki/intermediate/generate/internal",
                            R"({"common_name":"Test Intermediate","key_type":"ec"})");
  ASSERT_EQ(csr.status, 200) << csr.body;
  EXPECT_FALSE(Data(csr).as_object().contains("private_key"));
  http::Response signed_ca =
      Call("POST", "/v1/pki/root/sign-intermediate",
           json::serialize(json::object{{"csr", Data(csr).at("csr")}, {"ttl", "8760h"}}));
  ASSERT_EQ(signed_ca.status, 200) << signed_ca.body;
  http::Response set =
      Call("POST", "/v1/pki/intermediate/set-signed",
           json::serialize(json::object{{"certificate", Data(signed_ca).at("certificate")},
                                        {"issuer_name", "int-1"}}));
  ASSERT_EQ(set.status, 200) << set.body;
  const std::string int_id = Str(Data(set).at("imported_issuers").as_array()[0]);
  EXPECT_EQ(Data(set).at("issuer_name"), "int-1");

  http::Response list = Call("LIST", "/v1/pki/issuers");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Data(list).at("keys").as_array().size(), 2u);
  EXPECT_EQ(Data(list).at("key_info").at(int_id).at("is_default"), false);

  // The intermediate becomes the default: issued leaves chain through it to the root.
  http::Response def = Call("POST", "/v1/pki/config/issuers", R"({"default":"int-1"})");
  ASSERT_EQ(def.status, 200) << def.body;
  EXPECT_EQ(Data(def).at("default"), json::value(int_id));
  EXPECT_EQ(Data(Call("GET", "/v1/pki/config/issuers")).at("default"), json::value(int_id));
  http::Response leaf = Call("POST", "/v1/pki/issue/web", R"({"common_name":"x.example.com"})");
  ASSERT_EQ(leaf.status, 200) << leaf.body;
  EXPECT_EQ(Data(leaf).at("ca_chain").as_array().size(), 2u);

  http::Response issuer = Call("GET", "/v1/pki/issuer/int-1");
  ASSERT_EQ(issuer.status, 200);
  EXPECT_EQ(Data(issuer).at("is_default"), true);
  EXPECT_FALSE(Data(issuer).at("last_leaf_not_after").is_null());
  EXPECT_TRUE(Data(Call("GET", "/v1/pki/issuer/root-a")).at("last_leaf_not_after").is_string())
      << "the intermediate's certificate is a leaf of the root";
}

TEST_F(PkiHandlerTest, RetireNeedsForceWhileLeavesAreValidAndNeverRetiresTheDefault) {
  MakeRootAndRole();
  ASSERT_EQ(Call("POST", "/v1/pki/issue/web", R"({"common_name":"a.example.com"})").status, 200);
  ASSERT_EQ(Call("POST", "/v1/pki/root/generate/internal",
                 R"({"common_name":"Root B","key_type":"ec","issuer_name":"root-b"})")
                .status,
            200);
  EXPECT_EQ(Call("POST", "/v1/pki/issuer/root-a/retire", "{}").status, 400);  // the default
  ASSERT_EQ(Call("POST", "/v1/pki/config/issuers", R"({"default":"root-b"})").status, 200);
  http::Response early = Call("POST", "/v1/pki/issuer/root-a/retire", "{}");
  EXPECT_EQ(early.status, 400) << "a leaf of root-a is still valid";
  http::Response forced = Call("POST", "/v1/pki/issuer/root-a/retire", R"({"force":true})");
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_EQ(Data(forced).at("retired"), true);
  EXPECT_EQ(Call("GET", "/v1/pki/ca_chain", "", "").body,
            Call("GET", "/v1/pki/ca/pem", "", "").body);  // only root-b is trusted now
}

TEST_F(PkiHandlerTest, ImportWithConfigCa) {
  // A CA made elsewhere.
  storage::MemoryStore other_store;
  pki::CaService other_ca{other_store, clock_, random_};
  pki::GenerateRootRequest outside;
  outside.common_name = "Outside";
  outside.key_type = pki::KeyType::kEcP256;
  outside.exported = true;
  ASSERT_OK_AND_ASSIGN(pki::GeneratedIssuer exported, other_ca.GenerateRoot(outside));
  const std::string bundle =
      rekey::StrCat(exported.private_key->Reveal(), "\n", exported.issuer.certificate);
  http::Response imported =
      Call("POST", "/v1/pki/config/ca",
           json::serialize(json::object{{"pem_bundle", bundle}, {"issuer_name", "outside"}}));
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_EQ(Data(imported).at("issuer_name"), "outside");
  http::Response bad = Call("POST", "/v1/pki/config/ca", R"({"pem_bundle":"nope"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Call("POST", "/v1/pki/config/ca", "{}").status, 400);
}

TEST_F(PkiHandlerTest, TidyRemovesExpiredCertificates) {
  MakeRootAndRole();
  ASSERT_EQ(
      Call("POST", "/v1/pki/issue/web", R"({"common_name":"a.example.com","ttl":"1h"})").status,
      200);
  clock_.Advance(absl::Hours(3));  // expired 2h ago
  http::Response early = Call("POST", "/v1/pki/tidy", R"({"safety_buffer":"72h"})");
  ASSERT_EQ(early.status, 200) << early.body;
  EXPECT_EQ(Data(early).at("certificates_deleted"), 0);
  http::Response tidied = Call("POST", "/v1/pki/tidy", R"({"safety_buffer":"1h"})");
  ASSERT_EQ(tidied.status, 200);
  EXPECT_EQ(Data(tidied).at("certificates_deleted"), 1);
  EXPECT_EQ(Call("LIST", "/v1/pki/certs").status, 404);
}

}  // namespace
}  // namespace rekey::api
