// The secret data model: per-secret metadata (versions, labels, settings) and mount settings,
// and their stored encoding (JSON inside the encrypted barrier).
#ifndef REKEY_SECRETS_MODEL_H_
#define REKEY_SECRETS_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::secrets {

inline constexpr char kLabelCurrent[] = "current";
inline constexpr char kLabelPending[] = "pending";
inline constexpr char kLabelPrevious[] = "previous";
inline constexpr size_t kMaxLabelsPerVersion = 20;
inline constexpr size_t kMaxLabelLength = 256;

// One version of a secret. The value itself is stored in its own record.
struct VersionInfo {
  uint64_t number = 0;
  std::string id;  // UUIDv4, stable for the version's life (the AWS VersionId)
  absl::Time created = absl::InfinitePast();
  std::string created_by;  // token accessor, never the token
  // Soft-delete time; the version is deleted once this is <= now. InfiniteFuture = not deleted.
  absl::Time deletion_time = absl::InfiniteFuture();
  bool destroyed = false;  // material wiped; the entry stays for history

  bool IsDeletedAt(absl::Time now) const { return deletion_time <= now; }
  bool IsReadableAt(absl::Time now) const { return !destroyed && !IsDeletedAt(now); }
};

// Settings of one KV mount (Vault's /secret/config).
struct MountConfig {
  uint64_t max_versions = 10;  // 0 is stored as the default, 10
  bool cas_required = false;
  absl::Duration delete_version_after = absl::ZeroDuration();  // zero = never
};

// Everything about one secret except its values.
struct SecretMetadata {
  absl::Time created = absl::InfinitePast();
  absl::Time updated = absl::InfinitePast();
  uint64_t max_versions = 0;  // 0 = the mount's setting
  bool cas_required = false;
  absl::Duration delete_version_after = absl::ZeroDuration();  // zero = the mount's setting
  std::map<std::string, std::string> custom_metadata;
  std::string description;
  uint64_t last_version = 0;  // highest version number ever created; the next is last_version+1
  std::map<uint64_t, VersionInfo> versions;  // pruned versions are gone from here
  std::map<std::string, uint64_t> labels;    // label -> version number

  // The version labelled current, or 0 when none.
  uint64_t CurrentVersion() const;
  uint64_t OldestVersion() const { return versions.empty() ? 0 : versions.begin()->first; }
  // Labels on `version`, in name order.
  std::vector<std::string> LabelsOf(uint64_t version) const;
};

// Stored encodings. Decoding failures are kDataLoss (the record was written by us).
// EncodeMetadata writes the compact binary format (secrets/metadata_codec.h); DecodeMetadata
// reads it and the earlier JSON format (EncodeMetadataJson).
std::string EncodeMetadata(const SecretMetadata& meta);
absl::StatusOr<SecretMetadata> DecodeMetadata(std::string_view data);
std::string EncodeMetadataJson(const SecretMetadata& meta);
absl::StatusOr<SecretMetadata> DecodeMetadataJson(std::string_view data);
std::string EncodeMountConfig(const MountConfig& config);
absl::StatusOr<MountConfig> DecodeMountConfig(std::string_view data);

// A version number the way Vault renders durations ("0s", "1h30m0s"), and its parser, which
// accepts Go-style durations ("30m", "1h", "1.5h", "45s") and plain integers as seconds.
std::string FormatGoDuration(absl::Duration d);
absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text);

// RFC 3339 UTC with trimmed nanoseconds, as Vault prints times; "" for an unset time.
std::string FormatRfc3339(absl::Time t);

}  // namespace rekey::secrets

#endif  // REKEY_SECRETS_MODEL_H_
