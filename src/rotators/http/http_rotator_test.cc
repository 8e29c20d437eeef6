// Tests for the http rotator: validation, the documents and headers of each step, the status
// code contract, retries and deadlines against a FakeHttpTransport; then whole rotations against
// the test provider (tests/integration/api_key_provider.py) over real HTTP.
#include "rotators/http/http_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "rotation/net_http_transport.h"
#include "rotation/testing/fake_step_context.h"
#include "rotation/testing/provider_process.h"

namespace rekey::rotators::http {
namespace {

namespace json = boost::json;
using ::rekey::rotation::HttpCall;
using ::rekey::rotation::HttpReply;
using ::rekey::rotation::Problem;
using ::rekey::rotation::VersionView;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

constexpr char kSigningPath[] = "ops/webhook-signing";
constexpr char kHmacKey[] = "whsec_0123456789abcdef";

json::object ParseObject(std::string_view text) {
  return json::parse(json::string_view(text.data(), text.size())).as_object();
}

json::object Params(std::string_view text) { return ParseObject(text); }

std::string Header(const HttpCall& call, std::string_view name) {
  for (const auto& [n, v] : call.headers) {
    if (n == name) return v;
  }
  return "<missing>";
}

std::set<std::string> Fields(const std::vector<Problem>& problems) {
  std::set<std::string> out;
  for (const Problem& p : problems) out.insert(p.field);
  return out;
}

HttpReply Reply(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class HttpRotatorTest : public ::testing::Test {
 protected:
  HttpRotatorTest() {
    HttpRotatorOptions options;
    options.sleep = [this](absl::Duration d) {
      sleeps_.push_back(d);
      ctx_.fake_clock().Advance(d);
    };
    rotator_ = std::make_unique<HttpRotator>(std::move(options));
    ctx_.set_path("prod/payments/acme");
    ctx_.set_run_id("run-7");
    ctx_.set_params(Params(R"({"url": "https://keys.example.com/v1/rekey?tenant=t1",
                               "signing_secret": "ops/webhook-signing"})"));
    ctx_.SetSecret(kSigningPath, rekey::StrCat(R"({"hmac_key": ")", kHmacKey, R"("})"));
    ctx_.set_current(FakeStepContext::MakeVersion(
        3, "v-cur", R"({"api_key": "ak_OLD_0001", "key_id": "k_1", "account": "acme"})"));
  }

  void SetPending() {
    ctx_.set_pending(FakeStepContext::MakeVersion(
        4, "v-new", R"({"api_key": "ak_NEW_0002", "key_id": "k_2", "account": "acme"})"));
  }

  json::object LastBody() {
    auto calls = ctx_.fake_http().calls();
    EXPECT_FALSE(calls.empty());
    return calls.empty() ? json::object() : ParseObject(calls.back().body);
  }

  FakeStepContext ctx_;
  std::vector<absl::Duration> sleeps_;
  std::unique_ptr<HttpRotator> rotator_;
};

// ---------------------------------------------------------------- Validate / TargetKey

TEST_F(HttpRotatorTest, MinimalParamsAreValid) {
  EXPECT_THAT(rotator_->Validate(ctx_.params()), ::testing::IsEmpty());
}

TEST_F(HttpRotatorTest, ValidateReportsEveryProblemAtOnceWithFieldNames) {
  const auto problems = rotator_->Validate(Params(R"({
      "url": "ftp://keys.example.com/x",
      "timeout": "soon", "retries": 99, "ca_file": "relative.pem",
      "headers": {"Authorization": "Bearer x", "bad name": "v", "X-Ok": "fine"},
      "field": "", "merge": "yes", "value_source": "elsewhere", "test_header": "X-Key",
      "bogus": 1})"));
  EXPECT_EQ(
      Fields(problems),
      (std::set<std::string>{"params.url", "params.signing_secret", "params.timeout",
                             "params.retries", "params.ca_file", "params.headers.Authorization",
                             "params.headers.bad name", "params.field", "params.merge",
                             "params.value_source", "params.test_header", "params.bogus"}));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, UrlMustBeHttpOrHttps) {
  const auto problems = rotator_->Validate(
      Params(R"({"url": "ftp://h/x", "signing_secret": "ops/webhook-signing"})"));
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].field, "params.url");
  EXPECT_EQ(problems[0].message, "must be http or https");
}

TEST_F(HttpRotatorTest, PlainHttpOnlyToLoopbackUnlessAllowed) {
  auto problems_for = [&](std::string_view url, bool allow) {
    json::object p = Params(R"({"signing_secret": "ops/webhook-signing"})");
    p["url"] = json::string_view(url.data(), url.size());
    if (allow) p["allow_insecure_http"] = true;
    return rotator_->Validate(p);
  };
  EXPECT_THAT(problems_for("http://127.0.0.1:8080/hook", false), ::testing::IsEmpty());
  EXPECT_THAT(problems_for("http://[::1]:8080/hook", false), ::testing::IsEmpty());
  EXPECT_THAT(problems_for("http://localhost/hook", false), ::testing::IsEmpty());
  EXPECT_THAT(problems_for("http://keys.example.com/hook", false), SizeIs(1));
  EXPECT_THAT(problems_for("http://keys.example.com/hook", true), ::testing::IsEmpty());
}

TEST_F(HttpRotatorTest, UrlWithCredentialsIsRejectedWithoutEchoingThem) {
  const auto problems = rotator_->Validate(
      Params(R"({"url": "https://admin:hunter2@keys.example.com/", "signing_secret": "a/b"})"));
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].field, "params.url");
  EXPECT_THAT(problems[0].message, Not(HasSubstr("hunter2")));
}

TEST_F(HttpRotatorTest, SigningSecretMustBeASecretPath) {
  const auto problems =
      rotator_->Validate(Params(R"({"url": "https://h/", "signing_secret": "../etc/passwd"})"));
  EXPECT_EQ(Fields(problems), std::set<std::string>{"params.signing_secret"});
}

TEST_F(HttpRotatorTest, TargetKeyIsTheOrigin) {
  EXPECT_EQ(rotator_->TargetKey(ctx_.params()), "https://keys.example.com:443");
  EXPECT_EQ(rotator_->TargetKey(Params(R"({"url": "http://127.0.0.1:9000/a?b=c"})")),
            "http://127.0.0.1:9000");
}

TEST(RegisterHttpRotatorTest, RegistersAsHttp) {
  rotation::RotatorRegistry registry;
  ASSERT_OK(RegisterHttpRotator(registry));
  EXPECT_NE(registry.Find("http"), nullptr);
}

// ---------------------------------------------------------------- create

TEST_F(HttpRotatorTest, CreatePostsASignedDocumentAndMergesTheNewKeyIntoTheCurrentValue) {
  ctx_.fake_http().ReplyWith(200, R"({"value": {"api_key": "ak_NEW_0002", "key_id": "k_2"},
                                      "state": {"pending_key_id": "k_2"}})");
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));

  EXPECT_EQ(json::parse(json::string_view(value.Reveal().data(), value.size())),
            json::parse(R"({"api_key": "ak_NEW_0002", "key_id": "k_2", "account": "acme"})"));
  EXPECT_THAT(ctx_.state(), ElementsAre(Pair("pending_key_id", "k_2")));

  const auto calls = ctx_.fake_http().calls();
  ASSERT_THAT(calls, SizeIs(1));
  const HttpCall& call = calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://keys.example.com/v1/rekey?tenant=t1");
  EXPECT_EQ(call.timeout, absl::Seconds(10));
  EXPECT_EQ(Header(call, "Content-Type"), "application/json");
  EXPECT_EQ(Header(call, "X-Rekey-Step"), "create");
  EXPECT_EQ(Header(call, "X-Rekey-Run-Id"), "run-7");
  EXPECT_EQ(Header(call, "Idempotency-Key"), "run-7:create:1");
  EXPECT_EQ(Header(call, "X-Rekey-Delivery"), "1");

  // X-Rekey-Signature: t=<unix>,v1=hex(HMAC-SHA256(key, "<t>.<body>")).
  const std::string t = std::to_string(absl::ToUnixSeconds(ctx_.clock().Now()));
  ASSERT_OK_AND_ASSIGN(std::string mac, crypto::HmacSha256(kHmacKey, t + "." + call.body));
  EXPECT_EQ(Header(call, "X-Rekey-Signature"),
            rekey::StrCat("t=", t, ",v1=", absl::BytesToHexString(mac)));

  const json::object body = ParseObject(call.body);
  EXPECT_EQ(body.at("protocol"), 1);
  EXPECT_EQ(body.at("step"), "create");
  EXPECT_EQ(body.at("dry_run"), false);
  EXPECT_EQ(body.at("secret"), "prod/payments/acme");
  EXPECT_EQ(body.at("run_id"), "run-7");
  EXPECT_EQ(body.at("attempt"), 1);
  EXPECT_EQ(body.at("idempotency_key"), "run-7:create:1");
  EXPECT_EQ(body.at("field"), "api_key");
  EXPECT_EQ(body.at("value_source"), "provider");
  EXPECT_EQ(body.at("state"), json::object());
  EXPECT_EQ(body.at("current"), json::parse(R"({"version": 3, "version_id": "v-cur", "value":
                            {"api_key": "ak_OLD_0001", "key_id": "k_1", "account": "acme"}})"));
  EXPECT_TRUE(body.at("pending").is_null());
  EXPECT_TRUE(body.at("previous").is_null());

  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_NEW_0002"));
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_OLD_0001"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("https://keys.example.com:443 answered 200"));
}

TEST_F(HttpRotatorTest, CreateWithMergeFalseStoresOnlyTheProvidersValue) {
  json::object params = ctx_.params();
  params["merge"] = false;
  ctx_.set_params(params);
  ctx_.fake_http().ReplyWith(200, R"({"value": {"api_key": "ak_NEW_0002"}})");
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_EQ(value.Reveal(), R"({"api_key":"ak_NEW_0002"})");
}

TEST_F(HttpRotatorTest, CreateUsesTheConfiguredField) {
  json::object params = ctx_.params();
  params["field"] = "token";
  ctx_.set_params(params);
  ctx_.fake_http().ReplyWith(200, R"({"value": {"api_key": "not-this"}})");
  EXPECT_THAT(rotator_->Create(ctx_),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("\"token\"")));
  ctx_.fake_http().ReplyWith(200, R"({"value": {"token": "tok_NEW"}})");
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_THAT(std::string(value.Reveal()), HasSubstr(R"("token":"tok_NEW")"));
}

TEST_F(HttpRotatorTest, CreateRejectsInvalidValuesWithoutNamingThem) {
  struct Case {
    std::string body;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {R"({})", absl::StatusCode::kInternal},
           {R"({"value": "ak_SECRET_1"})", absl::StatusCode::kInternal},
           {R"({"value": {"api_key": 12345}})", absl::StatusCode::kInternal},
           {R"({"value": {"key_id": "k_9"}})", absl::StatusCode::kInternal},
           {R"({"value": {"api_key": ""}})", absl::StatusCode::kInternal},
           {R"({"value": {"api_key": "ak_SECRET_1"}, "state": {"bad key!": "x"}})",
            absl::StatusCode::kInternal},
           {R"({"value": {"api_key": "ak_SECRET_1"}, "state": {"k": 5}})",
            absl::StatusCode::kInternal},
           {R"(not json ak_SECRET_1)", absl::StatusCode::kInternal},
           {R"([1, 2])", absl::StatusCode::kInternal},
           {R"({"value": {"api_key": "ak_OLD_0001"}})", absl::StatusCode::kFailedPrecondition},
       }) {
    SCOPED_TRACE(c.body);
    ctx_.fake_http().ReplyWith(200, c.body);
    EXPECT_THAT(rotator_->Create(ctx_),
                StatusIs(c.code, AllOf(Not(HasSubstr("ak_SECRET_1")), Not(HasSubstr("ak_OLD")))));
  }
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_SECRET_1"));
}

TEST_F(HttpRotatorTest, CreateWithValueSourceRekeyGeneratesTheKeyWithoutCallingTheProvider) {
  json::object params = ctx_.params();
  params["value_source"] = "rekey";
  ctx_.set_params(params);
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  ASSERT_THAT(ctx_.generated(), SizeIs(1));
  EXPECT_EQ(
      json::parse(json::string_view(value.Reveal().data(), value.size())),
      json::value({{"api_key", ctx_.generated()[0]}, {"key_id", "k_1"}, {"account", "acme"}}));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, CreateForASecretWithoutCurrentVersion) {
  ctx_.set_current(std::nullopt);
  ctx_.fake_http().ReplyWith(200, R"({"value": {"api_key": "ak_FIRST"}})");
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_EQ(value.Reveal(), R"({"api_key":"ak_FIRST"})");
  EXPECT_TRUE(LastBody().at("current").is_null());
}

// ---------------------------------------------------------------- other steps

TEST_F(HttpRotatorTest, EachStepSendsOnlyTheValuesItNeeds) {
  SetPending();
  ctx_.set_previous(
      FakeStepContext::MakeVersion(2, "v-prev", R"({"api_key": "ak_PREV_0000", "key_id": "k_0"})"));
  ctx_.state()["pending_key_id"] = "k_2";
  struct Case {
    std::string step;
    std::function<absl::Status()> run;
    std::set<std::string> with_value;  // of "current", "pending", "previous"
  };
  const std::vector<Case> cases = {
      {"check", [&] { return rotator_->Check(ctx_); }, {"current"}},
      {"set", [&] { return rotator_->Set(ctx_); }, {"current", "pending"}},
      {"test", [&] { return rotator_->Test(ctx_); }, {"pending"}},
      {"finish", [&] { return rotator_->Finish(ctx_); }, {}},
      {"revoke", [&] { return rotator_->Revoke(ctx_); }, {"previous"}},
      {"rollback", [&] { return rotator_->Rollback(ctx_); }, {"current", "pending"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.step);
    ASSERT_OK(c.run());
    const HttpCall call = ctx_.fake_http().calls().back();
    EXPECT_EQ(Header(call, "X-Rekey-Step"), c.step);
    EXPECT_EQ(Header(call, "Idempotency-Key"), "run-7:" + c.step + ":1");
    const json::object body = ParseObject(call.body);
    EXPECT_EQ(body.at("step"), json::value(c.step));
    EXPECT_EQ(body.at("dry_run"), c.step == "check");
    EXPECT_EQ(body.at("state"), json::parse(R"({"pending_key_id": "k_2"})"));
    for (std::string which : {"current", "pending", "previous"}) {
      const json::object& v = body.at(which).as_object();
      EXPECT_EQ(v.contains("value"), c.with_value.count(which) == 1) << which;
      if (v.contains("value")) {
        EXPECT_TRUE(v.at("value").as_object().contains("api_key"));
      }
    }
    EXPECT_EQ(body.at("current").at("version_id"), "v-cur");
    EXPECT_EQ(body.at("pending").at("version_id"), "v-new");
    EXPECT_EQ(body.at("previous").at("version_id"), "v-prev");
  }
}

TEST_F(HttpRotatorTest, StateUpdatesFromAnswersAreAppliedAndNullRemoves) {
  SetPending();
  ctx_.state()["pending_key_id"] = "k_2";
  ctx_.fake_http().ReplyWith(200, R"({"state": {"pending_key_id": null, "active_key_id": "k_2"}})");
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_THAT(ctx_.state(), ElementsAre(Pair("active_key_id", "k_2")));
}

TEST_F(HttpRotatorTest, AValueInAnAnswerToAnotherStepIsIgnored) {
  SetPending();
  ctx_.fake_http().ReplyWith(200, R"({"value": {"api_key": "ak_IGNORED"}})");
  ASSERT_OK(rotator_->Set(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("ignored the \"value\""));
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_IGNORED"));
}

TEST_F(HttpRotatorTest, RevokeWithoutPreviousVersionDoesNotCallTheProvider) {
  ASSERT_OK(rotator_->Revoke(ctx_));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, RollbackIsSentEvenWithoutPendingVersion) {
  ASSERT_OK(rotator_->Rollback(ctx_));
  EXPECT_TRUE(LastBody().at("pending").is_null());
}

TEST_F(HttpRotatorTest, DryRunCheckIsMarkedDryAndChangesNothing) {
  ctx_.set_dry_run(true);
  ctx_.fake_http().ReplyWith(200, R"({"message": "ok: 1 active key"})");
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(LastBody().at("dry_run"), true);
  EXPECT_TRUE(ctx_.state().empty());
  EXPECT_TRUE(ctx_.recorded_log().Contains("ok: 1 active key"));
}

TEST_F(HttpRotatorTest, CustomHeadersAreSent) {
  json::object params = ctx_.params();
  params["headers"] = json::parse(R"({"X-Tenant": "acme"})");
  ctx_.set_params(params);
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(Header(ctx_.fake_http().calls().back(), "X-Tenant"), "acme");
}

TEST_F(HttpRotatorTest, TestProbesTestUrlWithThePendingKey) {
  SetPending();
  json::object params = ctx_.params();
  params["test_url"] = "https://api.example.com/whoami";
  ctx_.set_params(params);
  int probe_status = 200;
  ctx_.fake_http().set_handler([&](const HttpCall& call) -> absl::StatusOr<HttpReply> {
    if (call.url == "https://api.example.com/whoami") {
      EXPECT_EQ(call.method, "GET");
      EXPECT_EQ(Header(call, "Authorization"), "Bearer ak_NEW_0002");
      EXPECT_EQ(Header(call, "X-Rekey-Signature"), "<missing>");
      return Reply(probe_status, R"({"key_id": "k_2"})");
    }
    return Reply(200, "{}");
  });
  ASSERT_OK(rotator_->Test(ctx_));
  EXPECT_THAT(ctx_.fake_http().calls(), SizeIs(2));
  probe_status = 401;
  EXPECT_THAT(rotator_->Test(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                             AllOf(HasSubstr("401"), Not(HasSubstr("ak_NEW")))));
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_NEW_0002"));
}

TEST_F(HttpRotatorTest, TestHeaderOtherThanAuthorizationCarriesTheBareKey) {
  SetPending();
  json::object params = ctx_.params();
  params["test_url"] = "https://api.example.com/whoami";
  params["test_header"] = "X-Api-Key";
  ctx_.set_params(params);
  ASSERT_OK(rotator_->Test(ctx_));
  EXPECT_EQ(Header(ctx_.fake_http().calls().back(), "X-Api-Key"), "ak_NEW_0002");
}

// ---------------------------------------------------------------- status codes, retries

TEST_F(HttpRotatorTest, ClientErrorsMapToTheRotatorErrorContractWithoutRetrying) {
  SetPending();
  const std::vector<std::pair<int, absl::StatusCode>> cases = {
      {400, absl::StatusCode::kInvalidArgument},    {422, absl::StatusCode::kInvalidArgument},
      {409, absl::StatusCode::kFailedPrecondition}, {404, absl::StatusCode::kFailedPrecondition},
      {410, absl::StatusCode::kFailedPrecondition}, {302, absl::StatusCode::kFailedPrecondition},
      {401, absl::StatusCode::kPermissionDenied},   {403, absl::StatusCode::kPermissionDenied},
  };
  for (const auto& [status, code] : cases) {
    SCOPED_TRACE(status);
    const size_t before = ctx_.fake_http().call_count();
    ctx_.fake_http().ReplyWith(status, R"({"message": "key quota reached", "api_key": "ak_LEAK"})");
    EXPECT_THAT(
        rotator_->Set(ctx_),
        StatusIs(code, AllOf(HasSubstr(std::to_string(status)), HasSubstr("key quota reached"),
                             HasSubstr("https://keys.example.com:443"), Not(HasSubstr("ak_LEAK")),
                             Not(HasSubstr("tenant=t1")))));
    EXPECT_EQ(ctx_.fake_http().call_count(), before + 1);
  }
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(HttpRotatorTest, ProviderMessagesAreCutAndMadePrintable) {
  ctx_.fake_http().ReplyWith(
      400, rekey::StrCat(R"({"message": "bad\nthing )", std::string(300, 'x'), R"("})"));
  absl::Status status = rotator_->Check(ctx_);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad?thing xxx")));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(std::string(200, 'x'))));
  EXPECT_THAT(std::string(status.message()), HasSubstr("..."));
}

TEST_F(HttpRotatorTest, ServerErrorsAreRetriedWithGrowingBackoffThenUnavailable) {
  ctx_.fake_http().ReplyWith(503, R"({"message": "maintenance"})");
  EXPECT_THAT(rotator_->Check(ctx_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("503: maintenance")));
  const auto calls = ctx_.fake_http().calls();
  ASSERT_THAT(calls, SizeIs(3));  // retries defaults to 2
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(Header(calls[i], "X-Rekey-Delivery"), std::to_string(i + 1));
    EXPECT_EQ(Header(calls[i], "Idempotency-Key"), "run-7:check:1");
  }
  ASSERT_THAT(sleeps_, SizeIs(2));
  EXPECT_GE(sleeps_[0], absl::Milliseconds(250));
  EXPECT_LT(sleeps_[0], absl::Milliseconds(500));
  EXPECT_GE(sleeps_[1], absl::Milliseconds(500));
  EXPECT_LT(sleeps_[1], absl::Milliseconds(1000));
  // Each delivery is signed with its own timestamp.
  EXPECT_NE(Header(calls[0], "X-Rekey-Signature"), Header(calls[2], "X-Rekey-Signature"));
}

TEST_F(HttpRotatorTest, TransientFailuresThenSuccess) {
  ctx_.fake_http().ReplySequence({absl::UnavailableError("connection refused"), Reply(502, ""),
                                  Reply(429, ""), Reply(200, R"({"value": {"api_key": "ak_N"}})")});
  json::object params = ctx_.params();
  params["retries"] = 3;
  ctx_.set_params(params);
  ASSERT_OK(rotator_->Create(ctx_).status());
  EXPECT_EQ(ctx_.fake_http().call_count(), 4u);
}

TEST_F(HttpRotatorTest, RetriesZeroMeansOneDelivery) {
  json::object params = ctx_.params();
  params["retries"] = 0;
  ctx_.set_params(params);
  ctx_.fake_http().ReplyWith(500, "");
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ctx_.fake_http().call_count(), 1u);
}

TEST_F(HttpRotatorTest, TransportTimeoutsAreRetriedThenDeadlineExceeded) {
  ctx_.fake_http().ReplySequence({absl::DeadlineExceededError("request timed out")});
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(ctx_.fake_http().call_count(), 3u);
}

TEST_F(HttpRotatorTest, TimeoutIsParsedAndClampedToTheStepDeadline) {
  json::object params = ctx_.params();
  params["timeout"] = "30s";
  ctx_.set_params(params);
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(ctx_.fake_http().calls().back().timeout, absl::Seconds(30));
  ctx_.set_deadline(ctx_.clock().Now() + absl::Seconds(3));
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(ctx_.fake_http().calls().back().timeout, absl::Seconds(3));
}

TEST_F(HttpRotatorTest, NoRetryWhenTheBackoffWouldPassTheDeadline) {
  ctx_.set_deadline(ctx_.clock().Now() + absl::Milliseconds(200));
  ctx_.fake_http().ReplyWith(503, "");
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ctx_.fake_http().call_count(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(HttpRotatorTest, PassedDeadlineMeansNoCall) {
  ctx_.set_deadline(ctx_.clock().Now());
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, BadCaFileIsAConfigurationErrorNotRetried) {
  ctx_.fake_http().ReplySequence({absl::InvalidArgumentError("ca_file: cannot load")});
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ctx_.fake_http().call_count(), 1u);
}

TEST_F(HttpRotatorTest, SecretsInAnswersAreNeverLoggedNorInErrors) {
  SetPending();
  ctx_.fake_http().ReplySequence(
      {Reply(500, R"({"api_key": "ak_LEAK_1", "message": "oops"})"),
       Reply(200, R"({"value": {"api_key": "ak_LEAK_2"}, "debug": "ak_LEAK_3"})")});
  ASSERT_OK(rotator_->Create(ctx_).status());
  for (const char* leak : {"ak_LEAK_1", "ak_LEAK_2", "ak_LEAK_3", "ak_OLD_0001", kHmacKey}) {
    EXPECT_FALSE(ctx_.recorded_log().Contains(leak)) << leak;
  }
}

// ---------------------------------------------------------------- signing secret

TEST_F(HttpRotatorTest, MissingSigningSecretIsFailedPreconditionAndNothingIsSent) {
  ctx_.SetSecretError(kSigningPath, absl::NotFoundError("no such secret"));
  EXPECT_THAT(rotator_->Set(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("params.signing_secret")));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, SigningSecretNeedsTheFieldAndSixteenBytes) {
  ctx_.SetSecret(kSigningPath, R"({"other": "x"})");
  EXPECT_THAT(rotator_->Set(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"hmac_key\"")));
  ctx_.SetSecret(kSigningPath, R"({"hmac_key": "short"})");
  EXPECT_THAT(rotator_->Set(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("at least 16 bytes"), Not(HasSubstr("short")))));
  EXPECT_EQ(ctx_.fake_http().call_count(), 0u);
}

TEST_F(HttpRotatorTest, ADryRunWithoutTheSigningKeyStillReachesForTheProviderUnsigned) {
  ctx_.SetSecretError(kSigningPath, absl::NotFoundError("no such secret"));
  absl::Status checked = rotator_->Check(ctx_);
  EXPECT_THAT(checked,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("params.signing_secret")));
  ASSERT_EQ(ctx_.fake_http().call_count(), 1u);
  const rotation::HttpCall call = ctx_.fake_http().calls().back();
  EXPECT_EQ(call.method, "GET");
  for (const auto& [name, value] : call.headers) EXPECT_NE(name, "X-Rekey-Signature");
}

TEST_F(HttpRotatorTest, SigningFieldIsConfigurable) {
  json::object params = ctx_.params();
  params["signing_field"] = "key";
  ctx_.set_params(params);
  ctx_.SetSecret(kSigningPath, R"({"key": "0123456789abcdef0123"})");
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(ctx_.read_paths().back(), kSigningPath);
}

// ---------------------------------------------------------------- against the test provider

#ifndef REKEY_SOURCE_DIR
#define REKEY_SOURCE_DIR "."
#endif
#ifndef REKEY_PYTHON
#define REKEY_PYTHON "/usr/bin/python3"
#endif

constexpr char kProviderKey[] = "whsec_provider_test_key_0001";

class HttpRotatorProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = rotation::testing::ProviderProcess::Start(
        REKEY_PYTHON, REKEY_SOURCE_DIR "/tests/integration/api_key_provider.py", kProviderKey);
    if (started.ok()) {
      provider_ = started->release();
    } else {
      start_error_ = new std::string(started.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete provider_;
    provider_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    if (provider_ == nullptr) {
      GTEST_SKIP() << "test provider not available: " << (start_error_ ? *start_error_ : "?");
    }
    ASSERT_EQ(Admin("POST", "/admin/reset", "{}").at("status"), 200) << "reset failed";
    HttpRotatorOptions options;
    options.sleep = [](absl::Duration) {};  // the provider's faults decide, not the backoff
    rotator_ = std::make_unique<HttpRotator>(std::move(options));
    // The provider checks the signature's timestamp against its own clock.
    ctx_.fake_clock().Set(absl::Now());
    ctx_.set_deadline(absl::Now() + absl::Seconds(30));
    ctx_.set_http(&transport_);
    ctx_.set_path("prod/payments/acme");
    ctx_.set_run_id("run-42");
    json::object params;
    params["url"] = provider_->Url("/webhook");
    params["signing_secret"] = kSigningPath;
    params["test_url"] = provider_->Url("/whoami");
    ctx_.set_params(params);
    ctx_.SetSecret(kSigningPath, rekey::StrCat(R"({"hmac_key": ")", kProviderKey, R"("})"));
  }

  // Calls the provider's admin API; returns {"status": n, "body": parsed body}.
  json::object Admin(std::string_view method, std::string_view path, std::string_view body = "") {
    HttpCall call;
    call.method = std::string(method);
    call.url = provider_->Url(path);
    call.body = std::string(body);
    call.timeout = absl::Seconds(10);
    absl::StatusOr<HttpReply> reply = transport_.Send(call);
    json::object out;
    if (!reply.ok()) {
      ADD_FAILURE() << reply.status();
      out["status"] = 0;
      return out;
    }
    out["status"] = reply->status;
    out["body"] = reply->body.empty() ? json::value() : json::parse(reply->body);
    return out;
  }

  // GET /whoami with `key`: the provider's application endpoint.
  int WhoAmI(std::string_view key) {
    HttpCall call;
    call.method = "GET";
    call.url = provider_->Url("/whoami");
    call.headers = {{"Authorization", rekey::StrCat("Bearer ", key)}};
    call.timeout = absl::Seconds(10);
    absl::StatusOr<HttpReply> reply = transport_.Send(call);
    return reply.ok() ? reply->status : -1;
  }

  static std::string KeyOf(const SecretBytes& value) {
    return std::string(ParseObject(value.Reveal()).at("api_key").as_string());
  }

  static rotation::testing::ProviderProcess* provider_;
  static std::string* start_error_;
  rotation::NetHttpTransport transport_;
  FakeStepContext ctx_;
  std::unique_ptr<HttpRotator> rotator_;
};

rotation::testing::ProviderProcess* HttpRotatorProviderTest::provider_ = nullptr;
std::string* HttpRotatorProviderTest::start_error_ = nullptr;

TEST_F(HttpRotatorProviderTest, FullRotationKeepsTheOldKeyUntilRevokeAndRejectsItAfter) {
  // The secret starts with a key the provider issued earlier.
  json::object seeded = Admin("POST", "/admin/keys", R"({"secret": "prod/payments/acme"})");
  const std::string old_key(seeded.at("body").at("api_key").as_string());
  const std::string old_value = json::serialize(json::object{
      {"api_key", old_key}, {"key_id", seeded.at("body").at("key_id")}, {"account", "acme"}});
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", old_value));

  ctx_.set_dry_run(true);
  ASSERT_OK(rotator_->Check(ctx_));
  ctx_.set_dry_run(false);

  ASSERT_OK_AND_ASSIGN(SecretBytes new_value, rotator_->Create(ctx_));
  const std::string new_key = KeyOf(new_value);
  EXPECT_NE(new_key, old_key);
  EXPECT_THAT(std::string(new_value.Reveal()), HasSubstr(R"("account":"acme")"));
  EXPECT_EQ(ctx_.state().at("pending_key_id"), "k_2");

  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", new_value.Reveal()));
  ASSERT_OK(rotator_->Set(ctx_));
  ASSERT_OK(rotator_->Test(ctx_));
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_EQ(ctx_.state().count("pending_key_id"), 0u);
  EXPECT_EQ(ctx_.state().at("active_key_id"), "k_2");

  // Grace: both keys work.
  EXPECT_EQ(WhoAmI(old_key), 200);
  EXPECT_EQ(WhoAmI(new_key), 200);

  ctx_.set_previous(FakeStepContext::MakeVersion(1, "v1", old_value));
  ASSERT_OK(rotator_->Revoke(ctx_));
  EXPECT_EQ(WhoAmI(old_key), 401);
  EXPECT_EQ(WhoAmI(new_key), 200);

  // Every webhook call was signed correctly and carried its step.
  json::object requests = Admin("GET", "/admin/requests");
  std::vector<std::string> steps;
  for (const auto& r : requests.at("body").at("requests").as_array()) {
    EXPECT_EQ(r.at("verified"), true);
    steps.emplace_back(r.at("step").as_string());
  }
  EXPECT_THAT(steps, ElementsAre("check", "create", "set", "test", "finish", "revoke"));
  for (const char* leak : {old_key.c_str(), new_key.c_str(), kProviderKey}) {
    EXPECT_FALSE(ctx_.recorded_log().Contains(leak));
  }
}

TEST_F(HttpRotatorProviderTest, WrongSigningKeyIsPermissionDenied) {
  ctx_.SetSecret(kSigningPath, R"({"hmac_key": "whsec_not_the_right_key"})");
  EXPECT_THAT(rotator_->Check(ctx_),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("bad signature")));
}

