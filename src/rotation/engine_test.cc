// RotationEngine on a fake clock over an in-memory store, with a fault-injecting rotator. No test
// sleeps: time moves with FakeClock::Advance and work runs in RunUntilIdle().
#include "rotation/engine.h"

#include <boost/json.hpp>
#include <set>

#include "core/clock.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rotation/testing/fault_rotator.h"
#include "rotators/generic/generic_rotator.h"
#include "secrets/secrets_service.h"
#include "storage/memory_store.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;
using ::rekey::rotation::testing::FaultRotator;
using ::rekey::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using RunRecord = ::rekey::rotation::Run;

class NoHttp final : public HttpTransport {
 public:
  absl::StatusOr<HttpReply> Send(const HttpCall&) override {
    return absl::UnavailableError("no network in tests");
  }
};

// Thrown by the crash hook to abandon the engine mid-step, as kill -9 would.
struct Crash {};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    auto fault = std::make_unique<FaultRotator>();
    target_ = fault.get();
    EXPECT_OK(registry_.Register("fault", std::move(fault)));
    EXPECT_OK(rotators::generic::RegisterGenericRotator(registry_));
    options_.workers = 0;
    options_.spacing.max_jitter = absl::ZeroDuration();
    NewEngine();
  }

  void NewEngine() {
    engine_.reset();
    kv_ = std::make_unique<secrets::SecretsService>(store_, clock_, random_, "secret");
    engine_ =
        std::make_unique<RotationEngine>(store_, *kv_, registry_, clock_, random_, http_, options_);
    ASSERT_OK(engine_->Start());
  }

  // A secret at `path` with value {"value": initial}, accepted by the target, and a config.
  void Provision(const std::string& path, const std::string& config_json,
                 const std::string& initial = "initial") {
    json::object v;
    v["value"] = initial;
    ASSERT_OK(kv_->Put(path, SecretBytes(json::serialize(v)), {}).status());
    target_->Accept(initial);
    ASSERT_OK(engine_->SetConfig(path, json::parse(config_json).as_object()));
  }

  std::string Current(const std::string& path) {
    absl::StatusOr<secrets::ReadResult> r = kv_->Read(path, 0);
    if (!r.ok() || !r->value.has_value()) return "<none>";
    VersionView view{r->version.number, r->version.id, std::move(r->value)};
    return FaultRotator::ValueOf(view);
  }

  std::vector<std::string> EventTypes(const std::string& path) {
    std::vector<std::string> types;
    for (const Event& e : engine_->events().Since(0, 100000)) {
      if (e.path == path) types.push_back(e.type);
    }
    return types;
  }

  // The invariants every finished run must leave: one current, no pending, the target accepts
  // the current value, and the run is in the history.
  void ExpectSettled(const std::string& path) {
    ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata(path));
    EXPECT_NE(meta.CurrentVersion(), 0u);
    EXPECT_EQ(meta.labels.count("pending"), 0u) << "pending left behind";
    EXPECT_TRUE(target_->Accepts(Current(path))) << "target does not accept current";
    ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs(path, 0));
    EXPECT_FALSE(runs.empty());
    EXPECT_NE(runs.front().outcome, Outcome::kNone);
    ASSERT_OK_AND_ASSIGN(std::vector<SecretStatus> status, engine_->Status(path, 0));
    ASSERT_FALSE(status.empty());
    EXPECT_TRUE(status.front().state.active_run.empty());
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  NoHttp http_;
  RotatorRegistry registry_;
  FaultRotator* target_ = nullptr;
  EngineOptions options_;
  std::unique_ptr<secrets::SecretsService> kv_;
  std::unique_ptr<RotationEngine> engine_;
};

constexpr char kFaultConfig[] =
    R"j({"rotator":"fault","params":{"target":"db1"},"grace":"10m",)j"
    R"j("retry":{"max_attempts":3,"backoff":"30s","max_backoff":"5m"}})j";

