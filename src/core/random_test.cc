#include "core/random.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace rekey {
namespace {

TEST(FakeRandomTest, IsDeterministicForASeed) {
  FakeRandom a(7), b(7), c(8);
  uint64_t x = a.Uint64();
  EXPECT_EQ(x, b.Uint64());
  EXPECT_NE(x, c.Uint64());
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  FakeRandom r;
  bool seen[5] = {};
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = r.Uniform(5);
    ASSERT_LT(v, 5u);
    seen[v] = true;
  }
  for (bool s : seen) EXPECT_TRUE(s);
}

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  absl::Time t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(5));
}

}  // namespace
}  // namespace rekey
