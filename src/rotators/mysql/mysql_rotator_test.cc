// Tests for the mysql rotator against the real MariaDB 10.11 started by scripts/services:
// validation, alternating-users (flip, shared role, lock at revoke, unlock at the next set,
// rollback), single-user (which has downtime on MariaDB), odd names and passwords, the admin
// credential missing or wrong, an unreachable server, and no password in messages.
#include "rotators/mysql/mysql_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mysql.h>
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

namespace rekey::rotators::mysql {
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

constexpr char kAdminPath[] = "ops/mysql-admin";
constexpr char kOddPassword[] = "p'w\"d\\ $x;-- %_ é";

class MysqlRotatorTest : public testing::DbRotatorTest {
 protected:
  MysqlRotatorTest()
      : DbRotatorTest(RegisterMysqlRotator, "mysql", testing::kMariaDb, kAdminPath,
                      {kOddPassword}) {}

  void SetUp() override {
    DbRotatorTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    user_ = rekey::StrCat("a'\"", getpid() % 100000, "_", TestName(12));
    admin_ = Connect(admin_user_, admin_password_);
    ASSERT_NE(admin_, nullptr) << "cannot log in as the services admin account";
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    for (const std::string& u : {user_, user_ + "_clone"}) {
      Exec(rekey::StrCat("DROP USER IF EXISTS ", Quote(u), "@'%'"));
    }
    Exec(rekey::StrCat("DROP ROLE IF EXISTS ", QuoteId(user_ + "_group")));
    mysql_close(admin_);
  }

  MYSQL* Connect(const std::string& user, const std::string& password) {
    MYSQL* m = mysql_init(nullptr);
    unsigned int t = 5;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    if (mysql_real_connect(m, "127.0.0.1", user.c_str(), password.c_str(), nullptr,
                           static_cast<unsigned>(port_), nullptr, 0) == nullptr) {
      mysql_close(m);
      return nullptr;
    }
    return m;
  }
  bool CanLogIn(const std::string& user, const std::string& password) {
    MYSQL* m = Connect(user, password);
    if (m == nullptr) return false;
    const bool ok = mysql_query(m, "SELECT 1") == 0;
    if (ok) mysql_free_result(mysql_store_result(m));
    mysql_close(m);
    return ok;
  }
  bool Exec(const std::string& sql) {
    if (mysql_real_query(admin_, sql.data(), sql.size()) != 0) return false;
    mysql_free_result(mysql_store_result(admin_));
    return true;
  }
  std::string QueryOne(const std::string& sql) {
    if (mysql_real_query(admin_, sql.data(), sql.size()) != 0) return "<error>";
    MYSQL_RES* r = mysql_store_result(admin_);
    MYSQL_ROW row = r != nullptr ? mysql_fetch_row(r) : nullptr;
    std::string out = row != nullptr && row[0] != nullptr ? row[0] : "";
    if (r != nullptr) mysql_free_result(r);
    return out;
  }
  std::string Quote(std::string_view s) {
    std::string buf(s.size() * 2 + 1, '\0');
    unsigned long n = mysql_real_escape_string(admin_, buf.data(), s.data(), s.size());
    return rekey::StrCat("'", std::string_view(buf.data(), n), "'");
  }
  static std::string QuoteId(std::string_view s) {
    std::string out = "`";
    for (char c : s) {
      if (c == '`') out.push_back('`');
      out.push_back(c);
    }
    return out + "`";
  }
  void CreateUser(const std::string& user, const std::string& password) {
    ASSERT_TRUE(
        Exec(rekey::StrCat("CREATE USER ", Quote(user), "@'%' IDENTIFIED BY ", Quote(password))))
        << mysql_error(admin_);
  }

  json::object BaseParams() {
    json::object p;
    p["host"] = "127.0.0.1";
    p["port"] = port_;
    p["tls"] = "disable";
    p["username"] = json::string_view(user_.data(), user_.size());
    p["admin_secret"] = kAdminPath;
    return p;
  }

