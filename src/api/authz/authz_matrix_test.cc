// The authorization matrix: generated from the route table, not written per route. For every
// authenticated route and operation, and for each of
//   granted   a token whose only policy grants exactly the declared capabilities on the path,
//   missing   a token granted everything on the path except one required capability,
//   denied    a token granted everything everywhere, with an explicit deny rule on the path,
//   expired   the granted token after its TTL,
//   revoked   the granted token after revocation,
//   accessor  the granted token's accessor sent as the token,
// a request goes through the server's dispatch (HandleAsync first, then Handle, as the HTTP
// server does) of the Vault, rotation and audit handlers over one MemoryStore. Granted requests
// must not be refused (no 403, and the route must exist: no 404 "route entry not found", no 405);
// every other case must get exactly 403 {"errors":["permission denied"]} and write nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <memory>

#include "api/audit/audit_recorder.h"
#include "api/authz/route_table.h"
#include "api/aws/access_key_routes.h"
#include "api/http/router.h"
#include "api/jwt/jwt_handler.h"
#include "api/pki/pki_handler.h"
#include "api/rotation/rotation_handler.h"
#include "api/storage_keys/storage_key_handler.h"
#include "api/transit/transit_handler.h"
#include "api/vault/vault_handler.h"
#include "auth/authorizer.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "rotation/engine.h"
#include "rotators/generic/generic_rotator.h"
#include "storage/memory_store.h"

