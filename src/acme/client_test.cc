// The ACME client against an in-process fake CA that checks every JWS (signature, nonce, url,
// jwk/kid) like a real server would, so the protocol details are tested without a network.
#include "acme/client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"

namespace rekey::acme {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kBase[] = "https://ca.test";

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}
  void Sleep(absl::Duration d) override {
    sleeps.push_back(d);
    clock_.Advance(d);
  }
  std::vector<absl::Duration> sleeps;

 private:
  FakeClock& clock_;
};

// Records what it was asked to present; the fake CA checks it when validating.
class RecordingSolver final : public ChallengeSolver {
 public:
  explicit RecordingSolver(std::string type) : type_(std::move(type)) {}
  std::string_view type() const override { return type_; }
  absl::Status Present(const Authorization& authz, const Challenge& challenge,
                       std::string_view key_authorization) override {
    if (!present_error.ok()) return present_error;
    presented[challenge.token] = std::string(key_authorization);
    names.push_back(authz.identifier.value);
    return absl::OkStatus();
  }
  void CleanUp(const Authorization&, const Challenge& challenge, std::string_view) override {
    cleaned.push_back(challenge.token);
    presented.erase(challenge.token);
  }

  absl::Status present_error;
  std::map<std::string, std::string> presented;  // token -> key authorization (while presented)
  std::vector<std::string> names;
  std::vector<std::string> cleaned;

 private:
  std::string type_;
};

class FakeCa final : public Transport {
 public:
  // Knobs.
  bool unreachable = false;
  int bad_nonces_to_send = 0;
  int pending_polls = 1;  // polls of an answered authorization that still say "pending"
  int processing_polls = 1;
  std::string retry_after;  // sent with "pending"/"processing" answers when set
  bool authz_already_valid = false;
  bool fail_validation = false;
  std::vector<std::string> offered = {"http-01", "dns-01", "tls-alpn-01"};
  bool tos = true;
  std::string authz_domain_override;  // the authorizations name this domain instead
  std::string finalize_url_override;  // the order's finalize URL
  std::function<bool(const std::string& token, const std::string& key_authorization)> validator;

