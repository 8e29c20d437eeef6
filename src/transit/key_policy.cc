#include "transit/key_policy.h"

#include <boost/json.hpp>
#include <limits>

#include "core/status_macros.h"
#include "core/strings.h"
#include "transit/internal/codec.h"

namespace rekey::transit {
namespace {

namespace json = boost::json;
using internal::AsymmetricKey;

constexpr int kFormat = 1;
constexpr size_t kHmacKeySize = 32;
constexpr size_t kMaxNameSize = 128;

SecretBytes RandomBytes(Random& random, size_t n) {
  SecretBytes out = SecretBytes::Zeroed(n);
  random.Fill(absl::MakeSpan(out.MutableData(), out.size()));
  return out;
}

// Fresh material for version `number` of a key of `type`.
absl::StatusOr<KeyVersion> NewVersion(KeyType type, uint32_t number, Random& random,
                                      const Clock& clock) {
  KeyVersion v;
  v.number = number;
  v.created = clock.Now();
  v.hmac_key = RandomBytes(random, kHmacKeySize);
  if (IsSymmetric(type)) {
    v.key = RandomBytes(random, SymmetricKeySize(type));
    return v;
  }
  if (type == KeyType::kEd25519) {
    v.key = RandomBytes(random, 32);
    ASSIGN_OR_RETURN(v.asymmetric, AsymmetricKey::FromEd25519Seed(v.key.Reveal()));
  } else {
    ASSIGN_OR_RETURN(v.asymmetric, AsymmetricKey::Generate(type));
    ASSIGN_OR_RETURN(v.key, v.asymmetric->StoredForm());
  }
  ASSIGN_OR_RETURN(v.public_key, v.asymmetric->PublicKeyFormatted());
  return v;
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(rekey::StrCat("stored transit key is corrupt: ", what));
}

int64_t ToNanos(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixNanos(t);
}

// Reads a non-negative integer field that fits in uint32_t.
std::optional<uint32_t> U32(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<uint32_t>::max()) {
    return static_cast<uint32_t>(v->get_uint64());
  }
  if (v->is_int64() && v->get_int64() >= 0 &&
      v->get_int64() <= std::numeric_limits<uint32_t>::max()) {
    return static_cast<uint32_t>(v->get_int64());
  }
  return std::nullopt;
}

std::optional<bool> Bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

std::optional<std::string_view> Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string().data(), v->get_string().size());
}

std::optional<int64_t> I64(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

}  // namespace

absl::Status KeyPolicy::Validate() const {
  const KeyPolicy& p = *this;
  const uint32_t first = std::max<uint32_t>(1, p.min_available_version);
  if (p.latest_version < 1) return Corrupt("no versions");
  if (p.min_decryption_version < first || p.min_decryption_version > p.latest_version) {
    return Corrupt("min_decryption_version out of range");
  }
  if (p.min_encryption_version != 0 && (p.min_encryption_version < p.min_decryption_version ||
                                        p.min_encryption_version > p.latest_version)) {
    return Corrupt("min_encryption_version out of range");
  }
  if (p.versions.size() != p.latest_version - first + 1) return Corrupt("versions missing");
  for (uint32_t n = first; n <= p.latest_version; ++n) {
    if (!p.versions.contains(n)) return Corrupt("versions missing");
  }
  if (p.convergent && !p.derived) return Corrupt("convergent without derived");
  if (p.derived && !SupportsDerivation(p.type)) return Corrupt("derived on a non-derivable type");
  return absl::OkStatus();
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameSize) return false;
  if (!IsWordChar(name.front()) || !IsWordChar(name.back())) return false;
  for (char c : name) {
    if (!IsWordChar(c) && c != '-' && c != '.') return false;
  }
  return true;
}

absl::StatusOr<KeyPolicy> KeyPolicy::Create(std::string_view name, const KeyCreateOptions& options,
                                            Random& random, const Clock& clock) {
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(
        "invalid key name: use letters, digits, '_', '-' and '.', starting and ending with a "
        "letter, digit or '_' (at most 128 bytes)");
  }
  if (options.auto_rotate_period != absl::ZeroDuration() &&
      options.auto_rotate_period < kMinAutoRotatePeriod) {
    return absl::InvalidArgumentError(
        "auto rotate period must be 0 to disable or at least an hour");
  }
  if (options.convergent && !options.derived) {
    return absl::InvalidArgumentError("convergent encryption requires derivation to be enabled");
  }
  if (options.derived && !SupportsDerivation(options.type)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("key derivation and convergent encryption not supported for keys of type ",
                      KeyTypeName(options.type)));
  }
  if (options.convergent && options.type == KeyType::kEd25519) {
    return absl::InvalidArgumentError(
        "convergent encryption not supported for keys of type ed25519");
  }
  KeyPolicy p;
  p.name = std::string(name);
  p.type = options.type;
  p.derived = options.derived;
  p.convergent = options.convergent;
  p.exportable = options.exportable;
  p.allow_plaintext_backup = options.allow_plaintext_backup;
  p.auto_rotate_period = options.auto_rotate_period;
  RETURN_IF_ERROR(p.Rotate(random, clock));
  return p;
}

absl::Status KeyPolicy::Rotate(Random& random, const Clock& clock) {
  if (latest_version == std::numeric_limits<uint32_t>::max()) {
    return absl::FailedPreconditionError("key has reached the highest version number");
  }
  ASSIGN_OR_RETURN(KeyVersion v, NewVersion(type, latest_version + 1, random, clock));
  latest_version = v.number;
  versions.emplace(v.number, std::move(v));
  if (min_decryption_version == 0) min_decryption_version = 1;
  return absl::OkStatus();
}

