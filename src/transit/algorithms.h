// Hash and signature algorithm choices of transit requests, with Vault's names.
#ifndef REKEY_TRANSIT_ALGORITHMS_H_
#define REKEY_TRANSIT_ALGORITHMS_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace rekey::transit {

enum class HashAlgorithm {
  kSha1,
  kSha2_224,
  kSha2_256,
  kSha2_384,
  kSha2_512,
  kSha3_224,
  kSha3_256,
  kSha3_384,
  kSha3_512,
};

// Vault's names: "sha1", "sha2-224", ..., "sha3-512". nullopt for anything else.
std::optional<HashAlgorithm> ParseHashAlgorithm(std::string_view name);
size_t DigestSize(HashAlgorithm algorithm);

// RSA signature padding ("pss", Vault's default, or "pkcs1v15").
enum class RsaPadding { kPss, kPkcs1v15 };
// RSA-PSS salt lengths besides an explicit byte count.
inline constexpr int kPssSaltAuto = -2;    // sign: as long as possible; verify: detected
inline constexpr int kPssSaltDigest = -1;  // equal to the digest length

}  // namespace rekey::transit

#endif  // REKEY_TRANSIT_ALGORITHMS_H_
