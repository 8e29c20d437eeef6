// Tests for AuditEntry: sensitive values are written only as HMAC fingerprints and never appear
// in the written bytes in any encoding; request bodies are classified field by field.
#include "audit/entry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "absl/strings/escaping.h"
#include "audit/testing/test_log.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace rekey::audit {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

class EntryTest : public ::testing::Test {
 protected:
  // Writes `e` through a fresh log and returns the entry's line parsed.
  json::object WriteOne(const AuditEntry& e) {
    state_ = std::make_shared<testing::MemorySinkState>();
    auto log = testing::OpenMemoryLog(state_, keys_, clock_);
    EXPECT_OK(log.status());
    EXPECT_OK((*log)->Append(e));
    written_ = state_->Contents();
    size_t start = written_.find('\n') + 1;  // skip the open entry
    return json::parse(written_.substr(start, written_.find('\n', start) - start)).as_object();
  }

  std::string Fp(std::string_view v) {
    return "hmac-sha256:" + absl::BytesToHexString(*crypto::HmacSha256(keys_.hmac_key.Reveal(), v));
  }

  // Fails if `secret` appears in the written bytes raw, base64, hex or URL-encoded.
  void ExpectAbsent(const std::string& secret) {
    EXPECT_THAT(written_, Not(HasSubstr(secret)));
    EXPECT_THAT(written_, Not(HasSubstr(absl::Base64Escape(secret))));
    EXPECT_THAT(written_, Not(HasSubstr(absl::WebSafeBase64Escape(secret))));
    EXPECT_THAT(written_, Not(HasSubstr(absl::BytesToHexString(secret))));
  }

  FakeClock clock_;
  DeviceKeys keys_ = testing::TestKeys();
  std::shared_ptr<testing::MemorySinkState> state_;
  std::string written_;
};

TEST_F(EntryTest, SensitiveFieldsAreFingerprinted) {
  const std::string secret = "s3cr3t-VALUE-9f8e7d";
  AuditEntry e(EntryType::kResponse);
  ASSERT_OK(e.SetString("value", secret));
  ASSERT_OK(e.SetSecret("token", SecretBytes("tok-1234567890")));
  ASSERT_OK(e.Set("data", json::parse(R"({"password":"s3cr3t-VALUE-9f8e7d","user":"bob"})")));
  ASSERT_OK(e.SetString("version", "3"));
  json::object line = WriteOne(e);
  const json::object& data = line.at("data").as_object();
  EXPECT_EQ(data.at("value").as_string(), Fp(secret));
  EXPECT_EQ(data.at("token").as_string(), Fp("tok-1234567890"));
  EXPECT_EQ(data.at("data").as_string(), Fp(R"({"password":"s3cr3t-VALUE-9f8e7d","user":"bob"})"));
  EXPECT_EQ(data.at("version").as_string(), "3");
  ExpectAbsent(secret);
  ExpectAbsent("tok-1234567890");
  EXPECT_THAT(written_, Not(HasSubstr("bob")));
}

TEST_F(EntryTest, ActorAccessorIsFingerprinted) {
  AuditEntry e = testing::RequestEntry(1);
  e.actor.accessor = "acc-7777777777";
  json::object line = WriteOne(e);
  EXPECT_EQ(line.at("actor").at("accessor_hmac").as_string(), Fp("acc-7777777777"));
  ExpectAbsent("acc-7777777777");
}