TEST_F(EngineTest, RotationPromotesThenRevokesAfterGrace) {
  Provision("app/db", kFaultConfig);
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {}));
  engine_->RunUntilIdle();
  const std::string fresh = Current("app/db");
  EXPECT_NE(fresh, "initial");
  // In grace: both values work, previous is the old one.
  EXPECT_TRUE(target_->Accepts("initial"));
  EXPECT_TRUE(target_->Accepts(fresh));
  ASSERT_OK_AND_ASSIGN(RunRecord graced, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(graced.phase, Phase::kGrace);
  clock_.Advance(absl::Minutes(9));
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_TRUE(target_->Accepts("initial")) << "revoked before the grace period ended";
  clock_.Advance(absl::Minutes(2));
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_FALSE(target_->Accepts("initial"));
  ExpectSettled("app/db");
  ASSERT_OK_AND_ASSIGN(RunRecord done, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(done.outcome, Outcome::kSucceeded);
  EXPECT_THAT(EventTypes("app/db"), ElementsAre("rotation.started", "rotation.promoted",
                                                "rotation.revoked", "rotation.completed"));
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata("app/db"));
  EXPECT_EQ(meta.labels.at("previous"), 1u);
  EXPECT_EQ(meta.labels.at("current"), 2u);
}

TEST_F(EngineTest, IncidentRotationRevokesAtOnce) {
  Provision("app/db", kFaultConfig);
  ASSERT_OK(engine_->Rotate("app/db", {.incident = true}).status());
  engine_->RunUntilIdle();
  EXPECT_FALSE(target_->Accepts("initial"));
  ExpectSettled("app/db");
}

TEST_F(EngineTest, OneRunPerSecretAtATime) {
  Provision("app/db", kFaultConfig);
  ASSERT_OK(engine_->Rotate("app/db", {}).status());
  EXPECT_THAT(engine_->Rotate("app/db", {}), StatusIs(absl::StatusCode::kAborted));
}

TEST_F(EngineTest, ARotationAskedToEndAGraceStartsAfterItWithTheRequestedVersionId) {
  Provision("app/db", kFaultConfig);
  ASSERT_OK_AND_ASSIGN(RunRecord first, engine_->Rotate("app/db", {.version_id = "first-id"}));
  engine_->RunUntilIdle();
  const std::string second_value = Current("app/db");
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata("app/db"));
  EXPECT_EQ(meta.versions.at(meta.CurrentVersion()).id, "first-id");
  // In grace: a plain rotation is refused, one that may end the grace is queued behind it.
  EXPECT_THAT(engine_->Rotate("app/db", {}), StatusIs(absl::StatusCode::kAborted));
  clock_.Advance(absl::Seconds(1));  // run ids sort by time
  ASSERT_OK_AND_ASSIGN(RunRecord returned, engine_->Rotate("app/db", {.version_id = "second-id",
                                                                      .trigger = "aws",
                                                                      .actor = "aws:AKIATEST",
                                                                      .end_grace = true}));
  EXPECT_EQ(returned.id, first.id);
  ASSERT_OK_AND_ASSIGN(SecretStatus status, engine_->StatusOf("app/db"));
  ASSERT_TRUE(status.state.queued.has_value());
  EXPECT_EQ(status.state.queued->actor, "aws:AKIATEST");
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_FALSE(target_->Accepts("initial")) << "the ended grace did not revoke";
  EXPECT_NE(Current("app/db"), second_value);
  ASSERT_OK_AND_ASSIGN(meta, kv_->GetMetadata("app/db"));
  EXPECT_EQ(meta.versions.at(meta.CurrentVersion()).id, "second-id");
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs.front().trigger, "aws");
  EXPECT_EQ(runs.front().actor, "aws:AKIATEST");
  EXPECT_THAT(EventTypes("app/db"), Contains("rotation.grace_ended"));
}

// A failure at each step, on every attempt: the run fails after its last attempt, current is
// untouched and still works, nothing is pending, and every attempt used a new value.
class FailingStepTest : public EngineTest, public ::testing::WithParamInterface<Step> {};

