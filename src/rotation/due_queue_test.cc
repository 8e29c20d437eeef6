#include "rotation/due_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/random.h"

namespace rekey::rotation {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

DueQueueOptions NoSpacingNoJitter() {
  return DueQueueOptions{absl::ZeroDuration(), absl::ZeroDuration()};
}

DueQueueOptions SpacingOnly(absl::Duration spacing) {
  return DueQueueOptions{spacing, absl::ZeroDuration()};
}

TEST(DueQueueTest, PopsInDueOrder) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  q.Upsert("c", kT0 + absl::Seconds(3), "");
  q.Upsert("a", kT0 + absl::Seconds(1), "");
  q.Upsert("b", kT0 + absl::Seconds(2), "");
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.NextDue(), kT0 + absl::Seconds(1));
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(10), 10), ElementsAre("a", "b", "c"));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.NextDue(), std::nullopt);
}

TEST(DueQueueTest, PopsOnlyWhatIsDueIncludingExactlyNow) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  q.Upsert("a", kT0 + absl::Seconds(1), "");
  q.Upsert("b", kT0 + absl::Seconds(2), "");
  q.Upsert("c", kT0 + absl::Seconds(3), "");
  EXPECT_THAT(q.PopDue(kT0, 10), IsEmpty());
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(2), 10), ElementsAre("a", "b"));
  EXPECT_EQ(q.NextDue(), kT0 + absl::Seconds(3));
  EXPECT_EQ(q.size(), 1u);
}

TEST(DueQueueTest, EmptyTickReturnsNothing) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  EXPECT_THAT(q.PopDue(kT0, 10), IsEmpty());
  q.Upsert("a", kT0 + absl::Hours(1), "t");
  EXPECT_GT(*q.NextDue(), kT0);
  EXPECT_THAT(q.PopDue(kT0, 10), IsEmpty());
  EXPECT_EQ(q.size(), 1u);
}

TEST(DueQueueTest, RemoveDropsTheEntry) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  q.Upsert("a", kT0 + absl::Seconds(1), "");
  q.Upsert("b", kT0 + absl::Seconds(2), "");
  q.Upsert("c", kT0 + absl::Seconds(3), "");
  EXPECT_TRUE(q.Remove("b"));
  EXPECT_FALSE(q.Remove("b"));
  EXPECT_FALSE(q.Remove("nope"));
  EXPECT_TRUE(q.Remove("a"));  // the earliest
  EXPECT_EQ(q.NextDue(), kT0 + absl::Seconds(3));
  EXPECT_EQ(q.Due("b"), std::nullopt);
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(10), 10), ElementsAre("c"));
}

TEST(DueQueueTest, UpsertReplacesTheDueTime) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  q.Upsert("a", kT0 + absl::Seconds(1), "");
  q.Upsert("b", kT0 + absl::Seconds(2), "");
  q.Upsert("a", kT0 + absl::Seconds(5), "");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.Due("a"), kT0 + absl::Seconds(5));
  EXPECT_EQ(q.NextDue(), kT0 + absl::Seconds(2));
  q.Upsert("a", kT0, "");  // and earlier again
  EXPECT_EQ(q.NextDue(), kT0);
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(10), 10), ElementsAre("a", "b"));
}

TEST(DueQueueTest, PopDueHonoursMax) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  for (int i = 0; i < 5; ++i) q.Upsert(absl::StrCat("p", i), kT0 + absl::Seconds(i), "");
  const absl::Time now = kT0 + absl::Minutes(1);
  EXPECT_THAT(q.PopDue(now, 2), ElementsAre("p0", "p1"));
  EXPECT_THAT(q.PopDue(now, 2), ElementsAre("p2", "p3"));
  EXPECT_THAT(q.PopDue(now, 2), ElementsAre("p4"));
  EXPECT_THAT(q.PopDue(now, 0), IsEmpty());
}

TEST(DueQueueTest, InfiniteFutureIsNeverDue) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  q.Upsert("never", absl::InfiniteFuture(), "");
  EXPECT_EQ(q.NextDue(), absl::InfiniteFuture());
  EXPECT_THAT(q.PopDue(kT0 + absl::Hours(24 * 365 * 200), 10), IsEmpty());
}