TEST_F(EntryTest, RequestBodyIsClassifiedFieldByField) {
  AuditEntry e(EntryType::kRequest);
  ASSERT_OK(e.SetRequestFields(json::parse(R"({
      "data": {"api_key": "AKIAQQQQQQQQ"},
      "options": {"cas": 2},
      "ttl": "1h",
      "policies": ["a", "b"],
      "mystery_field": "hunter2hunter2",
      "metadata_x": {"k": "v"}
    })")
                                   .as_object()));
  json::object line = WriteOne(e);
  const json::object& data = line.at("data").as_object();
  EXPECT_EQ(data.at("options"), json::parse(R"({"cas":2})"));
  EXPECT_EQ(data.at("ttl"), "1h");
  EXPECT_EQ(data.at("policies"), json::parse(R"(["a","b"])"));
  EXPECT_TRUE(data.at("data").as_string().starts_with("hmac-sha256:"));
  // Undeclared fields are fingerprinted together; neither their names nor values show.
  EXPECT_TRUE(data.at("unlisted_fields").as_string().starts_with("hmac-sha256:"));
  EXPECT_EQ(data.size(), 5u);
  ExpectAbsent("AKIAQQQQQQQQ");
  ExpectAbsent("hunter2hunter2");
  EXPECT_THAT(written_, Not(HasSubstr("mystery_field")));
  EXPECT_THAT(written_, Not(HasSubstr("metadata_x")));
}

TEST_F(EntryTest, SafeFieldWithUndeclaredNestedKeyInBodyIsFingerprintedWhole) {
  AuditEntry e(EntryType::kRequest);
  ASSERT_OK(
      e.SetRequestFields(json::parse(R"({"options":{"cas":1,"leak":"zzzz-secret"}})").as_object()));
  json::object line = WriteOne(e);
  EXPECT_EQ(line.at("data").at("options").as_string(), Fp(R"({"cas":1,"leak":"zzzz-secret"})"));
  ExpectAbsent("zzzz-secret");
}

TEST_F(EntryTest, NestedSensitiveKeyInsideSafeFieldIsFingerprinted) {
  AuditEntry e(EntryType::kEvent);
  ASSERT_OK(e.Set("versions", json::parse(R"([{"version":2,"value":"inner-secret-1"}])")));
  json::object line = WriteOne(e);
  const json::object& v = line.at("data").at("versions").as_array()[0].as_object();
  EXPECT_EQ(v.at("version"), 2);
  EXPECT_EQ(v.at("value").as_string(), Fp("inner-secret-1"));
  ExpectAbsent("inner-secret-1");
}

TEST_F(EntryTest, DataKeysAreSortedAndSetReplaces) {
  AuditEntry e(EntryType::kEvent);
  ASSERT_OK(e.SetInt("version", 1));
  ASSERT_OK(e.SetString("engine", "kv"));
  ASSERT_OK(e.SetInt("attempt", 3));
  ASSERT_OK(e.SetInt("version", 2));
  EXPECT_EQ(e.data_names(), (std::vector<std::string>{"attempt", "engine", "version"}));
  WriteOne(e);
  EXPECT_THAT(written_, HasSubstr(R"("data":{"attempt":3,"engine":"kv","version":2})"));
}

TEST_F(EntryTest, EnvelopeStringsAreEscaped) {
  AuditEntry e(EntryType::kRequest);
  e.path = "secret/data/a\"b\nc";
  e.error = "bad \x01 byte \xff";
  json::object line = WriteOne(e);
  EXPECT_EQ(line.at("path").as_string(), "secret/data/a\"b\nc");
  EXPECT_EQ(line.at("error").as_string(), "bad \x01 byte \xef\xbf\xbd");
  EXPECT_EQ(std::count(written_.begin(), written_.end(), '\n'), 2);
}

TEST_F(EntryTest, LineHasTheFixedKeyOrder) {
  AuditEntry e = testing::RequestEntry(5);
  e.status = 403;
  e.error = "permission denied";
  ASSERT_OK(e.SetString("mount", "secret"));
  clock_.Set(absl::FromUnixNanos(1700000000000000001));
  json::object line = WriteOne(e);
  std::vector<std::string> keys;
  for (const auto& kv : line) keys.push_back(std::string(kv.key()));
  EXPECT_EQ(keys,
            (std::vector<std::string>{"sequence", "type", "time", "node", "actor", "operation",
                                      "path", "status", "error", "request_id", "data", "prev"}));
  EXPECT_EQ(line.at("sequence"), 2);
  EXPECT_EQ(line.at("time"), "2023-11-14T22:13:20.000000001Z");
}

}  // namespace
}  // namespace rekey::audit
