#include "secrets/path.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"

namespace rekey::secrets {
namespace {

bool IsPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '+' || c == '=' || c == '@';
}

// `shown` is the path as the caller gave it, for the message.
absl::Status CheckSegments(std::string_view path, std::string_view shown) {
  for (absl::string_view piece : absl::StrSplit(ToAbsl(path), '/')) {
    std::string_view segment = ToStd(piece);
    if (segment.empty()) {
      return absl::InvalidArgumentError(
          rekey::StrCat("invalid path \"", shown, "\": empty path segment"));
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          rekey::StrCat("invalid path \"", shown, "\": segment \"", segment, "\" is not allowed"));
    }
    for (char c : segment) {
      if (!IsPathChar(c)) {
        return absl::InvalidArgumentError(
            rekey::StrCat("invalid path \"", shown,
                          "\": segments may contain only letters, digits and . _ - + = @"));
      }
    }
  }
  return absl::OkStatus();
}

// Paths in messages are cut so an oversize or binary path cannot flood a log line.
std::string Shown(std::string_view path) {
  std::string out;
  for (char c : path.substr(0, 80)) {
    out +=
        (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  }
  if (path.size() > 80) out += "...";
  return out;
}

}  // namespace

absl::Status ValidateSecretPath(std::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("invalid path: the secret path is empty");
  if (path.size() > kMaxPathLength) {
    return absl::InvalidArgumentError(rekey::StrCat(
        "invalid path \"", Shown(path), "\": longer than ", kMaxPathLength, " characters"));
  }
  return CheckSegments(path, Shown(path));
}

absl::Status ValidateFolderPath(std::string_view path) {
  if (path.empty()) return absl::OkStatus();
  if (path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return absl::OkStatus();
  if (path.size() > kMaxPathLength) {
    return absl::InvalidArgumentError(rekey::StrCat(
        "invalid path \"", Shown(path), "\": longer than ", kMaxPathLength, " characters"));
  }
  return CheckSegments(path, Shown(path));
}

}  // namespace rekey::secrets
