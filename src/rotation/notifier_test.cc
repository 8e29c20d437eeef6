// Notifier: events reach each webhook of the secret, signed, retried, never blocking the caller.
#include "rotation/notifier.h"

#include <boost/json.hpp>
#include <condition_variable>

#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rotation/testing/fake_step_context.h"

namespace rekey::rotation {
namespace {

using ::testing::HasSubstr;

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() {
    http_.set_handler([this](const HttpCall& call) -> absl::StatusOr<HttpReply> {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      cv_.notify_all();
      HttpReply reply;
      reply.status = failures_left_-- > 0 ? 503 : 204;
      return reply;
    });
  }
  void WaitForCalls(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_ >= n; }))
        << calls_ << " calls";
  }
  Event SomeEvent() {
    Event e;
    e.seq = 7;
    e.time = clock_.Now();
    e.type = "rotation.failed";
    e.path = "app/db";
    e.run_id = "r1";
    e.message = "injected failure at set";
    return e;
  }
  std::unique_ptr<Notifier> Make(std::vector<NotifyTarget> targets) {
    return std::make_unique<Notifier>(
        [targets](std::string_view path) -> absl::StatusOr<std::vector<NotifyTarget>> {
          if (path != "app/db") return absl::NotFoundError("no config");
          return targets;
        },
        [](std::string_view path) -> absl::StatusOr<SecretBytes> {
          if (path != "ops/hook") return absl::NotFoundError("no secret");
          return SecretBytes("0123456789abcdef0123");
        },
        http_, clock_, NotifierOptions{.attempts = 3, .backoff = absl::ZeroDuration()});
  }

  FakeClock clock_;
  testing::FakeHttpTransport http_;
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  int failures_left_ = 0;
};

TEST_F(NotifierTest, EachWebhookGetsTheEventSignedWithItsKey) {
  auto notifier = Make({{"https://hooks.example/a", "ops/hook"}, {"http://127.0.0.1:9/b", ""}});
  notifier->Enqueue(SomeEvent());
  WaitForCalls(2);
  notifier->Stop();
  std::vector<HttpCall> calls = http_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].url, "https://hooks.example/a");
  EXPECT_EQ(calls[0].method, "POST");
  boost::json::object body = boost::json::parse(calls[0].body).as_object();
  EXPECT_EQ(body.at("type"), "rotation.failed");
  EXPECT_EQ(body.at("path"), "app/db");
  EXPECT_EQ(body.at("seq"), 7);
  std::string signature;
  for (const auto& [name, value] : calls[0].headers) {
    if (name == "X-Rekey-Signature") signature = value;
  }
  ASSERT_OK_AND_ASSIGN(
      std::string expected,
      Notifier::Signature(SecretBytes("0123456789abcdef0123"), clock_.Now(), calls[0].body));
  EXPECT_EQ(signature, expected);
  EXPECT_THAT(signature, HasSubstr(",v1="));
  for (const auto& [name, value] : calls[1].headers) EXPECT_NE(name, "X-Rekey-Signature");
}

TEST_F(NotifierTest, AFailingWebhookIsRetried) {
  failures_left_ = 2;
  auto notifier = Make({{"https://hooks.example/a", ""}});
  notifier->Enqueue(SomeEvent());
  WaitForCalls(3);
  notifier->Stop();
  EXPECT_EQ(http_.call_count(), 3u);
}

TEST_F(NotifierTest, SecretsWithoutWebhooksAndUnsignableTargetsSendNothing) {
  auto notifier = Make({{"https://hooks.example/a", "ops/missing"}});
  Event other = SomeEvent();
  other.path = "other/secret";
  notifier->Enqueue(other);
  notifier->Enqueue(SomeEvent());  // its signing secret does not exist
  notifier->Stop();                // delivers what is queued first
  EXPECT_EQ(http_.call_count(), 0u);
}

}  // namespace
}  // namespace rekey::rotation
