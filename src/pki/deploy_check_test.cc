#include "pki/deploy_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "core/testing/status_matchers.h"
#include "pki/testing/pki_fixture.h"

namespace rekey::pki {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

class DeployCheckTest : public testing::PkiTest {
 protected:
  void SetUp() override {
    root_ = MakeRoot("Deploy Root", KeyType::kEcP256);
    MakeRole("web", R"({"allowed_domains": "example.com", "allow_subdomains": true,
                        "key_type": "ec"})");
    IssueRequest req;
    req.common_name = "www.example.com";
    req.alt_names = {"api.example.com"};
    req.ip_sans = {"127.0.0.1"};
    req.ttl = absl::Hours(1);
    absl::StatusOr<IssuedCertificate> issued = ca_->Issue("web", req);
    ASSERT_TRUE(issued.ok()) << issued.status();
    issued_ = std::move(*issued);
    chain_ = absl::StrJoin(issued_.ca_chain, "");
  }
  DeployCheck Check() {
    DeployCheck c;
    c.certificate = issued_.certificate;
    c.chain = chain_;
    c.private_key = &*issued_.private_key;
    c.trust_bundle = root_.certificate;
    c.trust_name = "the test root";
    c.now = clock_.Now();
    c.common_name = "www.example.com";
    c.names = {"api.example.com", "127.0.0.1"};
    return c;
  }
  IssuerInfo root_;
  IssuedCertificate issued_;
  std::string chain_;
};

TEST_F(DeployCheckTest, AGoodPairPassesEveryCheck) {
  absl::StatusOr<DeployCheckResult> r = CheckForDeployment(Check());
  ASSERT_OK(r.status());
  EXPECT_EQ(r->info.common_name, "www.example.com");
  EXPECT_EQ(r->server_name, "www.example.com");
  EXPECT_EQ(r->checked_at, clock_.Now());
}

TEST_F(DeployCheckTest, EachFailureSaysWhat) {
  DeployCheck c = Check();
  c.names.push_back("other.example.com");
  c.names.push_back("10.0.0.1");
  EXPECT_THAT(CheckForDeployment(c),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it lacks SAN \"other.example.com\", IP SAN \"10.0.0.1\"")));

  c = Check();
  c.common_name = "db.example.com";
  EXPECT_THAT(CheckForDeployment(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("common name \"db.example.com\"")));

  c = Check();
  IssueRequest again;
  again.common_name = "www.example.com";
  absl::StatusOr<IssuedCertificate> other = ca_->Issue("web", again);
  ASSERT_TRUE(other.ok()) << other.status();
  c.private_key = &*other->private_key;
  EXPECT_THAT(CheckForDeployment(c),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the private key does not match the certificate")));

  c = Check();
  IssuerInfo stranger = MakeRoot("Stranger Root", KeyType::kEcP256, "stranger");
  c.trust_bundle = stranger.certificate;
  EXPECT_THAT(CheckForDeployment(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("it does not chain to the test root")));

  c = Check();
  c.now = clock_.Now() + absl::Hours(2);
  EXPECT_THAT(CheckForDeployment(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("now is outside its validity")));

  c = Check();
  c.certificate = "not a certificate";
  EXPECT_THAT(CheckForDeployment(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("no readable certificate")));
}

TEST_F(DeployCheckTest, ALeafStartingWithinTheSkewIsCheckedAsOfItsStart) {
  DeployCheck c = Check();
  c.now = issued_.not_before - absl::Seconds(30);  // the leaf starts 30 s "from now"
  c.start_skew = absl::Minutes(1);
  absl::StatusOr<DeployCheckResult> r = CheckForDeployment(c);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->checked_at, issued_.not_before);

  c.start_skew = absl::Seconds(1);
  EXPECT_THAT(CheckForDeployment(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("now is outside its validity")));
}

}  // namespace
}  // namespace rekey::pki
