// The acme rotator against a real ACME CA: Debian's pebble (with pebble-challtestsrv as its DNS),
// started by scripts/services. Whole rotations through http-01 (rekey's responder on the port
// pebble validates on) and dns-01 (a hook that sets the TXT record through challtestsrv), renewal
// with a new key, revocation, and the failures a run must report readably.
// REKEY_NO_SERVICES=1 skips these tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/x509.h"
#include "rotation/net_http_transport.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/acme/acme_rotator.h"
#include "rotators/testing/json_helpers.h"
#include "rotators/testing/services.h"

namespace rekey::rotators::acme {
namespace {

namespace ca = ::rekey::pki;
namespace json = boost::json;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::rotators::testing::Field;
using ::rekey::rotators::testing::Obj;
using ::rekey::rotators::testing::ServiceEnv;
using ::rekey::rotators::testing::Var;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

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

std::string RandomLabel() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  return absl::StrCat(absl::Hex(gen(), absl::kZeroPad16));
}

// Runs `command` through sh; its exit status and output.
std::pair<int, std::string> Shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

void WriteFile(const std::string& path, std::string_view text) { std::ofstream(path) << text; }

class AcmePebbleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::ServicesDisabled()) {
      GTEST_SKIP() << "REKEY_NO_SERVICES=1: skipping the tests that need pebble";
    }
    absl::StatusOr<ServiceEnv> env = testing::StartService("pebble");
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *env;
    ctx_.set_http(&http_);
    // pebble issues certificates valid from the real now.
    ctx_.fake_clock().Set(absl::Now());
    ctx_.set_deadline(absl::Now() + absl::Minutes(2));
    ctx_.set_path("web/tls");
    AcmeRotatorOptions options;
    options.accounts = accounts_;
    options.poll_interval = absl::Milliseconds(100);
    options.max_poll_interval = absl::Seconds(1);
    rotator_ = std::make_unique<AcmeRotator>(options);
    label_ = RandomLabel();
    tmp_ = ::testing::TempDir() + "acme_pebble_" + label_;
    ::mkdir(tmp_.c_str(), 0700);
  }

  void TearDown() override {
    if (std::getenv("REKEY_ACME_TEST_VERBOSE") != nullptr) {
      std::cerr << "step log:\n" << ctx_.recorded_log().Joined() << "\n";
    }
    if (!tmp_.empty()) Shell("rm -rf '" + tmp_ + "'");
  }

  json::object Http01Params(std::vector<std::string> domains) {
    json::object p;
    p["directory_url"] = json::string_view(Var(env_, "REKEY_PEBBLE_DIRECTORY"));
    p["ca_file"] = json::string_view(Var(env_, "REKEY_PEBBLE_CA_FILE"));
    p["account_secret"] = "acme/pebble-account";
    p["agree_tos"] = true;
    p["contact"] = json::array{"ops@rekey-test.example"};
    json::array d;
    for (const std::string& name : domains) d.emplace_back(json::string_view(name));
    p["domains"] = std::move(d);
    p["challenge"] = "http-01";
    p["http01_listen"] =
        json::string_view(rekey::StrCat("127.0.0.1:", Var(env_, "REKEY_PEBBLE_HTTP01_PORT")));
    p["trust_bundle_file"] = json::string_view(Var(env_, "REKEY_PEBBLE_ROOTS_FILE"));
    return p;
  }

  // A dns-01 hook script that sets/clears the TXT record through challtestsrv, logging each call.
  json::object Dns01Params(std::vector<std::string> domains) {
    json::object p = Http01Params(std::move(domains));
    p.erase("http01_listen");
    p["challenge"] = "dns-01";
    const std::string hook = tmp_ + "/dns-hook.sh";
    const std::string mgmt = Var(env_, "REKEY_CHALLTESTSRV_MGMT");
    WriteFile(hook, rekey::StrCat(R"(#!/bin/sh
set -e
case "$REKEY_ACME_ACTION" in
  present) /usr/bin/curl -sf -X POST -d "{\"host\":\"$REKEY_ACME_RECORD.\",\"value\":\"$REKEY_ACME_TXT\"}" )",
                                  mgmt, R"(/set-txt ;;
  cleanup) /usr/bin/curl -sf -X POST -d "{\"host\":\"$REKEY_ACME_RECORD.\"}" )",
                                  mgmt, R"(/clear-txt ;;
  *) echo "unknown action" >&2; exit 3 ;;
