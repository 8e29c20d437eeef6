// The pki-ca rotator over a real CaService on a MemoryStore: a CA rotation step by step, as the
// engine drives it (FakeStepContext).
#include "rotators/pki/ca_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"
#include "storage/memory_store.h"

namespace rekey::rotators::pki {
namespace {

namespace ca = ::rekey::pki;
namespace json = boost::json;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::testing::HasSubstr;

class CaRotatorTest : public ::testing::Test {
 protected:
  CaRotatorTest() : ca_(store_, ctx_.fake_clock(), ca_random_), rotator_(ca_) {
    ca::GenerateRootRequest root;
    root.common_name = "Old Root";
    root.key_type = ca::KeyType::kEcP256;
    root.issuer_name = "ca-0";
    root.ttl = absl::Hours(24 * 365);
    EXPECT_OK(ca_.GenerateRoot(root).status());
    EXPECT_OK(ca_.WriteRoleJson("web", json::parse(R"({"allowed_domains": ["example.com"],
        "allow_subdomains": true, "key_type": "ec", "max_ttl": "720h"})")
                                           .as_object())
                  .status());
    ctx_.set_params(json::parse(R"({"common_name": "New Root", "ttl": "8760h"})").as_object());
    ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", R"({"issuer_name": "ca-0"})"));
  }

  // create, set and test; then the new version becomes current and finish runs.
  std::string RotateToFinish() {
    ctx_.set_step(Step::kCreate);
    absl::StatusOr<SecretBytes> value = rotator_.Create(ctx_);
    EXPECT_TRUE(value.ok()) << value.status();
    ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value->Reveal()));
    ctx_.set_step(Step::kSet);
    EXPECT_OK(rotator_.Set(ctx_));
    EXPECT_OK(rotator_.Set(ctx_));  // a resumed set adopts its issuer
    ctx_.set_step(Step::kTest);
    EXPECT_OK(rotator_.Test(ctx_));
    ctx_.set_previous(ctx_.current());
    ctx_.set_current(ctx_.pending());
    ctx_.set_pending(std::nullopt);
    ctx_.set_step(Step::kFinish);
    EXPECT_OK(rotator_.Finish(ctx_));
    return std::string(json::parse(value->Reveal()).at("issuer_name").as_string().c_str());
  }

  size_t ActiveIssuers() {
    size_t n = 0;
    for (const ca::IssuerInfo& i : *ca_.ListIssuers()) n += i.retired ? 0 : 1;
    return n;
  }

  FakeStepContext ctx_;
  storage::MemoryStore store_;
  FakeRandom ca_random_{7};
  ca::CaService ca_;
  CaRotator rotator_;
};

TEST_F(CaRotatorTest, ValidatesParams) {
  EXPECT_TRUE(rotator_.Validate(json::parse(R"({"common_name": "X"})").as_object()).empty());
  EXPECT_EQ(rotator_.Validate(json::object{}).size(), 1u);
  EXPECT_FALSE(
      rotator_.Validate(json::parse(R"({"common_name": "X", "key_type": "dsa"})").as_object())
          .empty());
  EXPECT_FALSE(
      rotator_.Validate(json::parse(R"({"common_name": "X", "ttl": "5m"})").as_object()).empty());
}

TEST_F(CaRotatorTest, TheNewIssuerJoinsTheBundleThenSignsThenTheOldOneRetires) {
  ASSERT_OK(rotator_.Check(ctx_));
  const std::string fresh = RotateToFinish();
  // Overlap: both in the bundle, the new one signs.
  EXPECT_EQ(ActiveIssuers(), 2u);
  ASSERT_OK_AND_ASSIGN(ca::IssuerInfo def, ca_.ReadIssuer("default"));
  EXPECT_EQ(def.issuer_name, fresh);
  ASSERT_OK_AND_ASSIGN(ca::IssuedCertificate leaf,
                       ca_.Issue("web", ca::IssueRequest{.common_name = "a.example.com"}));
  EXPECT_EQ(leaf.issuing_ca, def.certificate);
  // After the grace: revoke retires the old issuer.
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  EXPECT_EQ(ActiveIssuers(), 1u);
  ASSERT_OK_AND_ASSIGN(ca::IssuerInfo old, ca_.ReadIssuer("ca-0"));
  EXPECT_TRUE(old.retired);
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_.CaChainPem());
  EXPECT_EQ(bundle.find(old.certificate), std::string::npos);
  EXPECT_OK(rotator_.Revoke(ctx_)) << "revoke is idempotent";
}

TEST_F(CaRotatorTest, RevokeWaitsForTheOldIssuersLeavesUnlessForced) {
  ASSERT_OK(
      ca_.Issue("web", ca::IssueRequest{.common_name = "b.example.com", .ttl = absl::Hours(48)})
          .status());
  RotateToFinish();
  ctx_.set_step(Step::kRevoke);
  absl::Status refused = rotator_.Revoke(ctx_);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.message()), HasSubstr("last certificate expires"));
  EXPECT_EQ(ActiveIssuers(), 2u);
  ctx_.fake_clock().Advance(absl::Hours(49));
  EXPECT_OK(rotator_.Revoke(ctx_)) << "the leaf expired: the old issuer may go";
  EXPECT_EQ(ActiveIssuers(), 1u);
}

TEST_F(CaRotatorTest, RollbackRetiresTheNewIssuerAndKeepsTheOld) {
  ctx_.set_step(Step::kCreate);
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_.Create(ctx_));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_EQ(ActiveIssuers(), 2u);
  ctx_.set_step(Step::kRollback);
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(ActiveIssuers(), 1u);
  ASSERT_OK_AND_ASSIGN(ca::IssuerInfo def, ca_.ReadIssuer("default"));
  EXPECT_EQ(def.issuer_name, "ca-0");
}

}  // namespace
}  // namespace rekey::rotators::pki
