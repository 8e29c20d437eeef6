// Authorizer: the one place that decides whether a request may proceed: it authenticates a token
// (TokenStore), finds the token's PolicySet (PolicyStore) and checks a route's declared
// Requirement against the request's policy path. The route table (api/authz/route_table.h) says
// which Requirement every route has; every API surface asks this class, never the policies.
#ifndef REKEY_AUTH_AUTHORIZER_H_
#define REKEY_AUTH_AUTHORIZER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/policy.h"
#include "auth/policy_store.h"
#include "auth/token_store.h"

namespace rekey::auth {

// What an operation on a route needs, as declared in the route table.
struct Requirement {
  // Every one of these capabilities (e.g. {update, sudo}).
  CapabilitySet all_of;
  // In addition, `create` when the target does not exist yet and `update` when it does (Vault's
  // CreateOperation/UpdateOperation split, decided by an existence check).
  bool create_or_update = false;

  // False only for unauthenticated routes (sys/health); a route table test requires it otherwise.
  bool NeedsSomething() const { return create_or_update || !all_of.empty(); }
};

// An authenticated caller.
struct Principal {
  TokenEntry token;
  std::shared_ptr<const PolicySet> policies;  // never null
};

// Thread-safe.
class Authorizer {
 public:
  // Both must outlive the Authorizer.
  Authorizer(TokenStore& tokens, PolicyStore& policies);

  // The caller holding `token`. kPermissionDenied("permission denied") for a missing, unknown,
  // expired, revoked or used-up token, or an accessor passed as a token.
  absl::StatusOr<Principal> Authenticate(std::string_view token);

  // Answers whether the target of a create-or-update request exists. Only called when the
  // decision depends on it (exactly one of create and update is granted).
  using ExistsFn = std::function<absl::StatusOr<bool>()>;

  // Whether `policies` grant `need` on `path` (the request path relative to /v1/, as Vault checks
  // it; `list` for LIST requests, whose path ends in '/'). Deny by default: a path no rule
  // matches, or whose winning rule denies, grants nothing. Fails only when `exists` fails.
  static absl::StatusOr<bool> Permits(const PolicySet& policies, std::string_view path, bool list,
                                      const Requirement& need, const ExistsFn& exists);

  // Whether `policies` grant anything at all on `path` (used to answer 404/405 only to callers
  // who could know the path, and 403 to everyone else).
  static bool GrantsAnything(const PolicySet& policies, std::string_view path, bool list);

  // Counts one use of the caller's token (see TokenStore::ConsumeUse); call it once per request,
  // after the request was authorized and before it is served.
  absl::Status ConsumeUse(const Principal& principal);

  // Whether authenticating `token` needs a storage write (a limited-use token): callers on I/O
  // threads then run the request on a blocking pool.
  bool MayNeedWrite(std::string_view token) { return tokens_.MayNeedWrite(token); }

  TokenStore& tokens() { return tokens_; }
  PolicyStore& policies() { return policies_; }

 private:
  TokenStore& tokens_;
  PolicyStore& policies_;
};

}  // namespace rekey::auth

#endif  // REKEY_AUTH_AUTHORIZER_H_
