// Encoding and validating decoding of serialized keysets.
#include "crypto/internal/keyset_format.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/strings.h"
#include "crypto/internal/aes_gcm.h"

namespace rekey::crypto::internal {
namespace {

constexpr std::string_view kMagic = "RKKS";
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 4 + 1 + 4;
// id, status, flags, created, encryptions, material length.
constexpr size_t kKeyFixedSize = 4 + 1 + 1 + 8 + 8 + 1;
constexpr uint8_t kFlagPrimary = 0x01;

uint8_t StatusByte(KeyStatus status) {
  switch (status) {
    case KeyStatus::kEnabled:
      return 1;
    case KeyStatus::kDisabled:
      return 2;
    case KeyStatus::kDestroyed:
      return 3;
  }
  return 0;
}

// Writes big-endian integers into a preallocated buffer.
class Writer {
 public:
  explicit Writer(uint8_t* out) : out_(out) {}
  void Bytes(std::string_view s) {
    if (!s.empty()) std::memcpy(out_, s.data(), s.size());
    out_ += s.size();
  }
  void U8(uint8_t v) { *out_++ = v; }
  void U32(uint32_t v) { Uint(v, 4); }
  void U64(uint64_t v) { Uint(v, 8); }

 private:
  void Uint(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *out_++ = static_cast<uint8_t>(v >> (8 * i));
  }
  uint8_t* out_;
};

// Reads big-endian integers; every read is bounds-checked by the caller through remaining().
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  size_t remaining() const { return in_.size(); }
  std::string_view Bytes(size_t n) {
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  uint8_t U8() { return static_cast<uint8_t>(Bytes(1)[0]); }
  uint32_t U32() { return static_cast<uint32_t>(Uint(4)); }
  uint64_t U64() { return Uint(8); }

 private:
  uint64_t Uint(int bytes) {
    uint64_t v = 0;
    for (char c : Bytes(bytes)) v = (v << 8) | static_cast<uint8_t>(c);
    return v;
  }
  std::string_view in_;
};

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("invalid keyset: ", ToAbsl(what)));
}

// Decodes one key whose kKeyFixedSize header is known to be present.
absl::StatusOr<KeyRecord> DecodeKey(Reader& reader, size_t index) {
  KeyRecord record;
  record.info.id = reader.U32();
  const uint8_t status = reader.U8();
  const uint8_t flags = reader.U8();
  record.info.created = absl::FromUnixNanos(static_cast<int64_t>(reader.U64()));
  record.info.encryptions = reader.U64();
  const uint8_t material_size = reader.U8();

  if (record.info.id == 0) return Invalid(absl::StrCat("key #", index, " has id 0"));
  const std::string key_name = absl::StrCat("key ", record.info.id);
  switch (status) {
    case 1:
      record.info.status = KeyStatus::kEnabled;
      break;
    case 2:
      record.info.status = KeyStatus::kDisabled;
      break;
    case 3:
      record.info.status = KeyStatus::kDestroyed;
      break;
    default:
      return Invalid(absl::StrCat(key_name, " has unknown status ", static_cast<int>(status)));
  }
  if ((flags & ~kFlagPrimary) != 0) {
    return Invalid(absl::StrCat(key_name, " has unknown flags ", static_cast<int>(flags)));
  }
  record.info.primary = (flags & kFlagPrimary) != 0;

  const size_t want_size = record.info.status == KeyStatus::kDestroyed ? 0 : kAesGcmKeySize;
  if (material_size != want_size) {
    return Invalid(absl::StrCat(key_name, " has ", static_cast<int>(material_size),
                                " bytes of material, expected ", want_size));
  }
  if (reader.remaining() < material_size) {
    return Invalid(absl::StrCat(key_name, " is truncated"));
  }
  record.material = SecretBytes(reader.Bytes(material_size));
  return record;
}

}  // namespace

SecretBytes EncodeKeyset(const std::vector<KeyRecord>& keys) {
  size_t size = kHeaderSize;
  for (const KeyRecord& key : keys) size += kKeyFixedSize + key.material.size();
  // Written straight into the secret buffer: no intermediate copy of the material exists.
  SecretBytes out = SecretBytes::Zeroed(size);
  Writer writer(out.MutableData());
  writer.Bytes(kMagic);
  writer.U8(kFormatVersion);
  writer.U32(static_cast<uint32_t>(keys.size()));
  for (const KeyRecord& key : keys) {
    writer.U32(key.info.id);
    writer.U8(StatusByte(key.info.status));
    writer.U8(key.info.primary ? kFlagPrimary : 0);
    writer.U64(static_cast<uint64_t>(absl::ToUnixNanos(key.info.created)));
    writer.U64(key.info.encryptions);
    writer.U8(static_cast<uint8_t>(key.material.size()));
    writer.Bytes(key.material.Reveal());
  }
  return out;
}

absl::StatusOr<std::vector<KeyRecord>> DecodeKeyset(std::string_view data) {
  Reader reader(data);
  if (reader.remaining() < kHeaderSize) return Invalid("too short for a header");
  if (reader.Bytes(kMagic.size()) != kMagic) return Invalid("not a serialized keyset (bad magic)");
  if (const uint8_t version = reader.U8(); version != kFormatVersion) {
    return Invalid(absl::StrCat("unsupported format version ", static_cast<int>(version)));
  }
  const uint32_t count = reader.U32();
  if (count == 0 || count > kMaxKeysetKeys) {
    return Invalid(absl::StrCat("key count ", count, " is not in 1..", kMaxKeysetKeys));
  }

  std::vector<KeyRecord> keys;
  keys.reserve(count);
  absl::flat_hash_set<uint32_t> ids;
  size_t primaries = 0;
  for (size_t i = 0; i < count; ++i) {
    if (reader.remaining() < kKeyFixedSize) {
      return Invalid(absl::StrCat("truncated at key #", i));
    }
    absl::StatusOr<KeyRecord> key = DecodeKey(reader, i);
    if (!key.ok()) return key.status();
    if (!ids.insert(key->info.id).second) {
      return Invalid(absl::StrCat("duplicate key id ", key->info.id));
    }
    if (key->info.primary) {
      ++primaries;
      if (key->info.status != KeyStatus::kEnabled) {
        return Invalid(absl::StrCat("primary key ", key->info.id, " is not enabled"));
      }
    }
    keys.push_back(std::move(*key));
  }
  if (primaries != 1) {
    return Invalid(absl::StrCat(primaries, " primary keys, expected exactly 1"));
  }
  if (reader.remaining() != 0) {
    return Invalid(absl::StrCat(reader.remaining(), " trailing bytes"));
  }
  return keys;
}

}  // namespace rekey::crypto::internal