TEST_P(FailingStepTest, EveryAttemptFailsAndTheSecretKeepsItsWorkingValue) {
  Provision("app/db", kFaultConfig);
  target_->FailNext(GetParam(), 100);
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {}));
  for (int i = 0; i < 5; ++i) {
    engine_->RunUntilIdle();
    clock_.Advance(absl::Minutes(6));
    engine_->Tick();
  }
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord done, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(done.outcome, Outcome::kFailed);
  EXPECT_EQ(done.attempt, 3);
  EXPECT_EQ(Current("app/db"), "initial");
  EXPECT_EQ(target_->accepted(), std::set<std::string>{"initial"});
  ExpectSettled("app/db");
  EXPECT_THAT(EventTypes("app/db"), Contains("rotation.failed"));
  EXPECT_THAT(EventTypes("app/db"), Contains("rotation.retry_scheduled"));
  std::vector<std::string> values = target_->generated();
  EXPECT_EQ(std::set<std::string>(values.begin(), values.end()).size(), values.size())
      << "a retry reused a value";
  if (GetParam() != Step::kCreate) EXPECT_EQ(values.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<SecretStatus> status, engine_->Status("app/db", 0));
  EXPECT_TRUE(status.front().failing);
  EXPECT_EQ(status.front().state.consecutive_failures, 1);
}

INSTANTIATE_TEST_SUITE_P(Steps, FailingStepTest,
                         ::testing::Values(Step::kCreate, Step::kSet, Step::kTest),
                         [](const auto& info) { return std::string(StepName(info.param)); });

TEST_F(EngineTest, ARetryWithANewValueSucceeds) {
  Provision("app/db", kFaultConfig);
  target_->FailNext(Step::kTest, 1);
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {}));
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord waiting, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(waiting.phase, Phase::kRetryWait);
  EXPECT_EQ(waiting.retry_at, clock_.Now() + absl::Seconds(30));
  clock_.Advance(absl::Seconds(31));
  engine_->Tick();
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord graced, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(graced.attempt, 2);
  EXPECT_EQ(graced.phase, Phase::kGrace);
  std::vector<std::string> values = target_->generated();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NE(values[0], values[1]);
  EXPECT_EQ(Current("app/db"), values[1]);
  EXPECT_FALSE(target_->Accepts(values[0])) << "the failed attempt's value was not rolled back";
  // The failed version is kept for forensics, with its material destroyed.
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata("app/db"));
  EXPECT_TRUE(meta.versions.at(2).destroyed);
}

TEST_F(EngineTest, AManualWriteDuringARunAbandonsIt) {
  Provision("app/db", kFaultConfig);
  target_->FailNext(Step::kTest, 1);  // stops the run in retry-wait after set
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {}));
  engine_->RunUntilIdle();
  ASSERT_OK(kv_->Put("app/db", SecretBytes(R"j({"value":"manual"})j"), {}).status());
  target_->Accept("manual");
  clock_.Advance(absl::Minutes(1));
  engine_->Tick();
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord done, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(done.outcome, Outcome::kAbandoned);
  EXPECT_EQ(Current("app/db"), "manual");
  EXPECT_THAT(EventTypes("app/db"), Contains("rotation.abandoned"));
  ExpectSettled("app/db");
}

TEST_F(EngineTest, RevokeFailuresAreRetriedAndThenReported) {
  Provision("app/db", kFaultConfig);
  target_->FailNext(Step::kRevoke, 100);
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {.incident = true}));
  for (int i = 0; i < 6; ++i) {
    engine_->RunUntilIdle();
    clock_.Advance(absl::Minutes(10));
    engine_->Tick();
  }
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord done, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(done.outcome, Outcome::kSucceeded);
  EXPECT_THAT(done.error, HasSubstr("revoke failed"));
  EXPECT_EQ(target_->calls(Step::kRevoke), 3);
  EXPECT_NE(Current("app/db"), "initial");
}

TEST_F(EngineTest, RateScheduleStartsARotationWhenDue) {
  Provision("app/db", R"j({"rotator":"fault","schedule":"rate(1h)","grace":"1m"})j");
  EXPECT_EQ(engine_->ScheduledCount(), 1u);
  clock_.Advance(absl::Minutes(59));
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_EQ(Current("app/db"), "initial");
  clock_.Advance(absl::Minutes(1));
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_NE(Current("app/db"), "initial");
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  EXPECT_EQ(runs.front().trigger, "schedule");
}

