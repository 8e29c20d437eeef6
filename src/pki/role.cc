// Role parsing, rendering and name checks.
#include "pki/role.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "pki/internal/json_fields.h"
#include "pki/names.h"
#include "pki/ttl.h"
#include "pki/x509.h"

namespace rekey::pki {
namespace {

namespace json = boost::json;
using internal::FieldReader;

std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }
json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

constexpr std::string_view kKnownFields[] = {"allowed_domains",
                                             "allow_bare_domains",
                                             "allow_subdomains",
                                             "allow_glob_domains",
                                             "allow_wildcard_certificates",
                                             "allow_localhost",
                                             "allow_any_name",
                                             "enforce_hostnames",
                                             "allow_ip_sans",
                                             "require_cn",
                                             "use_csr_common_name",
                                             "use_csr_sans",
                                             "key_type",
                                             "key_bits",
                                             "ttl",
                                             "max_ttl",
                                             "not_before_duration",
                                             "key_usage",
                                             "ext_key_usage",
                                             "server_flag",
                                             "client_flag",
                                             "issuer_ref",
                                             "no_store"};

bool IsLocalhost(std::string_view name) { return name == "localhost" || name == "localdomain"; }

// True when `name` (lower-case host name, maybe "*.x") is allowed by the role's domain rules.
bool NameAllowed(const Role& role, std::string_view name) {
  if (role.allow_any_name) return true;
  if (role.allow_localhost && IsLocalhost(name)) return true;
  const bool wildcard = name.size() > 2 && name.substr(0, 2) == "*.";
  if (wildcard && !role.allow_wildcard_certificates) return false;
  for (const std::string& domain : role.allowed_domains) {
    if (role.allow_bare_domains && !wildcard && name == domain) return true;
    if (role.allow_subdomains && name.size() > domain.size() + 1 &&
        name.substr(name.size() - domain.size()) == domain &&
        name[name.size() - domain.size() - 1] == '.') {
      return true;
    }
    if (role.allow_glob_domains && domain.find('*') != std::string::npos &&
        GlobMatch(domain, name)) {
      return true;
    }
  }
  return false;
}

void CheckHost(const Role& role, std::string_view field, std::string_view raw,
               std::vector<std::string>* problems) {
  const std::string name = absl::AsciiStrToLower(ToAbsl(raw));
  const std::string quoted = rekey::StrCat("\"", raw.substr(0, 253), "\"");
  if (role.enforce_hostnames && !IsValidHostname(name, role.allow_wildcard_certificates)) {
    problems->push_back(rekey::StrCat(field, " ", quoted, " is not a valid host name"));
    return;
  }
  // Whatever enforce_hostnames says: no control characters (a NUL could end the name early for
  // a verifier), and a '*' only as a whole leading label ("*.example.com") of a role that allows
  // wildcards: "f*.example.com" or "a.*.example.com" would otherwise pass the subdomain rule.
  bool control = false;
  for (char c : name) control |= static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  const size_t star = name.find('*');
  const bool leading_wildcard = name.size() > 2 && name.substr(0, 2) == "*.";
  if (control ||
      (star != std::string::npos && (!leading_wildcard || name.find('*', 1) != std::string::npos ||
                                     !role.allow_wildcard_certificates))) {
    problems->push_back(
        rekey::StrCat(field, " ", quoted, " is not allowed by role \"", role.name, "\""));
    return;
  }
  if (!NameAllowed(role, name)) {
    problems->push_back(
        rekey::StrCat(field, " ", quoted, " is not allowed by role \"", role.name, "\""));
  }
}

}  // namespace

std::optional<KeyType> Role::GeneratedKeyType() const {
  if (key_type == "any") return std::nullopt;
  absl::StatusOr<KeyType> t = KeyTypeFromVault(key_type, key_bits);
  if (!t.ok()) return std::nullopt;
  return *t;
}

absl::Status ValidateRoleName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 128 && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                           c == '-' || c == '.';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "role name must be 1 to 128 characters of letters, digits, '_', '-' and '.'");
}

