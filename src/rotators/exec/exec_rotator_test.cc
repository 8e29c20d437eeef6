// Tests for the exec rotator: validation, then small scripts written to a temp dir (success, each
// exit status, timeouts killing the process group, oversized or invalid stdout, the clean
// environment, stderr handling, no leaked descriptors or zombies), then whole rotations against
// the test provider through tests/integration/exec_provider_client.py.
#include "rotators/exec/exec_rotator.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/net_http_transport.h"
#include "rotation/testing/fake_step_context.h"
#include "rotation/testing/provider_process.h"

#ifndef REKEY_SOURCE_DIR
#define REKEY_SOURCE_DIR "."
#endif
#ifndef REKEY_PYTHON
#define REKEY_PYTHON "/usr/bin/python3"
#endif

namespace rekey::rotators::exec {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::rekey::rotation::Problem;
using ::rekey::rotation::testing::FakeStepContext;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using SteadyClock = std::chrono::steady_clock;

json::object ParseObject(std::string_view text) {
  return json::parse(json::string_view(text.data(), text.size())).as_object();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// True when `pid` is gone or a zombie (orphans are reaped by PID 1, possibly lazily).
bool IsDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || line.substr(paren + 2, 1) == "Z";
}

// Waits (bounded) for `pid` to die: a SIGKILLed process closes its descriptors a moment before it
// becomes a zombie, so a check right after the run may see it still exiting.
bool BecomesDead(pid_t pid) {
  for (int i = 0; i < 250; ++i) {
    if (IsDead(pid)) return true;
    usleep(20 * 1000);
  }
  return false;
}

// No child of this process is left unreaped.
void ExpectNoChildren() {
  int status = 0;
  const pid_t r = waitpid(-1, &status, WNOHANG);
  EXPECT_TRUE(r == -1 && errno == ECHILD) << "unreaped child or running child: " << r;
}

class ExecRotatorTest : public ::testing::Test {
 protected:
  ExecRotatorTest() {
    char tmpl[] = "/tmp/rekey-exec-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ExecRotatorOptions options;
    options.kill_grace = absl::Milliseconds(300);
    options.home = "/nonexistent-home";
    rotator_ = std::make_unique<ExecRotator>(std::move(options));
    ctx_.set_path("prod/legacy/app");
    ctx_.set_run_id("run-9");
    ctx_.set_current(
        FakeStepContext::MakeVersion(1, "v1", R"({"api_key": "ak_OLD_0001", "user": "app"})"));
  }
  ~ExecRotatorTest() override { fs::remove_all(dir_); }

  // Writes an executable script and points params.command at it (plus `extra` params).
  std::string Script(std::string_view name, std::string_view body,
                     std::string_view extra_params = "{}") {
    const fs::path path = dir_ / std::string(name);
    {
      std::ofstream out(path);
      out << body;
    }
    chmod(path.c_str(), 0755);
    json::object params = ParseObject(extra_params);
    params["command"] = json::array{json::string(path.string())};
    ctx_.set_params(params);
    return path.string();
  }
  std::string Dir() const { return dir_.string(); }

  fs::path dir_;
  FakeStepContext ctx_;
  std::unique_ptr<ExecRotator> rotator_;
};

// ---------------------------------------------------------------- Validate / TargetKey

TEST_F(ExecRotatorTest, ValidateReportsEveryProblemAtOnce) {
  std::vector<Problem> problems = rotator_->Validate(ParseObject(R"({
      "command": ["relative/script.sh", 5],
      "timeout": "forever", "env": {"LD_PRELOAD": "x", "REKEY_STEP": "x", "1BAD": "x",
                                    "OK_NAME": 3},
      "working_dir": "tmp", "log_stderr": "yes", "value_source": "none", "extra": true})"));
  std::set<std::string> fields;
  for (const Problem& p : problems) fields.insert(p.field);
  EXPECT_EQ(fields,
            (std::set<std::string>{"params.command[0]", "params.command[1]", "params.timeout",
                                   "params.env.LD_PRELOAD", "params.env.REKEY_STEP",
                                   "params.env.1BAD", "params.env.OK_NAME", "params.working_dir",
                                   "params.log_stderr", "params.value_source", "params.extra"}));
}

TEST_F(ExecRotatorTest, CommandIsRequiredAndMustBeAnArray) {
  auto problems = rotator_->Validate(json::object());
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].field, "params.command");
  problems = rotator_->Validate(ParseObject(R"({"command": "/bin/rotate --all"})"));
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].field, "params.command");
}

