// The binary format Keyset::Serialize writes and Keyset::Deserialize reads, with the validation
// of the keyset invariants. Internal to src/crypto/.
//
// Layout (integers big-endian):
//   "RKKS" ‖ format version (1 byte, = 1) ‖ key count (u32, 1..kMaxKeysetKeys) ‖ keys...
//   key = id (u32) ‖ status (u8: 1 enabled, 2 disabled, 3 destroyed) ‖ flags (u8: bit 0 primary)
//         ‖ created (i64, unix ns) ‖ encryptions (u64) ‖ material length (u8: 32, or 0 when
//         destroyed) ‖ material
#ifndef REKEY_CRYPTO_INTERNAL_KEYSET_FORMAT_H_
#define REKEY_CRYPTO_INTERNAL_KEYSET_FORMAT_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/secret_bytes.h"
#include "crypto/keyset.h"

namespace rekey::crypto::internal {

inline constexpr size_t kMaxKeysetKeys = 65536;

// One key as stored: its public facts and its material (empty once destroyed).
struct KeyRecord {
  KeyInfo info;
  SecretBytes material;
};

// Encodes `keys` in order, exactly as given (no invariant is checked: tests use this to build
// invalid keysets). The result holds key material.
SecretBytes EncodeKeyset(const std::vector<KeyRecord>& keys);

// Decodes and validates: known format version, 1..kMaxKeysetKeys keys, nonzero unique ids, known
// status and flags, 32 bytes of material for every non-destroyed key and none for destroyed
// ones, exactly one primary and it is enabled, no trailing bytes. kInvalidArgument naming the
// broken rule (and the key id, never material) otherwise.
absl::StatusOr<std::vector<KeyRecord>> DecodeKeyset(std::string_view data);

}  // namespace rekey::crypto::internal

#endif  // REKEY_CRYPTO_INTERNAL_KEYSET_FORMAT_H_
