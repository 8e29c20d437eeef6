// The AWS surface's authorization matrix, generated from the operations table
// (aws_operations.h): every operation × (capability granted, capability missing, path denied,
// unknown access key, wrong secret key) gives the expected answer, and a refused request writes
// nothing. Also: docs/api/aws.md shows the current table.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "api/aws/aws_handler.h"
#include "api/aws/aws_operations.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/engine.h"
#include "rotators/generic/generic_rotator.h"
#include "storage/memory_store.h"

namespace rekey::api::aws {
namespace {

namespace json = boost::json;
using auth::Capability;

constexpr char kRootId[] = "AKIAMATRIXROOT000000";
constexpr char kSubjectId[] = "AKIAMATRIXSUBJECT000";
constexpr char kSecret[] = "matrix-secret-access-key-0000";
constexpr char kName[] = "matrix/app";

class NoHttp final : public rotation::HttpTransport {
 public:
  absl::StatusOr<rotation::HttpReply> Send(const rotation::HttpCall&) override {
    return absl::UnavailableError("no network in tests");
  }
};

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// A rekey with the AWS surface over a MemoryStore, the secret matrix/app (with a generic
// rotation config) and a root access key.
class Stack {
 public:
  Stack() {
    EXPECT_OK(rotators::generic::RegisterGenericRotator(registry));
    rotation::EngineOptions options;
    options.workers = 0;
    engine = std::make_unique<rotation::RotationEngine>(store, kv, registry, clock, random, http,
                                                        options);
    EXPECT_OK(engine->Start());
    handler = std::make_unique<AwsHandler>(kv, engine.get(), keys, policies, clock, random,
                                           AwsHandlerOptions{});
    EXPECT_OK(keys.Ensure(kRootId, SecretBytes(kSecret), {"root"}));
    auto [status, body] = Call(kRootId, kSecret, "CreateSecret",
                               R"({"Name":"matrix/app","SecretString":"{\"value\":\"seed\"}"})");
    EXPECT_EQ(status, 200) << json::serialize(body);
    EXPECT_OK(engine->SetConfig(
        kName, json::parse(R"({"rotator":"generic","params":{"fields":["value"]}})").as_object()));
  }
  ~Stack() { engine->Stop(); }

  std::pair<int, json::value> Call(std::string_view id, std::string_view secret,
                                   std::string_view op, std::string body) {
    http::Request req;
    req.method = "POST";
    req.path = "/";
    req.target = "/";
    req.body = std::move(body);
    req.request_id = "matrix";
    req.headers = {{"host", "localhost"},
                   {"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", StrCat("secretsmanager.", op)}};
    SignForTest(req, id, SecretBytes(secret), clock.Now(), "us-east-1");
    http::Response res = handler->Handle(req);
    return {res.status, res.body.empty() ? json::value(json::object{}) : json::parse(res.body)};
  }

  storage::MemoryStore store;
  FakeClock clock;
  FakeRandom random;
  secrets::SecretsService kv{store, clock, random, "secret"};
  auth::PolicyStore policies{store};
  AccessKeyStore keys{store, clock, random};
  rotation::RotatorRegistry registry;
  NoHttp http;
  std::unique_ptr<rotation::RotationEngine> engine;
  std::unique_ptr<AwsHandler> handler;
};

enum class Kind { kGranted, kMissing, kDeniedPath, kUnknownKey, kWrongSecret };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kGranted:
      return "granted";
    case Kind::kMissing:
      return "missing";
    case Kind::kDeniedPath:
      return "denied_path";
    case Kind::kUnknownKey:
      return "unknown_key";
    case Kind::kWrongSecret:
      return "wrong_secret";
  }
  return "?";
}