const KeyVersion* KeyPolicy::Find(uint32_t version) const {
  auto it = versions.find(version);
  return it == versions.end() ? nullptr : &it->second;
}

absl::Time KeyPolicy::LastRotated() const {
  const KeyVersion* latest = Find(latest_version);
  return latest == nullptr ? absl::InfinitePast() : latest->created;
}

SecretBytes KeyPolicy::Serialize() const {
  json::object o(internal::ZeroingJsonStorage());
  o["format"] = kFormat;
  o["name"] = name;
  o["type"] = KeyTypeName(type);
  o["derived"] = derived;
  o["kdf"] = "hkdf_sha256";
  o["convergent"] = convergent;
  o["convergent_version"] = convergent ? kConvergentVersion : 0;
  o["exportable"] = exportable;
  o["allow_plaintext_backup"] = allow_plaintext_backup;
  o["deletion_allowed"] = deletion_allowed;
  o["latest_version"] = latest_version;
  o["min_decryption_version"] = min_decryption_version;
  o["min_encryption_version"] = min_encryption_version;
  o["min_available_version"] = min_available_version;
  o["auto_rotate_period_s"] = absl::ToInt64Seconds(auto_rotate_period);
  json::array list(internal::ZeroingJsonStorage());
  for (const auto& [n, v] : versions) {
    json::object item(internal::ZeroingJsonStorage());
    item["n"] = n;
    item["created_ns"] = ToNanos(v.created);
    SecretBytes key = internal::Base64EncodeSecret(v.key.Reveal());
    item["key"] = json::string_view(reinterpret_cast<const char*>(key.data()), key.size());
    SecretBytes hmac = internal::Base64EncodeSecret(v.hmac_key.Reveal());
    item["hmac_key"] = json::string_view(reinterpret_cast<const char*>(hmac.data()), hmac.size());
    list.push_back(std::move(item));
  }
  o["versions"] = std::move(list);
  return internal::SerializeSecretJson(o);
}

absl::StatusOr<KeyPolicy> KeyPolicy::Deserialize(const SecretBytes& stored) {
  ASSIGN_OR_RETURN(json::value doc, internal::ParseSecretJson(stored.Reveal(), "stored key"));
  const json::object* o = doc.if_object();
  if (o == nullptr) return Corrupt("not an object");
  if (U32(*o, "format") != kFormat) return Corrupt("unknown format");
  KeyPolicy p;
  std::optional<std::string_view> name = Str(*o, "name");
  std::optional<std::string_view> type_name = Str(*o, "type");
  if (!name.has_value() || !type_name.has_value()) return Corrupt("missing name or type");
  p.name = std::string(*name);
  std::optional<KeyType> type = ParseKeyType(*type_name);
  if (!type.has_value()) return Corrupt("unknown type");
  p.type = *type;
  std::optional<bool> derived = Bool(*o, "derived"), convergent = Bool(*o, "convergent"),
                      exportable = Bool(*o, "exportable"),
                      backup = Bool(*o, "allow_plaintext_backup"),
                      deletion = Bool(*o, "deletion_allowed");
  std::optional<uint32_t> latest = U32(*o, "latest_version"),
                          min_dec = U32(*o, "min_decryption_version"),
                          min_enc = U32(*o, "min_encryption_version"),
                          min_avail = U32(*o, "min_available_version");
  std::optional<int64_t> period = I64(*o, "auto_rotate_period_s");
  if (!derived || !convergent || !exportable || !backup || !deletion || !latest || !min_dec ||
      !min_enc || !min_avail || !period) {
    return Corrupt("missing settings");
  }
  p.derived = *derived;
  p.convergent = *convergent;
  p.exportable = *exportable;
  p.allow_plaintext_backup = *backup;
  p.deletion_allowed = *deletion;
  p.latest_version = *latest;
  p.min_decryption_version = *min_dec;
  p.min_encryption_version = *min_enc;
  p.min_available_version = *min_avail;
  p.auto_rotate_period = absl::Seconds(*period);
  const json::value* list = o->if_contains("versions");
  if (list == nullptr || !list->is_array()) return Corrupt("missing versions");
  for (const json::value& item_value : list->get_array()) {
    const json::object* item = item_value.if_object();
    if (item == nullptr) return Corrupt("bad version entry");
    KeyVersion v;
    std::optional<uint32_t> n = U32(*item, "n");
    std::optional<int64_t> created = I64(*item, "created_ns");
    std::optional<std::string_view> key = Str(*item, "key"), hmac = Str(*item, "hmac_key");
    if (!n || !created || !key || !hmac) return Corrupt("bad version entry");
    v.number = *n;
    v.created = absl::FromUnixNanos(*created);
    std::optional<SecretBytes> key_bytes = internal::Base64DecodeSecret(*key);
    std::optional<SecretBytes> hmac_bytes = internal::Base64DecodeSecret(*hmac);
    if (!key_bytes || !hmac_bytes || hmac_bytes->size() != kHmacKeySize) {
      return Corrupt("bad version material");
    }
    v.key = *std::move(key_bytes);
    v.hmac_key = *std::move(hmac_bytes);
    if (IsSymmetric(p.type)) {
      if (v.key.size() != SymmetricKeySize(p.type)) return Corrupt("bad key size");
    } else {
      ASSIGN_OR_RETURN(v.asymmetric, AsymmetricKey::FromStoredForm(p.type, v.key));
      ASSIGN_OR_RETURN(v.public_key, v.asymmetric->PublicKeyFormatted());
    }
    if (!p.versions.emplace(v.number, std::move(v)).second) return Corrupt("duplicate version");
  }
  RETURN_IF_ERROR(p.Validate());
  return p;
}

}  // namespace rekey::transit
