// The fixture the database rotators' tests share: it starts the rotator's real server with
// scripts/services, reads its port and admin credential, stores that credential as the secret the
// rotator's params.admin_secret names, and gets the rotator the way the app does, from its
// registration function.
#ifndef REKEY_ROTATORS_TESTING_DB_ROTATOR_FIXTURE_H_
#define REKEY_ROTATORS_TESTING_DB_ROTATOR_FIXTURE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/registry.h"
#include "rotation/rotator.h"
#include "rotation/testing/fake_step_context.h"
#include "rotators/testing/json_helpers.h"
#include "rotators/testing/services.h"

namespace rekey::rotators::testing {

using RegisterFunction = absl::Status (*)(rotation::RotatorRegistry& registry);

// The rotator that `register_rotator` registers as `name`, with the registry that owns it.
class RegisteredRotator {
 public:
  // Aborts the test program when `register_rotator` registers no rotator as `name`.
  RegisteredRotator(RegisterFunction register_rotator, std::string_view name) {
    const absl::Status status = register_rotator(registry_);
    rotator_ = registry_.Find(name);
    if (!status.ok() || rotator_ == nullptr) {
      std::fprintf(stderr, "no rotator registered as \"%.*s\": %s\n", static_cast<int>(name.size()),
                   name.data(), status.ToString().c_str());
      std::abort();
    }
  }
  RegisteredRotator(const RegisteredRotator&) = delete;
  RegisteredRotator& operator=(const RegisteredRotator&) = delete;

  rotation::Rotator& operator*() const { return *rotator_; }
  rotation::Rotator* operator->() const { return rotator_; }

 private:
  rotation::RotatorRegistry registry_;
  rotation::Rotator* rotator_ = nullptr;
};

// A server of scripts/services, as the tests that need it see it.
struct Service {
  std::string_view name;        // for scripts/services, e.g. "mariadb"
  std::string_view server;      // in the skip message, e.g. "MariaDB"
  std::string_view env_prefix;  // of the env file's <prefix>_PORT, _ADMIN_USER, _ADMIN_PASSWORD
};
inline constexpr Service kMariaDb = {"mariadb", "MariaDB", "REKEY_MYSQL"};
inline constexpr Service kPostgres = {"postgres", "PostgreSQL", "REKEY_PG"};
inline constexpr Service kRedis = {"redis", "redis-server", "REKEY_REDIS"};

class DbRotatorTest : public ::testing::Test {
 protected:
  // The rotator `register_rotator` registers as `rotator`, against `service`; the admin
  // credential is stored at `admin_path`. ExpectNoSecretsIn also looks for `never_shown`.
  DbRotatorTest(RegisterFunction register_rotator, std::string_view rotator, const Service& service,
                std::string_view admin_path, std::vector<std::string_view> never_shown)
      : service_(service),
        admin_path_(admin_path),
        never_shown_(std::move(never_shown)),
        registered_(register_rotator, rotator) {}

  // Skips the test when REKEY_NO_SERVICES=1. Otherwise starts the server and sets env_, port_,
  // admin_user_ and admin_password_, stores the admin credential at the admin path and lifts the
  // step deadline. A subclass's SetUp calls it first and returns when IsSkipped() or
  // HasFatalFailure().
  void SetUp() override {
    if (ServicesDisabled()) {
      GTEST_SKIP() << "REKEY_NO_SERVICES=1: skipping a test that needs a real " << service_.server;
    }
    absl::StatusOr<ServiceEnv> env = StartService(service_.name);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *env;
    port_ = std::stoi(Var(env_, rekey::StrCat(service_.env_prefix, "_PORT")));
    admin_user_ = Var(env_, rekey::StrCat(service_.env_prefix, "_ADMIN_USER"));
    admin_password_ = Var(env_, rekey::StrCat(service_.env_prefix, "_ADMIN_PASSWORD"));
    ASSERT_FALSE(admin_password_.empty()) << "the services env file has no admin password";
    ctx_.SetSecret(std::string(admin_path_), Cred(admin_user_, admin_password_));
    ctx_.set_deadline(absl::InfiniteFuture());
  }

  // The first `n` characters of the running test's name (account names must differ per test:
  // ctest runs the test cases in parallel).
  static std::string TestName(size_t n) {
    return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())
        .substr(0, n);
  }

  // Runs create and stores the result as the pending version `number`.
  void CreatePending(uint64_t number) {
    ctx_.set_step(rotation::Step::kCreate);
    ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_.Create(ctx_));
    ctx_.set_pending(rotation::testing::FakeStepContext::MakeVersion(
        number, rekey::StrCat("v", number), value.Reveal()));
  }

  // Expects `text` to show neither the admin password, nor a generated value, nor any of
  // never_shown_.
  void ExpectNoSecretsIn(const std::string& text) {
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr(admin_password_)));
    for (std::string_view s : never_shown_) {
      EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr(std::string(s))));
    }
    for (const std::string& g : ctx_.generated()) {
      EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr(g)));
    }
  }

  const Service service_;
  const std::string_view admin_path_;
  const std::vector<std::string_view> never_shown_;
  RegisteredRotator registered_;
  ServiceEnv env_;
  int port_ = 0;
  std::string admin_user_, admin_password_;
  rotation::testing::FakeStepContext ctx_;
  rotation::Rotator& rotator_ = *registered_;
};

}  // namespace rekey::rotators::testing

#endif  // REKEY_ROTATORS_TESTING_DB_ROTATOR_FIXTURE_H_
