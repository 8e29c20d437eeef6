// UsageCounter: batched persistence, the upper-bound guarantee, limits and several nodes.
#include "transit/usage_counter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::transit {
namespace {

using ::rekey::testing::StatusIs;

constexpr char kRecord[] = "transit/usage/k";

UsageLimits Limits(uint64_t block, uint64_t threshold, uint64_t hard) {
  UsageLimits l;
  l.block = block;
  l.rotation_threshold = threshold;
  l.hard_limit = hard;
  return l;
}

TEST(UsageCounterTest, WritesOncePerBlockNotPerEncryption) {
  storage::MemoryStore store;
  UsageCounter c(store, kRecord, Limits(100, 1000, 10000));
  ASSERT_OK(c.Load());
  const uint64_t before = store.CommitIndex();
  for (int i = 0; i < 250; ++i) ASSERT_OK(c.Take(1, 1));
  EXPECT_EQ(store.CommitIndex() - before, 3u);  // blocks at 0, 100 and 200
  EXPECT_EQ(c.Count(1), 250u);
  EXPECT_TRUE(c.CanTakeWithoutWrite(1, 50));
  EXPECT_FALSE(c.CanTakeWithoutWrite(1, 51));
  EXPECT_FALSE(c.CanTakeWithoutWrite(2, 1));
}

TEST(UsageCounterTest, StoredTotalIsAnUpperBoundAfterACrash) {
  storage::MemoryStore store;
  {
    UsageCounter c(store, kRecord, Limits(100, 1000, 10000));
    ASSERT_OK(c.Load());
    for (int i = 0; i < 30; ++i) ASSERT_OK(c.Take(1, 1));
    // "Crash": no Release.
  }
  UsageCounter after(store, kRecord, Limits(100, 1000, 10000));
  ASSERT_OK(after.Load());
  EXPECT_GE(after.Count(1), 30u);
  EXPECT_EQ(after.Count(1), 100u);
}

TEST(UsageCounterTest, ReleaseGivesBackTheUnspentAllowance) {
  storage::MemoryStore store;
  UsageCounter c(store, kRecord, Limits(100, 1000, 10000));
  ASSERT_OK(c.Load());
  ASSERT_OK(c.Take(1, 30));
  ASSERT_OK(c.Take(2, 5));
  ASSERT_OK(c.Release());
  UsageCounter after(store, kRecord, Limits(100, 1000, 10000));
  ASSERT_OK(after.Load());
  EXPECT_EQ(after.Count(1), 30u);
  EXPECT_EQ(after.Count(2), 5u);
}

TEST(UsageCounterTest, NeverPassesTheHardLimit) {
  storage::MemoryStore store;
  UsageCounter c(store, kRecord, Limits(40, 50, 100));
  ASSERT_OK(c.Load());
  uint64_t made = 0;
  absl::Status s;
  while ((s = c.Take(1, 1)).ok()) ++made;
  EXPECT_EQ(made, 100u);
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("rotate the key")));
  EXPECT_OK(c.Take(2, 1));  // other versions are unaffected
  // A batch that does not fit is refused whole.
  UsageCounter d(store, "transit/usage/other", Limits(40, 50, 100));
  ASSERT_OK(d.Load());
  ASSERT_OK(d.Take(1, 90));
  EXPECT_THAT(d.Take(1, 11), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(d.Take(1, 10));
}

TEST(UsageCounterTest, ReportsTheThresholdOnce) {
  storage::MemoryStore store;
  UsageCounter c(store, kRecord, Limits(10, 25, 1000));
  ASSERT_OK(c.Load());
  int reports = 0;
  for (int i = 0; i < 60; ++i) {
    bool crossed = false;
    ASSERT_OK(c.Take(1, 1, &crossed));
    if (crossed) ++reports;
  }
  EXPECT_EQ(reports, 1);
  EXPECT_TRUE(c.RotationNeeded(1));
  EXPECT_FALSE(c.RotationNeeded(2));
}

TEST(UsageCounterTest, SeveralNodesAddUp) {
  storage::MemoryStore store;
  UsageCounter a(store, kRecord, Limits(10, 1000, 1000));
  UsageCounter b(store, kRecord, Limits(10, 1000, 1000));
  ASSERT_OK(a.Load());
  ASSERT_OK(b.Load());
  for (int i = 0; i < 25; ++i) {
    ASSERT_OK(a.Take(1, 1));
    ASSERT_OK(b.Take(1, 1));
  }
  ASSERT_OK(a.Release());
  ASSERT_OK(b.Release());
  UsageCounter total(store, kRecord, Limits(10, 1000, 1000));
  ASSERT_OK(total.Load());
  EXPECT_EQ(total.Count(1), 50u);
}

TEST(UsageCounterTest, MalformedRecordIsDataLoss) {
  storage::MemoryStore store;
  storage::WriteBatch batch;
  batch.Put(kRecord, SecretBytes("[1,2]"));
  ASSERT_OK(store.Commit(batch).status());
  UsageCounter c(store, kRecord, {});
  EXPECT_THAT(c.Load(), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace rekey::transit
