#include "audit/device_keys.h"

#include <boost/json.hpp>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "audit/internal/ed25519.h"
#include "audit/internal/line_format.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::audit {
namespace json = boost::json;
namespace {

constexpr size_t kDeviceIdBytes = 16;
constexpr size_t kKeyBytes = 32;
// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
// 1.3.101.112 } BIT STRING (32 bytes) }.
constexpr std::string_view kSpkiPrefix("\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00", 12);
constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";

SecretBytes RandomSecret(Random& random, size_t size) {
  SecretBytes out = SecretBytes::Zeroed(size);
  random.Fill(absl::MakeSpan(out.MutableData(), out.size()));
  return out;
}

absl::StatusOr<SecretBytes> DecodeKey(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr || !v->is_string()) {
    return absl::InvalidArgumentError(StrCat("audit device keys: missing ", name));
  }
  std::string raw;
  const json::string& s = v->get_string();
  if (!absl::Base64Unescape(absl::string_view(s.data(), s.size()), &raw) ||
      raw.size() != kKeyBytes) {
    SecureWipe(raw);
    return absl::InvalidArgumentError(StrCat("audit device keys: malformed ", name));
  }
  return SecretBytes::TakeFrom(raw);
}

}  // namespace

DeviceKeys DeviceKeys::Generate(Random& random) {
  DeviceKeys keys;
  std::string id(kDeviceIdBytes, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(id.data()), id.size()));
  keys.device_id = internal::Hex(id);
  keys.hmac_key = RandomSecret(random, kKeyBytes);
  keys.signing_key = RandomSecret(random, kKeyBytes);
  return keys;
}

SecretBytes DeviceKeys::Encode() const {
  std::string hmac = absl::Base64Escape(ToAbsl(hmac_key.Reveal()));
  std::string signing = absl::Base64Escape(ToAbsl(signing_key.Reveal()));
  std::string text = StrCat("{\"device_id\":\"", device_id, "\",\"hmac_key\":\"", hmac,
                            "\",\"signing_key\":\"", signing, "\",\"version\":1}");
  SecureWipe(hmac);
  SecureWipe(signing);
  return SecretBytes::TakeFrom(text);
}

absl::StatusOr<DeviceKeys> DeviceKeys::Decode(const SecretBytes& encoded) {
  json::error_code ec;
  json::value v =
      json::parse(json::string_view(encoded.Reveal().data(), encoded.Reveal().size()), ec);
  if (ec || !v.is_object()) return absl::InvalidArgumentError("audit device keys: not JSON");
  const json::object& obj = v.get_object();
  const json::value* id = obj.if_contains("device_id");
  const json::value* version = obj.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->get_int64() != 1) {
    return absl::InvalidArgumentError("audit device keys: unsupported version");
  }
  if (id == nullptr || !id->is_string() || id->get_string().size() != 2 * kDeviceIdBytes) {
    return absl::InvalidArgumentError("audit device keys: malformed device_id");
  }
  DeviceKeys keys;
  keys.device_id = std::string(id->get_string().data(), id->get_string().size());
  for (char c : keys.device_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError("audit device keys: malformed device_id");
    }
  }
  ASSIGN_OR_RETURN(keys.hmac_key, DecodeKey(obj, "hmac_key"));
  ASSIGN_OR_RETURN(keys.signing_key, DecodeKey(obj, "signing_key"));
  // Wipe the parsed copies of the keys.
  for (const char* name : {"hmac_key", "signing_key"}) {
    json::value* k = v.get_object().if_contains(name);
    if (k != nullptr && k->is_string()) {
      json::string& s = k->get_string();
      SecureZero(s.data(), s.size());
    }
  }
  return keys;
}

absl::StatusOr<std::string> DeviceKeys::PublicKey() const {
  ASSIGN_OR_RETURN(internal::Ed25519Signer signer, internal::Ed25519Signer::Create(signing_key));
  return signer.public_key();
}

std::string PublicKeyToBase64(std::string_view raw) { return absl::Base64Escape(ToAbsl(raw)); }

std::string PublicKeyToPem(std::string_view raw) {
  std::string b64 = absl::Base64Escape(ToAbsl(StrCat(kSpkiPrefix, raw)));
  return StrCat(kPemBegin, "\n", b64, "\n", kPemEnd, "\n");
}

absl::StatusOr<std::string> ParsePublicKey(std::string_view text) {
  std::string body(absl::StripAsciiWhitespace(ToAbsl(text)));
  bool pem = false;
  if (absl::StartsWith(body, ToAbsl(kPemBegin))) {
    if (!absl::EndsWith(body, ToAbsl(kPemEnd))) {
      return absl::InvalidArgumentError("public key: unterminated PEM block");
    }
    body = body.substr(kPemBegin.size(), body.size() - kPemBegin.size() - kPemEnd.size());
    body = absl::StrReplaceAll(body, {{"\n", ""}, {"\r", ""}, {" ", ""}});
    pem = true;
  }
  std::string raw;
  if (!absl::Base64Unescape(body, &raw)) {
    return absl::InvalidArgumentError("public key: not base64 or PEM");
  }
  if (pem) {
    if (raw.size() != kSpkiPrefix.size() + kKeyBytes ||
        raw.substr(0, kSpkiPrefix.size()) != kSpkiPrefix) {
      return absl::InvalidArgumentError("public key: PEM block is not an Ed25519 public key");
    }
    raw = raw.substr(kSpkiPrefix.size());
  }
  if (raw.size() != kKeyBytes) {
    return absl::InvalidArgumentError("public key: an Ed25519 public key is 32 bytes");
  }
  return raw;
}

}  // namespace rekey::audit
