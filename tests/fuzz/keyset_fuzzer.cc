// Fuzzes keyset parsing and decryption: arbitrary serialized keysets must be rejected or be
// valid, and arbitrary ciphertexts must fail to decrypt (never crash, never succeed by chance).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/keyset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static rekey::FakeRandom random;
  static rekey::FakeClock clock;
  static std::unique_ptr<rekey::crypto::Keyset> keyset =
      rekey::crypto::Keyset::Generate(random, clock);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = rekey::crypto::Keyset::Deserialize(rekey::SecretBytes(in), random, clock);
  if (parsed.ok() && (*parsed)->Keys().empty()) std::abort();
  if (keyset->Decrypt(in, "aad").ok()) std::abort();  // forging a GCM tag by chance: no
  return 0;
}