TEST_F(HttpRotatorProviderTest, CreateIsIdempotentPerRunAndAttempt) {
  ASSERT_OK_AND_ASSIGN(SecretBytes first, rotator_->Create(ctx_));
  ASSERT_OK_AND_ASSIGN(SecretBytes again, rotator_->Create(ctx_));  // resumed after a crash
  EXPECT_EQ(KeyOf(first), KeyOf(again));
  ctx_.set_attempt(2);
  ASSERT_OK_AND_ASSIGN(SecretBytes second_attempt, rotator_->Create(ctx_));
  EXPECT_NE(KeyOf(first), KeyOf(second_attempt));
}

TEST_F(HttpRotatorProviderTest, RollbackRevokesTheKeyCreateMinted) {
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_EQ(WhoAmI(KeyOf(value)), 200);
  // Crash before the pending version was stored: rollback has no pending version.
  ASSERT_OK(rotator_->Rollback(ctx_));
  EXPECT_EQ(WhoAmI(KeyOf(value)), 401);
}

TEST_F(HttpRotatorProviderTest, TestFailsWhenThePendingKeyIsRevoked) {
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  Admin("POST", rekey::StrCat("/admin/keys/", ctx_.state().at("pending_key_id"), "/revoke"));
  EXPECT_THAT(rotator_->Test(ctx_), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("the pending key does not work")));
}

