#include "auth/authorizer.h"

#include "core/status_macros.h"

namespace rekey::auth {

Authorizer::Authorizer(TokenStore& tokens, PolicyStore& policies)
    : tokens_(tokens), policies_(policies) {}

absl::StatusOr<Principal> Authorizer::Authenticate(std::string_view token) {
  ASSIGN_OR_RETURN(TokenEntry entry, tokens_.Lookup(token));
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicySet> set, policies_.SetFor(entry.policies));
  return Principal{std::move(entry), std::move(set)};
}

absl::StatusOr<bool> Authorizer::Permits(const PolicySet& policies, std::string_view path,
                                         bool list, const Requirement& need,
                                         const ExistsFn& exists) {
  if (!need.NeedsSomething()) return false;  // a route must declare what it needs
  const CapabilitySet granted =
      list ? policies.CapabilitiesForList(path) : policies.CapabilitiesFor(path);
  if (granted.Has(Capability::kDeny)) return false;
  for (Capability c : kAllCapabilities) {
    if (need.all_of.Has(c) && !granted.Has(c)) return false;
  }
  if (!need.create_or_update) return true;
  const bool create = granted.Has(Capability::kCreate);
  const bool update = granted.Has(Capability::kUpdate);
  if (create && update) return true;  // no need to look
  if (!create && !update) return false;
  ASSIGN_OR_RETURN(bool target_exists, exists());
  return target_exists ? update : create;
}

bool Authorizer::GrantsAnything(const PolicySet& policies, std::string_view path, bool list) {
  const CapabilitySet granted =
      list ? policies.CapabilitiesForList(path) : policies.CapabilitiesFor(path);
  return !granted.empty() && !granted.Has(Capability::kDeny);
}

absl::Status Authorizer::ConsumeUse(const Principal& principal) {
  if (principal.token.num_uses == 0) return absl::OkStatus();
  return tokens_.ConsumeUse(principal.token.hash);
}

}  // namespace rekey::auth
