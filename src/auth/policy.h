// ACL policies in Vault's JSON syntax: parsing and validation (Policy), and evaluation of the
// capabilities a set of policies grants on a request path (PolicySet), with Vault's priority rules.
#ifndef REKEY_AUTH_POLICY_H_
#define REKEY_AUTH_POLICY_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rekey::auth {

// One capability a policy rule can grant. Vault's set plus rekey's `rotate`. Values are bit flags
// so that a CapabilitySet is a single integer.
enum class Capability : uint16_t {
  kCreate = 1 << 0,
  kRead = 1 << 1,
  kUpdate = 1 << 2,
  kPatch = 1 << 3,
  kDelete = 1 << 4,
  kList = 1 << 5,
  kSudo = 1 << 6,
  kRotate = 1 << 7,  // rekey: trigger or manage rotation of the secret at the path
  kDeny = 1 << 8,    // in the winning rule, denies everything (including sudo)
};

// Every capability, in canonical order (the order Serialize and ToString use).
inline constexpr Capability kAllCapabilities[] = {
    Capability::kCreate, Capability::kRead,   Capability::kUpdate,
    Capability::kPatch,  Capability::kDelete, Capability::kList,
    Capability::kSudo,   Capability::kRotate, Capability::kDeny,
};

// The policy-syntax name of `c`, e.g. "read".
std::string_view CapabilityName(Capability c);
// The capability called `name` (exact, lowercase). kInvalidArgument naming it when unknown.
absl::StatusOr<Capability> ParseCapability(std::string_view name);

// A set of capabilities. A value type; cheap to copy.
class CapabilitySet {
 public:
  constexpr CapabilitySet() = default;
  constexpr CapabilitySet(std::initializer_list<Capability> caps) {
    for (Capability c : caps) Add(c);
  }

  // Every granting capability (everything except deny): what the root policy grants.
  static constexpr CapabilitySet AllGranting() {
    CapabilitySet s;
    for (Capability c : kAllCapabilities) {
      if (c != Capability::kDeny) s.Add(c);
    }
    return s;
  }

  constexpr bool Has(Capability c) const { return (bits_ & static_cast<uint16_t>(c)) != 0; }
  constexpr void Add(Capability c) { bits_ |= static_cast<uint16_t>(c); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr uint16_t bits() const { return bits_; }

  constexpr CapabilitySet& operator|=(CapabilitySet other) {
    bits_ |= other.bits_;
    return *this;
  }
  friend constexpr CapabilitySet operator|(CapabilitySet a, CapabilitySet b) { return a |= b; }
  friend constexpr bool operator==(CapabilitySet a, CapabilitySet b) = default;

  // Names in canonical order, e.g. {"read", "list"}.
  std::vector<std::string_view> Names() const;
  // For messages: "[read, list]"; "[]" when empty.
  std::string ToString() const;

 private:
  uint16_t bits_ = 0;
};

// One `path` entry of a policy: a pattern and the capabilities it grants. In a valid Policy the
// capabilities are non-empty, and a rule holding deny holds only deny.
struct PathRule {
  // Request-path pattern, without a leading '/'. Three forms, combinable:
  //   "secret/data/app"   exact: matches that path only;
  //   "secret/data/*"     glob: a trailing '*' matches any suffix, including none and including
  //                       '/', so it matches "secret/data/" and "secret/data/a/b";
  //                       "secret/zip-*" matches "secret/zip-zap/zong";
  //   "secret/+/teams/*"  '+' is a whole path segment matching exactly one non-empty segment.
  // No other wildcard and no regex: '*' only as the last character, '+' only as a whole segment.
  std::string pattern;
  CapabilitySet capabilities;

  friend bool operator==(const PathRule&, const PathRule&) = default;
};

// A named, validated ACL policy. Immutable; an invalid Policy cannot be constructed.
class Policy {
 public:
  // Largest policy document Parse accepts, in bytes.
  static constexpr size_t kMaxJsonBytes = 1 << 20;

  // Parses Vault's JSON policy syntax:
  //   {"path": {"secret/data/*": {"capabilities": ["read", "list"]}, ...}}
  // `{}` and `{"path": {}}` are valid and grant nothing. Strict: every problem is
  // kInvalidArgument with a message naming the policy, the path pattern and what was wrong:
  // bad name (see ValidateName), malformed JSON, a duplicated key, a top-level key other than
  // "path", a rule that is not an object, an unknown key in a rule, "capabilities" missing, not a
  // list of strings, empty or naming an unknown capability, and any pattern rejected by Create.
  // Vault keys rekey does not enforce (allowed_parameters, denied_parameters,
  // required_parameters, min_wrapping_ttl, max_wrapping_ttl, mfa_methods, control_group, and the
  // legacy "policy") are rejected as "not supported yet" rather than ignored, so nobody believes
  // they are enforced. A rule listing deny with other capabilities keeps only deny (as Vault).
  static absl::StatusOr<Policy> Parse(std::string_view name, std::string_view json);

  // Builds a policy from rules. kInvalidArgument when the name is invalid, a pattern is empty,
  // starts with '/', contains a control character or an empty segment ("a//b"), has '*' other
  // than as its last character, has '+' other than as a whole segment (or "+*"), appears twice,
  // or a rule has no capabilities. Rules are kept sorted by pattern; deny is normalized as above.
  static absl::StatusOr<Policy> Create(std::string_view name, std::vector<PathRule> rules);