TEST_F(EngineTest, AServerDownForManyIntervalsRotatesOnce) {
  Provision("app/db", R"j({"rotator":"fault","schedule":"rate(1h)","grace":"1m"})j");
  engine_.reset();  // the server stops
  clock_.Advance(absl::Hours(100));
  NewEngine();
  engine_->Tick();
  engine_->RunUntilIdle();
  clock_.Advance(absl::Minutes(2));
  engine_->Tick();
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  EXPECT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.front().outcome, Outcome::kSucceeded);
  ASSERT_OK_AND_ASSIGN(std::vector<SecretStatus> status, engine_->Status("app/db", 0));
  EXPECT_EQ(status.front().state.next_due, status.front().state.last_rotated + absl::Hours(1));
}

TEST_F(EngineTest, AMissedWindowIsReportedAndWaitsForTheNextOccurrence) {
  Provision("app/db",
            R"j({"rotator":"fault","schedule":"cron(0 2 * * *)","window":"1h","grace":"1m"})j");
  engine_.reset();
  clock_.Advance(absl::Hours(30));  // past a 02:00 and its window
  NewEngine();
  engine_->Tick();
  engine_->RunUntilIdle();
  EXPECT_EQ(Current("app/db"), "initial");
  EXPECT_THAT(EventTypes("app/db"), ElementsAre("secret.overdue"));
  ASSERT_OK_AND_ASSIGN(std::vector<SecretStatus> status, engine_->Status("app/db", 0));
  EXPECT_TRUE(status.front().overdue);
  EXPECT_GT(status.front().state.next_due, clock_.Now());
  EXPECT_EQ(absl::FormatTime("%H:%M", status.front().state.next_due, absl::UTCTimeZone()), "02:00");
}

TEST_F(EngineTest, SecretsOfOneTargetAreSpacedApart) {
  options_.spacing.min_target_spacing = absl::Seconds(30);
  NewEngine();
  Provision("a", R"j({"rotator":"fault","params":{"target":"db1"},"schedule":"rate(1h)"})j");
  Provision("b", R"j({"rotator":"fault","params":{"target":"db1"},"schedule":"rate(1h)"})j");
  Provision("c", R"j({"rotator":"fault","params":{"target":"db2"},"schedule":"rate(1h)"})j");
  clock_.Advance(absl::Hours(1));
  engine_->Tick();
  engine_->RunUntilIdle();
  int started = 0;
  for (const char* p : {"a", "b", "c"}) started += Current(p) != "initial";
  EXPECT_EQ(started, 2) << "two secrets of db1 rotated together";
  clock_.Advance(absl::Seconds(30));
  engine_->Tick();
  engine_->RunUntilIdle();
  for (const char* p : {"a", "b", "c"}) EXPECT_NE(Current(p), "initial") << p;
}

TEST_F(EngineTest, SpacingDelaysAreNotMissedWindows) {
  // Thirty secrets of one database, all due at once, a 5-minute window and 30 s spacing: the
  // last ones start ~15 minutes late because of the spacing, which is not a missed window.
  options_.spacing.min_target_spacing = absl::Seconds(30);
  NewEngine();
  for (int i = 0; i < 30; ++i) {
    Provision(rekey::StrCat("db/user", i),
              R"j({"rotator":"fault","params":{"target":"db1"},"schedule":"rate(1h)",)j"
              R"j("window":"5m","grace":"0s"})j");
  }
  clock_.Advance(absl::Hours(1));
  for (int i = 0; i < 32; ++i) {
    engine_->Tick();
    engine_->RunUntilIdle();
    clock_.Advance(absl::Seconds(30));
  }
  for (int i = 0; i < 30; ++i) {
    const std::string path = rekey::StrCat("db/user", i);
    EXPECT_NE(Current(path), "initial") << path;
    EXPECT_THAT(EventTypes(path), ::testing::Not(Contains("secret.overdue"))) << path;
  }
}

TEST_F(EngineTest, DryRunReportsEveryProblemAndChangesNothing) {
  Provision("app/db", kFaultConfig);
  target_->FailNext(Step::kCreate, 1);  // Check fails: the target is unreachable
  const uint64_t index_before = store_.CommitIndex();
  ASSERT_OK_AND_ASSIGN(DryRunReport report, engine_->DryRun("app/db"));
  EXPECT_EQ(store_.CommitIndex(), index_before);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].field, "target");
  EXPECT_FALSE(report.plan.empty());
  EXPECT_EQ(Current("app/db"), "initial");
}

