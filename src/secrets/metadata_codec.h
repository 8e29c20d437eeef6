// The stored encoding of SecretMetadata: a compact, versioned binary format. Every KV write
// rewrites its secret's metadata record, so its size and encoding cost are on the write path.
#ifndef REKEY_SECRETS_METADATA_CODEC_H_
#define REKEY_SECRETS_METADATA_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "secrets/model.h"

namespace rekey::secrets::internal {

// Format 1: "RKM" 0x01, then unsigned LEB128 varints (u), little-endian 8-byte integers (i64)
// and length-prefixed byte strings (s = u length + bytes):
//   i64 created, i64 updated, u max_versions, u flags (bit 0 cas_required), i64 dva_ns,
//   u n_custom {s key, s value}, s description, u last_version,
//   u n_actors {s actor}                      -- distinct created_by values, indexed below
//   u n_versions {u number, s id, i64 created, u actor_index, u flags (bit 0 destroyed,
//                 bit 1 deleted), [i64 deletion_time when deleted]}
//   u n_labels {s label, u version}
std::string EncodeMetadataBinary(const SecretMetadata& meta);
// kDataLoss for anything that is not a complete, well-formed format-1 record.
absl::StatusOr<SecretMetadata> DecodeMetadataBinary(std::string_view data);
bool IsMetadataBinary(std::string_view data);

// Times as stored: Unix nanoseconds, with INT64_MAX / INT64_MIN for the infinite future / past.
int64_t ToNanos(absl::Time t);
absl::Time FromNanos(int64_t n);

}  // namespace rekey::secrets::internal

#endif  // REKEY_SECRETS_METADATA_CODEC_H_