  // Records.
  std::vector<std::string> log;  // "POST /new-order", ...
  std::string csr_der;
  int verified_posts = 0;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& req) override {
    if (unreachable) return absl::UnavailableError("connect to https://ca.test:443: refused");
    if (!absl::StartsWith(ToAbsl(req.url), kBase)) return absl::InvalidArgumentError("foreign URL");
    const std::string path = req.url.substr(std::string_view(kBase).size());
    log.push_back(rekey::StrCat(req.method, " ", path));
    if (req.method == "GET" && path == "/dir") {
      json::object dir{{"newNonce", Url("/nonce")},
                       {"newAccount", Url("/new-acct")},
                       {"newOrder", Url("/new-order")},
                       {"revokeCert", Url("/revoke")}};
      if (tos) dir["meta"] = json::object{{"termsOfService", "https://ca.test/tos"}};
      return Reply(200, json::serialize(dir));
    }
    if ((req.method == "HEAD" || req.method == "GET") && path == "/nonce") return Reply(200, "");
    if (req.method != "POST") return Reply(405, "");
    return HandlePost(req, path);
  }

 private:
  struct Authz {
    std::string domain;
    bool wildcard = false;
    std::string status = "pending";
    bool answered = false;
    int polls_left = 0;
    std::string token;
    std::string error;
  };

  static std::string Url(std::string_view path) { return rekey::StrCat(kBase, path); }

  HttpResponse Reply(int status, std::string body, std::string location = "") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers.emplace_back("replay-nonce", NewNonce());
    if (!location.empty()) r.headers.emplace_back("location", location);
    return r;
  }
  HttpResponse Problem(int status, std::string_view type, std::string_view detail) {
    json::object p{{"type", J(rekey::StrCat("urn:ietf:params:acme:error:", type))},
                   {"detail", J(detail)},
                   {"status", status}};
    return Reply(status, json::serialize(p));
  }
  std::string NewNonce() {
    std::string n = rekey::StrCat("nonce-", ++nonce_counter_);
    valid_nonces_.insert(n);
    return n;
  }
  HttpResponse Pollable(int status, json::object body) {
    HttpResponse r = Reply(status, json::serialize(body));
    if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
    return r;
  }

  absl::StatusOr<HttpResponse> HandlePost(const HttpRequest& req, const std::string& path) {
    // Every POST must be a well-formed flattened JWS over this URL with a fresh nonce.
    json::object jws = json::parse(J(req.body)).as_object();
    const std::string protected64(jws.at("protected").as_string());
    const std::string payload64(jws.at("payload").as_string());
    json::object header = json::parse(J(Base64UrlDecode(protected64).value())).as_object();
    EXPECT_EQ(header.at("alg").as_string(), "ES256");
    EXPECT_EQ(header.at("url").as_string(), req.url);
    const std::string nonce(header.at("nonce").as_string());
    json::object jwk;
    if (header.contains("jwk")) {
      EXPECT_FALSE(header.contains("kid"));
      jwk = header.at("jwk").as_object();
    } else {
      const std::string kid(header.at("kid").as_string());
      if (!accounts_by_url_.count(kid)) return Problem(400, "accountDoesNotExist", "unknown kid");
      jwk = accounts_by_url_[kid];
    }
    const std::string sig = Base64UrlDecode(std::string(jws.at("signature").as_string())).value();
    if (!VerifyEs256(jwk, rekey::StrCat(protected64, ".", payload64), sig).ok()) {
      return Problem(400, "malformed", "bad signature");
    }
    ++verified_posts;
    if (bad_nonces_to_send > 0) {
      --bad_nonces_to_send;
      return Problem(400, "badNonce", "try again");
    }
    if (valid_nonces_.erase(nonce) == 0) return Problem(400, "badNonce", "nonce reused");
    const std::string payload = Base64UrlDecode(payload64).value();
    const std::string thumbprint = JwkThumbprint(jwk).value();

    if (path == "/new-acct") {
      EXPECT_TRUE(header.contains("jwk"));
      json::object p = json::parse(J(payload)).as_object();
      if (auto it = account_urls_.find(thumbprint); it != account_urls_.end()) {
        return Reply(200, "{\"status\":\"valid\"}", it->second);
      }
      if (p.contains("onlyReturnExisting") && p.at("onlyReturnExisting").as_bool()) {
        return Problem(400, "accountDoesNotExist", "no account for this key");
      }
      if (tos && !(p.contains("termsOfServiceAgreed") && p.at("termsOfServiceAgreed").as_bool())) {
        return Problem(403, "userActionRequired", "agree to the terms of service");
      }
      const std::string url = Url(rekey::StrCat("/acct/", account_urls_.size() + 1));
      account_urls_[thumbprint] = url;
      accounts_by_url_[url] = jwk;
      return Reply(201, "{\"status\":\"valid\"}", url);
    }
    if (path == "/new-order") {
      json::object p = json::parse(J(payload)).as_object();
      authzs_.clear();
      for (const json::value& id : p.at("identifiers").as_array()) {
        Authz a;
        std::string v(id.as_object().at("value").as_string());
        if (v.rfind("*.", 0) == 0) {
          a.wildcard = true;
          v = v.substr(2);
        }
        a.domain = v;
        a.token = rekey::StrCat("tok", authzs_.size() + 1, "_-x");
        if (authz_already_valid) a.status = "valid";
        authzs_.push_back(a);
      }
      order_status_ = "pending";
      return Reply(201, json::serialize(OrderJson()), Url("/order/1"));
    }
    if (absl::StartsWith(path, "/authz/")) {
      Authz& a = AuthzAt(path);
      if (a.answered && a.status == "pending") {
        if (a.polls_left > 0) {
          --a.polls_left;
        } else {
          Validate(a, thumbprint);
        }
      }
      return Pollable(200, AuthzJson(a));
    }
    if (absl::StartsWith(path, "/chall/")) {
      EXPECT_EQ(payload, "{}");
      Authz& a = AuthzAt(path);
      a.answered = true;
      a.polls_left = pending_polls;
      return Reply(200, "{\"status\":\"processing\"}");
    }
    if (path == "/order/1") {
      bool all_valid = true;
      for (const Authz& a : authzs_) all_valid = all_valid && a.status == "valid";
      if (order_status_ == "pending" && all_valid) order_status_ = "ready";
      if (order_status_ == "processing") {
        if (processing_left_ > 0) {
          --processing_left_;
        } else {
          order_status_ = "valid";
        }
      }
      return Pollable(200, OrderJson());
    }
    if (path == "/finalize/1") {
      if (order_status_ != "ready") return Problem(403, "orderNotReady", "not ready");
      json::object p = json::parse(J(payload)).as_object();
      csr_der = Base64UrlDecode(std::string(p.at("csr").as_string())).value();
      order_status_ = "processing";
      processing_left_ = processing_polls;
      return Reply(200, json::serialize(OrderJson()), Url("/order/1"));
    }
    if (path == "/cert/1") {
      EXPECT_TRUE(payload.empty());
      return Reply(200,
                   "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                   "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n");
    }
    return Problem(404, "malformed", "no such resource");
  }

  void Validate(Authz& a, const std::string& thumbprint) {
    const std::string expected = KeyAuthorization(a.token, thumbprint);
    if (fail_validation || !validator || !validator(a.token, expected)) {
      a.status = "invalid";
      a.error = rekey::StrCat("key authorization for ", a.domain, " did not match");
    } else {
      a.status = "valid";
    }
  }

  Authz& AuthzAt(const std::string& path) {
    size_t i = 0;
    EXPECT_TRUE(absl::SimpleAtoi(ToAbsl(path.substr(path.rfind('/') + 1)), &i));
    return authzs_.at(i - 1);
  }

  json::object AuthzJson(const Authz& a) {
    json::array challenges;
    const size_t index = &a - authzs_.data() + 1;
    const std::string challenge_status =
        !a.answered ? "pending" : (a.status == "pending" ? "processing" : a.status);
    for (const std::string& type : offered) {
      if (a.wildcard && type != "dns-01") continue;
      json::object c{{"type", J(type)},
                     {"url", J(Url(rekey::StrCat("/chall/", index)))},
                     {"token", J(a.token)},
                     {"status", J(challenge_status)}};
      if (!a.error.empty()) {
        c["error"] = json::object{{"type", "urn:ietf:params:acme:error:incorrectResponse"},
                                  {"detail", J(a.error)}};
      }
      challenges.push_back(std::move(c));
    }
    json::object o{
        {"status", J(a.status)},
        {"identifier",
         json::object{
             {"type", "dns"},
             {"value", J(authz_domain_override.empty() ? a.domain : authz_domain_override)}}},
        {"challenges", std::move(challenges)}};
    if (a.wildcard) o["wildcard"] = true;
    return o;
  }

  json::object OrderJson() {
    json::array az;
    for (size_t i = 0; i < authzs_.size(); ++i)
      az.emplace_back(J(Url(rekey::StrCat("/authz/", i + 1))));
    json::object o{{"status", J(order_status_)},
                   {"authorizations", std::move(az)},
                   {"finalize",
                    J(finalize_url_override.empty() ? Url("/finalize/1") : finalize_url_override)}};
    if (order_status_ == "valid") o["certificate"] = J(Url("/cert/1"));
    return o;
  }

  int nonce_counter_ = 0;
  std::set<std::string> valid_nonces_;
  std::map<std::string, std::string> account_urls_;      // thumbprint -> URL
  std::map<std::string, json::object> accounts_by_url_;  // URL -> JWK
  std::vector<Authz> authzs_;
  std::string order_status_;
  int processing_left_ = 0;
};

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : sleeper_(clock_), http01_("http-01"), dns01_("dns-01") {
    ca_.validator = [this](const std::string& token, const std::string& expected) {
      for (RecordingSolver* s : {&http01_, &dns01_}) {
        if (auto it = s->presented.find(token); it != s->presented.end()) {
          return it->second == expected;
        }
      }
      return false;
    };
  }

  Client MakeClient(ClientOptions options = {}) {
    options.directory_url = rekey::StrCat(kBase, "/dir");
    options.log = [this](std::string_view line) { lines_.emplace_back(line); };
    absl::StatusOr<AccountKey> key = AccountKey::Generate();
    EXPECT_TRUE(key.ok());
    return Client(ca_, clock_, sleeper_, std::move(*key), std::move(options));
  }

  static Client::AccountRequest Agree() {
    Client::AccountRequest r;
    r.terms_of_service_agreed = true;
    return r;
  }

  FakeClock clock_;
  FakeSleeper sleeper_;
  FakeCa ca_;
  RecordingSolver http01_;
  RecordingSolver dns01_;
  std::vector<std::string> lines_;
};

