// Converts OpenSSL's thread-local error queue into an absl::Status.
#include "crypto/internal/openssl_util.h"

#include <openssl/err.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "core/strings.h"

namespace rekey::crypto::internal {

absl::Status OpenSslError(std::string_view operation) {
  std::string reasons;
  // Bound the message: the queue can hold many entries after a deep failure.
  constexpr int kMaxReasons = 4;
  int count = 0;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    if (count++ >= kMaxReasons) continue;
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", buf);
  }
  if (reasons.empty()) reasons = "no OpenSSL error reported";
  return absl::InternalError(absl::StrCat(ToAbsl(operation), " failed: ", reasons));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace rekey::crypto::internal