TEST_F(ExecRotatorTest, ValidParamsAndTargetKey) {
  const json::object params = ParseObject(R"({"command": ["/usr/local/bin/rotate", "--db", "x"],
      "timeout": "2m", "env": {"TARGET": "db1"}, "working_dir": "/var/lib/x",
      "log_stderr": true, "field": "password", "merge": false, "value_source": "rekey"})");
  EXPECT_THAT(rotator_->Validate(params), ::testing::IsEmpty());
  EXPECT_EQ(rotator_->TargetKey(params), "/usr/local/bin/rotate");
}

TEST(RegisterExecRotatorTest, RegistersAsExec) {
  rotation::RotatorRegistry registry;
  ASSERT_OK(RegisterExecRotator(registry));
  EXPECT_NE(registry.Find("exec"), nullptr);
}

// ---------------------------------------------------------------- the protocol

TEST_F(ExecRotatorTest, CreateSendsTheDocumentOnStdinAndReadsTheValueFromStdout) {
  Script("create.sh", rekey::StrCat("#!/bin/sh\ncat > ", Dir(), "/stdin.json\n",
                                    R"(echo '{"value": {"api_key": "ak_NEW_0002"},)",
                                    R"( "state": {"key_id": "k_5"}}')", "\n"));
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_EQ(json::parse(json::string_view(value.Reveal().data(), value.size())),
            json::parse(R"({"api_key": "ak_NEW_0002", "user": "app"})"));
  EXPECT_THAT(ctx_.state(), ElementsAre(Pair("key_id", "k_5")));

  const json::object doc = ParseObject(ReadFile(dir_ / "stdin.json"));
  EXPECT_EQ(doc.at("protocol"), 1);
  EXPECT_EQ(doc.at("step"), "create");
  EXPECT_EQ(doc.at("secret"), "prod/legacy/app");
  EXPECT_EQ(doc.at("run_id"), "run-9");
  EXPECT_EQ(doc.at("idempotency_key"), "run-9:create:1");
  EXPECT_EQ(doc.at("current").at("value").at("api_key"), "ak_OLD_0001");
  EXPECT_TRUE(doc.at("pending").is_null());
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_NEW_0002"));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, EmptyStdoutIsAnEmptyAnswer) {
  Script("ok.sh", "#!/bin/sh\nexit 0\n");
  EXPECT_OK(rotator_->Check(ctx_));
  EXPECT_OK(rotator_->Finish(ctx_));
}

TEST_F(ExecRotatorTest, EnvironmentIsCleanAndCarriesTheStep) {
  setenv("REKEY_TEST_SHOULD_NOT_LEAK", "1", 1);
  const std::string script =
      Script("env.py",
             rekey::StrCat("#!/usr/bin/python3\nimport json, os\n", "open('", Dir(),
                           "/env.json', 'w').write(json.dumps(dict(os.environ)))\n"),
             R"({"env": {"PROVIDER_URL": "http://127.0.0.1:1", "HOME": "/var/lib/app"}})");
  ctx_.set_attempt(2);
  ASSERT_OK(rotator_->Finish(ctx_));
  unsetenv("REKEY_TEST_SHOULD_NOT_LEAK");
  const json::object env = ParseObject(ReadFile(dir_ / "env.json"));
  EXPECT_EQ(env, json::parse(R"({"PATH": "/usr/bin:/bin", "HOME": "/var/lib/app",
      "LANG": "C.UTF-8", "PROVIDER_URL": "http://127.0.0.1:1", "REKEY_STEP": "finish",
      "REKEY_SECRET_PATH": "prod/legacy/app", "REKEY_RUN_ID": "run-9", "REKEY_ATTEMPT": "2",
      "REKEY_DRY_RUN": "0"})")
                     .as_object())
      << json::serialize(env);
}

TEST_F(ExecRotatorTest, ArgumentsAreNotInterpretedByAShell) {
  const std::string out = (dir_ / "args.txt").string();
  json::object params;
  params["command"] = json::array{"/usr/bin/python3",
                                  "-c",
                                  "import sys; open(sys.argv[1], 'w').write(repr(sys.argv[2:]))",
                                  json::string(out),
                                  "$HOME",
                                  "a b;c",
                                  "*"};
  ctx_.set_params(params);
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_EQ(ReadFile(out), "['$HOME', 'a b;c', '*']");
}

TEST_F(ExecRotatorTest, WorkingDirIsApplied) {
  Script("pwd.sh", rekey::StrCat("#!/bin/sh\npwd > ", Dir(), "/pwd.txt\n"),
         rekey::StrCat(R"({"working_dir": ")", Dir(), R"("})"));
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_EQ(ReadFile(dir_ / "pwd.txt"), Dir() + "\n");
}