TEST_F(ClientTest, ObtainsACertificateThroughHttp01) {
  Client client = MakeClient();
  ASSERT_OK_AND_ASSIGN(std::string kid, client.NewAccount(Agree()));
  EXPECT_EQ(kid, "https://ca.test/acct/1");
  ASSERT_OK_AND_ASSIGN(Client::Issued issued,
                       client.ObtainCertificate({"a.example", "b.example"}, "CSR-DER", http01_));
  EXPECT_EQ(issued.order_url, "https://ca.test/order/1");
  EXPECT_EQ(issued.certificate_url, "https://ca.test/cert/1");
  EXPECT_THAT(issued.chain_pem, HasSubstr("BBBB"));
  EXPECT_EQ(ca_.csr_der, "CSR-DER");
  EXPECT_EQ(http01_.names, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(http01_.cleaned.size(), 2u);  // every presented challenge is cleaned up
  EXPECT_TRUE(http01_.presented.empty());
}

TEST_F(ClientTest, Dns01SolvesAWildcard) {
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  ASSERT_OK(client.ObtainCertificate({"*.example.org"}, "CSR", dns01_).status());
  EXPECT_EQ(dns01_.names, (std::vector<std::string>{"example.org"}));
}

TEST_F(ClientTest, HonoursRetryAfterWhilePolling) {
  ca_.pending_polls = 2;
  ca_.processing_polls = 1;
  ca_.retry_after = "3";
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  const absl::Time before = clock_.Now();
  ASSERT_OK(client.ObtainCertificate({"a.example"}, "CSR", http01_).status());
  // Two pending polls of the authorization, one processing poll of the order; no real sleep.
  EXPECT_EQ(sleeper_.sleeps, (std::vector<absl::Duration>(3, absl::Seconds(3))));
  EXPECT_EQ(clock_.Now() - before, absl::Seconds(9));
}

TEST_F(ClientTest, RetryAfterAsAnHttpDate) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

TEST_F(ClientTest, WithoutRetryAfterTheIntervalDoublesUpToTheCap) {
  ca_.pending_polls = 4;
  ClientOptions options;
  options.poll_interval = absl::Seconds(1);
  options.max_poll_interval = absl::Seconds(3);
  Client client = MakeClient(options);
  ASSERT_OK(client.NewAccount(Agree()).status());
  ASSERT_OK(client.ObtainCertificate({"a.example"}, "CSR", http01_).status());
  ASSERT_GE(sleeper_.sleeps.size(), 4u);
  EXPECT_EQ(sleeper_.sleeps[0], absl::Seconds(1));
  EXPECT_EQ(sleeper_.sleeps[1], absl::Seconds(2));
  EXPECT_EQ(sleeper_.sleeps[2], absl::Seconds(3));
  EXPECT_EQ(sleeper_.sleeps[3], absl::Seconds(3));
}

TEST_F(ClientTest, GivesUpPollingAfterThePollTimeout) {
  ca_.pending_polls = 1000;
  ca_.retry_after = "10";
  ClientOptions options;
  options.poll_timeout = absl::Seconds(35);
  Client client = MakeClient(options);
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("still pending")));
  EXPECT_EQ(sleeper_.sleeps.size(), 3u);
  EXPECT_EQ(http01_.cleaned.size(), 1u);  // cleaned up on failure too
}

