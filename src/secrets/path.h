// Secret path rules shared by every API surface.
#ifndef REKEY_SECRETS_PATH_H_
#define REKEY_SECRETS_PATH_H_

#include <string_view>

#include "absl/status/status.h"

namespace rekey::secrets {

inline constexpr size_t kMaxPathLength = 512;

// OK when `path` is a valid secret path: 1..512 characters, segments separated by '/', each
// segment non-empty, made of [A-Za-z0-9._-] and not "." or "..". Otherwise kInvalidArgument with
// a message that names the path and the rule it breaks.
absl::Status ValidateSecretPath(std::string_view path);

// Like ValidateSecretPath, but for a folder prefix used in listings: "" (the root) and a trailing
// '/' are allowed.
absl::Status ValidateFolderPath(std::string_view path);

}  // namespace rekey::secrets

#endif  // REKEY_SECRETS_PATH_H_
