// The transit rotator over a real TransitService on a MemoryStore, step by step through
// FakeStepContext.
#include "rotators/transit/transit_rotator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"
#include "storage/memory_store.h"

namespace rekey::rotators::transit {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using rotation::Step;
using rotation::testing::FakeStepContext;

class TransitRotatorTest : public ::testing::Test {
 protected:
  TransitRotatorTest()
      : service_(store_, ctx_.fake_clock(), ctx_.fake_random()), rotator_(service_) {
    EXPECT_OK(service_.CreateKey("app", rekey::transit::KeyCreateOptions{}).status());
    ctx_.set_params(json::object{{"key", "app"}});
  }

  uint32_t Latest() { return service_.RotationStatus("app")->latest_version; }

  storage::MemoryStore store_;
  FakeStepContext ctx_;
  rekey::transit::TransitService service_;
  TransitRotator rotator_;
};

TEST_F(TransitRotatorTest, ValidatesParams) {
  EXPECT_TRUE(rotator_.Validate(json::object{{"key", "app"}}).empty());
  EXPECT_EQ(rotator_.Validate(json::object{}).size(), 1u);
  EXPECT_FALSE(rotator_.Validate(json::object{{"key", "a/b"}}).empty());
  EXPECT_FALSE(rotator_.Validate(json::object{{"key", "app"}, {"other", 1}}).empty());
  EXPECT_EQ(rotator_.TargetKey(json::object{{"key", "app"}}), "transit:app");
}

TEST_F(TransitRotatorTest, RotatesOnceAndResumesWithoutRotatingAgain) {
  ASSERT_OK(rotator_.Check(ctx_));
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_.Create(ctx_));
  EXPECT_EQ(json::parse(value.Reveal()).at("version").to_number<int>(), 2);
  EXPECT_EQ(Latest(), 1u) << "create has no side effect";
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_EQ(Latest(), 2u);
  ASSERT_OK(rotator_.Set(ctx_));  // a resumed set
  EXPECT_EQ(Latest(), 2u) << "set is idempotent";
  ctx_.set_step(Step::kTest);
  EXPECT_OK(rotator_.Test(ctx_));
  EXPECT_OK(rotator_.Revoke(ctx_));
  EXPECT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(Latest(), 2u);
}

TEST_F(TransitRotatorTest, TestFailsUntilTheKeyReachedTheVersion) {
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_.Create(ctx_));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(TransitRotatorTest, AMissingKeyFailsWithItsName) {
  ctx_.set_params(json::object{{"key", "nope"}});
  absl::Status s = rotator_.Check(ctx_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("nope"), std::string::npos) << s;
}

}  // namespace
}  // namespace rekey::rotators::transit