esac
echo "$REKEY_ACME_ACTION $REKEY_ACME_RECORD wildcard=$REKEY_ACME_WILDCARD" >> )",
                                  tmp_, "/hook.log\n"));
    ::chmod(hook.c_str(), 0700);
    p["dns01_hook"] = json::array{json::string_view(hook)};
    return p;
  }

  // create → set → test, as the engine runs a rotation; the new version becomes current.
  absl::StatusOr<SecretBytes> Rotate(uint64_t version) {
    ctx_.state().clear();
    ctx_.set_step(Step::kCreate);
    absl::StatusOr<SecretBytes> value = rotator_->Create(ctx_);
    if (!value.ok()) return value.status();
    ctx_.set_pending(
        FakeStepContext::MakeVersion(version, rekey::StrCat("v", version), value->Reveal()));
    ctx_.set_step(Step::kSet);
    if (absl::Status s = rotator_->Set(ctx_); !s.ok()) return s;
    ctx_.set_step(Step::kTest);
    ctx_.fake_clock().Set(absl::Now());  // as the engine's clock would have moved on
    if (absl::Status s = rotator_->Test(ctx_); !s.ok()) return s;
    ctx_.set_previous(ctx_.current());
    ctx_.set_current(ctx_.pending());
    ctx_.set_pending(std::nullopt);
    return value;
  }

  // `openssl verify` of the value's chain against pebble's issuing root.
  void ExpectOpensslVerifies(const SecretBytes& value) {
    const std::string leaf = tmp_ + "/leaf.pem";
    const std::string chain = tmp_ + "/chain.pem";
    WriteFile(leaf, Field(value, "certificate"));
    WriteFile(chain, Field(value, "chain"));
    auto [rc, out] =
        Shell(rekey::StrCat("openssl verify -CAfile '", Var(env_, "REKEY_PEBBLE_ROOTS_FILE"),
                            "' -untrusted '", chain, "' '", leaf, "'"));
    EXPECT_EQ(rc, 0) << out;
    EXPECT_THAT(out, HasSubstr(": OK"));
  }

  // pebble's management view of a certificate: "Valid" or "Revoked".
  std::string PebbleStatus(const SecretBytes& value) {
    std::string serial = absl::StrReplaceAll(Field(value, "serial_number"), {{":", ""}});
    serial.erase(0, std::min(serial.find_first_not_of('0'), serial.size() - 1));
    rotation::HttpCall call;
    call.method = "GET";
    call.url = rekey::StrCat(Var(env_, "REKEY_PEBBLE_MGMT"), "/cert-status-by-serial/", serial);
    call.ca_file = Var(env_, "REKEY_PEBBLE_CA_FILE");
    absl::StatusOr<rotation::HttpReply> reply = http_.Send(call);
    if (!reply.ok()) return std::string(reply.status().message());
    if (reply->status != 200) return rekey::StrCat("HTTP ", reply->status);
    return std::string(Obj(reply->body).at("Status").as_string());
  }

  ServiceEnv env_;
  FakeStepContext ctx_;
  rotation::NetHttpTransport http_;
  std::shared_ptr<MapAccountStore> accounts_ = std::make_shared<MapAccountStore>();
  std::unique_ptr<AcmeRotator> rotator_;
  std::string label_;
  std::string tmp_;
};

