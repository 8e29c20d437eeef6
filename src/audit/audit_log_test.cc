// Tests for AuditLog: the chain round trip, checkpoints, group commit, fail-closed behaviour on
// sink faults and recovery, restart, keys.
#include "audit/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "audit/testing/test_log.h"
#include "audit/verify.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace rekey::audit {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Str(const json::value& v) {
  return std::string(v.as_string().data(), v.as_string().size());
}

std::vector<json::object> Lines(const std::string& text) {
  std::vector<json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line).as_object());
  return out;
}

class AuditLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditLog> Open(uint64_t checkpoint_every = 1000) {
    auto log =
        testing::OpenMemoryLog(state_, keys_, clock_, testing::TestOptions(checkpoint_every));
    EXPECT_OK(log.status());
    return log.ok() ? std::move(*log) : nullptr;
  }
  VerifyReport VerifyStrict() {
    VerifyOptions options;
    options.public_key = *keys_.PublicKey();
    return VerifyBuffer("memory", state_->Committed(), options);
  }

  FakeClock clock_;
  DeviceKeys keys_ = testing::TestKeys();
  std::shared_ptr<testing::MemorySinkState> state_ = std::make_shared<testing::MemorySinkState>();
};

TEST_F(AuditLogTest, ChainRoundTrip) {
  auto log = Open(10);
  for (int i = 0; i < 25; ++i) {
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_OK(log->Append(testing::RequestEntry(i)));
  }
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  // open + 25 entries + periodic checkpoints after lines 10, 20 (open counts) + close.
  std::vector<json::object> lines = Lines(state_->Committed());
  ASSERT_EQ(lines.size(), 1u + 25 + 2 + 1);
  EXPECT_EQ(report.entries, lines.size());
  EXPECT_EQ(report.checkpoints, 3u);
  EXPECT_TRUE(report.closed);
  EXPECT_EQ(report.first_sequence, 1u);
  EXPECT_EQ(report.last_sequence, lines.size());
  EXPECT_EQ(report.device_id, keys_.device_id);
  EXPECT_EQ(report.last_hash, log->Head().hash);
  EXPECT_EQ(report.last_sequence, log->Head().sequence);

  EXPECT_EQ(lines[0].at("type"), "open");
  EXPECT_EQ(lines[0].at("data").at("reason"), "new");
  EXPECT_EQ(Str(lines[0].at("data").at("device_id")), keys_.device_id);
  EXPECT_EQ(Str(lines[0].at("data").at("public_key")), log->PublicKeyBase64());
  EXPECT_EQ(Str(lines[0].at("prev")),
            "sha256:" + crypto::Sha256Hex("rekey-audit-genesis\nfile\n" + keys_.device_id));
  EXPECT_EQ(lines[10].at("type"), "checkpoint");
  EXPECT_EQ(lines[10].at("data").at("reason"), "periodic");
  EXPECT_EQ(lines[10].at("data").at("count"), 10);
  EXPECT_EQ(lines[10].at("data").at("last_hash"), lines[10].at("prev"));
  EXPECT_EQ(lines.back().at("type"), "checkpoint");
  EXPECT_EQ(lines.back().at("data").at("reason"), "close");
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].at("sequence"), i + 1);
}

