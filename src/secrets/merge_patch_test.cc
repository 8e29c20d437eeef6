#include "secrets/merge_patch.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/strings.h"

namespace rekey::secrets {
namespace {

boost::json::value Patched(std::string_view target, std::string_view patch) {
  boost::json::value t = boost::json::parse(target);
  ApplyMergePatch(t, boost::json::parse(patch));
  return t;
}

// Cases from RFC 7386 appendix A.
TEST(MergePatchTest, FollowsRfc7386Examples) {
  EXPECT_EQ(Patched(R"({"a":"b"})", R"({"a":"c"})"), boost::json::parse(R"({"a":"c"})"));
  EXPECT_EQ(Patched(R"({"a":"b"})", R"({"b":"c"})"), boost::json::parse(R"({"a":"b","b":"c"})"));
  EXPECT_EQ(Patched(R"({"a":"b"})", R"({"a":null})"), boost::json::parse(R"({})"));
  EXPECT_EQ(Patched(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"),
            boost::json::parse(R"({"a":{"b":"d"}})"));
  EXPECT_EQ(Patched(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), boost::json::parse(R"({"a":[1]})"));
  EXPECT_EQ(Patched(R"({"e":null})", R"({"a":1})"), boost::json::parse(R"({"e":null,"a":1})"));
  EXPECT_EQ(Patched(R"([1,2])", R"({"a":"b","c":null})"), boost::json::parse(R"({"a":"b"})"));
}

}  // namespace
}  // namespace rekey::secrets
