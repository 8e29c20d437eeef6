// Host-name rules for what a role allows: syntax (RFC 1123, optional leading wildcard label),
// and glob matching for allow_glob_domains.
#ifndef REKEY_PKI_NAMES_H_
#define REKEY_PKI_NAMES_H_

#include <string_view>

namespace rekey::pki {

// True for a DNS host name: dot-separated labels of letters, digits and '-' (not at a label's
// start or end), each 1..63 characters, 253 in all; a trailing dot is not allowed. With
// `allow_wildcard`, the first label may be "*" ("*.example.com").
bool IsValidHostname(std::string_view name, bool allow_wildcard);

// Glob match where '*' matches any run of characters (dots included) and every other character
// matches itself, case-insensitively ("*.example.com" matches "a.b.example.com").
bool GlobMatch(std::string_view pattern, std::string_view name);

}  // namespace rekey::pki

#endif  // REKEY_PKI_NAMES_H_