TEST_F(AuditLogTest, EachPrevIsTheHashOfThePreviousLineBytes) {
  auto log = Open();
  for (int i = 0; i < 5; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  std::istringstream in(state_->Committed());
  std::string line, previous;
  int n = 0;
  while (std::getline(in, line)) {
    if (n++ > 0) {
      EXPECT_THAT(line, HasSubstr("\"prev\":\"sha256:" + crypto::Sha256Hex(previous) + "\"}"));
    }
    previous = line;
  }
  EXPECT_EQ(n, 6);
}

TEST_F(AuditLogTest, AppendAfterCloseFails) {
  auto log = Open();
  ASSERT_OK(log->Append(testing::RequestEntry(0)));
  ASSERT_OK(log->Close());
  EXPECT_OK(log->Close());
  EXPECT_THAT(log->Append(testing::RequestEntry(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(VerifyStrict().ok());
}

TEST_F(AuditLogTest, CallersCannotWriteCheckpointsOrOpenEntries) {
  auto log = Open();
  EXPECT_THAT(log->Append(AuditEntry(EntryType::kCheckpoint)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log->Append(AuditEntry(EntryType::kOpen)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AuditLogTest, ExplicitEntryTimeIsKept) {
  auto log = Open();
  AuditEntry e = testing::RequestEntry(0);
  e.time = absl::FromUnixSeconds(1600000000);
  ASSERT_OK(log->Append(e));
  EXPECT_EQ(Lines(state_->Committed())[1].at("time"), "2020-09-13T12:26:40.000000000Z");
}

TEST_F(AuditLogTest, FingerprintIsHmacSha256UnderTheDeviceKey) {
  auto log = Open();
  EXPECT_EQ(log->Fingerprint("known value"),
            "hmac-sha256:" + absl::BytesToHexString(
                                 *crypto::HmacSha256(keys_.hmac_key.Reveal(), "known value")));
  DeviceKeys other = testing::TestKeys(8);
  auto other_state = std::make_shared<testing::MemorySinkState>();
  ASSERT_OK_AND_ASSIGN(auto other_log, testing::OpenMemoryLog(other_state, other, clock_));
  EXPECT_NE(other_log->Fingerprint("known value"), log->Fingerprint("known value"));
}

TEST_F(AuditLogTest, PublicKeyIsPublishedAsBase64AndPem) {
  auto log = Open();
  EXPECT_EQ(log->public_key(), *keys_.PublicKey());
  EXPECT_EQ(log->public_key().size(), 32u);
  EXPECT_THAT(log->PublicKeyPem(), HasSubstr("-----BEGIN PUBLIC KEY-----"));
  ASSERT_OK_AND_ASSIGN(std::string from_pem, ParsePublicKey(log->PublicKeyPem()));
  ASSERT_OK_AND_ASSIGN(std::string from_b64, ParsePublicKey(log->PublicKeyBase64()));
  EXPECT_EQ(from_pem, log->public_key());
  EXPECT_EQ(from_b64, log->public_key());
  EXPECT_THAT(ParsePublicKey("not a key"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AuditLogTest, DeviceKeysEncodeDecodeRoundTrip) {
  SecretBytes encoded = keys_.Encode();
  ASSERT_OK_AND_ASSIGN(DeviceKeys back, DeviceKeys::Decode(encoded));
  EXPECT_EQ(back.device_id, keys_.device_id);
  EXPECT_TRUE(back.hmac_key == keys_.hmac_key);
  EXPECT_TRUE(back.signing_key == keys_.signing_key);
  EXPECT_THAT(DeviceKeys::Decode(SecretBytes("{}")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(keys_.device_id.size(), 32u);
  EXPECT_NE(testing::TestKeys(1).device_id, testing::TestKeys(2).device_id);
}

TEST_F(AuditLogTest, RejectsBadOptionsAndKeys) {
  AuditLogOptions options = testing::TestOptions();
  options.checkpoint_every = 0;
  EXPECT_THAT(
      AuditLog::Open(options, keys_, std::make_unique<testing::MemoryAuditSink>(state_), clock_),
      StatusIs(absl::StatusCode::kInvalidArgument));
  DeviceKeys bad = testing::TestKeys();
  bad.device_id = "xyz";
  EXPECT_THAT(AuditLog::Open(testing::TestOptions(), bad,
                             std::make_unique<testing::MemoryAuditSink>(state_), clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AuditLogTest, SinkFailureIsUnavailableAndServiceResumes) {
  auto log = Open(4);
  ASSERT_OK(log->Append(testing::RequestEntry(1)));
  std::string before = state_->Contents();

  state_->SetFailWrites(true, /*partial_bytes=*/37);
  AuditEntry lost = testing::RequestEntry(2);
  lost.request_id = "lost-request";
  EXPECT_THAT(log->Append(lost), StatusIs(absl::StatusCode::kUnavailable,
                                          HasSubstr("cannot record: injected write failure")));
  EXPECT_FALSE(log->healthy());
  EXPECT_EQ(state_->Contents(), before);  // nothing of the failed batch stayed
  EXPECT_THAT(log->Append(lost), StatusIs(absl::StatusCode::kUnavailable));

  state_->SetFailWrites(false);
  ASSERT_OK(log->Append(testing::RequestEntry(3)));
  EXPECT_TRUE(log->healthy());
  for (int i = 4; i < 12; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_THAT(state_->Committed(), Not(HasSubstr("lost-request")));
  EXPECT_THAT(state_->Committed(), HasSubstr("\"req-3\""));
}

TEST_F(AuditLogTest, FlushFailureIsUnavailableAndTheBatchIsNotChained) {
  auto log = Open();
  ASSERT_OK(log->Append(testing::RequestEntry(1)));
  state_->SetFailFlushes(true);
  EXPECT_THAT(log->Append(testing::RequestEntry(2)), StatusIs(absl::StatusCode::kUnavailable));
  ChainHead head = log->Head();
  state_->SetFailFlushes(false);
  ASSERT_OK(log->Append(testing::RequestEntry(3)));
  EXPECT_EQ(log->Head().sequence, head.sequence + 1);
  ASSERT_OK(log->Close());
  EXPECT_TRUE(VerifyStrict().ok());
  EXPECT_THAT(state_->Committed(), Not(HasSubstr("\"req-2\"")));
}

TEST_F(AuditLogTest, LeftoverPartialBatchIsRemovedBeforeTheNextWrite) {
  auto log = Open();
  ASSERT_OK(log->Append(testing::RequestEntry(1)));
  state_->SetFailRollback(true);
  state_->SetFailWrites(true, /*partial_bytes=*/50);
  EXPECT_THAT(log->Append(testing::RequestEntry(2)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(state_->Contents(), HasSubstr("{\"sequence\":3,"));  // the partial line is there
  state_->SetFailWrites(false);
  EXPECT_THAT(log->Append(testing::RequestEntry(3)), StatusIs(absl::StatusCode::kUnavailable));
  state_->SetFailRollback(false);
  ASSERT_OK(log->Append(testing::RequestEntry(4)));
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
}

TEST_F(AuditLogTest, OpenOnAFailingSinkSucceedsAndWritesTheOpenEntryLater) {
  state_->SetFailWrites(true);
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->healthy());
  EXPECT_THAT(log->Append(testing::RequestEntry(1)), StatusIs(absl::StatusCode::kUnavailable));
  state_->SetFailWrites(false);
  ASSERT_OK(log->Append(testing::RequestEntry(2)));
  ASSERT_OK(log->Close());
  std::vector<json::object> lines = Lines(state_->Committed());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("type"), "open");
  EXPECT_EQ(lines[1].at("request_id"), "req-2");
  EXPECT_TRUE(VerifyStrict().ok());
}

TEST_F(AuditLogTest, RestartContinuesTheChain) {
  {
    auto log = Open(3);
    for (int i = 0; i < 4; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  }  // destructor closes
  {
    auto log = Open(3);
    EXPECT_EQ(log->Head().sequence, 8u);  // open, 4 entries, 1 periodic, close, new open
    for (int i = 0; i < 4; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
    ASSERT_OK(log->Close());
  }
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  std::vector<json::object> lines = Lines(state_->Committed());
  EXPECT_EQ(lines[7].at("type"), "open");
  EXPECT_EQ(lines[7].at("data").at("reason"), "restart");
  EXPECT_EQ(lines[7].at("data").at("previous_closed"), true);
}

TEST_F(AuditLogTest, RestartAfterACrashSaysThePreviousRunDidNotClose) {
  {
    auto log = Open();
    ASSERT_OK(log->Append(testing::RequestEntry(0)));
    state_->SetFailWrites(true);  // the close checkpoint is lost, as in a crash
  }
  state_->SetFailWrites(false);
  auto log = Open();
  ASSERT_OK(log->Close());
  std::vector<json::object> lines = Lines(state_->Committed());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].at("data").at("previous_closed"), false);
  EXPECT_TRUE(VerifyStrict().ok());
}

TEST_F(AuditLogTest, RestartWithAnotherDeviceKeyFails) {
  { Open(); }
  DeviceKeys other = testing::TestKeys(99);
  EXPECT_THAT(testing::OpenMemoryLog(state_, other, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another audit device")));
}

TEST_F(AuditLogTest, FailedRotationIsRetriedWithoutASecondRotateCheckpoint) {
  auto log = Open();
  ASSERT_OK(log->Append(testing::RequestEntry(1)));
  state_->SetRotation(/*wants=*/true, /*fail=*/true);
  EXPECT_THAT(log->Append(testing::RequestEntry(2)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected rotate failure")));
  EXPECT_THAT(log->Append(testing::RequestEntry(3)), StatusIs(absl::StatusCode::kUnavailable));
  state_->SetRotation(/*wants=*/true, /*fail=*/false);
  ASSERT_OK(log->Append(testing::RequestEntry(4)));
  ASSERT_OK(log->Close());

  std::vector<std::string> files = state_->RotatedFiles();
  ASSERT_EQ(files.size(), 1u);
  std::vector<json::object> old_lines = Lines(files[0]);
  ASSERT_EQ(old_lines.size(), 3u);  // open, req-1, one rotate checkpoint
  EXPECT_EQ(Str(old_lines[2].at("data").at("reason")), "rotate");
  std::vector<json::object> new_lines = Lines(state_->Committed());
  ASSERT_EQ(new_lines.size(), 3u);  // open (rotate), req-4, close
  EXPECT_EQ(Str(new_lines[0].at("data").at("reason")), "rotate");
  EXPECT_EQ(Str(new_lines[1].at("request_id")), "req-4");

  VerifyOptions options;
  options.public_key = *keys_.PublicKey();
  ChainVerifier v(options);
  v.StartFile("memory.1");
  v.Feed(files[0]);
  v.EndFile();
  v.StartFile("memory");
  v.Feed(state_->Committed());
  v.EndFile();
  VerifyReport report = v.Finish();
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_EQ(report.files, 2u);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGroupedIntoOneWrite) {
  auto log = Open(1000);
  // Block the first write until every other append is queued behind it.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  state_->SetWriteHook([&] {
    if (first.exchange(false)) released.wait();
  });
  int writes_before = state_->writes();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kThreads);
  threads.emplace_back([&] { results[0] = log->Append(testing::RequestEntry(0)); });
  while (log->QueuedForTest() < 1) std::this_thread::yield();
  for (int t = 1; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = log->Append(testing::RequestEntry(t)); });
  }
  while (log->QueuedForTest() < kThreads) std::this_thread::yield();
  release.set_value();
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_OK(r);
  EXPECT_EQ(state_->writes() - writes_before, 2);  // the leader's, then one for the other 7
  state_->SetWriteHook(nullptr);
  ASSERT_OK(log->Close());
  EXPECT_TRUE(VerifyStrict().ok());
}

TEST_F(AuditLogTest, ManyThreadsProduceOneValidChain) {
  auto log = Open(50);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log->Append(testing::RequestEntry(t * kPerThread + i)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_GT(report.entries, static_cast<uint64_t>(kThreads * kPerThread));
}

// Counts callbacks and lets a test wait for an exact number of them without sleeping.
class CallbackCounter {
 public:
  std::function<void(absl::Status)> Callback() {
    return [this](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      statuses_.push_back(std::move(s));
      cv_.notify_all();
    };
  }
  std::vector<absl::Status> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return statuses_.size() >= n; });
    return statuses_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<absl::Status> statuses_;
};

TEST_F(AuditLogTest, AppendAsyncCallsBackOnceDurable) {
  auto log = Open(20);
  CallbackCounter counter;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        log->AppendAsync(testing::RequestEntry(t * kPerThread + i), counter.Callback());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<absl::Status> results = counter.WaitFor(kThreads * kPerThread);
  EXPECT_EQ(results.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& r : results) EXPECT_OK(r);
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_EQ(report.entries, 1u + 1000 + 1000 / 20 + 1);
}

// Regression: with lead_async_inline, the committer thread must not lead the group an inline
// caller is writing (both processed it; the server crashed under load).
TEST_F(AuditLogTest, InlineAsyncLeadersCommitterAndSyncWritersShareOneValidChain) {
  AuditLogOptions options = testing::TestOptions(50);
  options.lead_async_inline = true;
  auto opened = testing::OpenMemoryLog(state_, keys_, clock_, options);
  ASSERT_OK(opened.status());
  std::unique_ptr<AuditLog> log = std::move(*opened);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  CallbackCounter counter;
  std::atomic<int> sync_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 10 == 0) {
          if (!log->Append(testing::RequestEntry(t * kPerThread + i)).ok()) ++sync_failures;
        } else {
          log->AppendAsync(testing::RequestEntry(t * kPerThread + i), counter.Callback());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<absl::Status> statuses = counter.WaitFor(kThreads * kPerThread * 9 / 10);
  for (const absl::Status& s : statuses) EXPECT_OK(s);
  EXPECT_EQ(sync_failures, 0);
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyStrict();
  ASSERT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_GT(report.entries, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(AuditLogTest, AppendAsyncAndAppendKeepCallOrder) {
  auto log = Open();
  CallbackCounter counter;
  for (int i = 0; i < 50; ++i) {
    log->AppendAsync(testing::RequestEntry(2 * i), counter.Callback());
    ASSERT_OK(log->Append(testing::RequestEntry(2 * i + 1)));
  }
  counter.WaitFor(50);
  std::vector<json::object> lines = Lines(state_->Committed());
  ASSERT_EQ(lines.size(), 101u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(Str(lines[i + 1].at("request_id")), "req-" + std::to_string(i));
}

TEST_F(AuditLogTest, AppendAsyncReportsSinkFailureAndRecovers) {
  auto log = Open();
  CallbackCounter counter;
  state_->SetFailWrites(true);
  log->AppendAsync(testing::RequestEntry(1), counter.Callback());
  EXPECT_THAT(counter.WaitFor(1)[0], StatusIs(absl::StatusCode::kUnavailable));
  state_->SetFailWrites(false);
  log->AppendAsync(testing::RequestEntry(2), counter.Callback());
  EXPECT_OK(counter.WaitFor(2)[1]);
  ASSERT_OK(log->Close());
  EXPECT_TRUE(VerifyStrict().ok());
  EXPECT_THAT(state_->Committed(), Not(HasSubstr("\"req-1\"")));
}

TEST_F(AuditLogTest, AppendAsyncRejectsBadEntriesAndClosedLogsImmediately) {
  auto log = Open();
  CallbackCounter counter;
  log->AppendAsync(AuditEntry(EntryType::kCheckpoint), counter.Callback());
  EXPECT_THAT(counter.WaitFor(1)[0], StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(log->Close());
  log->AppendAsync(testing::RequestEntry(1), counter.Callback());
  EXPECT_THAT(counter.WaitFor(2)[1], StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AuditLogTest, DestroyingTheLogWritesPendingAsyncEntriesFirst) {
  CallbackCounter counter;
  {
    auto log = Open();
    for (int i = 0; i < 100; ++i) log->AppendAsync(testing::RequestEntry(i), counter.Callback());
  }
  std::vector<absl::Status> results = counter.WaitFor(100);
  for (const auto& r : results) EXPECT_OK(r);
  EXPECT_TRUE(VerifyStrict().ok());
}

}  // namespace
}  // namespace rekey::audit
