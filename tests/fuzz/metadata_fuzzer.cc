// Fuzzes the stored metadata decoder: any bytes either fail with a Status or decode to
// metadata that re-encodes to something that decodes the same way.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "secrets/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<rekey::secrets::SecretMetadata> meta = rekey::secrets::DecodeMetadata(in);
  if (!meta.ok()) return 0;
  std::string once = rekey::secrets::EncodeMetadata(*meta);
  absl::StatusOr<rekey::secrets::SecretMetadata> again = rekey::secrets::DecodeMetadata(once);
  if (!again.ok() || rekey::secrets::EncodeMetadata(*again) != once) std::abort();
  return 0;
}
