// Vault-style duration parsing.
#include "pki/ttl.h"

#include <cstdint>

namespace rekey::pki {
namespace {

constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 24 * 3600;

absl::Status Bad() {
  return absl::InvalidArgumentError(
      "must be a number of seconds or a duration such as \"72h\", \"30d\" or \"1h30m\"");
}

}  // namespace

absl::StatusOr<absl::Duration> ParseTtl(std::string_view text) {
  if (text.empty()) return Bad();
  int64_t total = 0;
  size_t i = 0;
  bool units_seen = false;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxSeconds) return Bad();
      ++i;
    }
    if (i == start) return Bad();
    int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return Bad();
      }
      ++i;
      units_seen = true;
    } else if (units_seen) {
      return Bad();  // "1h30" : a trailing number without unit
    }
    total += n * unit;
    if (total > kMaxSeconds) return Bad();
  }
  return absl::Seconds(total);
}

absl::StatusOr<absl::Duration> TtlFromJson(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64()) {
    const bool negative = v.is_int64() && v.get_int64() < 0;
    const uint64_t n = v.is_int64() ? static_cast<uint64_t>(v.get_int64()) : v.get_uint64();
    if (negative || n > static_cast<uint64_t>(kMaxSeconds)) return Bad();
    return absl::Seconds(static_cast<int64_t>(n));
  }
  if (v.is_string()) {
    const auto& s = v.get_string();
    return ParseTtl(std::string_view(s.data(), s.size()));
  }
  return Bad();
}

}  // namespace rekey::pki
