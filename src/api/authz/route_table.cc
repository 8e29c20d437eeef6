#include "api/authz/route_table.h"

#include "core/strings.h"

namespace rekey::api {
namespace {

using auth::Capability;
using auth::CapabilitySet;
using auth::Requirement;

constexpr Capability kCreate = Capability::kCreate;
constexpr Capability kRead = Capability::kRead;
constexpr Capability kUpdate = Capability::kUpdate;
constexpr Capability kPatch = Capability::kPatch;
constexpr Capability kDelete = Capability::kDelete;
constexpr Capability kList = Capability::kList;
constexpr Capability kSudo = Capability::kSudo;
constexpr Capability kRotate = Capability::kRotate;

Requirement Needs(CapabilitySet caps) { return Requirement{.all_of = caps}; }
Requirement CreateOrUpdate() { return Requirement{.all_of = {}, .create_or_update = true}; }
Requirement Nothing() { return Requirement{}; }

std::vector<Route> BuildRoutes() {
  constexpr std::string_view kSecretBody = R"({"data":{"password":"matrix-1"}})";
  constexpr std::string_view kPolicyBody = R"({"policy":"{\"path\":{}}"})";
  return {
      // --- sys ---------------------------------------------------------------------------------
      {.id = RouteId::kSysHealth,
       .surface = Surface::kVault,
       .pattern = "sys/health",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "sys/health",
       .summary = "Health check (no token)"},
      {.id = RouteId::kSysCapabilitiesSelf,
       .surface = Surface::kVault,
       .pattern = "sys/capabilities-self",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"paths":["secret/data/app"]})"}},
       .example = "sys/capabilities-self",
       .summary = "The caller's capabilities on paths"},
      {.id = RouteId::kSysPoliciesAclList,
       .surface = Surface::kVault,
       .pattern = "sys/policies/acl",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "sys/policies/acl",
       .summary = "List ACL policies"},
      {.id = RouteId::kSysPoliciesAcl,
       .surface = Surface::kVault,
       .pattern = "sys/policies/acl/:name",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), kPolicyBody},
               {Op::kDelete, Needs({kDelete})}},
       .example = "sys/policies/acl/example",
       .summary = "Read, write or delete an ACL policy"},
      {.id = RouteId::kSysPolicyList,
       .surface = Surface::kVault,
       .pattern = "sys/policy",
       .ops = {{Op::kRead, Needs({kRead})}, {Op::kList, Needs({kList})}},
       .example = "sys/policy",
       .summary = "List policies (older endpoint, used by hvac 0.11)"},
      {.id = RouteId::kSysPolicy,
       .surface = Surface::kVault,
       .pattern = "sys/policy/:name",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), kPolicyBody},
               {Op::kDelete, Needs({kDelete})}},
       .example = "sys/policy/example",
       .summary = "Read, write or delete a policy (older endpoint)"},

      // --- auth/token --------------------------------------------------------------------------
      {.id = RouteId::kTokenCreate,
       .surface = Surface::kVault,
       .pattern = "auth/token/create",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"policies":["default"],"ttl":"1h"})"}},
       .example = "auth/token/create",
       .summary = "Create a child token (no_parent needs root or sudo here)"},
      {.id = RouteId::kTokenCreateOrphan,
       .surface = Surface::kVault,
       .pattern = "auth/token/create-orphan",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"policies":["default"],"ttl":"1h"})"}},
       .example = "auth/token/create-orphan",
       .summary = "Create an orphan token"},
      {.id = RouteId::kTokenLookup,
       .surface = Surface::kVault,
       .pattern = "auth/token/lookup",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"token":"{token}"})"}},
       .example = "auth/token/lookup",
       .summary = "Look up a token"},
      {.id = RouteId::kTokenLookupSelf,
       .surface = Surface::kVault,
       .pattern = "auth/token/lookup-self",
       .ops = {{Op::kRead, Needs({kRead})}, {Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "auth/token/lookup-self",
       .summary = "Look up the calling token"},
      {.id = RouteId::kTokenLookupAccessor,
       .surface = Surface::kVault,
       .pattern = "auth/token/lookup-accessor",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"accessor":"{accessor}"})"}},
       .example = "auth/token/lookup-accessor",
       .summary = "Look up a token by accessor"},
      {.id = RouteId::kTokenRenew,
       .surface = Surface::kVault,
       .pattern = "auth/token/renew",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"token":"{token}","increment":"30m"})"}},
       .example = "auth/token/renew",
       .summary = "Renew a token"},
      {.id = RouteId::kTokenRenewSelf,
       .surface = Surface::kVault,
       .pattern = "auth/token/renew-self",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"increment":"30m"})"}},
       .example = "auth/token/renew-self",
       .summary = "Renew the calling token"},
      {.id = RouteId::kTokenRenewAccessor,
       .surface = Surface::kVault,
       .pattern = "auth/token/renew-accessor",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"accessor":"{accessor}"})"}},
       .example = "auth/token/renew-accessor",
       .summary = "Renew a token by accessor"},
      {.id = RouteId::kTokenRevoke,
       .surface = Surface::kVault,
       .pattern = "auth/token/revoke",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"token":"{token}"})"}},
       .example = "auth/token/revoke",
       .summary = "Revoke a token and its children"},
      {.id = RouteId::kTokenRevokeSelf,
       .surface = Surface::kVault,
       .pattern = "auth/token/revoke-self",
       .ops = {{Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "auth/token/revoke-self",
       .summary = "Revoke the calling token and its children"},
      {.id = RouteId::kTokenRevokeAccessor,
       .surface = Surface::kVault,
       .pattern = "auth/token/revoke-accessor",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"accessor":"{accessor}"})"}},
       .example = "auth/token/revoke-accessor",
       .summary = "Revoke a token by accessor, and its children"},
      {.id = RouteId::kTokenRevokeOrphan,
       .surface = Surface::kVault,
       .pattern = "auth/token/revoke-orphan",
       .ops = {{Op::kWrite, Needs({kUpdate, kSudo}), R"({"token":"{token}"})"}},
       .example = "auth/token/revoke-orphan",
       .summary = "Revoke a token; its children become orphans"},
      {.id = RouteId::kTokenAccessors,
       .surface = Surface::kVault,
       .pattern = "auth/token/accessors",
       .ops = {{Op::kList, Needs({kList, kSudo})}},
       .example = "auth/token/accessors",
       .summary = "List every token accessor"},

      // --- KV v2 at secret/ --------------------------------------------------------------------
      {.id = RouteId::kKvConfig,
       .surface = Surface::kVault,
       .pattern = "secret/config",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), R"({"max_versions":10})"}},
       .example = "secret/config",
       .summary = "KV mount configuration"},
      {.id = RouteId::kKvData,
       .surface = Surface::kVault,
       .pattern = "secret/data/*",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, CreateOrUpdate(), kSecretBody},
               {Op::kPatch, Needs({kPatch}), R"({"data":{"user":"matrix"}})"},
               {Op::kDelete, Needs({kDelete})}},
       .example = "secret/data/matrix/app",
       .summary = "Secret data (write: create if absent, update if present)"},
      {.id = RouteId::kKvMetadata,
       .surface = Surface::kVault,
       .pattern = "secret/metadata/**",
       .ops = {{Op::kList, Needs({kList})},
               {Op::kRead, Needs({kRead})},
               {Op::kWrite, CreateOrUpdate(), R"({"max_versions":5})"},
               {Op::kPatch, Needs({kPatch}), R"({"max_versions":6})"},
               {Op::kDelete, Needs({kDelete})}},
       .example = "secret/metadata/matrix/app",
       .summary = "Secret metadata; LIST lists a folder"},
      {.id = RouteId::kKvSubkeys,
       .surface = Surface::kVault,
       .pattern = "secret/subkeys/*",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "secret/subkeys/matrix/app",
       .summary = "Keys of a secret without values"},
      {.id = RouteId::kKvDelete,
       .surface = Surface::kVault,
       .pattern = "secret/delete/*",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"versions":[1]})"}},
       .example = "secret/delete/matrix/app",
       .summary = "Soft-delete versions"},
      {.id = RouteId::kKvUndelete,
       .surface = Surface::kVault,
       .pattern = "secret/undelete/*",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"versions":[1]})"}},
       .example = "secret/undelete/matrix/app",
       .summary = "Undelete versions"},
      {.id = RouteId::kKvDestroy,
       .surface = Surface::kVault,
       .pattern = "secret/destroy/*",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"versions":[1]})"}},
       .example = "secret/destroy/matrix/app",
       .summary = "Destroy versions"},

      // --- rotation ----------------------------------------------------------------------------
      {.id = RouteId::kRotationConfig,
       .surface = Surface::kRotation,
       .pattern = "rotation/config/**",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), R"j({"rotator":"generic","schedule":"rate(24h)"})j"},
               {Op::kDelete, Needs({kDelete})}},
       .example = "rotation/config/matrix/app",
       .summary = "Rotation config of a secret"},
      {.id = RouteId::kRotationRotate,
       .surface = Surface::kRotation,
       .pattern = "rotation/rotate/**",
       .ops = {{Op::kWrite, Needs({kRotate}), R"({"dry_run":true})"}},
       .example = "rotation/rotate/matrix/app",
       .summary = "Rotate a secret now (or dry-run it)"},
      {.id = RouteId::kRotationDue,
       .surface = Surface::kRotation,
       .pattern = "rotation/due",
       .ops = {{Op::kWrite, Needs({kRotate, kSudo}), "{}"}},
       .example = "rotation/due",
       .summary = "Rotate every secret that is due (all secrets: needs sudo)"},
      {.id = RouteId::kRotationRuns,
       .surface = Surface::kRotation,
       .pattern = "rotation/runs/**",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "rotation/runs/matrix/app",
       .summary = "Rotation runs of a secret"},
      {.id = RouteId::kRotationStatus,
       .surface = Surface::kRotation,
       .pattern = "rotation/status",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "rotation/status",
       .summary = "Rotation status of every configured secret"},
      {.id = RouteId::kRotationEvents,
       .surface = Surface::kRotation,
       .pattern = "rotation/events",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "rotation/events",
       .summary = "Rotation event stream (long poll)"},

      // --- sys/audit (sudo paths, as in Vault) -------------------------------------------------
      {.id = RouteId::kSysAuditList,
       .surface = Surface::kAudit,
       .pattern = "sys/audit",
       .ops = {{Op::kRead, Needs({kRead, kSudo})}, {Op::kList, Needs({kList, kSudo})}},
       .example = "sys/audit",
       .summary = "List audit devices, their public keys and chain heads"},
      {.id = RouteId::kSysAuditEvents,
       .surface = Surface::kAudit,
       .pattern = "sys/audit/events",
       .ops = {{Op::kRead, Needs({kRead, kSudo})}},
       .example = "sys/audit/events",
       .summary = "Recently recorded audit entries (metadata only)"},
      {.id = RouteId::kSysAuditDevice,
       .surface = Surface::kAudit,
       .pattern = "sys/audit/:name",
       .ops = {{Op::kWrite, Needs({kUpdate, kSudo}), R"({"type":"stdout"})"},
               {Op::kDelete, Needs({kDelete, kSudo})}},
       .example = "sys/audit/example",
       .summary = "Enable or disable an audit device"},
      {.id = RouteId::kSysAuditHash,
       .surface = Surface::kAudit,
       .pattern = "sys/audit-hash/:name",
       .ops = {{Op::kWrite, Needs({kUpdate, kSudo}), R"({"input":"value"})"}},
       .example = "sys/audit-hash/example",
       .summary = "Fingerprint a value with an audit device's HMAC key"},

      // --- sys/aws-keys: AWS access keys (sudo: a key carries whatever policies it names) ------
      {.id = RouteId::kSysAwsKeys,
       .surface = Surface::kAwsKeys,
       .pattern = "sys/aws-keys",
       .ops = {{Op::kList, Needs({kList, kSudo})},
               {Op::kWrite, Needs({kUpdate, kSudo}), R"({"policies":["default"]})"}},
       .example = "sys/aws-keys",
       .summary = "List AWS access keys, or create one bound to policies"},
      {.id = RouteId::kSysAwsKey,
       .surface = Surface::kAwsKeys,
       .pattern = "sys/aws-keys/:id",
       .ops = {{Op::kRead, Needs({kRead, kSudo})}, {Op::kDelete, Needs({kDelete, kSudo})}},
       .example = "sys/aws-keys/AKIAMATRIXEXAMPLE000",
       .summary = "Read or delete an AWS access key"},
  };
}