  std::string user_;
  MYSQL* admin_ = nullptr;
};

TEST(MysqlRotatorValidateTest, ReportsEveryProblem) {
  RegisteredRotator r(RegisterMysqlRotator, "mysql");
  EXPECT_EQ(Fields(r->Validate(Obj(R"({"port": 0, "tls": "maybe", "strategy": "x",
                                      "revoke_mode": "drop", "bogus": 1})"))),
            (std::set<std::string>{"params.host", "params.port", "params.tls", "params.strategy",
                                   "params.revoke_mode", "params.bogus", "params.username",
                                   "params.admin_secret"}));
  EXPECT_TRUE(r->Validate(Obj(R"({"host": "h", "username": "u", "admin_secret": "a",
                                 "strategy": "alternating-users"})"))
                  .empty());
  EXPECT_EQ(r->TargetKey(Obj(R"({"host": "db2", "username": "u"})")), "mysql://db2:3306");
}

TEST_F(MysqlRotatorTest, AlternatingUsersFlipsLocksAndUnlocks) {
  const std::string clone = user_ + "_clone";
  CreateUser(user_, kOddPassword);
  json::object p = BaseParams();
  p["strategy"] = "alternating-users";
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user_, kOddPassword)));
  ASSERT_OK(rotator_.Check(ctx_));

  CreatePending(2);
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), clone);
  const std::string pw2 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));  // idempotent
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanLogIn(clone, pw2));
  EXPECT_TRUE(CanLogIn(user_, kOddPassword));  // still valid through the grace period
  EXPECT_EQ(QueryOne(rekey::StrCat(
                "SELECT COUNT(*) FROM mysql.roles_mapping WHERE Role = ", Quote(user_ + "_group"),
                " AND User IN (", Quote(user_), ", ", Quote(clone), ")")),
            "2");

  ctx_.set_previous(ctx_.current());
  ctx_.set_current(ctx_.pending());
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  ASSERT_OK(rotator_.Revoke(ctx_));
  EXPECT_FALSE(CanLogIn(user_, kOddPassword));  // ACCOUNT LOCK
  EXPECT_TRUE(CanLogIn(clone, pw2));

  ctx_.set_previous(std::nullopt);
  CreatePending(3);
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), user_);
  const std::string pw3 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanLogIn(user_, pw3));  // unlocked again
  EXPECT_TRUE(CanLogIn(clone, pw2));
  ExpectNoSecretsIn(ctx_.recorded_log().Joined());
}

TEST_F(MysqlRotatorTest, AlternatingRollbackRetiresThePendingAccount) {
  const std::string clone = user_ + "_clone";
  CreateUser(user_, "first-pw");
  json::object p = BaseParams();
  p["strategy"] = "alternating-users";
  p["revoke_mode"] = "random_password";
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user_, "first-pw")));
  CreatePending(2);
  const std::string pw2 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_TRUE(CanLogIn(clone, pw2));
  ASSERT_OK(rotator_.Rollback(ctx_));
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_FALSE(CanLogIn(clone, pw2));
  EXPECT_TRUE(CanLogIn(user_, "first-pw"));
}

TEST_F(MysqlRotatorTest, SingleUserOnMariaDbReplacesThePassword) {
  CreateUser(user_, kOddPassword);
  ctx_.set_params(BaseParams());
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user_, kOddPassword)));
  ASSERT_OK(rotator_.Check(ctx_));
  EXPECT_TRUE(ctx_.recorded_log().Contains("no dual passwords"));
  CreatePending(2);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_FALSE(CanLogIn(user_, kOddPassword));  // MariaDB: no RETAIN CURRENT PASSWORD
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_TRUE(CanLogIn(user_, kOddPassword));
  EXPECT_FALSE(CanLogIn(user_, fresh));
}

TEST_F(MysqlRotatorTest, AdminCredentialMissingOrWrong) {
  CreateUser(user_, "first-pw");
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, "second-pw")));
  json::object p = BaseParams();
  p["admin_secret"] = "ops/missing";
  ctx_.set_params(p);
  EXPECT_THAT(rotator_.Set(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ops/missing")));
  ctx_.set_params(BaseParams());
  ctx_.SetSecret(kAdminPath, Cred(admin_user_, "wrong-admin-pw"));
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kAdminPath)));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("wrong-admin-pw")));
  EXPECT_TRUE(CanLogIn(user_, "first-pw"));
}

TEST_F(MysqlRotatorTest, AdminWithoutPrivilegesIsPermissionDenied) {
  CreateUser(user_, "first-pw");
  ctx_.SetSecret(kAdminPath, Cred(user_, "first-pw"));
  ctx_.set_params(BaseParams());
  EXPECT_THAT(rotator_.Check(ctx_), StatusIs(absl::StatusCode::kPermissionDenied));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_ + "_x", kOddPassword)));
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_FALSE(s.ok());
  ExpectNoSecretsIn(std::string(s.message()));
}

TEST_F(MysqlRotatorTest, UnreachableServerIsUnavailable) {
  json::object p = BaseParams();
  p["port"] = 1;
  ctx_.set_params(p);
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user_, "x")));
  EXPECT_THAT(rotator_.Set(ctx_), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace rekey::rotators::mysql
