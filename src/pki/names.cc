// Host-name syntax and glob matching.
#include "pki/names.h"

#include "absl/strings/ascii.h"

namespace rekey::pki {

bool IsValidHostname(std::string_view name, bool allow_wildcard) {
  if (name.empty() || name.size() > 253) return false;
  if (allow_wildcard && name.size() > 2 && name.substr(0, 2) == "*.") name.remove_prefix(2);
  size_t label = 0;
  char prev = '.';
  for (char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
      if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool GlobMatch(std::string_view pattern, std::string_view name) {
  // Iterative wildcard match with backtracking to the last '*'.
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && absl::ascii_tolower(static_cast<unsigned char>(pattern[p])) ==
                                         absl::ascii_tolower(static_cast<unsigned char>(name[n]))) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace rekey::pki
