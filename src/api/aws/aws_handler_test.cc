#include "api/aws/aws_handler.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;
constexpr char kId[] = "AKIAROOTROOTROOT0000";
constexpr char kSecret[] = "root-secret-access-key-0000";

class AwsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(keys_.Ensure(kId, SecretBytes(kSecret), {"root"}));
    ASSERT_OK(
        policies_.Write("reader", R"({"path":{"secret/data/app":{"capabilities":["read"]}}})"));
    ASSERT_OK(keys_.Ensure("AKIAREADERREADER0000", SecretBytes(kSecret), {"reader"}));
  }

  std::pair<int, json::value> Call(std::string_view op, std::string body,
                                   std::string_view id = kId) {
    http::Request req;
    req.method = "POST";
    req.path = "/";
    req.target = "/";
    req.body = std::move(body);
    req.request_id = "t";
    req.headers = {{"host", "localhost"},
                   {"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", StrCat("secretsmanager.", op)}};
    SignForTest(req, id, SecretBytes(kSecret), clock_.Now(), "us-east-1");
    http::Response res = handler_.Handle(req);
    return {res.status, res.body.empty() ? json::value(json::object{}) : json::parse(res.body)};
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  secrets::SecretsService kv_{store_, clock_, random_, "secret"};
  auth::PolicyStore policies_{store_};
  AccessKeyStore keys_{store_, clock_, random_};
  AwsHandler handler_{kv_, nullptr, keys_, policies_, clock_, random_, AwsHandlerOptions{}};
};

TEST_F(AwsHandlerTest, CreateGetPutRoundTripWithLabels) {
  auto [s1, created] = Call("CreateSecret",
                            R"({"Name":"app","SecretString":"hunter2",
                                "ClientRequestToken":"11111111-1111-1111-1111-111111111111"})");
  ASSERT_EQ(s1, 200) << json::serialize(created);
  EXPECT_EQ(created.at("VersionId").as_string(), "11111111-1111-1111-1111-111111111111");
  auto [s2, got] = Call("GetSecretValue", R"({"SecretId":"app"})");
  ASSERT_EQ(s2, 200) << json::serialize(got);
  EXPECT_EQ(got.at("SecretString").as_string(), "hunter2");
  EXPECT_EQ(got.at("VersionStages").as_array()[0].as_string(), "AWSCURRENT");
  auto [s3, put] = Call("PutSecretValue", R"({"SecretId":"app","SecretString":"{\"a\":1}",
                                "ClientRequestToken":"22222222-2222-2222-2222-222222222222"})");
  ASSERT_EQ(s3, 200) << json::serialize(put);
  auto [s4, prev] = Call("GetSecretValue", R"({"SecretId":"app","VersionStage":"AWSPREVIOUS"})");
  ASSERT_EQ(s4, 200);
  EXPECT_EQ(prev.at("SecretString").as_string(), "hunter2");
  // The KV face sees the JSON object as its data.
  ASSERT_OK_AND_ASSIGN(secrets::ReadResult kv, kv_.Read("app", 0));
  EXPECT_EQ(kv.value->Reveal(), R"({"a":1})");
  // Same token, same value: no-op; different value: refused.
  auto [s5, again] = Call("PutSecretValue", R"({"SecretId":"app","SecretString":"{\"a\":1}",
                                "ClientRequestToken":"22222222-2222-2222-2222-222222222222"})");
  EXPECT_EQ(s5, 200);
  auto [s6, clash] = Call("PutSecretValue", R"({"SecretId":"app","SecretString":"other",
                                "ClientRequestToken":"22222222-2222-2222-2222-222222222222"})");
  EXPECT_EQ(s6, 400);
  EXPECT_EQ(clash.at("__type").as_string(), "ResourceExistsException");
  // Addressed by full ARN.
  auto [s7, by_arn] = Call(
      "DescribeSecret", StrCat(R"({"SecretId":")", created.at("ARN").as_string().c_str(), "\"}"));
  EXPECT_EQ(s7, 200) << json::serialize(by_arn);
}

TEST_F(AwsHandlerTest, UnauthorizedCallersLearnNothingAboutExistence) {
  ASSERT_EQ(Call("CreateSecret", R"({"Name":"other","SecretString":"x"})").first, 200);
  auto [a, existing] = Call("GetSecretValue", R"({"SecretId":"other"})", "AKIAREADERREADER0000");
  auto [b, missing] = Call("GetSecretValue", R"({"SecretId":"absent"})", "AKIAREADERREADER0000");
  EXPECT_EQ(a, 400);
  EXPECT_EQ(json::serialize(existing), json::serialize(missing));
  auto [c, unknown] = Call("GetSecretValue", R"({"SecretId":"other"})", "AKIAUNKNOWNKEY000000");
  EXPECT_EQ(unknown.at("__type").as_string(), "UnrecognizedClientException");
}

// "arn:...:secret:app-secret" looks like the secret "app" with the suffix "secret"; when "app"
// does not match it resolves to the secret "app-secret", whose rights must be checked too.
TEST_F(AwsHandlerTest, APartialArnDoesNotReachASecretThePolicyDoesNotCover) {
  ASSERT_EQ(Call("CreateSecret", R"({"Name":"app-secret","SecretString":"not-for-reader"})").first,
            200);
  const std::string id =
      R"({"SecretId":"arn:aws:secretsmanager:us-east-1:000000000000:secret:app-secret"})";
  auto [a, denied] = Call("GetSecretValue", id, "AKIAREADERREADER0000");
  EXPECT_EQ(denied.at("__type").as_string(), "AccessDeniedException") << json::serialize(denied);
  ASSERT_EQ(Call("CreateSecret", R"({"Name":"app","SecretString":"for-reader"})").first, 200);
  auto [b, still] = Call("GetSecretValue", id, "AKIAREADERREADER0000");
  EXPECT_EQ(still.at("__type").as_string(), "AccessDeniedException") << json::serialize(still);
  auto [c, root] = Call("GetSecretValue", id);
  EXPECT_EQ(root.at("SecretString").as_string(), "not-for-reader");
}

TEST_F(AwsHandlerTest, DeleteScheduleBlocksReadsUntilRestored) {
  ASSERT_EQ(Call("CreateSecret", R"({"Name":"d","SecretString":"x"})").first, 200);
  ASSERT_EQ(Call("DeleteSecret", R"({"SecretId":"d","RecoveryWindowInDays":7})").first, 200);
  auto [s, err] = Call("GetSecretValue", R"({"SecretId":"d"})");
  EXPECT_EQ(err.at("__type").as_string(), "InvalidRequestException");
  ASSERT_EQ(Call("RestoreSecret", R"({"SecretId":"d"})").first, 200);
  EXPECT_EQ(Call("GetSecretValue", R"({"SecretId":"d"})").first, 200);
  ASSERT_EQ(Call("DeleteSecret", R"({"SecretId":"d","RecoveryWindowInDays":7})").first, 200);
  clock_.Advance(absl::Hours(24 * 7 + 1));
  EXPECT_EQ(Call("GetSecretValue", R"({"SecretId":"d"})").second.at("__type").as_string(),
            "ResourceNotFoundException");
}

}  // namespace
}  // namespace rekey::api::aws
