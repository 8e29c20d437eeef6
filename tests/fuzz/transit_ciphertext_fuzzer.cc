// Fuzzes what transit accepts from callers as text: the table-driven base64 decoders must accept
// exactly what the character-at-a-time reference accepts, with the same bytes, and an arbitrary
// ciphertext must fail to decrypt with the one generic error (never crash, never succeed).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/strings.h"
#include "transit/base64.h"
#include "transit/key_ops.h"
#include "transit/key_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace transit = ::rekey::transit;
  static rekey::FakeRandom random;
  static rekey::FakeClock clock;
  static const transit::KeyPolicy key =
      *transit::KeyPolicy::Create("fuzz", transit::KeyCreateOptions{}, random, clock);
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (transit::Base64Decode(in) != transit::internal::Base64DecodeOneByOne(in, false)) {
    std::abort();
  }
  if (transit::Base64UrlDecode(in) != transit::internal::Base64DecodeOneByOne(in, true)) {
    std::abort();
  }
  const std::optional<rekey::SecretBytes> secret = transit::Base64DecodeSecret(in);
  const std::optional<std::string> plain = transit::Base64Decode(in);
  if (secret.has_value() != plain.has_value()) std::abort();
  if (secret.has_value() && secret->Reveal() != *plain) std::abort();

  for (const std::string& text : {std::string(in), "vault:v1:" + std::string(in)}) {
    absl::StatusOr<rekey::SecretBytes> opened = transit::Decrypt(key, text, {});
    if (opened.ok()) std::abort();  // forging a GCM tag by chance: no
    const std::string_view message = rekey::ToStd(opened.status().message());
    if (message != transit::kInvalidCiphertext && message != transit::kTooOld) {
      std::abort();
    }
  }
  return 0;
}