TEST_F(AcmePebbleTest, Http01ObtainsACertificate) {
  const std::string www = rekey::StrCat("www.h", label_, ".rekey-test.example");
  const std::string bare = rekey::StrCat("h", label_, ".rekey-test.example");
  ctx_.set_params(Http01Params({www, bare}));
  ctx_.set_step(Step::kCreate);
  ctx_.set_dry_run(true);
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("the first rotation registers one"));
  EXPECT_EQ(accounts_->creates, 0);
  ctx_.set_dry_run(false);

  ASSERT_OK_AND_ASSIGN(SecretBytes value, Rotate(1));
  boost::json::object o = Obj(value.Reveal());
  for (const char* field : {"certificate", "private_key", "private_key_type", "issuing_ca", "chain",
                            "serial_number", "not_before", "not_after", "certificate_url"}) {
    EXPECT_TRUE(o.contains(field)) << field;
  }
  EXPECT_EQ(Field(value, "private_key_type"), "ec-p256");
  ASSERT_OK_AND_ASSIGN(ca::X509Ptr cert, ca::ParseCertificatePem(Field(value, "certificate")));
  ASSERT_OK_AND_ASSIGN(ca::CertificateInfo info, ca::DescribeCertificate(cert.get()));
  EXPECT_THAT(info.dns_names, ::testing::UnorderedElementsAre(www, bare));
  ExpectOpensslVerifies(value);
  EXPECT_TRUE(ctx_.recorded_log().Contains("validated with http-01"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("completed a TLS handshake"));
  // The account was registered and stored once, with its key.
  EXPECT_EQ(accounts_->creates, 1);
  const std::string account = accounts_->values["acme/pebble-account"];
  EXPECT_THAT(account, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_THAT(account, HasSubstr(Var(env_, "REKEY_PEBBLE_DIRECTORY")));
  // No key material in the log.
  EXPECT_FALSE(ctx_.recorded_log().Contains("PRIVATE KEY"));
  EXPECT_FALSE(ctx_.recorded_log().Contains(Field(value, "private_key").substr(40, 40)));

  // A dry run now finds the account.
  ctx_.recorded_log().Clear();
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("the CA knows the account"));
}

TEST_F(AcmePebbleTest, Dns01ObtainsAWildcardCertificate) {
  const std::string base = rekey::StrCat("d", label_, ".rekey-test.example");
  const std::string wildcard = rekey::StrCat("*.", base);
  json::object params = Dns01Params({wildcard, base});
  params["key_type"] = "rsa-2048";
  ctx_.set_params(params);
  ASSERT_OK_AND_ASSIGN(SecretBytes value, Rotate(1));
  ASSERT_OK_AND_ASSIGN(ca::X509Ptr cert, ca::ParseCertificatePem(Field(value, "certificate")));
  ASSERT_OK_AND_ASSIGN(ca::CertificateInfo info, ca::DescribeCertificate(cert.get()));
  EXPECT_THAT(info.dns_names, ::testing::UnorderedElementsAre(wildcard, base));
  EXPECT_EQ(info.key_type, ca::KeyType::kRsa2048);
  ExpectOpensslVerifies(value);
  // Each name's record was published, then removed.
  std::ifstream in(tmp_ + "/hook.log");
  std::stringstream log;
  log << in.rdbuf();
  const std::string record = rekey::StrCat("_acme-challenge.", base);
  EXPECT_THAT(log.str(), AllOf(HasSubstr("present " + record + " wildcard=1"),
                               HasSubstr("cleanup " + record + " wildcard=1"),
                               HasSubstr("present " + record + " wildcard=0"),
                               HasSubstr("cleanup " + record + " wildcard=0")));
  EXPECT_TRUE(ctx_.recorded_log().Contains("validated with dns-01"));
}

TEST_F(AcmePebbleTest, RenewalHasANewKeyAndCertificateAndRevokesTheOld) {
  const std::string name = rekey::StrCat("r", label_, ".rekey-test.example");
  json::object params = Http01Params({name});
  params["revoke_on_retire"] = true;
  ctx_.set_params(params);
  ASSERT_OK_AND_ASSIGN(SecretBytes first, Rotate(1));
  ASSERT_OK_AND_ASSIGN(SecretBytes second, Rotate(2));
  EXPECT_NE(Field(first, "private_key"), Field(second, "private_key"));
  EXPECT_NE(Field(first, "serial_number"), Field(second, "serial_number"));
  ExpectOpensslVerifies(second);
  EXPECT_EQ(accounts_->creates, 1);  // the account was reused
  EXPECT_EQ(PebbleStatus(first), "Valid");
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_->Revoke(ctx_));
  EXPECT_EQ(PebbleStatus(first), "Revoked");
  EXPECT_EQ(PebbleStatus(second), "Valid");
  ASSERT_OK(rotator_->Revoke(ctx_));  // again (a resumed step): already revoked is fine
}

