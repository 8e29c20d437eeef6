#include "auth/policy.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <iterator>
#include <optional>
#include <set>

#include "absl/strings/escaping.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::auth {
namespace json = boost::json;
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr std::string_view kRootName = "root";

// Keys of a Vault path rule that rekey does not enforce; rejected so nobody relies on them.
constexpr std::string_view kUnsupportedRuleKeys[] = {
    "allowed_parameters", "denied_parameters", "required_parameters", "min_wrapping_ttl",
    "max_wrapping_ttl",   "mfa_methods",       "control_group",       "policy",
};

std::string_view FromJson(json::string_view s) { return std::string_view(s.data(), s.size()); }

// `s` in double quotes with control and non-printable characters escaped, for messages.
std::string Quote(std::string_view s) { return StrCat("\"", absl::CEscape(ToAbsl(s)), "\""); }

absl::Status PolicyError(std::string_view policy, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("policy ", Quote(policy), ": ", what));
}

absl::Status RuleError(std::string_view policy, std::string_view pattern, std::string_view what) {
  return absl::InvalidArgumentError(
      StrCat("policy ", Quote(policy), ": path ", Quote(pattern), ": ", what));
}

// absl::StrJoin does not take std::string_view with Debian's Abseil.
std::string Join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += ", ";
    out += part;
  }
  return out;
}

std::string AllCapabilityNames() {
  std::vector<std::string_view> names;
  for (Capability c : kAllCapabilities) names.push_back(CapabilityName(c));
  return Join(names);
}

// Boost.JSON parser handler that only records the first key repeated within one object, which
// json::parse would silently resolve by keeping the last value (and so could drop a deny).
class DuplicateKeyFinder {
 public:
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);

  using error_code = boost::system::error_code;
  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(size_t, error_code&) { return true; }
  bool on_object_begin(error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(size_t, error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, size_t, error_code&) { return true; }
  bool on_string(json::string_view, size_t, error_code&) { return true; }
  bool on_key_part(json::string_view s, size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, size_t, error_code&) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second && !duplicate_.has_value()) duplicate_ = key_;
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, error_code&) { return true; }
  bool on_double(double, json::string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  std::vector<std::set<std::string>> keys_;  // one per open object
  std::string key_;
  std::optional<std::string> duplicate_;
};

// The first key repeated within one object of `text` (already known to be valid JSON).
std::optional<std::string> FindDuplicateKey(std::string_view text) {
  json::basic_parser<DuplicateKeyFinder> parser{json::parse_options{}};
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  if (ec) return std::nullopt;  // json::parse accepted it; cannot happen
  return parser.handler().duplicate();
}

absl::Status ValidatePattern(std::string_view policy, std::string_view pattern) {
  auto error = [&](std::string_view what) { return RuleError(policy, pattern, what); };
  if (pattern.empty()) return error("the path pattern is empty");
  if (pattern.front() == '/') return error("the path pattern must not start with '/'");
  for (char ch : pattern) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return error("the path pattern contains a control character");
    }
  }
  size_t star = pattern.find('*');
  if (star != std::string_view::npos && star != pattern.size() - 1) {
    return error("'*' is only allowed as the last character of a path pattern");
  }
  std::string_view stem = pattern.substr(0, star);  // npos keeps everything
  size_t start = 0;
  while (true) {
    size_t slash = stem.find('/', start);
    std::string_view segment = stem.substr(start, slash - start);
    bool last = slash == std::string_view::npos;
    if (segment.empty() && !last) return error("the path pattern has an empty segment (\"//\")");
    if (segment.find('+') != std::string_view::npos) {
      if (last && star != std::string_view::npos && segment == "+") {
        return error("invalid use of wildcards ('+*' is forbidden)");
      }
      if (segment != "+") return error("'+' is only allowed as a whole path segment (\"a/+/b\")");
    }
    if (last) break;
    start = slash + 1;
  }
  return absl::OkStatus();
}

// Vault keeps only deny in a rule (or merged rule) that holds deny.
CapabilitySet NormalizeDeny(CapabilitySet caps) {
  return caps.Has(Capability::kDeny) ? CapabilitySet{Capability::kDeny} : caps;
}

}  // namespace

std::string_view CapabilityName(Capability c) {
  switch (c) {
    case Capability::kCreate:
      return "create";
    case Capability::kRead:
      return "read";
    case Capability::kUpdate:
      return "update";
    case Capability::kPatch:
      return "patch";
    case Capability::kDelete:
      return "delete";
    case Capability::kList:
      return "list";
    case Capability::kSudo:
      return "sudo";
    case Capability::kRotate:
      return "rotate";
    case Capability::kDeny:
      return "deny";
  }
  return "unknown";
}