TEST_F(ClientTest, GivesUpPollingAtTheDeadline) {
  ca_.pending_polls = 1000;
  ca_.retry_after = "10";
  ClientOptions options;
  options.deadline = clock_.Now() + absl::Seconds(25);
  Client client = MakeClient(options);
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));
  EXPECT_EQ(sleeper_.sleeps.size(), 2u);
}

TEST_F(ClientTest, RetriesBadNonceWithTheFreshNonce) {
  Client client = MakeClient();
  ca_.bad_nonces_to_send = 2;
  ASSERT_OK(client.NewAccount(Agree()).status());
  ASSERT_OK(client.ObtainCertificate({"a.example"}, "CSR", http01_).status());
  // One HEAD for the first nonce only: every later nonce came from a response.
  int heads = 0;
  for (const std::string& line : ca_.log) heads += line == "HEAD /nonce";
  EXPECT_EQ(heads, 1);
  int retried = 0;
  for (const std::string& line : lines_) retried += line.find("badNonce") != std::string::npos;
  EXPECT_EQ(retried, 2);
}

TEST_F(ClientTest, GivesUpAfterTooManyBadNonces) {
  ClientOptions options;
  options.max_bad_nonce_retries = 2;
  Client client = MakeClient(options);
  ca_.bad_nonces_to_send = 10;
  EXPECT_THAT(client.NewAccount(Agree()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("badNonce")));
  EXPECT_EQ(ca_.verified_posts, 3);
}

