// Unit tests of the pki rotator through FakeStepContext, over a real CaService on a MemoryStore.
#include "rotators/pki/pki_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/tls_probe.h"
#include "pki/x509.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/testing/json_helpers.h"
#include "storage/memory_store.h"

namespace rekey::rotators::pki {
namespace {

namespace ca = ::rekey::pki;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::rotators::testing::Field;
using ::rekey::rotators::testing::Fields;
using ::rekey::rotators::testing::Obj;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class PkiRotatorTest : public ::testing::Test {
 protected:
  PkiRotatorTest() : ca_(store_, ctx_.fake_clock(), ca_random_), rotator_(ca_) {
    ca::GenerateRootRequest root;
    root.common_name = "Rotator Root";
    root.key_type = ca::KeyType::kEcP256;
    root.issuer_name = "root-1";
    root.ttl = absl::Hours(24 * 365);
    EXPECT_OK(ca_.GenerateRoot(root).status());
    boost::json::object role = Obj(R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                "key_type": "ec", "max_ttl": "2160h"})");
    EXPECT_OK(ca_.WriteRoleJson("web", role).status());
    ctx_.set_params(Obj(R"({"role": "web", "common_name": "api.example.com",
                            "alt_names": ["v2.example.com"], "ip_sans": "10.0.0.7",
                            "ttl": "720h"})"));
  }

  // create then store the value as the pending version, as the engine does.
  SecretBytes CreatePending(uint64_t version) {
    ctx_.set_step(Step::kCreate);
    absl::StatusOr<SecretBytes> value = rotator_.Create(ctx_);
    EXPECT_TRUE(value.ok()) << value.status();
    if (!value.ok()) return SecretBytes();
    ctx_.set_pending(
        FakeStepContext::MakeVersion(version, rekey::StrCat("v", version), value->Reveal()));
    return *value;
  }
  // A whole successful rotation: create, set, test, then the new version becomes current.
  SecretBytes Rotate(uint64_t version) {
    ctx_.state().clear();
    SecretBytes value = CreatePending(version);
    ctx_.set_step(Step::kSet);
    EXPECT_OK(rotator_.Set(ctx_));
    ctx_.set_step(Step::kTest);
    EXPECT_OK(rotator_.Test(ctx_));
    ctx_.set_previous(ctx_.current());
    ctx_.set_current(ctx_.pending());
    ctx_.set_pending(std::nullopt);
    return value;
  }
  std::optional<absl::Time> RevokedAt(const SecretBytes& value) {
    absl::StatusOr<ca::CertificateEntry> entry = ca_.ReadCertificate(Field(value, "serial_number"));
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? entry->revoked_at : std::nullopt;
  }
  void ReplacePending(std::string_view field, std::string_view text) {
    boost::json::object o = Obj(ctx_.pending()->value->Reveal());
    o[boost::json::string_view(field.data(), field.size())] =
        boost::json::string_view(text.data(), text.size());
    ctx_.set_pending(FakeStepContext::MakeVersion(9, "v9", boost::json::serialize(o)));
  }

  FakeStepContext ctx_;
  storage::MemoryStore store_;
  FakeRandom ca_random_{11};
  ca::CaService ca_;
  PkiRotator rotator_;
};

TEST_F(PkiRotatorTest, ValidateListsEveryProblem) {
  EXPECT_THAT(rotator_.Validate(ctx_.params()), IsEmpty());
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"ip_sans": ["nope"], "ttl": "soon",
                                               "revoke_on_retire": "yes", "extra": 1})"))),
              ElementsAre("params.common_name", "params.extra", "params.ip_sans",
                          "params.revoke_on_retire", "params.role", "params.ttl"));
}