absl::StatusOr<Capability> ParseCapability(std::string_view name) {
  for (Capability c : kAllCapabilities) {
    if (CapabilityName(c) == name) return c;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown capability ", Quote(name), " (expected one of ", AllCapabilityNames(), ")"));
}

std::vector<std::string_view> CapabilitySet::Names() const {
  std::vector<std::string_view> names;
  for (Capability c : kAllCapabilities) {
    if (Has(c)) names.push_back(CapabilityName(c));
  }
  return names;
}

std::string CapabilitySet::ToString() const { return StrCat("[", Join(Names()), "]"); }

absl::Status Policy::ValidateName(std::string_view name) {
  if (name == kRootName) {
    return absl::InvalidArgumentError("policy name \"root\" is reserved for the built-in policy");
  }
  bool ok = !name.empty() && name.size() <= kMaxNameLength &&
            std::all_of(name.begin(), name.end(), [](char ch) {
              return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
            });
  if (!ok) {
    return absl::InvalidArgumentError(StrCat("policy name ", Quote(name), " is invalid: use 1 to ",
                                             kMaxNameLength,
                                             " characters of a-z, 0-9, '_' and '-'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Policy> Policy::Create(std::string_view name, std::vector<PathRule> rules) {
  RETURN_IF_ERROR(ValidateName(name));
  for (PathRule& rule : rules) {
    RETURN_IF_ERROR(ValidatePattern(name, rule.pattern));
    if (rule.capabilities.empty()) {
      return RuleError(name, rule.pattern, "no capabilities; use [\"deny\"] to deny the path");
    }
    rule.capabilities = NormalizeDeny(rule.capabilities);
  }
  std::sort(rules.begin(), rules.end(),
            [](const PathRule& a, const PathRule& b) { return a.pattern < b.pattern; });
  auto dup = std::adjacent_find(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return a.pattern == b.pattern;
  });
  if (dup != rules.end()) return RuleError(name, dup->pattern, "appears more than once");
  return Policy(std::string(name), std::move(rules), /*root=*/false);
}

absl::StatusOr<Policy> Policy::Parse(std::string_view name, std::string_view text) {
  RETURN_IF_ERROR(ValidateName(name));
  if (text.size() > kMaxJsonBytes) {
    return PolicyError(
        name, StrCat("the document is ", text.size(), " bytes; the limit is ", kMaxJsonBytes));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return PolicyError(name, StrCat("malformed JSON: ", ec.message()));
  if (std::optional<std::string> dup = FindDuplicateKey(text); dup.has_value()) {
    return PolicyError(name, StrCat("duplicate key ", Quote(*dup)));
  }
  const json::object* top = doc.if_object();
  if (top == nullptr) return PolicyError(name, "the document must be a JSON object");

  std::vector<PathRule> rules;
  for (const auto& [key, value] : *top) {
    if (key != "path") {
      return PolicyError(name, StrCat("unknown top-level key ", Quote(FromJson(key)),
                                      " (only \"path\" is allowed)"));
    }
    const json::object* paths = value.if_object();
    if (paths == nullptr) {
      return PolicyError(name, "\"path\" must be an object mapping path patterns to rules");
    }
    for (const auto& [json_pattern, json_rule] : *paths) {
      std::string_view pattern = FromJson(json_pattern);
      auto error = [&](std::string_view what) { return RuleError(name, pattern, what); };
      const json::object* rule = json_rule.if_object();
      if (rule == nullptr) return error("the rule must be an object");
      const json::value* caps = nullptr;
      for (const auto& [rule_key_json, rule_value] : *rule) {
        std::string_view rule_key = FromJson(rule_key_json);
        if (rule_key == "capabilities") {
          caps = &rule_value;
        } else if (std::find(std::begin(kUnsupportedRuleKeys), std::end(kUnsupportedRuleKeys),
                             rule_key) != std::end(kUnsupportedRuleKeys)) {
          return error(StrCat(Quote(rule_key), " is not supported yet"));
        } else {
          return error(StrCat("unknown key ", Quote(rule_key)));
        }
      }
      if (caps == nullptr) return error("\"capabilities\" is missing");
      const json::array* list = caps->if_array();
      if (list == nullptr) return error("\"capabilities\" must be a list of strings");
      PathRule parsed{.pattern = std::string(pattern), .capabilities = {}};
      for (const json::value& item : *list) {
        const json::string* cap_name = item.if_string();
        if (cap_name == nullptr) return error("\"capabilities\" must be a list of strings");
        absl::StatusOr<Capability> cap = ParseCapability(FromJson(*cap_name));
        if (!cap.ok()) return error(ToStd(cap.status().message()));
        parsed.capabilities.Add(*cap);
      }
      rules.push_back(std::move(parsed));
    }
  }
  return Create(name, std::move(rules));
}

Policy Policy::Root() { return Policy(std::string(kRootName), {}, /*root=*/true); }

std::string Policy::Serialize() const {
  json::object paths;
  for (const PathRule& rule : rules_) {
    json::array caps;
    for (std::string_view cap : rule.capabilities.Names()) {
      caps.emplace_back(json::string_view(cap.data(), cap.size()));
    }
    json::object entry;
    entry["capabilities"] = std::move(caps);
    paths[json::string_view(rule.pattern.data(), rule.pattern.size())] = std::move(entry);
  }
  json::object doc;
  doc["path"] = std::move(paths);
  return json::serialize(doc);
}

PolicySet::PolicySet(std::span<const Policy> policies) {
  // Merge identical patterns across policies first (Vault: union, or deny alone).
  absl::flat_hash_map<std::string, CapabilitySet> merged;
  for (const Policy& policy : policies) {
    if (policy.IsRoot()) root_ = true;
    for (const PathRule& rule : policy.rules()) merged[rule.pattern] |= rule.capabilities;
  }
  for (auto& [pattern, caps] : merged) {
    caps = NormalizeDeny(caps);
    size_t first_wildcard = pattern.find_first_of("+*");
    if (first_wildcard == std::string::npos) {
      exact_.emplace(pattern, caps);
      continue;
    }
    WildcardRule rule;
    rule.pattern = pattern;
    rule.glob = pattern.back() == '*';
    rule.stem = rule.glob ? pattern.substr(0, pattern.size() - 1) : pattern;
    rule.first_wildcard = first_wildcard;
    rule.capabilities = caps;
    // Patterns are validated, so '+' only ever appears as a whole segment.
    rule.plus_count = static_cast<int>(std::count(pattern.begin(), pattern.end(), '+'));
    if (rule.plus_count > 0) {
      any_plus_ = true;
      size_t start = 0;
      while (true) {
        size_t slash = rule.stem.find('/', start);
        rule.segments.push_back(rule.stem.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
    }
    wildcard_.push_back(std::move(rule));
  }
  std::sort(wildcard_.begin(), wildcard_.end(),
            [](const WildcardRule& a, const WildcardRule& b) { return LowerPriority(b, a); });
}

bool PolicySet::LowerPriority(const WildcardRule& a, const WildcardRule& b) {
  if (a.first_wildcard != b.first_wildcard) return a.first_wildcard < b.first_wildcard;  // 1
  if (a.glob != b.glob) return a.glob;                                                   // 2
  if (a.plus_count != b.plus_count) return a.plus_count > b.plus_count;                  // 3
  if (a.stem.size() != b.stem.size()) return a.stem.size() < b.stem.size();              // 4
  return a.stem < b.stem;                                                                // 5
}

bool PolicySet::Matches(const WildcardRule& rule, std::string_view path,
                        const std::vector<std::string_view>& path_segments) {
  if (rule.plus_count == 0) return path.starts_with(rule.stem);  // a plain glob
  const std::vector<std::string>& want = rule.segments;
  if (path_segments.size() < want.size()) return false;
  if (!rule.glob && path_segments.size() != want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "+") {
      if (path_segments[i].empty()) return false;
    } else if (rule.glob && i == want.size() - 1) {
      // The glob's last segment is a prefix; later path segments are free.
      if (!path_segments[i].starts_with(want[i])) return false;
    } else if (path_segments[i] != want[i]) {
      return false;
    }
  }
  return true;
}

CapabilitySet PolicySet::CapabilitiesFor(std::string_view path) const {
  if (root_) return CapabilitySet::AllGranting();
  while (path.starts_with('/')) path.remove_prefix(1);
  if (auto it = exact_.find(ToAbsl(path)); it != exact_.end()) return it->second;
  std::vector<std::string_view> segments;
  if (any_plus_) {
    size_t start = 0;
    while (true) {
      size_t slash = path.find('/', start);
      segments.push_back(path.substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
  }
  for (const WildcardRule& rule : wildcard_) {  // highest priority first
    if (Matches(rule, path, segments)) return rule.capabilities;
  }
  return CapabilitySet();
}

CapabilitySet PolicySet::CapabilitiesForList(std::string_view path) const {
  if (root_) return CapabilitySet::AllGranting();
  while (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/') && !exact_.contains(ToAbsl(path))) {
    std::string_view bare = path.substr(0, path.size() - 1);
    if (auto it = exact_.find(ToAbsl(bare)); it != exact_.end()) return it->second;
  }
  return CapabilitiesFor(path);
}

bool PolicySet::Allows(std::string_view path, Capability c) const {
  if (c == Capability::kDeny) return false;
  CapabilitySet caps = CapabilitiesFor(path);
  return caps.Has(c) && !caps.Has(Capability::kDeny);
}

}  // namespace rekey::auth