TEST(DueQueueTest, SameTargetIsReleasedAtLeastSpacingApart) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  q.Upsert("x1", kT0, "postgres://db1");
  q.Upsert("x2", kT0, "postgres://db1");
  q.Upsert("y1", kT0, "postgres://db2");
  q.Upsert("z1", kT0, "");
  // Different targets and no target are not delayed; x2 waits for db1's spacing.
  EXPECT_THAT(q.PopDue(kT0, 10), UnorderedElementsAre("x1", "y1", "z1"));
  EXPECT_EQ(q.NextDue(), kT0 + absl::Seconds(30));
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(29), 10), IsEmpty());
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(30), 10), ElementsAre("x2"));
}

TEST(DueQueueTest, ManySecretsOfOneTargetTakeSuccessiveSlots) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  for (int i = 0; i < 5; ++i) q.Upsert(absl::StrCat("s", i), kT0, "redis://r1");
  std::vector<absl::Time> released;
  for (absl::Time now = kT0; now < kT0 + absl::Minutes(5); now += absl::Seconds(1)) {
    for (size_t n = q.PopDue(now, 100).size(); n > 0; --n) released.push_back(now);
  }
  ASSERT_EQ(released.size(), 5u);
  for (size_t i = 1; i < released.size(); ++i) {
    EXPECT_GE(released[i] - released[i - 1], absl::Seconds(30)) << i;
  }
  EXPECT_EQ(released.back(), kT0 + absl::Seconds(120));  // one slot each, none wasted
}

TEST(DueQueueTest, ReportsHowLongSpacingHeldAnEntryBack) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  for (const char* p : {"a", "b", "c"}) q.Upsert(p, kT0, "db1");
  q.Upsert("x", kT0, "db2");
  std::vector<absl::Duration> deferred;
  EXPECT_THAT(q.PopDue(kT0, 10, &deferred), ElementsAre("a", "x"));
  EXPECT_THAT(deferred, ElementsAre(absl::ZeroDuration(), absl::ZeroDuration()));
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(30), 10, &deferred), ElementsAre("b"));
  ASSERT_EQ(deferred.size(), 1u);
  EXPECT_GE(deferred[0], absl::Seconds(30));
  EXPECT_LE(deferred[0], absl::Seconds(31));
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(60), 10, &deferred), ElementsAre("c"));
  EXPECT_GE(deferred[0], absl::Seconds(60));
}

TEST(DueQueueTest, HeldBackEntriesGetDistinctReleaseSlots) {
  // So a large backlog on one target is re-queued once per entry, not once per tick.
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  for (int i = 0; i < 4; ++i) q.Upsert(absl::StrCat("s", i), kT0, "t");
  EXPECT_THAT(q.PopDue(kT0, 10), ElementsAre("s0"));
  EXPECT_EQ(q.Due("s1"), kT0 + absl::Seconds(30));
  EXPECT_EQ(q.Due("s2"), kT0 + absl::Seconds(60));
  EXPECT_EQ(q.Due("s3"), kT0 + absl::Seconds(90));
}

TEST(DueQueueTest, SpacingCountsFromTheLastReleaseEvenForLaterEntries) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  q.Upsert("a", kT0, "t");
  EXPECT_THAT(q.PopDue(kT0, 10), ElementsAre("a"));
  q.Upsert("b", kT0 + absl::Seconds(10), "t");
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(10), 10), IsEmpty());
  EXPECT_EQ(q.Due("b"), kT0 + absl::Seconds(30));
  // Even after "a" was the target's only entry (the target was retired and revived).
  EXPECT_THAT(q.PopDue(kT0 + absl::Seconds(30), 10), ElementsAre("b"));
}

TEST(DueQueueTest, DifferentTargetsAreNotDelayed) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  for (int i = 0; i < 100; ++i) q.Upsert(absl::StrCat("s", i), kT0, absl::StrCat("target-", i));
  EXPECT_EQ(q.PopDue(kT0, 1000).size(), 100u);
}

TEST(DueQueueTest, TargetsAreInternedAndFreedAfterTheirSpacing) {
  DueQueue q(SpacingOnly(absl::Seconds(30)), nullptr);
  for (int i = 0; i < 90; ++i) {
    q.Upsert(absl::StrCat("s", i), kT0 + absl::Hours(1), absl::StrCat("target-", i % 3));
  }
  EXPECT_EQ(q.target_count(), 3u);
  q.Upsert("s0", kT0 + absl::Hours(1), "target-new");  // moves s0 to a new target
  EXPECT_EQ(q.target_count(), 4u);
  for (int i = 0; i < 90; ++i) q.Remove(absl::StrCat("s", i));
  EXPECT_EQ(q.size(), 0u);
  q.PopDue(kT0, 10);  // never-released targets are freed at the next tick
  EXPECT_EQ(q.target_count(), 0u);

  q.Upsert("a", kT0, "t");
  EXPECT_THAT(q.PopDue(kT0, 10), ElementsAre("a"));
  q.PopDue(kT0 + absl::Seconds(29), 10);
  EXPECT_EQ(q.target_count(), 1u);  // its spacing still matters
  q.PopDue(kT0 + absl::Seconds(30), 10);
  EXPECT_EQ(q.target_count(), 0u);
}

