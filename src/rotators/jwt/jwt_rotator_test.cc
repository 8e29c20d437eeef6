// Unit tests of the jwt rotator through FakeStepContext, over a real JwtService on a MemoryStore
// that shares the context's fake clock.
#include "rotators/jwt/jwt_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/testing/json_helpers.h"
#include "storage/memory_store.h"

namespace rekey::rotators::jwt {
namespace {

namespace json = boost::json;
namespace keys = ::rekey::jwt;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::rotators::testing::Field;
using ::rekey::rotators::testing::Fields;
using ::rekey::rotators::testing::Obj;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class JwtRotatorTest : public ::testing::Test {
 protected:
  JwtRotatorTest() : jwt_(store_, ctx_.fake_clock(), random_), rotator_(jwt_) {
    keys::KeysetConfig config;
    config.alg = keys::Algorithm::kEs256;
    config.jwks_cache_ttl = absl::Seconds(10);
    config.max_token_ttl = absl::Seconds(60);
    config.prepublish = absl::Seconds(12);
    absl::StatusOr<keys::JwtService::Created> created = jwt_.CreateKeyset("app", config);
    EXPECT_OK(created.status());
    first_kid_ = created->view.active_kid;
    ctx_.set_params(Obj(R"({"keyset":"app"})"));
  }

  SecretBytes CreatePending(uint64_t version) {
    ctx_.set_step(Step::kCreate);
    absl::StatusOr<SecretBytes> value = rotator_.Create(ctx_);
    EXPECT_TRUE(value.ok()) << value.status();
    if (!value.ok()) return SecretBytes();
    ctx_.set_pending(
        FakeStepContext::MakeVersion(version, rekey::StrCat("v", version), value->Reveal()));
    return *value;
  }
  // create, set, test; then the pending version becomes current (finish).
  SecretBytes RotateUntilFinish(uint64_t version) {
    ctx_.state().clear();
    ctx_.set_run_id(rekey::StrCat("run-", version));
    SecretBytes value = CreatePending(version);
    ctx_.set_step(Step::kSet);
    EXPECT_OK(rotator_.Set(ctx_));
    ctx_.set_step(Step::kTest);
    EXPECT_OK(rotator_.Test(ctx_));
    ctx_.set_previous(ctx_.current());
    ctx_.set_current(ctx_.pending());
    ctx_.set_pending(std::nullopt);
    return value;
  }
  std::string Signer() {
    absl::StatusOr<keys::KeysetView> v = jwt_.GetKeyset("app");
    EXPECT_OK(v.status());
    return v.ok() ? v->active_kid : "";
  }
  keys::KeyView KeyOf(std::string_view kid) {
    absl::StatusOr<keys::KeysetView> v = jwt_.GetKeyset("app");
    EXPECT_OK(v.status());
    for (const keys::KeyView& k : v->keys) {
      if (k.kid == kid) return k;
    }
    ADD_FAILURE() << "no key " << kid;
    return {};
  }

  FakeStepContext ctx_;
  storage::MemoryStore store_;
  FakeRandom random_{7};
  keys::JwtService jwt_;
  JwtRotator rotator_;
  std::string first_kid_;
};

TEST_F(JwtRotatorTest, ValidateNamesEveryProblem) {
  EXPECT_THAT(rotator_.Validate(Obj(R"({"keyset":"app"})")), IsEmpty());
  EXPECT_THAT(Fields(rotator_.Validate(Obj("{}"))), ElementsAre("params.keyset"));
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"keyset":"a/b","x":1})"))),
              ElementsAre("params.keyset", "params.x"));
  EXPECT_THAT(Fields(rotator_.Validate(Obj(R"({"keyset":7})"))), ElementsAre("params.keyset"));
  EXPECT_EQ(rotator_.TargetKey(Obj(R"({"keyset":"app"})")), "jwt:app");
}

