#include "api/aws/sigv4.h"

#include <gtest/gtest.h>

namespace rekey::api::aws {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

http::Request Signed(std::string_view secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     absl::Time at = kNow, std::string_view region = "us-east-1") {
  http::Request req;
  req.method = "POST";
  req.path = "/";
  req.target = "/";
  req.body = R"({"SecretId":"app"})";
  req.headers = {{"host", "127.0.0.1:8200"},
                 {"content-type", "application/x-amz-json-1.1"},
                 {"x-amz-target", "secretsmanager.GetSecretValue"}};
  SignForTest(req, "AKIDEXAMPLE", SecretBytes(secret), at, region);
  return req;
}

AwsError Check(const http::Request& req,
               std::string_view secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") {
  SigV4Auth auth;
  AwsError error;
  if (!ParseSigV4(req, kNow, SigV4Options{}, auth, error)) return error;
  if (!VerifySigV4(req, auth, SecretBytes(secret), error)) return error;
  return AwsError{200, "", ""};
}

TEST(SigV4Test, AcceptsACorrectSignature) { EXPECT_EQ(Check(Signed()).type, ""); }

TEST(SigV4Test, MatchesTheAwsDocumentationSigningKeyExample) {
  // docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html: the canonical request shape.
  http::Request req;
  req.method = "GET";
  req.path = "/";
  req.query = "Version=2010-05-08&Action=ListUsers";
  req.headers = {{"host", "iam.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
  EXPECT_EQ(CanonicalRequest(req, {"host", "x-amz-date"},
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "GET\n/\nAction=ListUsers&Version=2010-05-08\nhost:iam.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Test, WrongSecretIsInvalidSignature) {
  EXPECT_EQ(Check(Signed("another-secret-key-000000")).type, "InvalidSignatureException");
}

TEST(SigV4Test, ChangedBodyIsInvalidSignature) {
  http::Request req = Signed();
  req.body = R"({"SecretId":"other"})";
  EXPECT_EQ(Check(req).type, "InvalidSignatureException");
}

TEST(SigV4Test, ChangedSignedHeaderIsInvalidSignature) {
  http::Request req = Signed();
  for (auto& h : req.headers) {
    if (h.name == "x-amz-target") h.value = "secretsmanager.DeleteSecret";
  }
  EXPECT_EQ(Check(req).type, "InvalidSignatureException");
}

TEST(SigV4Test, UnsignedTargetHeaderIsRefused) {
  http::Request req = Signed();
  for (auto& h : req.headers) {
    if (h.name == "authorization") {
      const size_t at = h.value.find("x-amz-target");
      h.value.erase(at - 1, std::string("x-amz-target").size() + 1);
    }
  }
  EXPECT_EQ(Check(req).type, "IncompleteSignatureException");
}

TEST(SigV4Test, SkewOverFiveMinutesIsExpired) {
  AwsError e = Check(Signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", kNow - absl::Minutes(6)));
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_NE(e.message.find("Signature expired"), std::string::npos);
  e = Check(Signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", kNow + absl::Minutes(6)));
  EXPECT_NE(e.message.find("not yet current"), std::string::npos);
  EXPECT_EQ(Check(Signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", kNow - absl::Minutes(4))).type,
            "");
}

TEST(SigV4Test, WrongScopeDateOrRegionIsRefused) {
  http::Request req = Signed();
  for (auto& h : req.headers) {
    if (h.name == "authorization") {
      const size_t at = h.value.find("/20231114/");
      ASSERT_NE(at, std::string::npos) << h.value;
      h.value.replace(at, 10, "/20231113/");
    }
  }
  EXPECT_EQ(Check(req).type, "InvalidSignatureException");
  EXPECT_EQ(Check(Signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", kNow, "eu-west-1")).type,
            "InvalidSignatureException");
}

TEST(SigV4Test, MissingOrMalformedAuthorization) {
  http::Request req = Signed();
  std::erase_if(req.headers, [](const http::Header& h) { return h.name == "authorization"; });
  EXPECT_EQ(Check(req).type, "MissingAuthenticationTokenException");
  req.headers.push_back({"authorization", "AWS4-HMAC-SHA256 Credential=x"});
  EXPECT_EQ(Check(req).type, "IncompleteSignatureException");
}

}  // namespace
}  // namespace rekey::api::aws
