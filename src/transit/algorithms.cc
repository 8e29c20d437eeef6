#include "transit/algorithms.h"

#include <utility>

namespace rekey::transit {

std::optional<HashAlgorithm> ParseHashAlgorithm(std::string_view name) {
  static constexpr std::pair<std::string_view, HashAlgorithm> kNames[] = {
      {"sha1", HashAlgorithm::kSha1},         {"sha2-224", HashAlgorithm::kSha2_224},
      {"sha2-256", HashAlgorithm::kSha2_256}, {"sha2-384", HashAlgorithm::kSha2_384},
      {"sha2-512", HashAlgorithm::kSha2_512}, {"sha3-224", HashAlgorithm::kSha3_224},
      {"sha3-256", HashAlgorithm::kSha3_256}, {"sha3-384", HashAlgorithm::kSha3_384},
      {"sha3-512", HashAlgorithm::kSha3_512},
  };
  for (const auto& [n, a] : kNames) {
    if (n == name) return a;
  }
  return std::nullopt;
}

size_t DigestSize(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::kSha1:
      return 20;
    case HashAlgorithm::kSha2_224:
    case HashAlgorithm::kSha3_224:
      return 28;
    case HashAlgorithm::kSha2_256:
    case HashAlgorithm::kSha3_256:
      return 32;
    case HashAlgorithm::kSha2_384:
    case HashAlgorithm::kSha3_384:
      return 48;
    case HashAlgorithm::kSha2_512:
    case HashAlgorithm::kSha3_512:
      return 64;
  }
  return 32;
}

}  // namespace rekey::transit