TEST_F(JwtRotatorTest, CheckFindsTheKeysetOrSaysItIsMissing) {
  EXPECT_OK(rotator_.Check(ctx_));
  ctx_.set_params(Obj(R"({"keyset":"nope"})"));
  EXPECT_THAT(rotator_.Check(ctx_), StatusIs(absl::StatusCode::kNotFound));
  ctx_.set_step(Step::kCreate);
  EXPECT_THAT(rotator_.Create(ctx_), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(JwtRotatorTest, CreatePublishesAKeyAndDescribesTheKeysetWithoutMaterial) {
  SecretBytes value = CreatePending(2);
  const std::string kid = Field(value, "active_kid");
  EXPECT_NE(kid, first_kid_);
  EXPECT_EQ(ctx_.state()["kid"], kid);
  EXPECT_EQ(Field(value, "name"), "app");
  EXPECT_EQ(Field(value, "alg"), "ES256");
  EXPECT_EQ(Field(value, "previous_kid"), first_kid_);
  EXPECT_EQ(Field(value, "jwks_path"), "/.well-known/jwks/app.json");
  json::object o = Obj(value.Reveal());
  EXPECT_EQ(json::serialize(o.at("published_kids")),
            rekey::StrCat("[\"", first_kid_, "\",\"", kid, "\"]"));
  EXPECT_FALSE(o.contains("d"));
  EXPECT_EQ(KeyOf(kid).status, keys::KeyStatus::kPublished);
  EXPECT_EQ(Signer(), first_kid_);
}

TEST_F(JwtRotatorTest, AResumedCreateAdoptsTheKeyItPublished) {
  SecretBytes first = CreatePending(2);
  SecretBytes again = CreatePending(2);  // the engine calls create again after a crash
  EXPECT_EQ(Field(first, "active_kid"), Field(again, "active_kid"));
  ASSERT_OK_AND_ASSIGN(keys::KeysetView v, jwt_.GetKeyset("app"));
  EXPECT_EQ(v.keys.size(), 2u);
  ctx_.set_attempt(2);  // a new attempt mints a new key and withdraws the earlier attempt's
  const std::string second = Field(CreatePending(2), "active_kid");
  EXPECT_NE(second, Field(first, "active_kid"));
  EXPECT_EQ(KeyOf(Field(first, "active_kid")).status, keys::KeyStatus::kRemoved);
  EXPECT_EQ(KeyOf(second).status, keys::KeyStatus::kPublished);
}

TEST_F(JwtRotatorTest, RollbackWithdrawsTheKeysOfEveryAttemptOfTheRun) {
  ctx_.set_run_id("run-7");
  const std::string a1 = Field(CreatePending(2), "active_kid");
  ctx_.set_attempt(2);
  const std::string a2 = Field(CreatePending(2), "active_kid");
  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  ctx_.set_attempt(3);  // resumed after a crash: the rollback runs under a new attempt
  ctx_.set_step(Step::kRollback);
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(KeyOf(a1).status, keys::KeyStatus::kRemoved);
  EXPECT_EQ(KeyOf(a2).status, keys::KeyStatus::kRemoved);
  ctx_.fake_clock().Advance(absl::Hours(1));
  EXPECT_EQ(Signer(), first_kid_);
  // Another run's keys are not touched.
  ctx_.set_run_id("run-8");
  ctx_.set_attempt(1);
  const std::string other = Field(CreatePending(3), "active_kid");
  ctx_.set_run_id("run-7");
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(KeyOf(other).status, keys::KeyStatus::kPublished);
}

TEST_F(JwtRotatorTest, SetSchedulesThePromotionAfterThePrepublicationPeriod) {
  SecretBytes value = CreatePending(2);
  const std::string kid = Field(value, "active_kid");
  ctx_.fake_clock().Advance(absl::Seconds(3));
  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_EQ(KeyOf(kid).promoted, KeyOf(kid).published + absl::Seconds(12));
  EXPECT_EQ(KeyOf(first_kid_).retired, KeyOf(kid).promoted);
  EXPECT_TRUE(
      ctx_.recorded_log().Contains(rekey::StrCat("key ", kid, " of keyset app signs from")));
  ASSERT_OK(rotator_.Set(ctx_));  // idempotent
  ctx_.fake_clock().Advance(absl::Seconds(8));
  EXPECT_EQ(Signer(), first_kid_);
  ctx_.fake_clock().Advance(absl::Seconds(1));
  EXPECT_EQ(Signer(), kid);
}

TEST_F(JwtRotatorTest, TestSignsAndVerifiesWithTheNewKeyBeforeItSigns) {
  CreatePending(2);
  ctx_.set_step(Step::kTest);
  EXPECT_OK(rotator_.Test(ctx_));
  EXPECT_EQ(Signer(), first_kid_);
  // A pending value that names no key of this keyset fails.
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", R"({"name":"app"})"));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kInvalidArgument));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", R"({"name":"app","active_kid":"x"})"));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(JwtRotatorTest, RevokeRemovesThePreviousKeyOnlyAfterItsTokensExpired) {
  // The first rotation of a secret that had no version: no revoke runs for it.
  RotateUntilFinish(1);
  ctx_.fake_clock().Advance(absl::Seconds(12));
  SecretBytes v2 = RotateUntilFinish(2);
  const std::string third = Field(v2, "active_kid");
  ctx_.fake_clock().Advance(absl::Seconds(12));
  ASSERT_EQ(Signer(), third);
  const keys::KeyView previous = KeyOf(Field(v2, "previous_kid"));
  ctx_.fake_clock().Advance(absl::Seconds(30));  // the engine's grace
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  // The previous key and the first one (never revoked) are both scheduled.
  EXPECT_EQ(KeyOf(previous.kid).removed, previous.retired + absl::Seconds(60));
  EXPECT_EQ(KeyOf(first_kid_).removed, KeyOf(first_kid_).retired + absl::Seconds(60));
  EXPECT_EQ(KeyOf(third).removed, absl::InfiniteFuture());
  EXPECT_TRUE(ctx_.recorded_log().Contains("keys leaving the JWKS of keyset app"));
  ctx_.fake_clock().Advance(absl::Seconds(60));
  ASSERT_OK_AND_ASSIGN(keys::KeysetView v, jwt_.GetKeyset("app"));
  EXPECT_THAT(v.published_kids, ElementsAre(third));
  EXPECT_OK(rotator_.Revoke(ctx_));  // idempotent
}

TEST_F(JwtRotatorTest, RevokeRefusesToRemoveAKeyThatStillSigns) {
  ctx_.set_previous(FakeStepContext::MakeVersion(
      1, "v1", rekey::StrCat(R"({"name":"app","active_kid":")", first_kid_, R"("})")));
  ctx_.set_step(Step::kRevoke);
  EXPECT_THAT(rotator_.Revoke(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(JwtRotatorTest, RollbackWithdrawsTheNewKeyAndTheOldOneKeepsSigning) {
  SecretBytes value = CreatePending(2);
  const std::string kid = Field(value, "active_kid");
  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  ctx_.set_step(Step::kRollback);
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_EQ(KeyOf(kid).status, keys::KeyStatus::kRemoved);
  ctx_.fake_clock().Advance(absl::Hours(1));
  EXPECT_EQ(Signer(), first_kid_);
  EXPECT_OK(rotator_.Rollback(ctx_));  // idempotent
  // A rollback after a failed create (nothing published) is fine too.
  ctx_.set_attempt(3);
  ctx_.set_pending(std::nullopt);
  EXPECT_OK(rotator_.Rollback(ctx_));
}

}  // namespace
}  // namespace rekey::rotators::jwt
