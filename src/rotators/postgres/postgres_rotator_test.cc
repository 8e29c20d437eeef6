// Tests for the postgres rotator against the real PostgreSQL 15 started by scripts/services:
// validation, both strategies step by step (set, test, revoke, rollback), quoting of odd role
// names and passwords, the admin credential missing or wrong, an unreachable server, statement
// timeouts, and that no password reaches a log line or an error message.
#include "rotators/postgres/postgres_rotator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/postgres/pg_client.h"
#include "rotators/testing/db_rotator_fixture.h"
#include "rotators/testing/json_helpers.h"

namespace rekey::rotators::postgres {
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

constexpr char kAdminPath[] = "ops/pg-admin";
// A password with every character that breaks naive quoting.
constexpr char kOddPassword[] = "p'w\"d\\ $$x;-- {{name}} é";

class PostgresRotatorTest : public testing::DbRotatorTest {
 protected:
  PostgresRotatorTest()
      : DbRotatorTest(RegisterPostgresRotator, "postgres", testing::kPostgres, kAdminPath,
                      {"SCRAM-SHA-256$"}) {}

  void SetUp() override {
    DbRotatorTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Role names unique per process and test: ctest runs test cases in parallel.
    suffix_ = rekey::StrCat(getpid(), "_", TestName(20));
    ASSERT_OK_AND_ASSIGN(admin_, Connect(admin_user_, admin_password_));
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    for (const std::string& role : created_) {
      auto q = admin_->QuoteIdentifier(role);
      if (q.ok()) (void)admin_->Exec(rekey::StrCat("DROP ROLE IF EXISTS ", *q));
    }
  }

  absl::StatusOr<std::unique_ptr<PgConnection>> Connect(std::string_view user,
                                                        std::string_view password, int port = 0) {
    ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = port == 0 ? port_ : port;
    o.user = std::string(user);
    o.password = password;
    o.timeout = absl::Seconds(5);
    return PgConnection::Connect(o);
  }

  // Whether `user` can log in with `password` and run SELECT 1.
  bool CanLogIn(std::string_view user, std::string_view password) {
    auto conn = Connect(user, password);
    return conn.ok() && (*conn)->Exec("SELECT 1").ok();
  }

  // Creates a LOGIN role with `password`, dropped after the test.
  void CreateRole(const std::string& name, std::string_view password) {
    created_.push_back(name);
    ASSERT_OK_AND_ASSIGN(std::string q, admin_->QuoteIdentifier(name));
    ASSERT_OK_AND_ASSIGN(std::string v, admin_->ScramVerifier(name, password));
    ASSERT_OK(admin_->Exec(rekey::StrCat("DROP ROLE IF EXISTS ", q)));
    ASSERT_OK(admin_->Exec(rekey::StrCat("CREATE ROLE ", q, " LOGIN PASSWORD '", v, "'")));
  }

  json::object BaseParams(std::string_view user) {
    json::object p;
    p["host"] = "127.0.0.1";
    p["port"] = port_;
    p["database"] = "postgres";
    p["sslmode"] = "disable";
    p["username"] = json::string_view(user.data(), user.size());
    p["admin_secret"] = kAdminPath;
    return p;
  }

  // After finish: pending becomes current, the old current becomes previous.
  void Promote() {
    ctx_.set_previous(ctx_.current());
    ctx_.set_current(ctx_.pending());
  }

  std::string suffix_;
  std::unique_ptr<PgConnection> admin_;
  std::vector<std::string> created_;
};

TEST(PostgresRotatorValidateTest, ReportsEveryProblem) {
  RegisteredRotator r(RegisterPostgresRotator, "postgres");
  json::object p = Obj(R"({"port": 0, "strategy": "both", "sslmode": "maybe", "bogus": 1,
      "set_statements": ["ALTER ROLE {{user}} PASSWORD {{password}}"],
      "statement_timeout": "1ms", "revoke_mode": "drop"})");
  EXPECT_EQ(
      Fields(r->Validate(p)),
      (std::set<std::string>{"params.host", "params.username", "params.port", "params.strategy",
                             "params.sslmode", "params.bogus", "params.set_statements",
                             "params.statement_timeout", "params.revoke_mode"}));
}

TEST(PostgresRotatorValidateTest, AlternatingNeedsAdminSecret) {
  RegisteredRotator r(RegisterPostgresRotator, "postgres");
  json::object p = Obj(R"({"host": "db", "username": "app", "strategy": "alternating-users"})");
  EXPECT_EQ(Fields(r->Validate(p)), (std::set<std::string>{"params.admin_secret"}));
  p["admin_secret"] = "ops/admin";
  EXPECT_TRUE(r->Validate(p).empty());
}