TEST_F(ClientTest, OnlyReturnExistingFindsOrRefuses) {
  Client client = MakeClient();
  Client::AccountRequest existing;
  existing.only_return_existing = true;
  EXPECT_THAT(client.NewAccount(existing), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::string created, client.NewAccount(Agree()));
  ASSERT_OK_AND_ASSIGN(std::string found, client.NewAccount(existing));
  EXPECT_EQ(found, created);
}

TEST_F(ClientTest, TermsOfServiceMustBeAgreed) {
  Client client = MakeClient();
  ASSERT_OK(client.FetchDirectory());
  EXPECT_EQ(client.directory().terms_of_service, "https://ca.test/tos");
  EXPECT_THAT(client.NewAccount(Client::AccountRequest{}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("userActionRequired")));
}

TEST_F(ClientTest, FailedValidationNamesTheDomainAndTheReason) {
  ca_.fail_validation = true;
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("could not validate a.example with http-01 (authorization "
                                 "invalid): incorrectResponse: key authorization for a.example")));
  EXPECT_EQ(http01_.cleaned.size(), 1u);
}

TEST_F(ClientTest, AWrongKeyAuthorizationFailsValidation) {
  // The fake CA compares what was presented with token.thumbprint of the account's JWK.
  ca_.validator = [](const std::string&, const std::string&) { return false; };
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ClientTest, NoChallengeOfTheSolversType) {
  ca_.offered = {"dns-01"};
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("offers no http-01 challenge for a.example (it offers: dns-01)")));
  EXPECT_TRUE(http01_.names.empty());
}

TEST_F(ClientTest, AnAuthorizationForANameNotOrderedIsRefusedBeforeAnythingIsPresented) {
  ca_.authz_domain_override = "victim.example";
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("victim.example, which this order did not ask for")));
  EXPECT_TRUE(http01_.names.empty());
}

TEST_F(ClientTest, URLsOutsideTheDirectorysHostAreRefused) {
  ca_.finalize_url_override = "https://internal.test/admin";
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("outside")));
  for (const std::string& line : ca_.log) EXPECT_EQ(line.find("internal.test"), std::string::npos);
}

TEST_F(ClientTest, ValidAuthorizationsAreNotSolvedAgain) {
  ca_.authz_already_valid = true;
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  ASSERT_OK(client.ObtainCertificate({"a.example"}, "CSR", http01_).status());
  EXPECT_TRUE(http01_.names.empty());
}

TEST_F(ClientTest, APresentErrorAbortsTheOrder) {
  http01_.present_error = absl::UnavailableError("cannot bind 0.0.0.0:80");
  Client client = MakeClient();
  ASSERT_OK(client.NewAccount(Agree()).status());
  EXPECT_THAT(client.ObtainCertificate({"a.example"}, "CSR", http01_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("0.0.0.0:80")));
  for (const std::string& line : ca_.log) EXPECT_NE(line, "POST /chall/1");
}

TEST_F(ClientTest, AnUnreachableServerIsUnavailable) {
  ca_.unreachable = true;
  Client client = MakeClient();
  EXPECT_THAT(client.NewAccount(Agree()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("fetching the ACME directory")));
}

TEST_F(ClientTest, RequestsNeedAnAccount) {
  Client client = MakeClient();
  EXPECT_THAT(client.NewOrder({"a.example"}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ClientTest, AKidTheCaForgotIsNotFound) {
  Client client = MakeClient();
  client.set_account_url("https://ca.test/acct/99");
  EXPECT_THAT(client.NewOrder({"a.example"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(CsrPemToDerTest, RefusesTextThatIsNoCsr) {
  EXPECT_THAT(CsrPemToDer("-----BEGIN CERTIFICATE REQUEST-----\nAA==\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::acme