TEST_F(AcmePebbleTest, RevokeLeavesACertificateForOtherDomainsAlone) {
  // Two secrets share the account; a value crafted to hold the other secret's certificate as
  // "previous" must not make this secret's rotation revoke it.
  const std::string other_name = rekey::StrCat("o", label_, ".rekey-test.example");
  ctx_.set_params(Http01Params({other_name}));
  ASSERT_OK_AND_ASSIGN(SecretBytes others, Rotate(1));
  json::object params = Http01Params({rekey::StrCat("m", label_, ".rekey-test.example")});
  params["revoke_on_retire"] = true;
  ctx_.set_params(params);
  ctx_.set_previous(FakeStepContext::MakeVersion(1, "v1", others.Reveal()));
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_->Revoke(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("not for exactly this secret's domains"));
  EXPECT_EQ(PebbleStatus(others), "Valid");
}

TEST_F(AcmePebbleTest, AnUnreachableCaFailsReadablyWithoutAValue) {
  // A port nothing listens on (it was free a moment ago).
  json::object params = Http01Params({rekey::StrCat("u", label_, ".rekey-test.example")});
  params["directory_url"] = "https://127.0.0.1:1/dir";
  ctx_.set_params(params);
  ctx_.set_step(Step::kCreate);
  absl::StatusOr<SecretBytes> value = rotator_->Create(ctx_);
  EXPECT_THAT(value, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(HasSubstr("ACME server https://127.0.0.1:1"),
                                    HasSubstr("fetching the ACME directory"))));
  EXPECT_THAT(std::string(value.status().message()), Not(HasSubstr("PRIVATE")));
  EXPECT_EQ(accounts_->creates, 0);
}

TEST_F(AcmePebbleTest, AnUntrustedCaCertificateFailsReadably) {
  json::object params = Http01Params({rekey::StrCat("t", label_, ".rekey-test.example")});
  params["ca_file"] = json::string_view(Var(env_, "REKEY_PEBBLE_ROOTS_FILE"));  // the wrong CA
  ctx_.set_params(params);
  ctx_.set_step(Step::kCreate);
  EXPECT_THAT(rotator_->Create(ctx_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("ACME server https://127.0.0.1")));
}

TEST_F(AcmePebbleTest, AFailedValidationFailsTheOrderWithTheCasReason) {
  // The responder listens where pebble does not look: validation fails, the order is invalid.
  json::object params = Http01Params({rekey::StrCat("f", label_, ".rekey-test.example")});
  params["http01_listen"] = "127.0.0.1:0";
  ctx_.set_params(params);
  ctx_.set_step(Step::kCreate);
  EXPECT_THAT(rotator_->Create(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("could not validate f"), HasSubstr("with http-01"))));
}

TEST_F(AcmePebbleTest, ADns01HookThatFailsAbortsTheOrder) {
  json::object params = Dns01Params({rekey::StrCat("x", label_, ".rekey-test.example")});
  const std::string hook = tmp_ + "/failing-hook.sh";
  WriteFile(hook, "#!/bin/sh\necho 'zone example not found' >&2\nexit 4\n");
  ::chmod(hook.c_str(), 0700);
  params["dns01_hook"] = json::array{json::string_view(hook)};
  ctx_.set_params(params);
  ctx_.set_step(Step::kCreate);
  EXPECT_THAT(rotator_->Create(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                               AllOf(HasSubstr("exited with status 4"),
                                                     HasSubstr("zone example not found"))));
}

}  // namespace
}  // namespace rekey::rotators::acme