const std::vector<Route>& AllRoutes() {
  static const std::vector<Route>* const routes = new std::vector<Route>(BuildRoutes());
  return *routes;
}

std::vector<std::string_view> SplitPattern(std::string_view pattern) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = pattern.find('/', start);
    out.push_back(pattern.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// Every route's pattern split into segments, in AllRoutes() order; computed once.
const std::vector<std::vector<std::string_view>>& SplitPatterns() {
  static const auto* const split = [] {
    auto* out = new std::vector<std::vector<std::string_view>>();
    for (const Route& route : AllRoutes()) out->push_back(SplitPattern(route.pattern));
    return out;
  }();
  return *split;
}

bool Matches(const std::vector<std::string_view>& want, const std::vector<std::string>& segments,
             size_t count) {
  for (size_t i = 0; i < want.size(); ++i) {
    std::string_view w = want[i];
    if (w == "**") return i == want.size() - 1;  // zero or more: anything left
    if (w == "*") return i == want.size() - 1 && count > i;
    if (i >= count) return false;
    if (w.starts_with(':')) {
      if (segments[i].empty()) return false;
    } else if (segments[i] != w) {
      return false;
    }
  }
  return count == want.size();
}

std::string CapsText(const auth::Requirement& need) {
  std::string out;
  if (need.create_or_update) out = "create (new) / update (existing)";
  for (std::string_view name : need.all_of.Names()) {
    if (!out.empty()) out += " + ";
    out += name;
  }
  return out.empty() ? "none (no token)" : out;
}

}  // namespace

