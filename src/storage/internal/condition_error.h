// The one error every backend returns when a WriteBatch condition does not hold.
#ifndef REKEY_STORAGE_INTERNAL_CONDITION_ERROR_H_
#define REKEY_STORAGE_INTERNAL_CONDITION_ERROR_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "core/strings.h"

namespace rekey::storage::internal {

// kAborted naming the key and both mod_indexes (0 = absent); never a value.
inline absl::Status ConditionFailedError(std::string_view key, uint64_t expected, uint64_t actual) {
  return absl::AbortedError(rekey::StrCat("condition failed on key '", key,
                                          "': expected mod_index ", expected, ", found ", actual,
                                          " (0 = absent)"));
}

}  // namespace rekey::storage::internal

#endif  // REKEY_STORAGE_INTERNAL_CONDITION_ERROR_H_
