// Tests for the audit field allow-list: undeclared fields fail, every key ever written is
// declared, and the names that must be sensitive are.
#include "audit/fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <sstream>

#include "audit/entry.h"
#include "audit/testing/test_log.h"
#include "core/testing/status_matchers.h"

namespace rekey::audit {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FieldTableTest, UnknownFieldFails) {
  AuditEntry e(EntryType::kEvent);
  EXPECT_THAT(e.SetString("no_such_field", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_such_field")));
  EXPECT_THAT(e.SetInt("Version", 1), StatusIs(absl::StatusCode::kInvalidArgument));  // case
  EXPECT_THAT(e.Set("operation", json::value(1)),  // an envelope name is not a data field
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(e.SetSecret("mystery", SecretBytes("s")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(e.data_names().empty());
}

TEST(FieldTableTest, UnknownNestedFieldFails) {
  AuditEntry e(EntryType::kEvent);
  EXPECT_THAT(e.Set("options", json::parse(R"({"cas":1,"surprise":2})")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("surprise")));
  EXPECT_THAT(e.Set("versions", json::parse(R"([{"version":1},{"bogus":2}])")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus")));
  EXPECT_TRUE(e.data_names().empty());
}

TEST(FieldTableTest, SecretCannotGoIntoASafeField) {
  AuditEntry e(EntryType::kEvent);
  EXPECT_THAT(e.SetSecret("path_hint", SecretBytes("s")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(e.SetSecret("version", SecretBytes("s")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("declared safe")));
}

TEST(FieldTableTest, NoNameIsDeclaredTwiceInOneScope) {
  std::set<std::pair<std::string_view, FieldScope>> seen;
  for (const FieldSpec& f : AuditFieldTable()) {
    EXPECT_TRUE(seen.insert({f.name, f.scope}).second) << f.name;
  }
}

TEST(FieldTableTest, SecretBearingNamesAreSensitive) {
  for (std::string_view name :
       {"token", "client_token", "accessor", "value", "data", "secret_string", "secret_binary",
        "plaintext", "ciphertext", "password", "private_key", "secret_access_key", "session_token",
        "unlisted_fields", "custom_metadata", "pem_bundle"}) {
    absl::StatusOr<FieldClass> cls = ClassifyDataField(name);
    ASSERT_TRUE(cls.ok()) << name;
    EXPECT_EQ(*cls, FieldClass::kSensitive) << name;
  }
}

// Records every key of `v` into `envelope` (top level and actor) or `data` (inside "data").
void CollectKeys(const json::object& line, std::set<std::string>* envelope,
                 std::set<std::string>* data) {
  std::function<void(const json::value&)> walk = [&](const json::value& v) {
    if (v.is_object()) {
      for (const auto& kv : v.get_object()) {
        data->insert(std::string(kv.key()));
        walk(kv.value());
      }
    } else if (v.is_array()) {
      for (const auto& item : v.get_array()) walk(item);
    }
  };
  for (const auto& kv : line) {
    envelope->insert(std::string(kv.key()));
    if (kv.key() == "actor") {
      for (const auto& a : kv.value().get_object()) envelope->insert(std::string(a.key()));
    }
    if (kv.key() == "data") walk(kv.value());
  }
}

TEST(FieldTableTest, EveryKeyWrittenIsDeclared) {
  auto state = std::make_shared<testing::MemorySinkState>();
  FakeClock clock;
  DeviceKeys keys = testing::TestKeys();
  ASSERT_OK_AND_ASSIGN(auto log,
                       testing::OpenMemoryLog(state, keys, clock, testing::TestOptions(2)));
  AuditEntry e = testing::RequestEntry(1);
  e.status = 200;
  e.error = "permission denied";
  ASSERT_OK(e.SetRequestFields(
      json::parse(R"({"data":{"password":"p"},"options":{"cas":3},"weird":1,"policies":["a"]})")
          .as_object()));
  ASSERT_OK(e.Set("versions", json::parse(R"([{"version":1,"deleted":true}])")));
  ASSERT_OK(log->Append(e));
  ASSERT_OK(log->Append(testing::RequestEntry(2)));
  ASSERT_OK(log->Close());

  std::set<std::string> envelope, data;
  std::istringstream lines(state->Contents());
  std::string line;
  std::set<std::string> types;
  while (std::getline(lines, line)) {
    json::value v = json::parse(line);
    types.insert(std::string(v.at("type").as_string()));
    CollectKeys(v.as_object(), &envelope, &data);
  }
  EXPECT_EQ(types, (std::set<std::string>{"open", "request", "checkpoint"}));
  for (const std::string& k : envelope) EXPECT_TRUE(IsEnvelopeField(k)) << k;
  for (const std::string& k : data) EXPECT_TRUE(ClassifyDataField(k).ok()) << k;
  // The envelope fields a request entry uses all appeared.
  for (const char* k :
       {"sequence", "type", "time", "node", "actor", "accessor_hmac", "policies", "remote_addr",
        "operation", "path", "status", "error", "request_id", "data", "prev"}) {
    EXPECT_TRUE(envelope.count(k)) << k;
  }
}

}  // namespace
}  // namespace rekey::audit
