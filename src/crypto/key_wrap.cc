#include "crypto/key_wrap.h"

#include "core/status_macros.h"
#include "crypto/internal/aes_gcm.h"

namespace rekey::crypto {
namespace {
constexpr char kFormat = 0x01;
}  // namespace

absl::StatusOr<std::string> WrapWithKey(const SecretBytes& key, std::string_view plaintext,
                                        std::string_view aad, Random& random) {
  if (key.size() != kWrapKeySize)
    return absl::InvalidArgumentError("wrapping key must be 32 bytes");
  ASSIGN_OR_RETURN(internal::AesGcm256 gcm, internal::AesGcm256::Create());
  std::string nonce(internal::kAesGcmNonceSize, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(nonce.data()), nonce.size()));
  std::string out(1, kFormat);
  out += nonce;
  RETURN_IF_ERROR(
      gcm.Seal(key.Reveal(), nonce, plaintext, {std::string_view(&kFormat, 1), aad}, &out));
  return out;
}

absl::StatusOr<SecretBytes> UnwrapWithKey(const SecretBytes& key, std::string_view wrapped,
                                          std::string_view aad) {
  if (key.size() != kWrapKeySize || wrapped.size() < 1 + internal::kAesGcmNonceSize ||
      wrapped[0] != kFormat) {
    return absl::InvalidArgumentError("decryption failed");
  }
  ASSIGN_OR_RETURN(internal::AesGcm256 gcm, internal::AesGcm256::Create());
  return gcm.Open(key.Reveal(), wrapped.substr(1, internal::kAesGcmNonceSize),
                  wrapped.substr(1 + internal::kAesGcmNonceSize),
                  {std::string_view(&kFormat, 1), aad});
}

}  // namespace rekey::crypto
