// Tests for OsRandom (OpenSSL's CSPRNG behind the Random interface).
#include "crypto/os_random.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

namespace rekey::crypto {
namespace {

TEST(OsRandomTest, SuccessiveFillsDiffer) {
  OsRandom random;
  std::array<uint8_t, 32> a{}, b{};
  random.Fill(absl::MakeSpan(a));
  random.Fill(absl::MakeSpan(b));
  EXPECT_NE(a, b);  // Fails with probability 2^-256.
}

TEST(OsRandomTest, FillsTheWholeBuffer) {
  OsRandom random;
  std::vector<uint8_t> buf(4096, 0);
  random.Fill(absl::MakeSpan(buf));
  // Every 64-byte window of a zero-initialized buffer got written (all-zero has odds 2^-512).
  for (size_t i = 0; i < buf.size(); i += 64) {
    bool any = false;
    for (size_t j = i; j < i + 64; ++j) any |= buf[j] != 0;
    EXPECT_TRUE(any) << "window at " << i;
  }
}

TEST(OsRandomTest, UniformStaysInRangeAndHitsEveryValue) {
  OsRandom random;
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = random.Uniform(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
}  // namespace rekey::crypto
