#include "pki/vault_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "pki/testing/pki_fixture.h"

namespace rekey::pki {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

boost::json::object Obj(std::string_view text) {
  return boost::json::parse(boost::json::string_view(text.data(), text.size())).as_object();
}

TEST(VaultJsonTest, IssueRequestTakesVaultShapes) {
  ASSERT_OK_AND_ASSIGN(IssueRequest req, IssueRequestFromJson(Obj(R"({
      "common_name": "a.example.com", "alt_names": "b.example.com, c.example.com",
      "ip_sans": ["10.0.0.1"], "ttl": "24h", "exclude_cn_from_sans": "true",
      "issuer_ref": "default", "format": "pem", "uri_sans": "ignored"})")));
  EXPECT_EQ(req.common_name, "a.example.com");
  EXPECT_THAT(req.alt_names, ElementsAre("b.example.com", "c.example.com"));
  EXPECT_THAT(req.ip_sans, ElementsAre("10.0.0.1"));
  EXPECT_EQ(req.ttl, absl::Hours(24));
  EXPECT_TRUE(req.exclude_cn_from_sans);
  EXPECT_EQ(req.issuer_ref, "");  // "default" defers to the role
}

TEST(VaultJsonTest, RequestProblemsAreAllReported) {
  EXPECT_THAT(IssueRequestFromJson(Obj(R"({"ttl": "soon", "alt_names": 5, "format": "der"})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("ttl:"), HasSubstr("alt_names:"), HasSubstr("format:"))));
  EXPECT_THAT(SignRequestFromJson(Obj("{}")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("csr: is required")));
  EXPECT_THAT(RootRequestFromJson(Obj(R"({"key_type": "ec", "key_bits": 521})"), false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("common_name"), HasSubstr("key_bits"))));
}

TEST(VaultJsonTest, RootRequest) {
  ASSERT_OK_AND_ASSIGN(GenerateRootRequest req,
                       RootRequestFromJson(Obj(R"({"common_name": "Root", "key_type": "ec",
                           "key_bits": 384, "ttl": "87600h", "max_path_length": -1,
                           "issuer_name": "r1"})"),
                                           true));
  EXPECT_EQ(req.key_type, KeyType::kEcP384);
  EXPECT_EQ(req.ttl, absl::Hours(87600));
  EXPECT_EQ(req.max_path_length, -1);
  EXPECT_EQ(req.issuer_name, "r1");
  EXPECT_TRUE(req.exported);
  ASSERT_OK_AND_ASSIGN(req, RootRequestFromJson(Obj(R"({"common_name": "Root",
                                                       "max_path_length": 1})"),
                                                false));
  EXPECT_EQ(req.key_type, KeyType::kRsa2048);
  EXPECT_EQ(req.max_path_length, 1);
}

class VaultJsonResponseTest : public testing::PkiTest {};

TEST_F(VaultJsonResponseTest, IssuedHasVaultFields) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  ASSERT_OK_AND_ASSIGN(IssueRequest req, IssueRequestFromJson(Obj(R"({"common_name": "a.test"})")));
  ASSERT_OK_AND_ASSIGN(IssuedCertificate issued, ca_->Issue("web", req));
  boost::json::object o = IssuedToJson(issued);
  for (const char* field : {"certificate", "issuing_ca", "ca_chain", "private_key",
                            "private_key_type", "serial_number", "expiration"}) {
    EXPECT_TRUE(o.contains(field)) << field;
  }
  EXPECT_EQ(o["private_key_type"].as_string(), "ec");
  EXPECT_EQ(o["expiration"].as_int64(), absl::ToUnixSeconds(issued.expiration));
  EXPECT_EQ(o["ca_chain"].as_array().size(), 1u);
  issued.private_key.reset();  // a sign response
  EXPECT_FALSE(IssuedToJson(issued).contains("private_key"));
}

TEST_F(VaultJsonResponseTest, IssuerAndCertificateEntries) {
  IssuerInfo root = MakeRoot("Root", KeyType::kEcP256, "r1");
  boost::json::object o = IssuerToJson(root);
  EXPECT_EQ(o["issuer_name"].as_string(), "r1");
  EXPECT_TRUE(o["is_default"].as_bool());
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssueRequest req;
  req.common_name = "a.test";
  ASSERT_OK_AND_ASSIGN(IssuedCertificate issued, ca_->Issue("web", req));
  ASSERT_OK_AND_ASSIGN(CertificateEntry entry, ca_->ReadCertificate(issued.serial_number));
  EXPECT_EQ(CertificateEntryToJson(entry)["revocation_time"].as_int64(), 0);
  ASSERT_OK_AND_ASSIGN(absl::Time at, ca_->Revoke(issued.serial_number));
  EXPECT_EQ(RevocationToJson(at)["revocation_time"].as_int64(), absl::ToUnixSeconds(at));
}

}  // namespace
}  // namespace rekey::pki
