// Tests for the redis rotator against the real redis-server started by scripts/services:
// validation, the ACL strategy (set adds, both passwords work through the grace, revoke removes
// the old one, rollback removes the new one), odd names and passwords, the admin credential
// missing or wrong, a missing ACL user, an unreachable server, and no password in messages.
#include "rotators/redis/redis_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/testing/db_rotator_fixture.h"
#include "rotators/testing/json_helpers.h"

namespace rekey::rotators::redis {
namespace {

namespace json = boost::json;
using ::rekey::rotation::Step;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::rotators::testing::Cred;
using ::rekey::rotators::testing::Field;
using ::rekey::rotators::testing::Fields;
using ::rekey::rotators::testing::Obj;
using ::rekey::rotators::testing::RegisteredRotator;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminPath[] = "ops/redis-admin";
constexpr char kOddPassword[] = "p'w\"d\\ $x >< ~* {{name}} é";

class RedisRotatorTest : public testing::DbRotatorTest {
 protected:
  RedisRotatorTest()
      : DbRotatorTest(RegisterRedisRotator, "redis", testing::kRedis, kAdminPath, {kOddPassword}) {}

  void SetUp() override {
    DbRotatorTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    user_ = rekey::StrCat("app:'\"", getpid(), "_", TestName(24));
    json::object p;
    p["host"] = "127.0.0.1";
    p["port"] = port_;
    p["username"] = json::string_view(user_.data(), user_.size());
    p["admin_secret"] = kAdminPath;
    ctx_.set_params(p);
  }

  void TearDown() override {
    if (!user_.empty() && port_ != 0) AdminCommand({"ACL", "DELUSER", user_});
  }

  // Runs a command as the admin; true when it did not answer an error.
  bool AdminCommand(const std::vector<std::string>& args) {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (c == nullptr || c->err) {
      if (c != nullptr) redisFree(c);
      return false;
    }
    auto run = [c](const std::vector<std::string>& a) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const std::string& s : a) {
        argv.push_back(s.data());
        lens.push_back(s.size());
      }
      auto* r = static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(a.size()), argv.data(), lens.data()));
      const bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
      if (r != nullptr) freeReplyObject(r);
      return ok;
    };
    bool ok = run({"AUTH", admin_user_, admin_password_}) && run(args);
    redisFree(c);
    return ok;
  }

  bool CanAuth(std::string_view password) {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (c == nullptr || c->err) {
      if (c != nullptr) redisFree(c);
      return false;
    }
    const char* argv[] = {"AUTH", user_.data(), password.data()};
    const size_t lens[] = {4, user_.size(), password.size()};
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, 3, argv, lens));
    const bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
    if (r != nullptr) freeReplyObject(r);
    redisFree(c);
    return ok;
  }

  void CreateUser(const std::string& password) {
    ASSERT_TRUE(
        AdminCommand({"ACL", "SETUSER", user_, "reset", "on", ">" + password, "~*", "+@all"}));
  }

  std::string user_;
};

TEST(RedisRotatorValidateTest, ReportsEveryProblem) {
  RegisteredRotator r(RegisterRedisRotator, "redis");
  EXPECT_EQ(Fields(r->Validate(Obj(R"({"port": 70000, "mode": "x", "bogus": true,
                                      "timeout": "1h"})"))),
            (std::set<std::string>{"params.host", "params.port", "params.mode", "params.bogus",
                                   "params.timeout", "params.username", "params.admin_secret"}));
  EXPECT_EQ(Fields(r->Validate(Obj(R"({"host": "r", "mode": "requirepass", "username": "u"})"))),
            (std::set<std::string>{"params.username"}));
  EXPECT_TRUE(r->Validate(Obj(R"({"host": "r", "username": "u", "admin_secret": "a"})")).empty());
  EXPECT_EQ(r->TargetKey(Obj(R"({"host": "r1", "username": "u"})")), "redis://r1:6379");
}

TEST_F(RedisRotatorTest, AclRotationKeepsBothPasswordsUntilRevoke) {
  CreateUser(kOddPassword);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user_, kOddPassword)));
  ASSERT_OK(rotator_.Check(ctx_));
  CreatePending(2);
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), user_);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));  // idempotent
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanAuth(fresh));
  EXPECT_TRUE(CanAuth(kOddPassword));  // zero downtime: both work through the grace period

  ctx_.set_previous(ctx_.current());
  ctx_.set_current(ctx_.pending());
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  ASSERT_OK(rotator_.Revoke(ctx_));  // idempotent: the password is already gone
  EXPECT_TRUE(CanAuth(fresh));
  EXPECT_FALSE(CanAuth(kOddPassword));
  ExpectNoSecretsIn(ctx_.recorded_log().Joined());
}