TEST(PostgresRotatorValidateTest, UsernamesMustDiffer) {
  RegisteredRotator r(RegisterPostgresRotator, "postgres");
  json::object p = Obj(R"({"host": "db", "username": "app", "strategy": "alternating-users",
      "admin_secret": "a", "usernames": ["x", "x"]})");
  EXPECT_EQ(Fields(r->Validate(p)), (std::set<std::string>{"params.usernames"}));
}

TEST(PostgresRotatorValidateTest, TargetKeyIsHostAndPort) {
  RegisteredRotator r(RegisterPostgresRotator, "postgres");
  EXPECT_EQ(r->TargetKey(Obj(R"({"host": "db1", "port": 6543, "username": "a"})")),
            "postgres://db1:6543");
  EXPECT_EQ(r->TargetKey(Obj(R"({"host": "db1", "username": "a"})")), "postgres://db1:5432");
}

TEST_F(PostgresRotatorTest, SingleUserSetsTestsAndRollsBack) {
  const std::string user = rekey::StrCat("app \"q'", suffix_);
  CreateRole(user, kOddPassword);
  ctx_.set_params(BaseParams(user));
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, kOddPassword)));
  ASSERT_OK(rotator_.Check(ctx_));
  CreatePending(2);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), user);

  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));  // idempotent
  EXPECT_TRUE(CanLogIn(user, fresh));
  EXPECT_FALSE(CanLogIn(user, kOddPassword));  // single-user: the old password stops working
  ctx_.set_step(Step::kTest);
  ASSERT_OK(rotator_.Test(ctx_));

  ctx_.set_step(Step::kRollback);
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_TRUE(CanLogIn(user, kOddPassword));
  EXPECT_FALSE(CanLogIn(user, fresh));
  ExpectNoSecretsIn(ctx_.recorded_log().Joined());
  EXPECT_FALSE(ctx_.recorded_log().Contains(kOddPassword));
}

TEST_F(PostgresRotatorTest, SingleUserSelfRotationWithoutAdmin) {
  const std::string user = rekey::StrCat("self_", suffix_);
  CreateRole(user, "initial-pw");
  json::object p = BaseParams(user);
  p.erase("admin_secret");
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "initial-pw")));
  ASSERT_OK(rotator_.Check(ctx_));
  CreatePending(2);
  const std::string fresh = Field(*ctx_.pending()->value, "password");
  ctx_.set_step(Step::kSet);
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));  // after a crash: logs in with the new password
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_FALSE(CanLogIn(user, "initial-pw"));
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_TRUE(CanLogIn(user, "initial-pw"));
}

TEST_F(PostgresRotatorTest, AlternatingUsersFlipsRevokesAndReenables) {
  const std::string user = rekey::StrCat("alt'\"", suffix_);
  const std::string clone = rekey::StrCat(user, "_clone");
  created_ = {user, clone, rekey::StrCat(user, "_group")};
  CreateRole(user, "first-pw");
  json::object p = BaseParams(user);
  p["strategy"] = "alternating-users";
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  ASSERT_OK(rotator_.Check(ctx_));

  // Rotation 1: the clone (created with the group) gets a password; the user keeps working.
  CreatePending(2);
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), clone);
  const std::string pw2 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanLogIn(clone, pw2));
  EXPECT_TRUE(CanLogIn(user, "first-pw"));
  ASSERT_OK_AND_ASSIGN(
      auto rows, admin_->QueryColumn(rekey::StrCat(
                     "SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = "
                     "m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = ",
                     *admin_->QuoteLiteral(rekey::StrCat(user, "_group")), " AND u.rolname IN (",
                     *admin_->QuoteLiteral(user), ", ", *admin_->QuoteLiteral(clone), ")")));
  EXPECT_EQ(rows, std::vector<std::string>{"2"});  // both roles share the group

  Promote();
  ctx_.set_step(Step::kRevoke);
  ASSERT_OK(rotator_.Revoke(ctx_));
  ASSERT_OK(rotator_.Revoke(ctx_));
  EXPECT_FALSE(CanLogIn(user, "first-pw"));  // NOLOGIN
  EXPECT_TRUE(CanLogIn(clone, pw2));

  // Rotation 2: back to the user, re-enabled with a new password.
  ctx_.set_previous(std::nullopt);
  CreatePending(3);
  EXPECT_EQ(Field(*ctx_.pending()->value, "username"), user);
  const std::string pw3 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  ASSERT_OK(rotator_.Test(ctx_));
  EXPECT_TRUE(CanLogIn(user, pw3));
  EXPECT_TRUE(CanLogIn(clone, pw2));
  ExpectNoSecretsIn(ctx_.recorded_log().Joined());
}

