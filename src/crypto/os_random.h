// OsRandom: the production Random, backed by OpenSSL's CSPRNG (seeded from the OS).
#ifndef REKEY_CRYPTO_OS_RANDOM_H_
#define REKEY_CRYPTO_OS_RANDOM_H_

#include <cstdint>

#include "absl/types/span.h"
#include "core/random.h"

namespace rekey::crypto {

// Thread-safe (OpenSSL's RAND_bytes is). Fill aborts the process if the CSPRNG fails: keys and
// tokens made from bad randomness are worse than no service.
class OsRandom final : public Random {
 public:
  void Fill(absl::Span<uint8_t> out) override;
};

}  // namespace rekey::crypto

#endif  // REKEY_CRYPTO_OS_RANDOM_H_