TEST_F(EngineTest, ConfigValidationReportsEveryProblemAtOnce) {
  std::vector<Problem> problems;
  absl::Status s = engine_->SetConfig(
      "app/db",
      json::parse(R"j({"rotator":"fault","params":{"bogus":1},"schedule":"rate(0d)",)j"
                  R"j("grace":"forever","retry":{"max_attempts":99},"colour":"red"})j")
          .as_object(),
      &problems);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  std::set<std::string> fields;
  for (const Problem& p : problems) fields.insert(p.field);
  EXPECT_EQ(fields, (std::set<std::string>{"params.bogus", "schedule", "grace",
                                           "retry.max_attempts", "colour"}));
  EXPECT_THAT(engine_->GetConfig("app/db"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EngineTest, GenericRotatorRegeneratesNamedFieldsAndKeepsTheRest) {
  ASSERT_OK(kv_->Put("api/stripe", SecretBytes(R"j({"api_key":"old","account":"acct_1"})j"), {})
                .status());
  ASSERT_OK(engine_->SetConfig(
      "api/stripe", json::parse(R"j({"rotator":"generic","params":{"fields":["api_key"]},)j"
                                R"j("generator":{"type":"api_key","prefix":"sk_","length":24}})j")
                        .as_object()));
  ASSERT_OK(engine_->Rotate("api/stripe", {.incident = true}).status());
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(secrets::ReadResult r, kv_->Read("api/stripe", 0));
  json::object v = json::parse(r.value->Reveal()).as_object();
  EXPECT_EQ(v.at("account").as_string(), "acct_1");
  std::string key(v.at("api_key").as_string());
  EXPECT_EQ(key.size(), 27u);
  EXPECT_EQ(key.substr(0, 3), "sk_");
}

TEST_F(EngineTest, EventsLongPollIsAnsweredByTheNextEvent) {
  Provision("app/db", kFaultConfig);
  std::vector<Event> got;
  bool called = false;
  engine_->events().WaitAsync(engine_->events().LastSeq(), clock_.Now() + absl::Seconds(30), 10,
                              [&](std::vector<Event> events) {
                                called = true;
                                got = std::move(events);
                              });
  EXPECT_FALSE(called);
  ASSERT_OK(engine_->Rotate("app/db", {}).status());
  EXPECT_TRUE(called);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].type, "rotation.started");
  // A waiter with nothing new gets an empty answer at its deadline.
  called = false;
  engine_->RunUntilIdle();
  engine_->events().WaitAsync(engine_->events().LastSeq(), clock_.Now() + absl::Seconds(30), 10,
                              [&](std::vector<Event> events) {
                                called = true;
                                got = std::move(events);
                              });
  clock_.Advance(absl::Seconds(31));
  engine_->Tick();
  EXPECT_TRUE(called);
  EXPECT_THAT(got, IsEmpty());
}

// Crash at every phase, before and after its side effect; a new engine over the same store
// resumes or rolls back, and the invariants hold.
struct CrashCase {
  Phase phase;
  bool after_effect;
};

class CrashTest : public EngineTest, public ::testing::WithParamInterface<CrashCase> {};

TEST_P(CrashTest, ResumesOrRollsBackCleanly) {
  Provision("app/db", kFaultConfig);
  options_.crash_for_test =
      CrashPointForTest{GetParam().phase, GetParam().after_effect, [] { throw Crash{}; }};
  NewEngine();
  ASSERT_OK(engine_->Rotate("app/db", {}).status());
  bool crashed = false;
  try {
    for (int i = 0; i < 4; ++i) {
      engine_->RunUntilIdle();
      clock_.Advance(absl::Minutes(11));
      engine_->Tick();
    }
  } catch (const Crash&) {
    crashed = true;
  }
  ASSERT_TRUE(crashed);
  options_.crash_for_test.reset();
  engine_.reset();
  NewEngine();
  for (int i = 0; i < 6; ++i) {
    engine_->RunUntilIdle();
    clock_.Advance(absl::Minutes(11));
    engine_->Tick();
  }
  engine_->RunUntilIdle();
  ExpectSettled("app/db");
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, Outcome::kSucceeded) << runs[0].error;
  EXPECT_NE(Current("app/db"), "initial");
  EXPECT_FALSE(target_->Accepts("initial"));
  // No version is lost: 1 (initial) and the new current exist.
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata("app/db"));
  EXPECT_TRUE(meta.versions.contains(1));
}