TEST_F(PostgresRotatorTest, AlternatingRollbackLocksThePendingRole) {
  const std::string user = rekey::StrCat("rb_", suffix_);
  const std::string clone = rekey::StrCat(user, "_clone");
  created_ = {user, clone, rekey::StrCat(user, "_group")};
  CreateRole(user, "first-pw");
  json::object p = BaseParams(user);
  p["strategy"] = "alternating-users";
  p["revoke_mode"] = "random_password";
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  CreatePending(2);
  const std::string pw2 = Field(*ctx_.pending()->value, "password");
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_TRUE(CanLogIn(clone, pw2));
  ASSERT_OK(rotator_.Rollback(ctx_));
  ASSERT_OK(rotator_.Rollback(ctx_));
  EXPECT_FALSE(CanLogIn(clone, pw2));
  EXPECT_TRUE(CanLogIn(user, "first-pw"));
}

TEST_F(PostgresRotatorTest, CustomStatementsQuoteNameAndPassword) {
  const std::string user = rekey::StrCat("stmt;drop_", suffix_);
  CreateRole(user, "first-pw");
  json::object p = BaseParams(user);
  p["set_statements"] = json::array{"ALTER ROLE {{name}} WITH PASSWORD {{password}}",
                                    "COMMENT ON ROLE {{name}} IS 'rotated by rekey'"};
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user, kOddPassword)));
  ASSERT_OK(rotator_.Set(ctx_));
  EXPECT_TRUE(CanLogIn(user, kOddPassword));
  ASSERT_OK(rotator_.Test(ctx_));
}

TEST_F(PostgresRotatorTest, BrokenStatementFailsWithoutShowingThePassword) {
  const std::string user = rekey::StrCat("broken_", suffix_);
  CreateRole(user, "first-pw");
  json::object p = BaseParams(user);
  p["set_statements"] = json::array{"ALTER ROLE {{name}} {{password}} WITH PASSWORD"};
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  CreatePending(2);
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  ExpectNoSecretsIn(std::string(s.message()));
  EXPECT_TRUE(CanLogIn(user, "first-pw"));  // the transaction rolled back
}

TEST_F(PostgresRotatorTest, MissingAdminSecretFailsClearly) {
  const std::string user = rekey::StrCat("noadm_", suffix_);
  json::object p = BaseParams(user);
  p["admin_secret"] = "ops/missing";
  ctx_.set_params(p);
  absl::Status s = rotator_.Check(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ops/missing")));
}

TEST_F(PostgresRotatorTest, WrongAdminPasswordIsPermissionDenied) {
  const std::string user = rekey::StrCat("badadm_", suffix_);
  CreateRole(user, "first-pw");
  ctx_.SetSecret(kAdminPath, Cred(admin_user_, "not-the-password"));
  ctx_.set_params(BaseParams(user));
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  CreatePending(2);
  absl::Status s = rotator_.Set(ctx_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kAdminPath)));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("not-the-password")));
  EXPECT_TRUE(CanLogIn(user, "first-pw"));
}

TEST_F(PostgresRotatorTest, AdminWithoutCreateroleIsPermissionDenied) {
  const std::string weak = rekey::StrCat("weak_", suffix_);
  CreateRole(weak, "weak-pw");
  ctx_.SetSecret(kAdminPath, Cred(weak, "weak-pw"));
  ctx_.set_params(BaseParams(weak));
  EXPECT_THAT(rotator_.Check(ctx_), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(PostgresRotatorTest, TestRefusesAWrongPassword) {
  const std::string user = rekey::StrCat("tst_", suffix_);
  CreateRole(user, "first-pw");
  ctx_.set_params(BaseParams(user));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user, "never-set")));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PostgresRotatorTest, UnreachableServerIsUnavailable) {
  const std::string user = rekey::StrCat("down_", suffix_);
  json::object p = BaseParams(user);
  p["port"] = 1;  // nothing listens on port 1
  ctx_.set_params(p);
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", Cred(user, "first-pw")));
  CreatePending(2);
  EXPECT_THAT(rotator_.Set(ctx_), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(PostgresRotatorTest, VerifyQueryHasAStatementTimeout) {
  const std::string user = rekey::StrCat("slow_", suffix_);
  CreateRole(user, "first-pw");
  json::object p = BaseParams(user);
  p["verify_query"] = "SELECT pg_sleep(30)";
  p["statement_timeout"] = "1s";
  ctx_.set_params(p);
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", Cred(user, "first-pw")));
  EXPECT_THAT(rotator_.Test(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace rekey::rotators::postgres