std::optional<Op> OpFromMethod(std::string_view operation) {
  if (operation == "GET" || operation == "HEAD") return Op::kRead;
  if (operation == "LIST") return Op::kList;
  if (operation == "POST" || operation == "PUT") return Op::kWrite;
  if (operation == "PATCH") return Op::kPatch;
  if (operation == "DELETE") return Op::kDelete;
  return std::nullopt;
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kRead:
      return "read";
    case Op::kList:
      return "list";
    case Op::kWrite:
      return "write";
    case Op::kPatch:
      return "patch";
    case Op::kDelete:
      return "delete";
  }
  return "unknown";
}

const OpRule* Route::Find(Op op) const {
  for (const OpRule& rule : ops) {
    if (rule.op == op) return &rule;
  }
  return nullptr;
}

std::span<const Route> Routes() { return AllRoutes(); }

RouteMatch MatchRoute(Op op, const std::vector<std::string>& segments) {
  RouteMatch m;
  m.list = op == Op::kList;
  size_t count = segments.size();
  if (m.list && count > 0 && segments.back().empty()) --count;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) m.policy_path += '/';
    m.policy_path += segments[i];
  }
  if (m.list && !m.policy_path.ends_with('/')) m.policy_path += '/';
  const std::vector<Route>& routes = AllRoutes();
  const std::vector<std::vector<std::string_view>>& patterns = SplitPatterns();
  for (size_t i = 0; i < routes.size(); ++i) {
    if (!Matches(patterns[i], segments, count)) continue;
    m.route = &routes[i];
    m.rule = routes[i].Find(op);
    break;
  }
  return m;
}

std::string RouteTableMarkdown() {
  std::string out =
      "| Path (after /v1/) | Operation | HTTP | Capabilities on the request path |\n"
      "|---|---|---|---|\n";
  for (const Route& route : AllRoutes()) {
    for (const OpRule& rule : route.ops) {
      std::string_view http;
      switch (rule.op) {
        case Op::kRead:
          http = "GET";
          break;
        case Op::kList:
          http = "LIST, GET ?list=true";
          break;
        case Op::kWrite:
          http = "POST, PUT";
          break;
        case Op::kPatch:
          http = "PATCH";
          break;
        case Op::kDelete:
          http = "DELETE";
          break;
      }
      out += StrCat("| `", route.pattern, "` | ", OpName(rule.op), " | ", http, " | ",
                    CapsText(rule.need), " |\n");
    }
  }
  return out;
}

}  // namespace rekey::api