INSTANTIATE_TEST_SUITE_P(
    Phases, CrashTest,
    ::testing::Values(CrashCase{Phase::kCreate, false}, CrashCase{Phase::kCreate, true},
                      CrashCase{Phase::kSet, false}, CrashCase{Phase::kSet, true},
                      CrashCase{Phase::kTest, false}, CrashCase{Phase::kTest, true},
                      CrashCase{Phase::kFinish, false}, CrashCase{Phase::kFinish, true},
                      CrashCase{Phase::kRevoke, false}, CrashCase{Phase::kRevoke, true}),
    [](const auto& info) {
      return rekey::StrCat(PhaseName(info.param.phase),
                           info.param.after_effect ? "_after" : "_before");
    });

TEST_F(EngineTest, ACrashDuringRollbackResumesTheRollback) {
  for (bool after : {false, true}) {
    const std::string path = after ? "app/after" : "app/before";
    Provision(path, kFaultConfig);
    target_->FailNext(Step::kTest, 100);
    options_.crash_for_test = CrashPointForTest{Phase::kRollback, after, [] { throw Crash{}; }};
    NewEngine();
    ASSERT_OK(engine_->Rotate(path, {}).status());
    EXPECT_THROW(engine_->RunUntilIdle(), Crash);
    options_.crash_for_test.reset();
    NewEngine();
    for (int i = 0; i < 5; ++i) {
      engine_->RunUntilIdle();
      clock_.Advance(absl::Minutes(6));
      engine_->Tick();
    }
    engine_->RunUntilIdle();
    ExpectSettled(path);
    EXPECT_EQ(Current(path), "initial");
    ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs(path, 0));
    EXPECT_EQ(runs[0].outcome, Outcome::kFailed);
  }
  EXPECT_EQ(target_->accepted(), std::set<std::string>{"initial"});
}

TEST_F(EngineTest, APhaseThatKeepsCrashingTheServerIsRolledBack) {
  Provision("app/db", kFaultConfig);
  options_.crash_for_test = CrashPointForTest{Phase::kSet, true, [] { throw Crash{}; }};
  NewEngine();
  ASSERT_OK(engine_->Rotate("app/db", {}).status());
  for (int restart = 0; restart < 3; ++restart) {
    EXPECT_THROW(engine_->RunUntilIdle(), Crash) << restart;
    NewEngine();
  }
  engine_->RunUntilIdle();  // the third resume gives up on set and rolls back
  ExpectSettled("app/db");
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  EXPECT_EQ(runs[0].outcome, Outcome::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("interrupted 3 times"));
  EXPECT_EQ(Current("app/db"), "initial");
  EXPECT_EQ(target_->accepted(), std::set<std::string>{"initial"});
}

TEST_F(EngineTest, AValueThatStaysDueAfterRotatingIsNotRotatedInALoop) {
  // before_expiry on a value whose not_after the generic rotator keeps: rotating does not
  // move the due time.
  json::object v;
  v["value"] = "x";
  v["not_after"] = absl::ToUnixSeconds(clock_.Now() + absl::Hours(12));
  ASSERT_OK(kv_->Put("cert/a", SecretBytes(json::serialize(v)), {}).status());
  ASSERT_OK(engine_->SetConfig(
      "cert/a",
      json::parse(R"j({"rotator":"generic","schedule":"before_expiry(1d)","grace":"0s"})j")
          .as_object()));
  engine_->Tick();
  engine_->RunUntilIdle();
  clock_.Advance(absl::Minutes(5));
  engine_->Tick();
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("cert/a", 0));
  EXPECT_EQ(runs.size(), 1u) << "rotated again at once";
  EXPECT_THAT(EventTypes("cert/a"), Contains("secret.overdue"));
  ASSERT_OK_AND_ASSIGN(std::vector<SecretStatus> status, engine_->Status("cert/a", 0));
  EXPECT_GT(status.front().state.next_due, clock_.Now() + absl::Minutes(50));
}

