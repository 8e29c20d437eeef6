// Fuzzes the line parser of `rekey transit rewrap`: any input line is classified without a
// crash, and a line taken as a ciphertext really has the `vault:v<N>:` shape and a base64
// context (or none), so that nothing else is ever sent to the server.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/rewrap_job.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using rekey::cli::internal::InputLine;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const InputLine line = rekey::cli::internal::ParseLine(in);
  if (line.kind == InputLine::Kind::kCiphertext) {
    if (line.ciphertext.rfind("vault:v", 0) != 0 || line.version == 0) std::abort();
    if (line.ciphertext.find('\n') != std::string::npos) std::abort();
    if (!line.context.empty() && !rekey::cli::internal::IsBase64(line.context)) std::abort();
  }
  if (line.kind == InputLine::Kind::kInvalid && line.error.empty()) std::abort();
  return 0;
}