absl::StatusOr<Role> RoleFromJson(std::string_view name, const json::object& fields,
                                  std::vector<std::string>* warnings) {
  std::vector<std::string> problems;
  if (absl::Status s = ValidateRoleName(name); !s.ok()) {
    problems.push_back(rekey::StrCat("name: ", ToStd(s.message())));
  }
  Role role;
  role.name = std::string(name);
  FieldReader r(fields, &problems);

  if (auto domains = r.List("allowed_domains")) {
    for (std::string& d : *domains) {
      d = absl::AsciiStrToLower(d);
      while (!d.empty() && d.front() == '.') d.erase(0, 1);
      if (!d.empty()) role.allowed_domains.push_back(std::move(d));
    }
  }
  r.Bool("allow_bare_domains", &role.allow_bare_domains);
  r.Bool("allow_subdomains", &role.allow_subdomains);
  r.Bool("allow_glob_domains", &role.allow_glob_domains);
  r.Bool("allow_wildcard_certificates", &role.allow_wildcard_certificates);
  r.Bool("allow_localhost", &role.allow_localhost);
  r.Bool("allow_any_name", &role.allow_any_name);
  r.Bool("enforce_hostnames", &role.enforce_hostnames);
  r.Bool("allow_ip_sans", &role.allow_ip_sans);
  r.Bool("require_cn", &role.require_cn);
  r.Bool("use_csr_common_name", &role.use_csr_common_name);
  r.Bool("use_csr_sans", &role.use_csr_sans);
  r.Bool("server_flag", &role.server_flag);
  r.Bool("client_flag", &role.client_flag);
  r.Bool("no_store", &role.no_store);
  for (const std::string& d : role.allowed_domains) {
    if (d.find('*') != std::string::npos && !role.allow_glob_domains) {
      r.Problem("allowed_domains",
                rekey::StrCat("\"", d, "\" contains '*' but allow_glob_domains is false"));
    }
  }

  r.String("key_type", &role.key_type);
  int key_bits = 0;
  r.Int("key_bits", &key_bits);
  if (role.key_type == "any") {
    role.key_bits = 0;
  } else if (absl::StatusOr<KeyType> t = KeyTypeFromVault(role.key_type, key_bits); t.ok()) {
    role.key_type = std::string(VaultKeyType(*t));
    role.key_bits = KeyBits(*t);
  } else {
    r.Problem(fields.contains("key_bits") && (role.key_type == "ec" || role.key_type == "rsa" ||
                                              role.key_type == "ed25519")
                  ? "key_bits"
                  : "key_type",
              ToStd(t.status().message()));
  }

  r.Duration("ttl", &role.ttl);
  r.Duration("max_ttl", &role.max_ttl);
  r.Duration("not_before_duration", &role.not_before_duration);
  if (role.max_ttl > absl::ZeroDuration() && role.ttl > role.max_ttl) {
    r.Problem("ttl", "must not exceed max_ttl");
  }
  if (role.not_before_duration > absl::Hours(24 * 30)) {
    r.Problem("not_before_duration", "must be at most 30d");
  }

  if (auto usages = r.List("key_usage")) {
    role.key_usage = 0;
    for (const std::string& u : *usages) {
      // Vault accepts the names with or without the "KeyUsage" prefix.
      std::string_view n = u;
      if (n.substr(0, 8) == "KeyUsage") n.remove_prefix(8);
      const uint32_t bit = KeyUsageFromName(n);
      if (bit == 0) {
        r.Problem("key_usage", rekey::StrCat("unknown usage \"", u, "\""));
      } else if (bit == kCertSign || bit == kCrlSign) {
        r.Problem("key_usage", rekey::StrCat("\"", u, "\" is for CA certificates only"));
      } else {
        role.key_usage |= bit;
      }
    }
  }
  if (auto usages = r.List("ext_key_usage")) {
    for (const std::string& u : *usages) {
      std::string_view n = u;
      if (n.substr(0, 11) == "ExtKeyUsage") n.remove_prefix(11);
      ExtKeyUsage e;
      if (!ExtKeyUsageFromName(n, &e)) {
        r.Problem("ext_key_usage", rekey::StrCat("unknown usage \"", u, "\""));
      } else if (std::find(role.ext_key_usage.begin(), role.ext_key_usage.end(), e) ==
                 role.ext_key_usage.end()) {
        role.ext_key_usage.push_back(e);
      }
    }
  }
  r.String("issuer_ref", &role.issuer_ref);
  if (role.issuer_ref.empty()) role.issuer_ref = "default";

  if (warnings != nullptr) {
    for (const auto& [key, value] : fields) {
      const std::string_view k = S(key);
      if (std::find(std::begin(kKnownFields), std::end(kKnownFields), k) ==
          std::end(kKnownFields)) {
        warnings->push_back(rekey::StrCat("field \"", k.substr(0, 64), "\" is not supported"));
      }
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return role;
}

json::object RoleToJson(const Role& role) {
  json::object o;
  json::array domains;
  for (const std::string& d : role.allowed_domains) domains.emplace_back(J(d));
  o["allowed_domains"] = std::move(domains);
  o["allow_bare_domains"] = role.allow_bare_domains;
  o["allow_subdomains"] = role.allow_subdomains;
  o["allow_glob_domains"] = role.allow_glob_domains;
  o["allow_wildcard_certificates"] = role.allow_wildcard_certificates;
  o["allow_localhost"] = role.allow_localhost;
  o["allow_any_name"] = role.allow_any_name;
  o["enforce_hostnames"] = role.enforce_hostnames;
  o["allow_ip_sans"] = role.allow_ip_sans;
  o["require_cn"] = role.require_cn;
  o["use_csr_common_name"] = role.use_csr_common_name;
  o["use_csr_sans"] = role.use_csr_sans;
  o["key_type"] = J(role.key_type);
  o["key_bits"] = role.key_bits;
  o["ttl"] = absl::ToInt64Seconds(role.ttl);
  o["max_ttl"] = absl::ToInt64Seconds(role.max_ttl);
  o["not_before_duration"] = absl::ToInt64Seconds(role.not_before_duration);
  json::array usages;
  for (const std::string& u : KeyUsageNames(role.key_usage)) usages.emplace_back(J(u));
  o["key_usage"] = std::move(usages);
  json::array ext;
  for (ExtKeyUsage e : role.ext_key_usage) ext.emplace_back(J(ExtKeyUsageName(e)));
  o["ext_key_usage"] = std::move(ext);
  o["server_flag"] = role.server_flag;
  o["client_flag"] = role.client_flag;
  o["issuer_ref"] = J(role.issuer_ref);
  o["no_store"] = role.no_store;
  return o;
}

std::vector<std::string> CheckNames(const Role& role, std::string_view common_name,
                                    const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses) {
  std::vector<std::string> problems;
  if (common_name.empty()) {
    if (role.require_cn) problems.push_back("common_name is required by this role");
  } else if (IsIpAddress(common_name)) {
    if (!role.allow_ip_sans) {
      problems.push_back(rekey::StrCat("common_name \"", common_name,
                                       "\" is an IP address, which role \"", role.name,
                                       "\" does not allow"));
    }
  } else {
    CheckHost(role, "common_name", common_name, &problems);
  }
  for (const std::string& name : dns_names) CheckHost(role, "alt_names", name, &problems);
  if (!ip_addresses.empty() && !role.allow_ip_sans) {
    problems.push_back(rekey::StrCat("ip_sans are not allowed by role \"", role.name, "\""));
  }
  for (const std::string& ip : ip_addresses) {
    if (!IsIpAddress(ip)) {
      problems.push_back(rekey::StrCat("ip_sans \"", ip.substr(0, 64), "\" is not an IP address"));
    }
  }
  return problems;
}

uint32_t LeafKeyUsage(const Role& role, KeyType key) {
  uint32_t bits = role.key_usage;
  const bool rsa = key == KeyType::kRsa2048 || key == KeyType::kRsa3072;
  if (!rsa) bits &= ~static_cast<uint32_t>(kKeyEncipherment);
  if (rsa || key == KeyType::kEd25519) bits &= ~static_cast<uint32_t>(kKeyAgreement);
  if (role.key_usage != 0 && bits == 0) bits = kDigitalSignature;
  return bits;
}

std::vector<ExtKeyUsage> LeafExtKeyUsage(const Role& role) {
  std::vector<ExtKeyUsage> out;
  auto add = [&out](ExtKeyUsage e) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  };
  if (role.server_flag) add(ExtKeyUsage::kServerAuth);
  if (role.client_flag) add(ExtKeyUsage::kClientAuth);
  for (ExtKeyUsage e : role.ext_key_usage) add(e);
  return out;
}

}  // namespace rekey::pki