TEST_F(ExecRotatorTest, ExitStatusesMapToTheErrorContract) {
  const std::vector<std::pair<int, absl::StatusCode>> cases = {
      {2, absl::StatusCode::kInvalidArgument}, {3, absl::StatusCode::kPermissionDenied},
      {1, absl::StatusCode::kUnavailable},     {4, absl::StatusCode::kUnavailable},
      {127, absl::StatusCode::kUnavailable},
  };
  for (const auto& [code, status] : cases) {
    SCOPED_TRACE(code);
    Script("exit.sh", rekey::StrCat("#!/bin/sh\necho '{\"message\": \"target said no\", "
                                    "\"api_key\": \"ak_LEAK\"}'\nexit ",
                                    code, "\n"));
    EXPECT_THAT(rotator_->Set(ctx_),
                StatusIs(status, AllOf(HasSubstr("exited with status " + std::to_string(code)),
                                       HasSubstr("target said no"), Not(HasSubstr("ak_LEAK")))));
  }
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_LEAK"));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, DeathBySignalIsUnavailable) {
  Script("kill.sh", "#!/bin/sh\nkill -9 $$\n");
  EXPECT_THAT(rotator_->Set(ctx_), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("signal 9")));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, TimeoutKillsTheWholeProcessGroup) {
  Script("hang.sh",
         rekey::StrCat("#!/bin/sh\nsleep 60 &\necho $! > ", Dir(), "/child.pid\nsleep 60\n"),
         R"({"timeout": "300ms"})");
  const auto start = SteadyClock::now();
  EXPECT_THAT(rotator_->Test(ctx_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("process group was killed")));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  const pid_t child = std::atoi(ReadFile(dir_ / "child.pid").c_str());
  ASSERT_GT(child, 0);
  EXPECT_TRUE(BecomesDead(child));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, ACommandIgnoringSigtermIsKilledAfterTheGrace) {
  Script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\nsleep 60\nsleep 60\n", R"({"timeout": "200ms"})");
  const auto start = SteadyClock::now();
  EXPECT_THAT(rotator_->Test(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
  const auto took = SteadyClock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(450));  // timeout + kill_grace
  EXPECT_LT(took, std::chrono::seconds(5));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, TheStepDeadlineShortensTheTimeout) {
  Script("hang.sh", "#!/bin/sh\nsleep 60\n", R"({"timeout": "1h"})");
  ctx_.set_deadline(ctx_.clock().Now() + absl::Milliseconds(200));
  const auto start = SteadyClock::now();
  EXPECT_THAT(rotator_->Test(ctx_), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  ctx_.set_deadline(ctx_.clock().Now());
  EXPECT_THAT(rotator_->Test(ctx_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline passed")));
}

TEST_F(ExecRotatorTest, ProcessesLeftBehindAreKilledWhenTheCommandExits) {
  Script("bg.sh",
         rekey::StrCat("#!/bin/sh\nsleep 60 &\necho $! > ", Dir(), "/child.pid\necho '{}'\n"));
  const auto start = SteadyClock::now();
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(BecomesDead(std::atoi(ReadFile(dir_ / "child.pid").c_str())));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, OversizedStdoutIsRefused) {
  Script("big.sh", "#!/bin/sh\nhead -c 2000000 /dev/zero | tr '\\0' 'x'\n");
  EXPECT_THAT(rotator_->Check(ctx_),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("more than 1 MiB")));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, InvalidJsonOnStdoutIsInternal) {
  Script("bad.sh", "#!/bin/sh\necho 'done: ak_LEAK_VALUE'\n");
  EXPECT_THAT(rotator_->Set(ctx_),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("not a JSON object"), Not(HasSubstr("ak_LEAK_VALUE")))));
}

TEST_F(ExecRotatorTest, CreateWithoutTheFieldIsInternal) {
  Script("nokey.sh", "#!/bin/sh\necho '{\"value\": {\"other\": \"x\"}}'\n");
  EXPECT_THAT(rotator_->Create(ctx_),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("\"api_key\"")));
}