TEST_F(PkiRotatorTest, CheckAsksTheCaWithoutIssuing) {
  EXPECT_OK(rotator_.Check(ctx_));
  ctx_.set_params(Obj(R"({"role": "web", "common_name": "api.evil.org"})"));
  EXPECT_THAT(rotator_.Check(ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("role \"web\""), HasSubstr("api.evil.org"))));
  ctx_.set_params(Obj(R"({"role": "nope", "common_name": "api.example.com"})"));
  EXPECT_THAT(rotator_.Check(ctx_), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> serials, ca_.ListCertificates());
  EXPECT_THAT(serials, IsEmpty());
}

TEST_F(PkiRotatorTest, CreateIssuesTheValueShapeWithTheLifetime) {
  SecretBytes value = CreatePending(1);
  boost::json::object o = Obj(value.Reveal());
  for (const char* field : {"certificate", "private_key", "private_key_type", "issuing_ca", "chain",
                            "serial_number", "not_before", "not_after"}) {
    EXPECT_TRUE(o.contains(field)) << field;
  }
  EXPECT_EQ(Field(value, "private_key_type"), "ec");
  EXPECT_EQ(Field(value, "not_after"),
            absl::FormatTime(absl::RFC3339_sec, ctx_.clock().Now() + absl::Hours(720),
                             absl::UTCTimeZone()));
  ASSERT_OK_AND_ASSIGN(ca::X509Ptr cert, ca::ParseCertificatePem(Field(value, "certificate")));
  ASSERT_OK_AND_ASSIGN(ca::CertificateInfo info, ca::DescribeCertificate(cert.get()));
  EXPECT_THAT(info.dns_names, ElementsAre("api.example.com", "v2.example.com"));
  EXPECT_THAT(info.ip_addresses, ElementsAre("10.0.0.7"));
  EXPECT_EQ(info.serial_number, Field(value, "serial_number"));
  // Key material never reaches the log.
  EXPECT_FALSE(ctx_.recorded_log().Contains("PRIVATE KEY"));
  const std::string key = Field(value, "private_key");
  EXPECT_FALSE(ctx_.recorded_log().Contains(key.substr(40, 40)));
}

TEST_F(PkiRotatorTest, EveryRotationHasANewKeyAndTestPasses) {
  SecretBytes first = Rotate(1);
  ctx_.fake_clock().Advance(absl::Hours(24 * 20));
  SecretBytes second = Rotate(2);
  EXPECT_NE(Field(first, "private_key"), Field(second, "private_key"));
  EXPECT_NE(Field(first, "serial_number"), Field(second, "serial_number"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("TLS handshake"));
}

TEST_F(PkiRotatorTest, TestRefusesAKeyThatDoesNotMatch) {
  SecretBytes other = CreatePending(1);
  CreatePending(2);
  ReplacePending("private_key", Field(other, "private_key"));
  ctx_.set_step(Step::kTest);
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not match")));
}

TEST_F(PkiRotatorTest, TestRefusesACertificateOutsideItsValidity) {
  CreatePending(1);
  ctx_.fake_clock().Advance(absl::Hours(721));
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("outside its validity")));
}

TEST_F(PkiRotatorTest, TestRefusesMissingNames) {
  CreatePending(1);
  ctx_.set_params(Obj(R"({"role": "web", "common_name": "api.example.com",
                          "alt_names": ["v3.example.com"], "ip_sans": ["10.0.0.8"]})"));
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("v3.example.com"), HasSubstr("10.0.0.8"))));
}

TEST_F(PkiRotatorTest, TestRefusesAChainOutsideTheTrustBundle) {
  CreatePending(1);
  // A chain the CA does not trust: replace the certificate with one from a foreign CA.
  storage::MemoryStore other_store;
  FakeRandom other_random(5);
  ca::CaService foreign(other_store, ctx_.fake_clock(), other_random);
  ca::GenerateRootRequest root;
  root.common_name = "Foreign";
  root.key_type = ca::KeyType::kEcP256;
  ASSERT_OK(foreign.GenerateRoot(root).status());
  ASSERT_OK(
      foreign.WriteRoleJson("web", Obj(R"({"allow_any_name": true, "key_type": "ec"})")).status());
  ca::IssueRequest req;
  req.common_name = "api.example.com";
  req.alt_names = {"v2.example.com"};
  req.ip_sans = {"10.0.0.7"};
  ASSERT_OK_AND_ASSIGN(ca::IssuedCertificate issued, foreign.Issue("web", req));
  ReplacePending("certificate", issued.certificate);
  ReplacePending("private_key", issued.private_key->Reveal());
  ReplacePending("chain", issued.issuing_ca);
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("trust bundle")));
}

