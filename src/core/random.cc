#include "core/random.h"

#include <cstdlib>
#include <cstring>

namespace rekey {

uint32_t Random::Uint32() {
  uint32_t v;
  Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(&v), sizeof(v)));
  return v;
}

uint64_t Random::Uint64() {
  uint64_t v;
  Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(&v), sizeof(v)));
  return v;
}

uint64_t Random::Uniform(uint64_t n) {
  if (n == 0) std::abort();
  // Reject the top partial range so every residue is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  for (;;) {
    uint64_t v = Uint64();
    if (v < limit) return v % n;
  }
}

void FakeRandom::Fill(absl::Span<uint8_t> out) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < out.size()) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z = z ^ (z >> 31);
    size_t n = std::min(sizeof(z), out.size() - i);
    std::memcpy(out.data() + i, &z, n);
    i += n;
  }
}

}  // namespace rekey