  // The built-in root policy: grants every capability except deny on every path, and overrides
  // everything else in a PolicySet. It has no rules.
  static Policy Root();

  // OK when `name` is 1..128 characters of [a-z0-9_-] and not "root" (reserved for Root()).
  static absl::Status ValidateName(std::string_view name);

  const std::string& name() const { return name_; }
  bool IsRoot() const { return root_; }
  // Sorted by pattern.
  const std::vector<PathRule>& rules() const { return rules_; }

  // Canonical JSON: compact, rules sorted by pattern, capabilities in canonical order; Parse of
  // the result yields an equal policy. Root() serializes as {"path":{}}: its power is built in,
  // not expressed as rules (and "root" cannot be parsed).
  std::string Serialize() const;

  friend bool operator==(const Policy&, const Policy&) = default;

 private:
  Policy(std::string name, std::vector<PathRule> rules, bool root)
      : name_(std::move(name)), rules_(std::move(rules)), root_(root) {}

  std::string name_;
  std::vector<PathRule> rules_;
  bool root_ = false;
};

// The capabilities a token's policies grant, evaluated per request path. Immutable after
// construction, so concurrent const calls are safe.
//
// Evaluation follows Vault's ACL semantics (Vault docs, "Policies" page, the note before
// "Capabilities" and its priority list: developer.hashicorp.com/vault/docs/concepts/policies;
// implementation: hashicorp/vault vault/acl.go, AllowOperation and
// CheckAllowedFromNonExactPaths):
//   * Rules with the same pattern in several policies are merged first: the union of their
//     capabilities, or only deny if any of them denies.
//   * Exactly one rule then decides, the most specific one matching the path; it is NOT a union
//     of all matching rules. A path no rule matches gets nothing (deny by default).
//   * An exact rule (no '*' or '+') matching the path wins over every wildcard rule.
//   * Otherwise, among matching wildcard rules P1 and P2, P1 has lower priority when, checked in
//     this order:
//       1. its first '+' or '*' occurs earlier;
//       2. it ends in '*' and P2 does not;
//       3. it has more '+' segments;
//       4. it is shorter (ignoring a trailing '*');
//       5. it is smaller lexicographically (ignoring a trailing '*').
//     E.g. (the doc's example) for "secret/*" and "secret/+/+/foo/*" the first wildcard is at the
//     same place and both end in '*', so rule 3 makes "secret/+/+/foo/*" lower priority. By the
//     same rule "foo/*" beats the longer "foo/+/ba*" on "foo/x/baz" (surprising, but Vault's).
//   * If the winning rule holds deny, every capability is denied, sudo included.
//   * A PolicySet containing Root() grants every capability on every path.
// Deliberate difference from Vault: '+' never matches an empty segment ("a//b").
// CapabilitiesFor evaluates the path exactly as given; CapabilitiesForList adds Vault's rule for
// LIST requests (below).
class PolicySet {
 public:
  PolicySet() = default;  // no policies: denies everything
  // Copies what it needs from `policies`; they need not outlive the PolicySet.
  explicit PolicySet(std::span<const Policy> policies);

  // Cost: one hash lookup, then a scan of the wildcard rules in priority order (first match).
  // The capabilities granted on `path` (a request path relative to /v1/, e.g.
  // "secret/data/app"; leading '/' are ignored). Empty when no rule matches; exactly {deny} when
  // the winning rule denies; never deny together with other capabilities.
  CapabilitySet CapabilitiesFor(std::string_view path) const;

  // For a LIST request of `path` (Vault sends list paths with a trailing '/', e.g.
  // "secret/metadata/app/"): as CapabilitiesFor, except that when no exact rule names the path
  // itself, an exact rule for the path without its trailing '/' applies (Vault's acl.go
  // AllowOperation: "secret/metadata/app" with ["list"] allows LIST secret/metadata/app/).
  // Wildcard rules are matched against the path with its '/'.
  CapabilitySet CapabilitiesForList(std::string_view path) const;

  // Whether `c` is granted on `path`: CapabilitiesFor(path) has `c` and not deny. Always false
  // for c == kDeny.
  bool Allows(std::string_view path, Capability c) const;

  bool IsRoot() const { return root_; }

 private:
  struct WildcardRule {
    std::string pattern;                // as written, with any trailing '*'
    std::string stem;                   // pattern without a trailing '*'
    std::vector<std::string> segments;  // stem split on '/'; only when plus_count > 0
    bool glob = false;                  // ends in '*'
    size_t first_wildcard = 0;          // index of the first '+' or '*' in pattern
    int plus_count = 0;
    CapabilitySet capabilities;
  };

  static bool Matches(const WildcardRule& rule, std::string_view path,
                      const std::vector<std::string_view>& path_segments);
  // Whether `a` has lower priority than `b` (Vault's rules 1-5 above).
  static bool LowerPriority(const WildcardRule& a, const WildcardRule& b);

  bool root_ = false;
  absl::flat_hash_map<std::string, CapabilitySet> exact_;
  std::vector<WildcardRule> wildcard_;  // highest priority first
  bool any_plus_ = false;               // some wildcard rule has a '+' segment
};

}  // namespace rekey::auth

#endif  // REKEY_AUTH_POLICY_H_