TEST_F(PkiRotatorTest, RevokeRevokesThePreviousOnlyWhenAsked) {
  SecretBytes first = Rotate(1);
  Rotate(2);
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  EXPECT_EQ(RevokedAt(first), std::nullopt);

  boost::json::object params = ctx_.params();
  params["revoke_on_retire"] = true;
  ctx_.set_params(params);
  ASSERT_OK(rotator_.Revoke(ctx_));
  EXPECT_EQ(RevokedAt(first), ctx_.clock().Now());
  // Idempotent, and a serial the CA has tidied away is not an error.
  ASSERT_OK(rotator_.Revoke(ctx_));
  ctx_.set_previous(
      FakeStepContext::MakeVersion(1, "v1", R"({"serial_number": "01:02:03", "certificate": ""})"));
  EXPECT_OK(rotator_.Revoke(ctx_));
}

TEST_F(PkiRotatorTest, RollbackRevokesThePendingCertificate) {
  SecretBytes pending = CreatePending(1);
  ctx_.set_step(Step::kRollback);
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(RevokedAt(pending), ctx_.clock().Now());
  EXPECT_FALSE(ctx_.state().contains("pending_serial"));
}

TEST_F(PkiRotatorTest, RollbackAfterAFailedCreateRevokesWhatItIssued) {
  SecretBytes issued = CreatePending(1);
  ctx_.set_pending(std::nullopt);  // the engine never stored it
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(RevokedAt(issued), ctx_.clock().Now());
}

TEST_F(PkiRotatorTest, ARepeatedCreateRevokesTheOrphanOfTheFirst) {
  SecretBytes orphan = CreatePending(1);
  SecretBytes second = CreatePending(1);
  EXPECT_EQ(RevokedAt(orphan), ctx_.clock().Now());
  EXPECT_EQ(RevokedAt(second), std::nullopt);
}

TEST_F(PkiRotatorTest, CreateFailsReadablyWhenTheRoleRefuses) {
  ctx_.set_params(Obj(R"({"role": "web", "common_name": "api.evil.org"})"));
  EXPECT_THAT(rotator_.Create(ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("api.evil.org")));
}

TEST_F(PkiRotatorTest, RotationAcrossACaRotationKeepsEveryPairTrusted) {
  SecretBytes old_pair = Rotate(1);
  ca::GenerateRootRequest next;
  next.common_name = "Rotator Root 2";
  next.key_type = ca::KeyType::kRsa2048;
  next.issuer_name = "root-2";
  ASSERT_OK(ca_.GenerateRoot(next).status());
  ASSERT_OK(ca_.SetDefaultIssuer("root-2"));
  SecretBytes new_pair = Rotate(2);
  ASSERT_OK_AND_ASSIGN(ca::IssuerInfo root2, ca_.ReadIssuer("root-2"));
  EXPECT_EQ(Field(new_pair, "issuing_ca"), root2.certificate);

  // A client trusting the bundle completes a handshake with the old and the new pair.
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_.CaChainPem());
  for (const SecretBytes* value : {&old_pair, &new_pair}) {
    SecretBytes key(Field(*value, "private_key"));
    ca::TlsProbe probe;
    probe.certificate = Field(*value, "certificate");
    probe.chain = Field(*value, "chain");
    probe.private_key = &key;
    probe.trust_bundle = bundle;
    probe.server_name = "api.example.com";
    probe.at = ctx_.clock().Now();
    EXPECT_OK(ca::TlsHandshakeInMemory(probe));
  }
}

}  // namespace
}  // namespace rekey::rotators::pki