TEST(DueQueueTest, JitterIsWithinBoundsAndSpreadsEntries) {
  FakeRandom random(7);
  DueQueue q(DueQueueOptions{absl::ZeroDuration(), absl::Seconds(10)}, &random);
  for (int i = 0; i < 1000; ++i) q.Upsert(absl::StrCat("s", i), kT0, "");
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  for (int i = 0; i < 1000; ++i) {
    absl::Time due = *q.Due(absl::StrCat("s", i));
    EXPECT_GE(due, kT0);
    EXPECT_LT(due, kT0 + absl::Seconds(10));
    lo = std::min(lo, due);
    hi = std::max(hi, due);
  }
  EXPECT_LT(lo, kT0 + absl::Seconds(1));
  EXPECT_GT(hi, kT0 + absl::Seconds(9));
  // Released in jittered order: nothing is due at kT0 - 1ns, all are by kT0 + 10s.
  EXPECT_THAT(q.PopDue(kT0 - absl::Nanoseconds(1), 2000), IsEmpty());
  EXPECT_EQ(q.PopDue(kT0 + absl::Seconds(10), 2000).size(), 1000u);
}

TEST(DueQueueTest, JitterIsReproducibleWithTheSameSeed) {
  FakeRandom r1(99), r2(99);
  DueQueue q1(DueQueueOptions{absl::ZeroDuration(), absl::Seconds(10)}, &r1);
  DueQueue q2(DueQueueOptions{absl::ZeroDuration(), absl::Seconds(10)}, &r2);
  q1.Upsert("a", kT0, "");
  q2.Upsert("a", kT0, "");
  EXPECT_EQ(q1.Due("a"), q2.Due("a"));
}

// The heap against a std::multimap model, under random upserts, removes and pops.
TEST(DueQueueTest, MatchesAModelUnderRandomOperations) {
  DueQueue q(NoSpacingNoJitter(), nullptr);
  FakeRandom random(1);
  std::map<std::string, absl::Time> model;
  absl::Time now = kT0;
  for (int step = 0; step < 20000; ++step) {
    const std::string path = absl::StrCat("p", random.Uniform(500));
    const uint64_t op = random.Uniform(10);
    if (op < 6) {
      // Distinct due times per path keep the expected order unique.
      const absl::Time due = now + absl::Seconds(static_cast<int64_t>(random.Uniform(1000))) +
                             absl::Nanoseconds(std::stoi(path.substr(1)));
      q.Upsert(path, due, "");
      model[path] = due;
    } else if (op < 8) {
      EXPECT_EQ(q.Remove(path), model.erase(path) == 1);
    } else {
      now += absl::Seconds(static_cast<int64_t>(random.Uniform(50)));
      const size_t max = random.Uniform(20);
      std::vector<std::pair<absl::Time, std::string>> due;
      for (const auto& [p, t] : model) {
        if (t <= now) due.emplace_back(t, p);
      }
      std::sort(due.begin(), due.end());
      std::vector<std::string> expected;
      for (size_t i = 0; i < due.size() && i < max; ++i) {
        expected.push_back(due[i].second);
        model.erase(due[i].second);
      }
      ASSERT_EQ(q.PopDue(now, max), expected) << "step " << step;
    }
    ASSERT_EQ(q.size(), model.size());
  }
}

TEST(DueQueueTest, ConcurrentUpsertsAndPops) {
  FakeRandom random;
  DueQueue q(DueQueueOptions{absl::Seconds(1), absl::Seconds(1)}, &random);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&q, t] {
      for (int i = 0; i < 2000; ++i) {
        q.Upsert(absl::StrCat("t", t, "/", i), kT0 + absl::Seconds(i % 100), absl::StrCat(i % 7));
        if (i % 3 == 0) q.PopDue(kT0, 5);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  size_t popped = 0;
  for (absl::Time now = kT0; q.size() > 0 && now < kT0 + absl::Hours(24); now += absl::Seconds(1)) {
    popped += q.PopDue(now, 1000000).size();
  }
  EXPECT_EQ(q.size(), 0u);
  EXPECT_LE(popped, 8000u);
}

}  // namespace
}  // namespace rekey::rotation