// requirepass mode changes the `default` user's only password (downtime: the old one stops
// working at set). The shared server's default user is off; this test enables it briefly.
TEST_F(RedisRotatorTest, RequirepassModeReplacesThePassword) {
  ASSERT_TRUE(
      AdminCommand({"ACL", "SETUSER", "default", "on", "resetpass", ">first-pw", "~*", "+@all"}));
  user_ = "default";
  json::object p;
  p["host"] = "127.0.0.1";
  p["port"] = port_;
  p["mode"] = "requirepass";
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred("default", "first-pw")));
  ASSERT_OK(rotator_.Check(ctx_));
  CreatePending(2);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanAuth(fresh));
  EXPECT_FALSE(CanAuth("first-pw"));
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_TRUE(CanAuth("first-pw"));
  EXPECT_FALSE(CanAuth(fresh));
  EXPECT_TRUE(AdminCommand({"ACL", "SETUSER", "default", "off", "resetpass", "nopass"}));
  user_.clear();  // TearDown must not delete the default user
}

TEST_F(RedisRotatorTest, RollbackRemovesTheNewPassword) {
  CreateUser("first-pw");
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user_, "first-pw")));
  CreatePending(2);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Rollback(ctx_));
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_FALSE(CanAuth(fresh));
  EXPECT_TRUE(CanAuth("first-pw"));
}

TEST_F(RedisRotatorTest, MissingUserIsNotCreated) {
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, kOddPassword)));
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not exist")));
  ExpectNoSecretsIn(std::string(s.message()));
}

TEST_F(RedisRotatorTest, AdminCredentialMissingOrWrong) {
  CreateUser("first-pw");
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, "second-pw")));
  json::object p = ctx_.params();
  p["admin_secret"] = "ops/missing";
  ctx_.set_params(p);
  EXPECT_THAT(rotator_.Set(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ops/missing")));
  p["admin_secret"] = kAdminPath;
  ctx_.set_params(p);
  ctx_.SetSecret(kAdminPath, Cred(admin_user_, "wrong-admin-pw"));
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kAdminPath)));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("wrong-admin-pw")));
  EXPECT_FALSE(CanAuth("second-pw"));
}

TEST_F(RedisRotatorTest, AdminWithoutAclRightsIsPermissionDenied) {
  CreateUser("first-pw");
  // The user itself as admin: it may run commands but has no ACL rights.
  ASSERT_TRUE(AdminCommand({"ACL", "SETUSER", user_, "-acl"}));
  ctx_.SetSecret(kAdminPath, Cred(user_, "first-pw"));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, kOddPassword)));
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  ExpectNoSecretsIn(std::string(s.message()));
}

TEST_F(RedisRotatorTest, TestRefusesAPasswordThatWasNotSet) {
  CreateUser("first-pw");
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, "never-set")));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(RedisRotatorTest, UnreachableServerIsUnavailable) {
  json::object p = ctx_.params();
  p["port"] = 1;
  ctx_.set_params(p);
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, "x")));
  EXPECT_THAT(rotator_.Set(ctx_), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace rekey::rotators::redis
