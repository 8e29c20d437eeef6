// Debian's Abseil is built with its own absl::string_view rather than an alias of
// std::string_view, and neither converts to the other implicitly; these helpers do, without
// copying.
#ifndef REKEY_CRYPTO_INTERNAL_STRING_VIEW_COMPAT_H_
#define REKEY_CRYPTO_INTERNAL_STRING_VIEW_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace rekey::crypto::internal {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace rekey::crypto::internal

#endif  // REKEY_CRYPTO_INTERNAL_STRING_VIEW_COMPAT_H_