TEST_F(ExecRotatorTest, StderrIsNotLoggedByDefault) {
  Script("noisy.sh", "#!/bin/sh\necho 'using key ak_STDERR_SECRET' >&2\necho '{}'\n");
  ASSERT_OK(rotator_->Set(ctx_));
  EXPECT_FALSE(ctx_.recorded_log().Contains("ak_STDERR_SECRET"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("wrote 27 bytes to stderr (not logged"));
}

TEST_F(ExecRotatorTest, LogStderrLogsTheLastLinesMadePrintable) {
  Script("noisy.sh",
         "#!/bin/sh\nfor i in 1 2 3 4 5 6 7; do echo \"line $i\" >&2; done\n"
         "printf 'bell\\007end\\n' >&2\necho '{}'\n",
         R"({"log_stderr": true})");
  ASSERT_OK(rotator_->Set(ctx_));
  EXPECT_FALSE(ctx_.recorded_log().Contains("line 3"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("exec set stderr: line 4"));
  EXPECT_TRUE(ctx_.recorded_log().Contains("exec set stderr: bell?end"));
}

TEST_F(ExecRotatorTest, ACommandThatIgnoresAHugeStdinStillWorks) {
  // A document larger than the socket buffers; the command never reads it.
  ctx_.set_current(FakeStepContext::MakeVersion(
      1, "v1",
      rekey::StrCat(R"({"api_key": "ak_OLD", "blob": ")", std::string(3 << 20, 'b'), R"("})")));
  Script("noread.sh", "#!/bin/sh\necho '{\"message\": \"fine\"}'\n");
  EXPECT_OK(rotator_->Check(ctx_));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, DescriptorsOfTheServerAreNotInherited) {
  const int fd = open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, 50), 50);
  close(fd);
  Script("fds.sh", "#!/bin/sh\nif [ -e /proc/self/fd/50 ]; then exit 9; fi\necho '{}'\n");
  EXPECT_OK(rotator_->Check(ctx_));
  close(50);
}

TEST_F(ExecRotatorTest, MissingOrNonExecutableCommandIsFailedPrecondition) {
  json::object params;
  params["command"] = json::array{json::string((dir_ / "missing").string())};
  ctx_.set_params(params);
  EXPECT_THAT(rotator_->Check(ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("missing")));
  const std::string script = Script("noexec.sh", "#!/bin/sh\necho '{}'\n");
  chmod(script.c_str(), 0644);
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
  Script("ok.sh", "#!/bin/sh\necho '{}'\n", R"({"working_dir": "/nonexistent/dir"})");
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kFailedPrecondition));
  ExpectNoChildren();
}

TEST_F(ExecRotatorTest, ValueSourceRekeyDoesNotRunTheCommandForCreate) {
  Script("never.sh", rekey::StrCat("#!/bin/sh\ntouch ", Dir(), "/ran\n"),
         R"({"value_source": "rekey", "field": "password"})");
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
  EXPECT_THAT(std::string(value.Reveal()), HasSubstr(ctx_.generated().at(0)));
}

TEST_F(ExecRotatorTest, DryRunCheckIsMarkedAndHomeDefaultsToTheConfiguredOne) {
  Script("check.sh", rekey::StrCat("#!/bin/sh\necho \"$REKEY_STEP $REKEY_DRY_RUN $HOME\" > ", Dir(),
                                   "/step.txt\n"));
  ASSERT_OK(rotator_->Check(ctx_));
  EXPECT_EQ(ReadFile(dir_ / "step.txt"), "check 1 /nonexistent-home\n");
}

// ---------------------------------------------------------------- against the test provider

constexpr char kProviderKey[] = "whsec_exec_provider_test_01";
constexpr char kAdminToken[] = "admin-token-for-tests";