struct Case {
  const AwsOperationRule* rule;
  Kind kind;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const AwsOperationRule& rule : AwsOperationRules()) {
    for (Kind k : {Kind::kGranted, Kind::kMissing, Kind::kDeniedPath, Kind::kUnknownKey,
                   Kind::kWrongSecret}) {
      cases.push_back({&rule, k});
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return StrCat(info.param.rule->name, "_", KindName(info.param.kind));
}

json::array CapsJson(std::initializer_list<std::string_view> names) {
  json::array out;
  for (std::string_view n : names) out.emplace_back(json::string_view(n.data(), n.size()));
  return out;
}

class AwsMatrixTest : public ::testing::TestWithParam<Case> {};

TEST_P(AwsMatrixTest, Enforced) {
  const AwsOperationRule& rule = *GetParam().rule;
  const Kind kind = GetParam().kind;
  Stack stack;

  // The rule's path for the example secret (and for secrets named after it: CreateSecret's).
  const std::string path = StrCat(AwsPolicyPath(rule.resource, kName), "*");
  json::object paths;
  const std::string_view cap = auth::CapabilityName(rule.capability);
  if (kind == Kind::kMissing) {
    json::array others;
    for (Capability c : auth::kAllCapabilities) {
      if (c != rule.capability && c != Capability::kDeny) {
        std::string_view n = auth::CapabilityName(c);
        others.emplace_back(json::string_view(n.data(), n.size()));
      }
    }
    paths[path] = json::object{{"capabilities", others}};
  } else if (kind == Kind::kDeniedPath) {
    paths["*"] = json::object{{"capabilities", CapsJson({"create", "read", "update", "patch",
                                                         "delete", "list", "sudo", "rotate"})}};
    paths[path] = json::object{{"capabilities", CapsJson({"deny"})}};
  } else {
    paths[path] = json::object{{"capabilities", CapsJson({cap})}};
  }
  ASSERT_OK(stack.policies.Write("subject", json::serialize(json::object{{"path", paths}})));
  ASSERT_OK(stack.keys.Ensure(kSubjectId, SecretBytes(kSecret), {"subject"}));

  std::string body(rule.example_body);
  ReplaceAll(body, "{name}", kName);
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, stack.kv.GetMetadata(kName));
  ReplaceAll(body, "{version}", meta.versions.at(meta.CurrentVersion()).id);

  std::string_view id = kSubjectId;
  std::string_view secret = kSecret;
  if (kind == Kind::kUnknownKey) id = "AKIAMATRIXUNKNOWN000";
  if (kind == Kind::kWrongSecret) secret = "matrix-wrong-secret-key-0000";
  const uint64_t writes_before = stack.store.CommitIndex();
  auto [status, res] = stack.Call(id, secret, rule.name, body);
  SCOPED_TRACE(StrCat(rule.name, " ", body, " (", KindName(kind), ") -> ", status, " ",
                      json::serialize(res)));
  const json::value* type = res.is_object() ? res.as_object().if_contains("__type") : nullptr;
  const std::string error = type != nullptr ? std::string(type->as_string().c_str()) : "";

  switch (kind) {
    case Kind::kGranted:
      EXPECT_EQ(status, 200);
      EXPECT_EQ(error, "");
      break;
    case Kind::kMissing:
    case Kind::kDeniedPath:
      if (rule.filtered) {
        // Filtered, not refused: nothing about the secret comes back.
        EXPECT_EQ(status, 200);
        const json::object& o = res.as_object();
        if (o.contains("SecretList")) {
          EXPECT_TRUE(o.at("SecretList").as_array().empty());
        }
        if (o.contains("SecretValues")) {
          EXPECT_TRUE(o.at("SecretValues").as_array().empty());
          ASSERT_EQ(o.at("Errors").as_array().size(), 1u);
          EXPECT_EQ(o.at("Errors").as_array()[0].as_object().at("ErrorCode").as_string(),
                    "AccessDeniedException");
        }
      } else {
        EXPECT_EQ(status, 400);
        EXPECT_EQ(error, "AccessDeniedException");
      }
      EXPECT_EQ(stack.store.CommitIndex(), writes_before) << "a refused request wrote";
      break;
    case Kind::kUnknownKey:
      EXPECT_EQ(error, "UnrecognizedClientException");
      EXPECT_EQ(stack.store.CommitIndex(), writes_before);
      break;
    case Kind::kWrongSecret:
      EXPECT_EQ(error, "InvalidSignatureException");
      EXPECT_EQ(stack.store.CommitIndex(), writes_before);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryOperation, AwsMatrixTest, ::testing::ValuesIn(AllCases()), CaseName);

TEST(AwsOperationsTest, NamesAreUniqueAndUnknownOperationsAreRefused) {
  std::set<std::string_view> names;
  for (const AwsOperationRule& rule : AwsOperationRules()) {
    EXPECT_TRUE(names.insert(rule.name).second) << rule.name;
    EXPECT_EQ(FindAwsOperation(rule.name), &rule);
  }
  EXPECT_EQ(names.size(), 16u);
  Stack stack;
  auto [status, res] = stack.Call(kRootId, kSecret, "GetResourcePolicy", R"({"SecretId":"x"})");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(res.as_object().at("__type").as_string(), "InvalidAction");
}

TEST(AwsOperationsTest, TheDocumentationShowsTheCurrentTable) {
  std::ifstream in(REKEY_AWS_DOC);
  ASSERT_TRUE(in) << "cannot read " << REKEY_AWS_DOC;
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(AwsOperationsMarkdown()), std::string::npos)
      << "docs/api/aws.md is out of date; paste this table into it:\n"
      << AwsOperationsMarkdown();
}

}  // namespace
}  // namespace rekey::api::aws
