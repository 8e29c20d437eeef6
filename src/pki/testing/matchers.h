// IsOkAndHolds(m): a StatusOr<T> that is OK and whose value matches `m` (a value or matcher).
#ifndef REKEY_PKI_TESTING_MATCHERS_H_
#define REKEY_PKI_TESTING_MATCHERS_H_

#include <gmock/gmock.h>

namespace rekey::pki::testing {

MATCHER_P(IsOkAndHolds, expected, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(expected, *arg, result_listener);
}

}  // namespace rekey::pki::testing

#endif  // REKEY_PKI_TESTING_MATCHERS_H_
