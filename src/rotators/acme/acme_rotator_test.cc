// Unit tests of the acme rotator without a CA: params, failures before and at the CA, and the test
// step over certificates from rekey's own CA. acme_pebble_test.cc runs whole rotations.
#include "rotators/acme/acme_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/ca_service.h"
#include "pki/x509.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/testing/json_helpers.h"
#include "storage/memory_store.h"

namespace rekey::rotators::acme {
namespace {

namespace ca = ::rekey::pki;
namespace json = boost::json;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::rotators::testing::Fields;
using ::rekey::rotators::testing::Obj;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// An AccountStore over a map; counts writes.
class MapAccountStore final : public AccountStore {
 public:
  absl::StatusOr<SecretBytes> Read(std::string_view path) override {
    auto it = values.find(std::string(path));
    if (it == values.end()) return absl::NotFoundError("no such secret");
    return SecretBytes(it->second);
  }
  absl::Status Create(std::string_view path, const SecretBytes& value) override {
    ++creates;
    if (values.count(std::string(path))) return absl::AlreadyExistsError("exists");
    values[std::string(path)] = std::string(value.Reveal());
    return absl::OkStatus();
  }
  std::map<std::string, std::string> values;
  int creates = 0;
};

constexpr char kParams[] = R"({"directory_url": "https://ca.test/dir",
  "account_secret": "acme/account", "agree_tos": true, "domains": ["www.example.com"],
  "http01_listen": "127.0.0.1:0"})";

class AcmeRotatorTest : public ::testing::Test {
 protected:
  AcmeRotatorTest() : rotator_(Options()) { ctx_.set_params(Obj(kParams)); }

  AcmeRotatorOptions Options() {
    AcmeRotatorOptions o;
    o.accounts = accounts_;
    return o;
  }

  std::shared_ptr<MapAccountStore> accounts_ = std::make_shared<MapAccountStore>();
  FakeStepContext ctx_;
  AcmeRotator rotator_;
};

TEST_F(AcmeRotatorTest, ValidateAcceptsAGoodConfig) {
  EXPECT_THAT(rotator_.Validate(Obj(kParams)), IsEmpty());
  EXPECT_THAT(rotator_.Validate(Obj(R"({"directory_url": "https://ca.test/dir",
      "account_secret": "a", "domains": "*.example.com, example.com", "challenge": "dns-01",
      "dns01_hook": ["/usr/local/bin/dns-hook", "--zone", "example.com"],
      "dns01_hook_timeout": "2m", "dns01_propagation_wait": "30s", "key_type": "rsa-2048",
      "contact": ["ops@example.com"], "ca_file": "/etc/ca.pem",
      "trust_bundle_file": "/etc/roots.pem", "revoke_on_retire": true})")),
              IsEmpty());
}

TEST_F(AcmeRotatorTest, ValidateListsEveryProblem) {
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"extra": 1})"))),
              AllOf(Contains("params.directory_url"), Contains("params.account_secret"),
                    Contains("params.domains"), Contains("params.extra")));
  EXPECT_THAT(
      Fields(rotator_.Validate(Obj(R"({"directory_url": "ftp://x", "account_secret": "/a",
      "domains": ["ok.example", "bad_name!", "10.0.0.1."], "challenge": "tls-alpn-01",
      "key_type": "ed25519", "agree_tos": "yes", "dns01_hook_timeout": "0s",
      "http01_listen": "nowhere", "contact": ["nobody"]})"))),
      AllOf(Contains("params.directory_url"), Contains("params.account_secret"),
            Contains("params.domains"), Contains("params.challenge"), Contains("params.key_type"),
            Contains("params.agree_tos"), Contains("params.dns01_hook_timeout"),
            Contains("params.http01_listen"), Contains("params.contact")));
}

TEST_F(AcmeRotatorTest, WildcardsNeedDns01AndDns01NeedsAHook) {
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"directory_url": "https://ca.test/dir",
      "account_secret": "a", "domains": ["*.example.com"]})"))),
              Contains("params.domains"));
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"directory_url": "https://ca.test/dir",
      "account_secret": "a", "domains": ["example.com"], "challenge": "dns-01"})"))),
              Contains("params.dns01_hook"));
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"directory_url": "https://ca.test/dir",
      "account_secret": "a", "domains": ["example.com"], "challenge": "dns-01",
      "dns01_hook": ["relative/hook"]})"))),
              Contains("params.dns01_hook"));
}