TEST_F(HttpRotatorProviderTest, ServerErrorIsRetriedWithTheSameIdempotencyKey) {
  Admin("POST", "/admin/faults", R"({"step": "create", "status": 503, "count": 1})");
  ASSERT_OK(rotator_->Create(ctx_).status());
  json::object requests = Admin("GET", "/admin/requests");
  const json::array& list = requests.at("body").at("requests").as_array();
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].at("headers").at("idempotency-key"), "run-42:create:1");
  EXPECT_EQ(list[1].at("headers").at("idempotency-key"), "run-42:create:1");
  EXPECT_EQ(list[0].at("headers").at("x-rekey-delivery"), "1");
  EXPECT_EQ(list[1].at("headers").at("x-rekey-delivery"), "2");
}

TEST_F(HttpRotatorProviderTest, SlowProviderTimesOut) {
  json::object params = ctx_.params();
  params["timeout"] = "300ms";
  params["retries"] = 0;
  ctx_.set_params(params);
  Admin("POST", "/admin/faults", R"({"step": "check", "delay": 2, "count": 1})");
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(HttpRotatorProviderTest, ValueSourceRekeyRegistersTheGeneratedKeyInSet) {
  json::object params = ctx_.params();
  params["value_source"] = "rekey";
  ctx_.set_params(params);
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_EQ(WhoAmI(KeyOf(value)), 401);  // not on the provider yet
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  ASSERT_OK(rotator_->Set(ctx_));
  ASSERT_OK(rotator_->Test(ctx_));
  EXPECT_EQ(WhoAmI(KeyOf(value)), 200);
}

TEST_F(HttpRotatorProviderTest, UnreachableProviderIsUnavailable) {
  json::object params = ctx_.params();
  params["url"] = "http://127.0.0.1:1/webhook";
  params["retries"] = 1;
  ctx_.set_params(params);
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace rekey::rotators::http
