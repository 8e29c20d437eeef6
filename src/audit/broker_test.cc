// AuditBroker: devices stored and reopened with their chains, fan-out and the fail-closed rule.
#include "audit/broker.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/testing/fault_sink.h"
#include "audit/verify.h"
#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "storage/testing/temp_dir.h"

namespace rekey::audit {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BrokerTest : public ::testing::Test {
 protected:
  DeviceConfig FileDevice(const std::string& name) {
    DeviceConfig c;
    c.name = name;
    c.type = "file";
    c.path = dir_.File(name + ".log");
    c.fsync = FsyncPolicy::kEveryBatch;
    return c;
  }
  AuditEntry Request(const std::string& path, EntryType type = EntryType::kRequest) {
    AuditEntry e(type);
    e.operation = "read";
    e.path = path;
    e.actor.accessor = "accessor-123";
    return e;
  }

  storage::testing::ScopedTempDir dir_;
  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
};

TEST_F(BrokerTest, WithNoDeviceEverythingPassesAndNothingIsRecorded) {
  AuditBroker broker(store_, clock_, random_, "node1");
  EXPECT_FALSE(broker.enabled());
  EXPECT_OK(broker.RecordSync(Request("secret/data/a")));
  EXPECT_TRUE(broker.Recent(0, 10).empty());
}

TEST_F(BrokerTest, EnabledDevicesAreStoredAndTheirChainContinuesAfterARestart) {
  const DeviceConfig config = FileDevice("file");
  std::string public_key;
  {
    AuditBroker broker(store_, clock_, random_, "node1");
    ASSERT_OK(broker.Enable(config));
    EXPECT_THAT(broker.Enable(config), StatusIs(absl::StatusCode::kAlreadyExists));
    ASSERT_OK(broker.RecordSync(Request("secret/data/a")));
    public_key = broker.List().at(0).public_key;
  }
  {
    AuditBroker broker(store_, clock_, random_, "node1");
    ASSERT_OK(broker.Load());
    ASSERT_EQ(broker.List().size(), 1u);
    EXPECT_EQ(broker.List()[0].public_key, public_key);
    ASSERT_OK(broker.RecordSync(Request("secret/data/b")));
  }
  VerifyOptions options;
  options.strict = false;  // the second broker is still open
  ASSERT_OK_AND_ASSIGN(std::string raw_key, ParsePublicKey(public_key));
  options.public_key = raw_key;
  ASSERT_OK_AND_ASSIGN(VerifyReport report, Verify({config.path}, options));
  EXPECT_FALSE(report.first_bad.has_value()) << report.first_bad->reason;
  const std::string text = ReadFile(config.path);
  EXPECT_THAT(text, HasSubstr("secret/data/b"));
  EXPECT_THAT(text, Not(HasSubstr("accessor-123")));  // only its HMAC
}

TEST_F(BrokerTest, OneWorkingDeviceIsEnoughAndNoneFailsClosed) {
  AuditBroker broker(store_, clock_, random_, "node1");
  auto broken = std::make_shared<testing::MemorySinkState>();
  auto healthy = std::make_shared<testing::MemorySinkState>();
  DeviceConfig a = FileDevice("a");
  DeviceConfig b = FileDevice("b");
  ASSERT_OK(broker.EnableWithSinkForTest(a, std::make_unique<testing::MemoryAuditSink>(broken)));
  ASSERT_OK(broker.EnableWithSinkForTest(b, std::make_unique<testing::MemoryAuditSink>(healthy)));
  broken->SetFailWrites(true);
  EXPECT_OK(broker.RecordSync(Request("secret/data/one", EntryType::kResponse)));
  healthy->SetFailWrites(true);
  EXPECT_THAT(broker.RecordSync(Request("secret/data/two", EntryType::kResponse)),
              StatusIs(absl::StatusCode::kUnavailable));
  // Recovers by itself once a device works again.
  broken->SetFailWrites(false);
  EXPECT_OK(broker.RecordSync(Request("secret/data/three", EntryType::kResponse)));
  EXPECT_THAT(broken->Contents(), HasSubstr("secret/data/three"));
  EXPECT_THAT(broken->Contents(), Not(HasSubstr("secret/data/two")));
  std::vector<EntrySummary> recent = broker.Recent(0, 10);
  ASSERT_EQ(recent.size(), 2u);  // the unrecorded one is not shown as recorded
  EXPECT_EQ(recent[1].path, "secret/data/three");
}

TEST_F(BrokerTest, ADeviceThatCannotBeOpenedAtStartFailsClosedUntilItCan) {
  DeviceConfig config = FileDevice("file");
  const std::string dir = dir_.File("later");
  config.path = dir + "/audit.log";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  {
    AuditBroker broker(store_, clock_, random_, "node1");
    ASSERT_OK(broker.Enable(config));
  }
  std::filesystem::remove_all(dir);  // gone while the server is down
  AuditBroker broker(store_, clock_, random_, "node1");
  ASSERT_OK(broker.Load());
  ASSERT_EQ(broker.List().size(), 1u);
  EXPECT_FALSE(broker.List()[0].healthy);
  EXPECT_THAT(broker.RecordSync(Request("secret/data/a")),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  EXPECT_THAT(broker.RecordSync(Request("secret/data/b")), StatusIs(absl::StatusCode::kUnavailable))
      << "reopened more often than once a second";
  clock_.Advance(absl::Seconds(1));
  EXPECT_OK(broker.RecordSync(Request("secret/data/c")));
  EXPECT_TRUE(broker.List()[0].healthy);
}

TEST_F(BrokerTest, DisableClosesTheChainAndForgetsTheDevice) {
  AuditBroker broker(store_, clock_, random_, "node1");
  const DeviceConfig config = FileDevice("file");
  ASSERT_OK(broker.Enable(config));
  ASSERT_OK(broker.RecordSync(Request("secret/data/a")));
  ASSERT_OK(broker.Disable("file"));
  EXPECT_FALSE(broker.enabled());
  EXPECT_THAT(broker.Disable("file"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(VerifyReport report, Verify({config.path}, VerifyOptions{}));
  EXPECT_TRUE(report.closed);
  AuditBroker again(store_, clock_, random_, "node1");
  ASSERT_OK(again.Load());
  EXPECT_FALSE(again.enabled());
}

TEST_F(BrokerTest, FingerprintsUseTheDeviceKey) {
  AuditBroker broker(store_, clock_, random_, "node1");
  ASSERT_OK(broker.Enable(FileDevice("file")));
  ASSERT_OK_AND_ASSIGN(std::string a, broker.Fingerprint("file", "s3cr3t"));
  EXPECT_EQ(a.rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(a, *broker.Fingerprint("file", "s3cr3t"));
  EXPECT_NE(a, *broker.Fingerprint("file", "other"));
  EXPECT_THAT(broker.Fingerprint("nope", "x"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(BrokerTest, DeviceConfigsAreValidated) {
  EXPECT_OK(ParseDeviceConfig("file", R"({"type":"file","options":{"file_path":"/var/log/a"}})"));
  EXPECT_OK(ParseDeviceConfig("out", R"({"type":"stdout"})"));
  ASSERT_OK_AND_ASSIGN(
      DeviceConfig c,
      ParseDeviceConfig("f", R"({"type":"file","options":{"file_path":"/x",)"
                             R"("fsync":"every-batch","max_file_bytes":"1048576"}})"));
  EXPECT_EQ(c.fsync, FsyncPolicy::kEveryBatch);
  EXPECT_EQ(c.max_file_bytes, 1048576u);
  for (const char* bad :
       {R"({"type":"syslog"})", R"({"type":"file"})",
        R"({"type":"file","options":{"file_path":"rel"}})",
        R"({"type":"file","options":{"file_path":"/x","fsync":"sometimes"}})",
        R"({"type":"file","options":{"file_path":"/x","colour":"red"}})", "[]", "not json"}) {
    EXPECT_THAT(ParseDeviceConfig("file", bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(ParseDeviceConfig("Bad Name", R"({"type":"stdout"})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::audit