TEST_F(EngineTest, APendingVersionStagedByAnotherWriterIsLeftAlone) {
  Provision("app/db", kFaultConfig);
  ASSERT_OK(kv_->Put("app/db", SecretBytes(R"j({"value":"staged-by-aws"})j"),
                     secrets::WriteOptions{.actor = "aws", .stage_label = "pending"})
                .status());
  ASSERT_OK_AND_ASSIGN(RunRecord run, engine_->Rotate("app/db", {}));
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(RunRecord done, engine_->GetRun("app/db", run.id));
  EXPECT_EQ(done.outcome, Outcome::kAbandoned);
  EXPECT_THAT(done.error, HasSubstr("another writer"));
  ASSERT_OK_AND_ASSIGN(secrets::SecretMetadata meta, kv_->GetMetadata("app/db"));
  EXPECT_FALSE(meta.versions.at(2).destroyed);
  EXPECT_EQ(meta.labels.at("pending"), 2u);
}

TEST_F(EngineTest, ARevokeThatKeepsCrashingTheServerIsGivenUp) {
  Provision("app/db", kFaultConfig);
  options_.crash_for_test = CrashPointForTest{Phase::kRevoke, true, [] { throw Crash{}; }};
  NewEngine();
  ASSERT_OK(engine_->Rotate("app/db", {.incident = true}).status());
  for (int restart = 0; restart < 3; ++restart) {
    EXPECT_THROW(engine_->RunUntilIdle(), Crash) << restart;
    NewEngine();
  }
  engine_->RunUntilIdle();
  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, engine_->Runs("app/db", 0));
  EXPECT_EQ(runs[0].outcome, Outcome::kSucceeded);
  EXPECT_THAT(runs[0].error, HasSubstr("given up"));
  EXPECT_NE(Current("app/db"), "initial");
  EXPECT_THAT(EventTypes("app/db"), Contains("rotation.revoke_failed"));
}

TEST_F(EngineTest, NotifyUrlsWithCredentialsAreRefused) {
  std::vector<Problem> problems;
  EXPECT_THAT(engine_->SetConfig("app/db",
                                 json::parse(R"j({"rotator":"fault",)j"
                                             R"j("notify":["https://user:tok@hooks.example/x"]})j")
                                     .as_object(),
                                 &problems),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "notify");
  EXPECT_OK(engine_->SetConfig(
      "app/db", json::parse(R"j({"rotator":"fault","notify":["https://hooks.example/x",)j"
                            R"j({"url":"http://127.0.0.1:9/y","signing_secret":"ops/k"}]})j")
                    .as_object()));
}

// Regression: the scheduler thread waited on the workers' condition variable and could swallow
// the wakeup meant for a worker, leaving a run queued with every worker idle.
TEST(EngineThreadsTest, EveryQueuedRunIsPickedUpByAWorker) {
  storage::MemoryStore store;
  RealClock clock;
  FakeRandom random;
  NoHttp http;
  RotatorRegistry registry;
  ASSERT_OK(rotators::generic::RegisterGenericRotator(registry));
  secrets::SecretsService kv(store, clock, random, "secret");
  EngineOptions options;
  options.workers = 2;
  options.tick = absl::Hours(1);  // the scheduler sleeps through the test
  RotationEngine engine(store, kv, registry, clock, random, http, options);
  ASSERT_OK(engine.Start());
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  engine.events().AddListener([&](const Event& e) {
    if (e.type != "rotation.completed") return;
    std::lock_guard<std::mutex> lock(mu);
    ++completed;
    cv.notify_all();
  });
  constexpr int kRuns = 40;
  for (int i = 0; i < kRuns; ++i) {
    const std::string path = rekey::StrCat("app/k", i);
    ASSERT_OK(
        engine.SetConfig(path, json::parse(R"j({"rotator":"generic","grace":"0s"})j").as_object()));
    ASSERT_OK(engine.Rotate(path, {}).status());
  }
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return completed == kRuns; }))
      << completed << " of " << kRuns << " runs completed";
  lock.unlock();
  engine.Stop();
}

}  // namespace
}  // namespace rekey::rotation
