// Random: the injected source of randomness. Production uses crypto::OsRandom (OpenSSL's CSPRNG);
// tests use FakeRandom for reproducible output.
#ifndef REKEY_CORE_RANDOM_H_
#define REKEY_CORE_RANDOM_H_

#include <cstdint>
#include <mutex>

#include "absl/types/span.h"

namespace rekey {

// Thread-safe: implementations may be called from any thread.
class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes. Never fails: a CSPRNG that cannot produce bytes aborts.
  virtual void Fill(absl::Span<uint8_t> out) = 0;

  uint32_t Uint32();
  uint64_t Uint64();
  // A uniformly distributed integer in [0, n), without modulo bias. `n` must be > 0.
  uint64_t Uniform(uint64_t n);
};

// Deterministic, NOT cryptographic: splitmix64 from a seed. For tests only.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed = 42) : state_(seed) {}
  void Fill(absl::Span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace rekey

#endif  // REKEY_CORE_RANDOM_H_
