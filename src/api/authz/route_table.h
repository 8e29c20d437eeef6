// The route table: every route of every API surface, with the capability each operation needs
// and the path that capability is checked against. Handlers dispatch THROUGH this table: a
// request that matches no row is never served, so a route cannot exist without a declared
// capability. Adding a surface (transit, pki, jwt, the AWS operations) means adding rows here
// (and a RouteId per row); the authorization matrix test then covers them automatically.
#ifndef REKEY_API_AUTHZ_ROUTE_TABLE_H_
#define REKEY_API_AUTHZ_ROUTE_TABLE_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorizer.h"

namespace rekey::api {

// The logical operation of a request (Vault's): GET/HEAD read, LIST (or GET ?list=true) list,
// POST/PUT write, PATCH patch, DELETE delete.
enum class Op { kRead, kList, kWrite, kPatch, kDelete };

// From a VaultRequest::operation ("GET", "HEAD", "LIST", "POST", "PUT", "PATCH", "DELETE");
// nullopt for anything else.
std::optional<Op> OpFromMethod(std::string_view operation);
std::string_view OpName(Op op);  // "read", "list", "write", "patch", "delete"

// Which handler serves a route.
enum class Surface { kVault, kRotation, kAudit, kAwsKeys, kTransit, kPki, kJwt, kStorageKeys };

// One id per row; handlers switch on it.
enum class RouteId {
  kSysHealth,
  kSysCapabilitiesSelf,
  kSysPoliciesAclList,
  kSysPoliciesAcl,
  kSysPolicyList,  // Vault's older sys/policy endpoints, which hvac 0.11.2 uses
  kSysPolicy,
  kTokenCreate,
  kTokenCreateOrphan,
  kTokenLookup,
  kTokenLookupSelf,
  kTokenLookupAccessor,
  kTokenRenew,
  kTokenRenewSelf,
  kTokenRenewAccessor,
  kTokenRevoke,
  kTokenRevokeSelf,
  kTokenRevokeAccessor,
  kTokenRevokeOrphan,
  kTokenAccessors,
  kKvConfig,
  kKvData,
  kKvMetadata,
  kKvSubkeys,
  kKvDelete,
  kKvUndelete,
  kKvDestroy,
  kTransitKeys,  // Vault transit at transit/
  kTransitKey,
  kTransitKeyConfig,
  kTransitKeyRotate,
  kTransitKeyTrim,
  kTransitEncrypt,
  kTransitDecrypt,
  kTransitRewrap,
  kTransitDatakey,
  kTransitHmac,
  kTransitHmacAlgorithm,
  kTransitSign,
  kTransitSignAlgorithm,
  kTransitVerify,
  kTransitVerifyAlgorithm,
  kTransitExport,
  kTransitExportVersion,
  kTransitHash,
  kTransitHashAlgorithm,
  kTransitRandom,
  kTransitRandomBytes,
  kRotationConfig,
  kRotationRotate,
  kRotationDue,
  kRotationRuns,
  kRotationStatus,
  kRotationEvents,
  kSysAuditList,
  kSysAuditEvents,
  kSysAuditDevice,
  kSysAuditHash,
  kSysAwsKeys,
  kSysAwsKey,
  kPkiRootGenerate,  // Vault PKI at pki/
  kPkiIntermediateGenerate,
  kPkiRootSignIntermediate,
  kPkiIntermediateSetSigned,
  kPkiConfigCa,
  kPkiIssuers,
  kPkiIssuer,
  kPkiIssuerRetire,
  kPkiIssuerCrl,
  kPkiConfigIssuers,
  kPkiCaPem,
  kPkiCaDer,
  kPkiCaChain,
  kPkiCertCaChain,
  kPkiCert,
  kPkiCerts,
  kPkiRoles,
  kPkiRole,
  kPkiIssue,
  kPkiSign,
  kPkiRevoke,
  kPkiCrlDer,
  kPkiCrlPem,
  kPkiCrlRotate,
  kPkiTidy,
  kJwtKeys,  // JWT signing keysets at jwt/ (and the public JWKS, also at /.well-known/jwks/)
  kJwtKey,
  kJwtSign,
  kJwtVerify,
  kJwtJwks,
  kSysRotate,
  kSysKeyStatus,
  // Add new ids above this line: it counts them (route_table_test checks every id has a row).
  kEndOfRouteIds,
};

// What one operation on a route needs.
struct OpRule {
  Op op;
  auth::Requirement need;
  // Test and documentation data: a request body that makes this operation succeed on the
  // route's example path. "{token}" and "{accessor}" stand for another token's value/accessor.
  std::string_view example_body = "";
};

struct Route {
  RouteId id;
  Surface surface;
  // Path pattern after "/v1/", segment by segment: a literal; ":name", exactly one non-empty
  // segment; "*" last, one or more segments; "**" last, zero or more segments.
  std::string_view pattern;
  std::vector<OpRule> ops;
  bool authenticated = true;  // false only for sys/health
  // A concrete path matching `pattern` (tests, docs).
  std::string_view example = "";
  std::string_view summary = "";

  const OpRule* Find(Op op) const;
};

// Every route, in match order (the first matching row wins).
std::span<const Route> Routes();

struct RouteMatch {
  const Route* route = nullptr;  // nullptr: no row has this path
  const OpRule* rule = nullptr;  // nullptr: the row does not support the operation
  // The path capabilities are checked against: the request path relative to /v1/ (Vault's
  // rule), with a trailing '/' for LIST requests, e.g. "secret/metadata/app/".
  std::string policy_path;
  bool list = false;
};

// Matches a request's percent-decoded path segments after "v1" (e.g. {"secret", "data", "a"}).
// For LIST a trailing empty segment ("secret/metadata/") is ignored when matching.
RouteMatch MatchRoute(Op op, const std::vector<std::string>& segments);

// The capability table as Markdown (docs/api/auth.md embeds it; a test keeps them equal).
std::string RouteTableMarkdown();

}  // namespace rekey::api

#endif  // REKEY_API_AUTHZ_ROUTE_TABLE_H_