namespace rekey::api {
namespace {

namespace json = boost::json;
using auth::Capability;
using auth::CapabilitySet;

constexpr char kRoot[] = "matrix-root";
constexpr char kDenied[] = R"({"errors":["permission denied"]})";

class NoHttp final : public rotation::HttpTransport {
 public:
  absl::StatusOr<rotation::HttpReply> Send(const rotation::HttpCall&) override {
    return absl::UnavailableError("no network in tests");
  }
};

std::string_view MethodOf(Op op) {
  switch (op) {
    case Op::kRead:
      return "GET";
    case Op::kList:
      return "LIST";
    case Op::kWrite:
      return "POST";
    case Op::kPatch:
      return "PATCH";
    case Op::kDelete:
      return "DELETE";
  }
  return "GET";
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The in-process server: every store, service and handler the real server wires, on fakes.
class Stack {
 public:
  Stack() {
    EXPECT_OK(tokens.EnsureRootToken(SecretBytes(kRoot)));
    EXPECT_OK(rotators::generic::RegisterGenericRotator(registry));
    rotation::EngineOptions options;
    options.workers = 0;
    engine = std::make_unique<rotation::RotationEngine>(store, kv, registry, clock, random, http,
                                                        options);
    EXPECT_OK(engine->Start());
    vault = std::make_unique<VaultHandler>(kv, authz, clock, VaultHandlerOptions{});
    rotations = std::make_unique<RotationHandler>(*engine, authz, clock);
    sys_audit = std::make_unique<SysAuditHandler>(broker, authz);
    router = std::make_unique<http::PrefixRouter>(*vault);
    router->Add("/v1/rotation/", *rotations);
    router->Add("/v1/sys/audit", *sys_audit);
    transit_handler = std::make_unique<TransitHandler>(transit_service, authz);
    router->Add("/v1/transit/", *transit_handler);
    aws_keys_handler = std::make_unique<aws::AccessKeyHandler>(aws_keys, authz);
    router->Add("/v1/sys/aws-keys", *aws_keys_handler);
    pki_handler = std::make_unique<PkiHandler>(ca, authz);
    router->Add("/v1/pki/", *pki_handler);
    jwt_handler = std::make_unique<JwtHandler>(jwt_service, authz);
    router->Add("/v1/jwt/", *jwt_handler);
    router->Add("/.well-known/jwks/", *jwt_handler);
    storage_keys = std::make_unique<storage::StorageKeyManager>(
        store, *storage_keyring, storage_root, random, clock,
        storage::StorageKeyOptions{.rotation_threshold = 0});
    storage_key_handler =
        std::make_unique<StorageKeyHandler>(*storage_keys, *storage_keyring, authz);
    router->Add("/v1/sys/rotate", *storage_key_handler);
    router->Add("/v1/sys/key-status", *storage_key_handler);
  }
  ~Stack() { engine->Stop(); }

  // Sends a request as the HTTP server would: HandleAsync first, then Handle.
  http::Response Send(std::string_view method, const std::string& target, std::string body,
                      std::string_view token) {
    http::Request req;
    req.method = std::string(method);
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.body = std::move(body);
    req.request_id = "matrix";
    if (!token.empty()) req.headers.push_back({"x-vault-token", std::string(token)});
    req.headers.push_back(
        {"content-type", method == "PATCH" ? "application/merge-patch+json" : "application/json"});
    std::optional<http::Response> async;
    if (router->HandleAsync(req, [&](http::ResponseMaker make) { async = make(); })) {
      // MemoryStore commits synchronously, so the responder has run.
      EXPECT_TRUE(async.has_value());
      if (async.has_value() && async->status != http::kRunBlocking) return *async;
    }
    return router->Handle(req);
  }

  // A token (child of root, TTL 1h, renewable, no default policy) holding only `rules`.
  auth::CreatedToken TokenWithRules(const std::string& name, const json::object& paths) {
    json::object doc;
    doc["path"] = paths;
    EXPECT_OK(policies.Write(name, json::serialize(doc)));
    absl::StatusOr<auth::TokenEntry> root = tokens.Lookup(kRoot);
    auth::TokenRequest r;
    r.policies = {name};
    r.no_default_policy = true;
    r.ttl = absl::Hours(1);
    absl::StatusOr<auth::CreatedToken> created = tokens.Create(*root, r, false);
    EXPECT_OK(created.status());
    return created.ok() ? *std::move(created) : auth::CreatedToken{};
  }

  storage::MemoryStore store;
  FakeClock clock;
  FakeRandom random;
  secrets::SecretsService kv{store, clock, random, "secret"};
  auth::TokenStore tokens{store, clock, random};
  auth::PolicyStore policies{store};
  auth::Authorizer authz{tokens, policies};
  rotation::RotatorRegistry registry;
  NoHttp http;
  std::unique_ptr<rotation::RotationEngine> engine;
  std::unique_ptr<VaultHandler> vault;
  std::unique_ptr<RotationHandler> rotations;
  audit::AuditBroker broker{store, clock, random, "matrix"};
  std::unique_ptr<SysAuditHandler> sys_audit;
  transit::TransitService transit_service{store, clock, random};
  std::unique_ptr<TransitHandler> transit_handler;
  aws::AccessKeyStore aws_keys{store, clock, random};
  std::unique_ptr<aws::AccessKeyHandler> aws_keys_handler;
  pki::CaService ca{store, clock, random};
  std::unique_ptr<PkiHandler> pki_handler;
  jwt::JwtService jwt_service{store, clock, random};
  std::unique_ptr<JwtHandler> jwt_handler;
  std::unique_ptr<crypto::Keyset> storage_keyring = crypto::Keyset::Generate(random, clock);
  SecretBytes storage_root{std::string(32, 'k')};
  std::unique_ptr<storage::StorageKeyManager> storage_keys;
  std::unique_ptr<StorageKeyHandler> storage_key_handler;
  std::unique_ptr<http::PrefixRouter> router;
};

json::array CapsJson(CapabilitySet caps) {
  json::array out;
  for (std::string_view name : caps.Names())
    out.emplace_back(json::string_view(name.data(), name.size()));
  return out;
}

// paths[path] = {"capabilities": caps}
void Grant(json::object& paths, std::string_view path, CapabilitySet caps) {
  json::object rule;
  rule["capabilities"] = CapsJson(caps);
  paths[json::string_view(path.data(), path.size())] = std::move(rule);
}

enum class Kind { kGranted, kMissing, kDeniedPath, kExpired, kRevoked, kAccessor };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kGranted:
      return "granted";
    case Kind::kMissing:
      return "missing";
    case Kind::kDeniedPath:
      return "denied_path";
    case Kind::kExpired:
      return "expired";
    case Kind::kRevoked:
      return "revoked";
    case Kind::kAccessor:
      return "accessor";
  }
  return "?";
}

struct Case {
  const Route* route;
  const OpRule* rule;
  Kind kind;
  CapabilitySet missing;  // for kMissing: the required capabilities not granted
};

// Capabilities that make `rule` pass on an existing or new target.
CapabilitySet Required(const OpRule& rule) {
  CapabilitySet caps = rule.need.all_of;
  if (rule.need.create_or_update) caps |= CapabilitySet{Capability::kCreate, Capability::kUpdate};
  return caps;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const Route& route : Routes()) {
    if (!route.authenticated) continue;
    for (const OpRule& rule : route.ops) {
      cases.push_back({&route, &rule, Kind::kGranted, {}});
      for (Capability c : auth::kAllCapabilities) {
        if (rule.need.all_of.Has(c)) cases.push_back({&route, &rule, Kind::kMissing, {c}});
      }
      if (rule.need.create_or_update) {
        cases.push_back(
            {&route, &rule, Kind::kMissing, {Capability::kCreate, Capability::kUpdate}});
      }
      for (Kind k : {Kind::kDeniedPath, Kind::kExpired, Kind::kRevoked, Kind::kAccessor}) {
        cases.push_back({&route, &rule, k, {}});
      }
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string name = StrCat(c.route->pattern, "_", OpName(c.rule->op), "_", KindName(c.kind));
  for (std::string_view cap : c.missing.Names()) name += StrCat("_", cap);
  std::string out;
  for (char ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += ch;
    } else if (ch == '*') {
      out += "X";
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  return out;
}

class AuthzMatrixTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    // Fixtures every example path refers to, written as root.
    ASSERT_EQ(Root("POST", "/v1/secret/data/matrix/app", R"({"data":{"password":"seed"}})"), 200);
    ASSERT_EQ(Root("POST", "/v1/sys/policies/acl/example", R"({"policy":"{\"path\":{}}"})"), 204);
    ASSERT_EQ(Root("PUT", "/v1/rotation/config/matrix/app",
                   R"j({"rotator":"generic","schedule":"rate(24h)"})j"),
              204);
    // Transit keys the transit rows' examples name: "matrix" (exportable, deletable, trimmable)
    // and "matrix-sign" (ed25519).
    ASSERT_EQ(Root("POST", "/v1/transit/keys/matrix", R"({"exportable":true})"), 200);
    ASSERT_EQ(Root("POST", "/v1/transit/keys/matrix/config",
                   R"({"deletion_allowed":true,"min_encryption_version":1})"),
              200);
    ASSERT_EQ(Root("POST", "/v1/transit/keys/matrix-sign", R"({"type":"ed25519"})"), 200);
    // PKI: issuers "matrix" (the default) and "matrix-old", role "matrix" (EC keys: fast).
    ASSERT_EQ(Root("POST", "/v1/pki/root/generate/internal",
                   R"({"common_name":"Matrix","key_type":"ec","issuer_name":"matrix"})"),
              200);
    ASSERT_EQ(Root("POST", "/v1/pki/root/generate/internal",
                   R"({"common_name":"Matrix Old","key_type":"ec","issuer_name":"matrix-old"})"),
              200);
    ASSERT_EQ(Root("POST", "/v1/pki/roles/matrix",
                   R"({"allowed_domains":"example.com","allow_subdomains":true,"key_type":"ec"})"),
              200);
    // The JWT keyset the jwt rows' examples name, with the settings of their create example.
    ASSERT_EQ(Root("POST", "/v1/jwt/keys/matrix",
                   R"({"alg":"ES256","jwks_cache_ttl":"10s","max_token_ttl":"60s"})"),
              200);
    // The other token that "{token}"/"{accessor}" stand for.
    absl::StatusOr<auth::TokenEntry> root = stack_.tokens.Lookup(kRoot);
    auth::TokenRequest r;
    r.policies = {"default"};
    r.ttl = absl::Hours(10);
    absl::StatusOr<auth::CreatedToken> victim = stack_.tokens.Create(*root, r, false);
    ASSERT_OK(victim.status());
    victim_ = *std::move(victim);
  }

  int Root(std::string_view method, const std::string& target, std::string body) {
    http::Response res = stack_.Send(method, target, std::move(body), kRoot);
    EXPECT_LT(res.status, 300) << method << " " << target << ": " << res.body;
    return res.status;
  }

  Stack stack_;
  auth::CreatedToken victim_;
};

TEST_P(AuthzMatrixTest, Enforced) {
  const Case& c = GetParam();
  const OpRule& rule = *c.rule;
  const RouteMatch match = MatchRoute(rule.op, [&] {
    std::vector<std::string> segments;
    std::string_view example = c.route->example;
    size_t start = 0;
    while (true) {
      size_t slash = example.find('/', start);
      segments.emplace_back(example.substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return segments;
  }());
  ASSERT_EQ(match.route, c.route) << "the example path does not match its own route";
  const std::string& policy_path = match.policy_path;

  // The subject token for this case.
  json::object paths;
  switch (c.kind) {
    case Kind::kMissing: {
      CapabilitySet rest;
      for (Capability cap : auth::kAllCapabilities) {
        if (cap != Capability::kDeny && !c.missing.Has(cap)) rest.Add(cap);
      }
      Grant(paths, policy_path, rest);
      break;
    }
    case Kind::kDeniedPath:
      Grant(paths, "*", CapabilitySet::AllGranting());
      Grant(paths, policy_path, {Capability::kDeny});
      break;
    default:
      Grant(paths, policy_path, Required(rule));
      break;
  }
  auth::CreatedToken subject = stack_.TokenWithRules("subject", paths);
  std::string token(subject.token.Reveal());
  if (c.kind == Kind::kExpired) stack_.clock.Advance(absl::Hours(2));
  if (c.kind == Kind::kRevoked) {
    ASSERT_OK(stack_.tokens.Revoke(subject.entry.hash));
  }
  if (c.kind == Kind::kAccessor) token = subject.entry.accessor;

  std::string body(rule.example_body);
  ReplaceAll(body, "{token}", victim_.token.Reveal());
  ReplaceAll(body, "{accessor}", victim_.entry.accessor);
  const std::string method(MethodOf(rule.op));
  const std::string target = StrCat("/v1/", c.route->example);
  const uint64_t writes_before = stack_.store.CommitIndex();
  http::Response res = stack_.Send(method, target, body, token);
  RecordProperty("http_status", res.status);
  SCOPED_TRACE(StrCat(method, " ", target, " (", KindName(c.kind), ") -> ", res.status, " ",
                      res.body.substr(0, 300)));

  if (c.kind == Kind::kGranted) {
    EXPECT_NE(res.status, 403);
    EXPECT_NE(res.status, 405);
    EXPECT_EQ(res.body.find("route entry not found"), std::string::npos);
    EXPECT_EQ(res.body.find("unsupported"), std::string::npos);
  } else {
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(res.body, kDenied);
    EXPECT_EQ(stack_.store.CommitIndex(), writes_before) << "a refused request wrote";
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRoute, AuthzMatrixTest, ::testing::ValuesIn(AllCases()), CaseName);

// --- Outside the matrix: what the table does not enumerate -----------------------------------

class AuthzEdgeTest : public ::testing::Test {
 protected:
  Stack stack_;
};

TEST_F(AuthzEdgeTest, HealthNeedsNoToken) {
  EXPECT_EQ(stack_.Send("GET", "/v1/sys/health", "", "").status, 200);
  EXPECT_EQ(stack_.Send("POST", "/v1/sys/health", "", "").status, 405);
}

TEST_F(AuthzEdgeTest, PublicPkiReadsNeedNoTokenAndEverythingElseDoes) {
  ASSERT_EQ(stack_
                .Send("POST", "/v1/pki/root/generate/internal",
                      R"({"common_name":"Edge","key_type":"ec"})", kRoot)
                .status,
            200);
  for (const char* path :
       {"/v1/pki/ca/pem", "/v1/pki/ca", "/v1/pki/ca_chain", "/v1/pki/cert/ca_chain", "/v1/pki/crl",
        "/v1/pki/crl/pem", "/v1/pki/issuer/default/crl/pem", "/v1/pki/cert/ca"}) {
    EXPECT_EQ(stack_.Send("GET", path, "", "").status, 200) << path;
  }
  EXPECT_EQ(stack_.Send("POST", "/v1/pki/ca/pem", "{}", "").status, 405);
  for (const char* path : {"/v1/pki/issuers", "/v1/pki/roles", "/v1/pki/certs"}) {
    EXPECT_EQ(stack_.Send("LIST", path, "", "").body, kDenied) << path;
  }
  EXPECT_EQ(stack_.Send("POST", "/v1/pki/issue/any", R"({"common_name":"a.example.com"})", "").body,
            kDenied);
  EXPECT_EQ(stack_.Send("GET", "/v1/pki/crl/rotate", "", "").body, kDenied);
}

TEST_F(AuthzEdgeTest, UnknownRoutesAndOperationsAre403WithoutRights) {
  json::object paths;
  Grant(paths, "secret/data/app", {Capability::kRead});
  auth::CreatedToken t = stack_.TokenWithRules("reader", paths);
  const std::string token(t.token.Reveal());
  // Nothing granted on these paths: 403, whether or not a route exists there.
  EXPECT_EQ(stack_.Send("GET", "/v1/nothing/here", "", token).body, kDenied);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/nothing", "", token).body, kDenied);
  EXPECT_EQ(stack_.Send("GET", "/v1/rotation/nothing", "", token).body, kDenied);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/data/other", "", token).body, kDenied);
  // A granted path with an operation the route lacks: 405, since the caller knows the path.
  EXPECT_EQ(stack_.Send("LIST", "/v1/secret/data/app", "", token).status, 405);
  // Root learns that routes do not exist.
  EXPECT_EQ(stack_.Send("GET", "/v1/nothing/here", "", kRoot).status, 404);
  EXPECT_EQ(stack_.Send("GET", "/v1/rotation/nothing", "", kRoot).status, 404);
}

TEST_F(AuthzEdgeTest, MissingAndMalformedTokensAre403) {
  for (std::string_view token :
       {"", "garbage", "rks_0000000000000000000000000000000000000000000"}) {
    http::Response res = stack_.Send("GET", "/v1/secret/data/app", "", token);
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(res.body, kDenied);
  }
}

TEST_F(AuthzEdgeTest, ReadingWithoutRightsDoesNotRevealWhetherASecretExists) {
  ASSERT_EQ(stack_.Send("POST", "/v1/secret/data/exists", R"({"data":{"a":"b"}})", kRoot).status,
            200);
  json::object paths;
  Grant(paths, "secret/data/other", {Capability::kRead});
  auth::CreatedToken t = stack_.TokenWithRules("other", paths);
  http::Response existing = stack_.Send("GET", "/v1/secret/data/exists", "", t.token.Reveal());
  http::Response missing = stack_.Send("GET", "/v1/secret/data/absent", "", t.token.Reveal());
  EXPECT_EQ(existing.status, missing.status);
  EXPECT_EQ(existing.body, missing.body);
}

TEST_F(AuthzEdgeTest, CreateOnlyMayWriteNewSecretsAndUpdateOnlyExistingOnes) {
  ASSERT_EQ(stack_.Send("POST", "/v1/secret/data/old", R"({"data":{"a":"1"}})", kRoot).status, 200);
  json::object create_paths, update_paths;
  Grant(create_paths, "secret/data/*", {Capability::kCreate});
  Grant(update_paths, "secret/data/*", {Capability::kUpdate});
  Grant(update_paths, "secret/metadata/*", {Capability::kUpdate});
  std::string creator(stack_.TokenWithRules("creator", create_paths).token.Reveal());
  std::string updater(stack_.TokenWithRules("updater", update_paths).token.Reveal());
  const std::string body = R"({"data":{"a":"2"}})";
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/data/new1", body, creator).status, 200);
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/data/old", body, creator).status, 403);
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/data/old", body, updater).status, 200);
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/data/new2", body, updater).status, 403);
  // The same split on metadata writes.
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/metadata/old", R"({"max_versions":3})", updater).status,
            204);
  EXPECT_EQ(
      stack_.Send("POST", "/v1/secret/metadata/new3", R"({"max_versions":3})", updater).status,
      403);
}

TEST_F(AuthzEdgeTest, LimitedUseTokensAreCountedAcrossRoutesAndThenRefused) {
  ASSERT_OK(stack_.policies.Write(
      "rw", R"({"path":{"secret/data/*":{"capabilities":["create","update","read"]}}})"));
  absl::StatusOr<auth::TokenEntry> root = stack_.tokens.Lookup(kRoot);
  auth::TokenRequest r;
  r.policies = {"rw"};
  r.num_uses = 2;
  ASSERT_OK_AND_ASSIGN(auth::CreatedToken t, stack_.tokens.Create(*root, r, false));
  const std::string token(t.token.Reveal());
  http::Request probe;
  probe.method = "GET";
  probe.headers.push_back({"x-vault-token", token});
  EXPECT_TRUE(stack_.vault->MayBlock(probe));  // its use count is a write
  EXPECT_EQ(stack_.Send("POST", "/v1/secret/data/x", R"({"data":{"a":"1"}})", token).status, 200);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/data/x", "", token).status, 200);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/data/x", "", token).body, kDenied);
}

TEST_F(AuthzEdgeTest, LongPollOfEventsIsAuthorizedBeforeItWaits) {
  json::object paths;
  Grant(paths, "rotation/status", {Capability::kRead});
  auth::CreatedToken t = stack_.TokenWithRules("status-only", paths);
  http::Request req;
  req.method = "GET";
  req.target = "/v1/rotation/events?wait=30s";
  req.path = "/v1/rotation/events";
  req.headers.push_back({"x-vault-token", std::string(t.token.Reveal())});
  bool responded = false;
  EXPECT_FALSE(stack_.router->HandleAsync(req, [&](http::ResponseMaker) { responded = true; }));
  EXPECT_FALSE(responded);
  EXPECT_EQ(stack_.router->Handle(req).body, kDenied);
}

TEST_F(AuthzEdgeTest, APolicyChangeAppliesToTheNextRequest) {
  ASSERT_EQ(stack_.Send("POST", "/v1/secret/data/app", R"({"data":{"a":"1"}})", kRoot).status, 200);
  json::object paths;
  Grant(paths, "secret/data/app", {Capability::kRead});
  auth::CreatedToken t = stack_.TokenWithRules("flip", paths);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/data/app", "", t.token.Reveal()).status, 200);
  ASSERT_EQ(
      stack_
          .Send("PUT", "/v1/sys/policies/acl/flip",
                R"({"policy":"{\"path\":{\"secret/data/app\":{\"capabilities\":[\"deny\"]}}}"})",
                kRoot)
          .status,
      204);
  EXPECT_EQ(stack_.Send("GET", "/v1/secret/data/app", "", t.token.Reveal()).status, 403);
}

}  // namespace
}  // namespace rekey::api
