// OsRandom over RAND_bytes.
#include "crypto/os_random.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace rekey::crypto {

void OsRandom::Fill(absl::Span<uint8_t> out) {
  // RAND_bytes takes an int length; feed large spans in chunks.
  constexpr size_t kMaxChunk = size_t{1} << 30;
  while (!out.empty()) {
    const size_t n = std::min(out.size(), kMaxChunk);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      char reason[256] = "unknown";
      if (unsigned long code = ERR_get_error(); code != 0) {
        ERR_error_string_n(code, reason, sizeof(reason));
      }
      std::fprintf(stderr, "FATAL: OpenSSL RAND_bytes failed: %s\n", reason);
      std::abort();
    }
    out.remove_prefix(n);
  }
}

}  // namespace rekey::crypto
