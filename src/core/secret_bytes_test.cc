#include "core/secret_bytes.h"

#include <gtest/gtest.h>

namespace rekey {
namespace {

TEST(SecretBytesTest, HoldsACopyOfTheBytes) {
  SecretBytes s("hunter2");
  EXPECT_EQ(s.size(), 7u);
  EXPECT_EQ(s.Reveal(), "hunter2");
}

TEST(SecretBytesTest, EqualityComparesContents) {
  EXPECT_TRUE(SecretBytes("abc") == SecretBytes("abc"));
  EXPECT_FALSE(SecretBytes("abc") == SecretBytes("abd"));
  EXPECT_FALSE(SecretBytes("abc") == SecretBytes("abcd"));
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a("value");
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented contract
  EXPECT_EQ(b.Reveal(), "value");
}

TEST(SecretBytesTest, TakeFromWipesTheSource) {
  std::string s = "material";
  SecretBytes b = SecretBytes::TakeFrom(s);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(b.Reveal(), "material");
}

TEST(SecretBytesTest, ZeroedIsAllZero) {
  SecretBytes z = SecretBytes::Zeroed(4);
  EXPECT_EQ(z.Reveal(), std::string(4, '\0'));
}

TEST(ConstantTimeEqualsTest, DiffersOnLengthAndContent) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("a", ""));
  EXPECT_FALSE(ConstantTimeEquals("ab", "ac"));
}

}  // namespace
}  // namespace rekey