class ExecRotatorProviderTest : public ExecRotatorTest {
 protected:
  static void SetUpTestSuite() {
    auto started = rotation::testing::ProviderProcess::Start(
        REKEY_PYTHON, REKEY_SOURCE_DIR "/tests/integration/api_key_provider.py", kProviderKey,
        {"--admin-token", kAdminToken});
    if (started.ok()) {
      provider_ = started->release();
    } else {
      start_error_ = new std::string(started.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete provider_;
    provider_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    if (provider_ == nullptr) {
      GTEST_SKIP() << "test provider not available: " << (start_error_ ? *start_error_ : "?");
    }
    ASSERT_EQ(Admin("POST", "/admin/reset", "{}").first, 200);
    json::object params;
    params["command"] =
        json::array{REKEY_PYTHON, REKEY_SOURCE_DIR "/tests/integration/exec_provider_client.py"};
    params["env"] =
        json::object{{"PROVIDER_URL", provider_->Url("")}, {"PROVIDER_ADMIN_TOKEN", kAdminToken}};
    params["timeout"] = "20s";
    ctx_.set_params(params);
    ctx_.set_deadline(ctx_.clock().Now() + absl::Seconds(30));
  }

  std::pair<int, json::value> Admin(std::string_view method, std::string_view path,
                                    std::string_view body = "") {
    rotation::HttpCall call;
    call.method = std::string(method);
    call.url = provider_->Url(path);
    call.body = std::string(body);
    call.headers = {{"Authorization", rekey::StrCat("Bearer ", kAdminToken)}};
    absl::StatusOr<rotation::HttpReply> reply = transport_.Send(call);
    if (!reply.ok()) return {0, json::value()};
    return {reply->status, reply->body.empty() ? json::value() : json::parse(reply->body)};
  }

  int WhoAmI(std::string_view key) {
    rotation::HttpCall call;
    call.method = "GET";
    call.url = provider_->Url("/whoami");
    call.headers = {{"Authorization", rekey::StrCat("Bearer ", key)}};
    absl::StatusOr<rotation::HttpReply> reply = transport_.Send(call);
    return reply.ok() ? reply->status : -1;
  }

  static std::string KeyOf(const SecretBytes& value) {
    return std::string(ParseObject(value.Reveal()).at("api_key").as_string());
  }

  static rotation::testing::ProviderProcess* provider_;
  static std::string* start_error_;
  rotation::NetHttpTransport transport_;
};

rotation::testing::ProviderProcess* ExecRotatorProviderTest::provider_ = nullptr;
std::string* ExecRotatorProviderTest::start_error_ = nullptr;

TEST_F(ExecRotatorProviderTest, FullRotationKeepsTheOldKeyUntilRevokeAndRejectsItAfter) {
  auto [status, seeded] = Admin("POST", "/admin/keys", R"({"secret": "prod/legacy/app"})");
  ASSERT_EQ(status, 200);
  const std::string old_key(seeded.at("api_key").as_string());
  const std::string old_value = json::serialize(
      json::object{{"api_key", old_key}, {"key_id", seeded.at("key_id")}, {"user", "app"}});
  ctx_.set_current(FakeStepContext::MakeVersion(1, "v1", old_value));

  ASSERT_OK(rotator_->Check(ctx_));
  ASSERT_OK_AND_ASSIGN(SecretBytes new_value, rotator_->Create(ctx_));
  const std::string new_key = KeyOf(new_value);
  EXPECT_NE(new_key, old_key);
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", new_value.Reveal()));
  ASSERT_OK(rotator_->Set(ctx_));
  ASSERT_OK(rotator_->Test(ctx_));
  ASSERT_OK(rotator_->Finish(ctx_));
  EXPECT_EQ(WhoAmI(old_key), 200);
  EXPECT_EQ(WhoAmI(new_key), 200);
  ctx_.set_previous(FakeStepContext::MakeVersion(1, "v1", old_value));
  ASSERT_OK(rotator_->Revoke(ctx_));
  EXPECT_EQ(WhoAmI(old_key), 401);
  EXPECT_EQ(WhoAmI(new_key), 200);
  for (const std::string& leak : {old_key, new_key}) {
    EXPECT_FALSE(ctx_.recorded_log().Contains(leak));
  }
}

TEST_F(ExecRotatorProviderTest, CreateIsIdempotentAndRollbackRevokesWhatItMinted) {
  ASSERT_OK_AND_ASSIGN(SecretBytes first, rotator_->Create(ctx_));
  ASSERT_OK_AND_ASSIGN(SecretBytes again, rotator_->Create(ctx_));
  EXPECT_EQ(KeyOf(first), KeyOf(again));
  EXPECT_EQ(WhoAmI(KeyOf(first)), 200);
  ASSERT_OK(rotator_->Rollback(ctx_));  // no pending version: create's answer was lost
  EXPECT_EQ(WhoAmI(KeyOf(first)), 401);
}

TEST_F(ExecRotatorProviderTest, TestOfARevokedKeyIsRejectedValue) {
  ASSERT_OK_AND_ASSIGN(SecretBytes value, rotator_->Create(ctx_));
  ctx_.set_pending(FakeStepContext::MakeVersion(2, "v2", value.Reveal()));
  Admin("POST", rekey::StrCat("/admin/keys/", ctx_.state().at("pending_key_id"), "/revoke"), "{}");
  EXPECT_THAT(rotator_->Test(ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("refuses the pending key")));
}

TEST_F(ExecRotatorProviderTest, WrongAdminTokenIsPermissionDenied) {
  json::object params = ctx_.params();
  params["env"].as_object()["PROVIDER_ADMIN_TOKEN"] = "wrong";
  ctx_.set_params(params);
  EXPECT_THAT(rotator_->Check(ctx_), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace rekey::rotators::exec
