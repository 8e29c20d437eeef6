// GoogleTest matchers for absl::Status / absl::StatusOr: IsOk(), StatusIs(code[, message matcher]),
// and ASSERT_OK_AND_ASSIGN.
#ifndef REKEY_CORE_TESTING_STATUS_MATCHERS_H_
#define REKEY_CORE_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/status_macros.h"

namespace rekey::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::rekey::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::rekey::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = ::rekey::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

}  // namespace rekey::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::rekey::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::rekey::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                            \
  auto REKEY_STATUS_CONCAT_(rekey_test_so_, __LINE__) = (expr);    \
  ASSERT_TRUE(REKEY_STATUS_CONCAT_(rekey_test_so_, __LINE__).ok()) \
      << REKEY_STATUS_CONCAT_(rekey_test_so_, __LINE__).status();  \
  lhs = std::move(REKEY_STATUS_CONCAT_(rekey_test_so_, __LINE__)).value()

#endif  // REKEY_CORE_TESTING_STATUS_MATCHERS_H_