TEST_F(AcmeRotatorTest, TargetKeyIsTheDirectory) {
  EXPECT_EQ(rotator_.TargetKey(Obj(kParams)), "acme:https://ca.test/dir");
}

TEST_F(AcmeRotatorTest, AnUnreachableCaFailsCreateReadablyAndStoresNothing) {
  ctx_.fake_http().set_handler(
      [](const rotation::HttpCall& call) -> absl::StatusOr<rotation::HttpReply> {
        EXPECT_EQ(call.url, "https://ca.test/dir");
        return absl::UnavailableError(
            "connecting to https://ca.test:443 failed: Connection refused");
      });
  absl::StatusOr<SecretBytes> value = rotator_.Create(ctx_);
  EXPECT_THAT(value, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(HasSubstr("ACME server https://ca.test"),
                                    HasSubstr("fetching the ACME directory"),
                                    HasSubstr("Connection refused"))));
  EXPECT_EQ(accounts_->creates, 0);
  EXPECT_THAT(rotator_.Check(ctx_), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(AcmeRotatorTest, TheCaFileIsUsedForEveryCall) {
  json::object params = Obj(kParams);
  params["ca_file"] = "/tmp/acme-ca.pem";
  ctx_.set_params(params);
  ctx_.fake_http().ReplyWith(503, R"({"type": "urn:ietf:params:acme:error:serverInternal",
                                      "detail": "maintenance"})");
  EXPECT_THAT(rotator_.Create(ctx_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("maintenance")));
  ASSERT_FALSE(ctx_.fake_http().calls().empty());
  for (const rotation::HttpCall& call : ctx_.fake_http().calls()) {
    EXPECT_EQ(call.ca_file, "/tmp/acme-ca.pem");
  }
}

TEST_F(AcmeRotatorTest, TheAccountSecretMustNotBeTheCertificatesOwn) {
  ctx_.set_path("acme/account");
  EXPECT_THAT(rotator_.Create(ctx_), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AcmeRotatorTest, WithoutAnAccountStoreAMissingAccountIsAnError) {
  AcmeRotator no_store;
  EXPECT_THAT(no_store.Create(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("account secret \"acme/account\" does not exist")));
  EXPECT_TRUE(ctx_.fake_http().calls().empty());
}

TEST_F(AcmeRotatorTest, AnUnreadableAccountKeyIsNamedNotQuoted) {
  accounts_->values["acme/account"] = R"({"account_key": "not a key s3cr3t"})";
  ctx_.fake_http().ReplyWith(500, "");
  absl::StatusOr<SecretBytes> value = rotator_.Create(ctx_);
  EXPECT_THAT(value, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("acme/account")));
  EXPECT_THAT(std::string(value.status().message()), Not(HasSubstr("s3cr3t")));
}

// The test step over certificates from rekey's own CA (a stand-in for the ACME CA's chain).
class AcmeTestStepTest : public AcmeRotatorTest {
 protected:
  AcmeTestStepTest() : ca_(store_, ctx_.fake_clock(), ca_random_) {
    ca::GenerateRootRequest root;
    root.common_name = "Stand-in Root";
    root.key_type = ca::KeyType::kEcP256;
    root.issuer_name = "root";
    root.ttl = absl::Hours(24 * 365);
    EXPECT_OK(ca_.GenerateRoot(root).status());
    EXPECT_OK(ca_.WriteRoleJson("web", Obj(R"({"allowed_domains": ["example.com"],
        "allow_subdomains": true, "allow_bare_domains": true, "allow_wildcard_certificates": true,
        "key_type": "ec", "max_ttl": "2160h"})"))
                  .status());
    // One file per process and test: ctest runs the tests in parallel processes.
    bundle_path_ =
        rekey::StrCat(::testing::TempDir(), "acme_rotator_test_bundle-", ::getpid(), "-",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".pem");
    std::ofstream(bundle_path_) << ca_.CaChainPem().value();
    json::object params = Obj(kParams);
    params["domains"] = json::array{"www.example.com", "example.com"};
    params["trust_bundle_file"] = json::string_view(bundle_path_);
    ctx_.set_params(params);
    ctx_.set_step(Step::kTest);
  }
  ~AcmeTestStepTest() override { std::remove(bundle_path_.c_str()); }

