#include "acme/http01_responder.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "net/http_client.h"

namespace rekey::acme {
namespace {

using ::rekey::testing::StatusIs;

net::ClientResponse Get(const Http01Responder& responder, std::string_view path,
                        std::string_view method = "GET") {
  net::ClientOptions options;
  options.address = rekey::StrCat("http://", responder.address());
  options.timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<net::HttpClient>> client = net::HttpClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  absl::StatusOr<net::ClientResponse> r = (*client)->Send(method, path, {}, "");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : net::ClientResponse{};
}

TEST(Http01ResponderTest, ServesKeyAuthorizationsByToken) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Http01Responder> responder,
                       Http01Responder::Start("127.0.0.1:0"));
  responder->Put("tok_A-1", "tok_A-1.thumb");
  net::ClientResponse r = Get(*responder, "/.well-known/acme-challenge/tok_A-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "tok_A-1.thumb");
  EXPECT_EQ(Get(*responder, "/.well-known/acme-challenge/tok_A-1", "HEAD").status, 200);
  EXPECT_EQ(responder->served(), 2);
}

TEST(Http01ResponderTest, AnswersNotFoundForAnythingElse) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Http01Responder> responder,
                       Http01Responder::Start("127.0.0.1:0"));
  responder->Put("tok", "tok.thumb");
  EXPECT_EQ(Get(*responder, "/.well-known/acme-challenge/other").status, 404);
  EXPECT_EQ(Get(*responder, "/v1/secret/data/x").status, 404);
  EXPECT_EQ(Get(*responder, "/.well-known/acme-challenge/tok", "POST").status, 404);
  responder->Remove("tok");
  EXPECT_EQ(Get(*responder, "/.well-known/acme-challenge/tok").status, 404);
  EXPECT_EQ(responder->served(), 0);
}

TEST(Http01ResponderTest, AnAddressInUseIsUnavailableAndNamed) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Http01Responder> first,
                       Http01Responder::Start("127.0.0.1:0"));
  EXPECT_THAT(Http01Responder::Start(first->address()),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr(first->address())));
}

TEST(Http01ResponderTest, TheAddressIsFreeAgainAfterIt) {
  std::string address;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Http01Responder> r, Http01Responder::Start("127.0.0.1:0"));
    address = r->address();
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Http01Responder> again, Http01Responder::Start(address));
  EXPECT_EQ(again->address(), address);
}

}  // namespace
}  // namespace rekey::acme