  // A pending value as Create would store it.
  void SetPending(std::vector<std::string> names, std::string_view ttl = "720h",
                  bool swap_key = false) {
    ca::IssueRequest req;
    req.common_name = names.front();
    req.alt_names = names;
    ASSERT_TRUE(absl::ParseDuration(ToAbsl(ttl), &req.ttl));
    absl::StatusOr<ca::IssuedCertificate> issued = ca_.Issue("web", req);
    ASSERT_TRUE(issued.ok()) << issued.status();
    std::string key(issued->private_key->Reveal());
    if (swap_key) {
      absl::StatusOr<ca::IssuedCertificate> other = ca_.Issue("web", req);
      ASSERT_TRUE(other.ok());
      key = std::string(other->private_key->Reveal());
    }
    json::object v;
    v["certificate"] = json::string_view(issued->certificate);
    v["private_key"] = json::string_view(key);
    v["chain"] = json::string_view(absl::StrJoin(issued->ca_chain, ""));
    v["serial_number"] = json::string_view(issued->serial_number);
    ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", json::serialize(v)));
  }

  storage::MemoryStore store_;
  FakeRandom ca_random_{7};
  ca::CaService ca_;
  std::string bundle_path_;
};

TEST_F(AcmeTestStepTest, AGoodCertificatePassesWithAHandshake) {
  SetPending({"www.example.com", "example.com"});
  EXPECT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("TLS handshake as www.example.com"));
  EXPECT_FALSE(ctx_.recorded_log().Contains("PRIVATE KEY"));
}

TEST_F(AcmeTestStepTest, AMissingDomainFails) {
  SetPending({"www.example.com"});
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                            HasSubstr("it lacks SAN \"example.com\"")));
}

TEST_F(AcmeTestStepTest, AKeyThatIsNotTheCertificatesFails) {
  SetPending({"www.example.com", "example.com"}, "720h", /*swap_key=*/true);
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not match")));
}

TEST_F(AcmeTestStepTest, AnExpiredCertificateFails) {
  SetPending({"www.example.com", "example.com"}, "1h");
  ctx_.fake_clock().Advance(absl::Hours(2));
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("outside its validity")));
}

TEST_F(AcmeTestStepTest, ACertificateStartingMomentsFromNowIsTestedAsOfItsStart) {
  SetPending({"www.example.com", "example.com"});
  ASSERT_OK_AND_ASSIGN(ca::X509Ptr cert, ca::ParseCertificatePem(testing::Field(
                                             *ctx_.pending()->value, "certificate")));
  ASSERT_OK_AND_ASSIGN(ca::CertificateInfo info, ca::DescribeCertificate(cert.get()));
  ctx_.fake_clock().Set(info.not_before - absl::Minutes(2));
  EXPECT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("clock skew"));
  ctx_.fake_clock().Set(info.not_before - absl::Minutes(10));
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("outside its validity")));
}

TEST_F(AcmeTestStepTest, AChainToAnotherRootFails) {
  SetPending({"www.example.com", "example.com"});
  storage::MemoryStore other_store;
  FakeRandom other_random{99};
  ca::CaService other(other_store, ctx_.fake_clock(), other_random);
  ca::GenerateRootRequest root;
  root.common_name = "Other Root";
  root.key_type = ca::KeyType::kEcP256;
  root.ttl = absl::Hours(24);
  ASSERT_OK(other.GenerateRoot(root).status());
  std::ofstream(bundle_path_) << other.CaChainPem().value();
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("it does not chain to")));
}

TEST_F(AcmeTestStepTest, AnUnreadableTrustBundleIsNamed) {
  SetPending({"www.example.com", "example.com"});
  json::object params = ctx_.params();
  params["trust_bundle_file"] = "/nonexistent/roots.pem";
  ctx_.set_params(params);
  EXPECT_THAT(rotator_.Test(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/roots.pem")));
}

}  // namespace
}  // namespace rekey::rotators::acme
