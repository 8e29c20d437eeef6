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

      // --- transit/ (Vault transit; example keys "matrix" aes256-gcm96, "matrix-sign" ed25519)
      {.id = RouteId::kTransitKeys,
       .surface = Surface::kTransit,
       .pattern = "transit/keys",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "transit/keys",
       .summary = "List transit keys"},
      {.id = RouteId::kTransitKey,
       .surface = Surface::kTransit,
       .pattern = "transit/keys/:name",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), R"({"type":"aes256-gcm96"})"},
               {Op::kDelete, Needs({kDelete})}},
       .example = "transit/keys/matrix",
       .summary = "Read, create or delete a transit key"},
      {.id = RouteId::kTransitKeyConfig,
       .surface = Surface::kTransit,
       .pattern = "transit/keys/:name/config",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"deletion_allowed":true})"}},
       .example = "transit/keys/matrix/config",
       .summary = "Configure a transit key"},
      {.id = RouteId::kTransitKeyRotate,
       .surface = Surface::kTransit,
       .pattern = "transit/keys/:name/rotate",
       .ops = {{Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "transit/keys/matrix/rotate",
       .summary = "Rotate a transit key"},
      {.id = RouteId::kTransitKeyTrim,
       .surface = Surface::kTransit,
       .pattern = "transit/keys/:name/trim",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"min_available_version":1})"}},
       .example = "transit/keys/matrix/trim",
       .summary = "Delete old versions of a transit key"},
      {.id = RouteId::kTransitEncrypt,
       .surface = Surface::kTransit,
       .pattern = "transit/encrypt/:name",
       .ops = {{Op::kWrite, CreateOrUpdate(), R"({"plaintext":"aGVsbG8="})"}},
       .example = "transit/encrypt/matrix",
       .summary = "Encrypt (create: may create the key if absent)"},
      {.id = RouteId::kTransitDecrypt,
       .surface = Surface::kTransit,
       .pattern = "transit/decrypt/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"ciphertext":"vault:v1:AAAA"})"}},
       .example = "transit/decrypt/matrix",
       .summary = "Decrypt"},
      {.id = RouteId::kTransitRewrap,
       .surface = Surface::kTransit,
       .pattern = "transit/rewrap/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"ciphertext":"vault:v1:AAAA"})"}},
       .example = "transit/rewrap/matrix",
       .summary = "Re-encrypt under the latest key version"},
      {.id = RouteId::kTransitDatakey,
       .surface = Surface::kTransit,
       .pattern = "transit/datakey/:type/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "transit/datakey/plaintext/matrix",
       .summary = "Generate a data key (plaintext or wrapped)"},
      {.id = RouteId::kTransitHmac,
       .surface = Surface::kTransit,
       .pattern = "transit/hmac/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/hmac/matrix",
       .summary = "HMAC"},
      {.id = RouteId::kTransitHmacAlgorithm,
       .surface = Surface::kTransit,
       .pattern = "transit/hmac/:name/:algorithm",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/hmac/matrix/sha2-512",
       .summary = "HMAC with the algorithm in the path"},
      {.id = RouteId::kTransitSign,
       .surface = Surface::kTransit,
       .pattern = "transit/sign/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/sign/matrix-sign",
       .summary = "Sign"},
      {.id = RouteId::kTransitSignAlgorithm,
       .surface = Surface::kTransit,
       .pattern = "transit/sign/:name/:algorithm",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/sign/matrix-sign/sha2-256",
       .summary = "Sign with the hash algorithm in the path"},
      {.id = RouteId::kTransitVerify,
       .surface = Surface::kTransit,
       .pattern = "transit/verify/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}),
                R"({"input":"aGVsbG8=","signature":"vault:v1:AAAA"})"}},
       .example = "transit/verify/matrix-sign",
       .summary = "Verify a signature or HMAC"},
      {.id = RouteId::kTransitVerifyAlgorithm,
       .surface = Surface::kTransit,
       .pattern = "transit/verify/:name/:algorithm",
       .ops = {{Op::kWrite, Needs({kUpdate}),
                R"({"input":"aGVsbG8=","signature":"vault:v1:AAAA"})"}},
       .example = "transit/verify/matrix-sign/sha2-256",
       .summary = "Verify with the hash algorithm in the path"},
      {.id = RouteId::kTransitExport,
       .surface = Surface::kTransit,
       .pattern = "transit/export/:type/:name",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "transit/export/encryption-key/matrix",
       .summary = "Export every version of an exportable key"},
      {.id = RouteId::kTransitExportVersion,
       .surface = Surface::kTransit,
       .pattern = "transit/export/:type/:name/:version",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "transit/export/encryption-key/matrix/1",
       .summary = "Export one version (or \"latest\") of an exportable key"},
      {.id = RouteId::kTransitHash,
       .surface = Surface::kTransit,
       .pattern = "transit/hash",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/hash",
       .summary = "Hash data (no key)"},
      {.id = RouteId::kTransitHashAlgorithm,
       .surface = Surface::kTransit,
       .pattern = "transit/hash/:algorithm",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"input":"aGVsbG8="})"}},
       .example = "transit/hash/sha2-512",
       .summary = "Hash data with the algorithm in the path"},
      {.id = RouteId::kTransitRandom,
       .surface = Surface::kTransit,
       .pattern = "transit/random",
       .ops = {{Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "transit/random",
       .summary = "Random bytes"},
      {.id = RouteId::kTransitRandomBytes,
       .surface = Surface::kTransit,
       .pattern = "transit/random/:bytes",
       .ops = {{Op::kWrite, Needs({kUpdate}), "{}"}},
       .example = "transit/random/16",
       .summary = "Random bytes, the count in the path"},

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

      // --- pki/ (Vault PKI; fixtures: issuers "matrix" (default) and "matrix-old", role "matrix").
      // Unauthenticated as in Vault: the CA certificate, the trust bundle, CRLs and certificates.
      {.id = RouteId::kPkiRootGenerate,
       .surface = Surface::kPki,
       .pattern = "pki/root/generate/:type",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"common_name":"Matrix 2","key_type":"ec"})"}},
       .example = "pki/root/generate/internal",
       .summary = "Generate a root CA issuer (internal or exported)"},
      {.id = RouteId::kPkiIntermediateGenerate,
       .surface = Surface::kPki,
       .pattern = "pki/intermediate/generate/:type",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"common_name":"Matrix Int","key_type":"ec"})"}},
       .example = "pki/intermediate/generate/internal",
       .summary = "Generate an intermediate CA key and CSR"},
      {.id = RouteId::kPkiRootSignIntermediate,
       .surface = Surface::kPki,
       .pattern = "pki/root/sign-intermediate",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"csr":"matrix"})"}},
       .example = "pki/root/sign-intermediate",
       .summary = "Sign an intermediate CA certificate from a CSR"},
      {.id = RouteId::kPkiIntermediateSetSigned,
       .surface = Surface::kPki,
       .pattern = "pki/intermediate/set-signed",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"certificate":"matrix"})"}},
       .example = "pki/intermediate/set-signed",
       .summary = "Install the signed intermediate certificate as an issuer"},
      {.id = RouteId::kPkiConfigCa,
       .surface = Surface::kPki,
       .pattern = "pki/config/ca",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"pem_bundle":"matrix"})"}},
       .example = "pki/config/ca",
       .summary = "Import a CA (key and certificate) as an issuer"},
      {.id = RouteId::kPkiIssuers,
       .surface = Surface::kPki,
       .pattern = "pki/issuers",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "pki/issuers",
       .summary = "List issuers"},
      {.id = RouteId::kPkiIssuer,
       .surface = Surface::kPki,
       .pattern = "pki/issuer/:ref",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "pki/issuer/default",
       .summary = "Read an issuer (id, name or \"default\")"},
      {.id = RouteId::kPkiIssuerRetire,
       .surface = Surface::kPki,
       .pattern = "pki/issuer/:ref/retire",
       .ops = {{Op::kWrite, Needs({kUpdate, kSudo}), R"({"force":true})"}},
       .example = "pki/issuer/matrix-old/retire",
       .summary = "Retire an issuer: it stops signing and leaves the trust bundle (rekey)"},
      {.id = RouteId::kPkiIssuerCrl,
       .surface = Surface::kPki,
       .pattern = "pki/issuer/:ref/crl/:format",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/issuer/default/crl/pem",
       .summary = "An issuer's CRL, pem or der (no token)"},
      {.id = RouteId::kPkiConfigIssuers,
       .surface = Surface::kPki,
       .pattern = "pki/config/issuers",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}), R"({"default":"matrix"})"}},
       .example = "pki/config/issuers",
       .summary = "Read or set the default issuer"},
      {.id = RouteId::kPkiCaPem,
       .surface = Surface::kPki,
       .pattern = "pki/ca/pem",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/ca/pem",
       .summary = "The default issuer's certificate, PEM (no token)"},
      {.id = RouteId::kPkiCaDer,
       .surface = Surface::kPki,
       .pattern = "pki/ca",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/ca",
       .summary = "The default issuer's certificate, DER (no token)"},
      {.id = RouteId::kPkiCaChain,
       .surface = Surface::kPki,
       .pattern = "pki/ca_chain",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/ca_chain",
       .summary = "The trust bundle of every active issuer, PEM (no token)"},
      {.id = RouteId::kPkiCertCaChain,
       .surface = Surface::kPki,
       .pattern = "pki/cert/ca_chain",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/cert/ca_chain",
       .summary = "The trust bundle in JSON (no token)"},
      {.id = RouteId::kPkiCert,
       .surface = Surface::kPki,
       .pattern = "pki/cert/:serial",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/cert/01-02",
       .summary = "A certificate by serial, with its revocation (no token)"},
      {.id = RouteId::kPkiCerts,
       .surface = Surface::kPki,
       .pattern = "pki/certs",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "pki/certs",
       .summary = "List stored certificates' serials"},
      {.id = RouteId::kPkiRoles,
       .surface = Surface::kPki,
       .pattern = "pki/roles",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "pki/roles",
       .summary = "List roles"},
      {.id = RouteId::kPkiRole,
       .surface = Surface::kPki,
       .pattern = "pki/roles/:name",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, CreateOrUpdate(),
                R"({"allowed_domains":["example.com"],"allow_subdomains":true,"key_type":"ec"})"},
               {Op::kDelete, Needs({kDelete})}},
       .example = "pki/roles/matrix",
       .summary = "Read, write (create if absent, update if present) or delete a role"},
      {.id = RouteId::kPkiIssue,
       .surface = Surface::kPki,
       .pattern = "pki/issue/:role",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"common_name":"a.example.com"})"}},
       .example = "pki/issue/matrix",
       .summary = "Issue a certificate and a new private key"},
      {.id = RouteId::kPkiSign,
       .surface = Surface::kPki,
       .pattern = "pki/sign/:role",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"csr":"matrix"})"}},
       .example = "pki/sign/matrix",
       .summary = "Sign a CSR"},
      {.id = RouteId::kPkiRevoke,
       .surface = Surface::kPki,
       .pattern = "pki/revoke",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"serial_number":"01-02"})"}},
       .example = "pki/revoke",
       .summary = "Revoke a certificate"},
      {.id = RouteId::kPkiCrlDer,
       .surface = Surface::kPki,
       .pattern = "pki/crl",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/crl",
       .summary = "The default issuer's CRL, DER (no token)"},
      {.id = RouteId::kPkiCrlPem,
       .surface = Surface::kPki,
       .pattern = "pki/crl/pem",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "pki/crl/pem",
       .summary = "The default issuer's CRL, PEM (no token)"},
      {.id = RouteId::kPkiCrlRotate,
       .surface = Surface::kPki,
       .pattern = "pki/crl/rotate",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "pki/crl/rotate",
       .summary = "Rebuild every issuer's CRL (a read, as in Vault)"},
      {.id = RouteId::kPkiTidy,
       .surface = Surface::kPki,
       .pattern = "pki/tidy",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"safety_buffer":"72h"})"}},
       .example = "pki/tidy",
       .summary = "Delete expired certificates and revocations"},

      // --- jwt/ (JWT signing keysets; example keyset "matrix", ES256) ------------------------
      {.id = RouteId::kJwtKeys,
       .surface = Surface::kJwt,
       .pattern = "jwt/keys",
       .ops = {{Op::kList, Needs({kList})}},
       .example = "jwt/keys",
       .summary = "List JWT keysets"},
      {.id = RouteId::kJwtKey,
       .surface = Surface::kJwt,
       .pattern = "jwt/keys/:name",
       .ops = {{Op::kRead, Needs({kRead})},
               {Op::kWrite, Needs({kUpdate}),
                R"({"alg":"ES256","jwks_cache_ttl":"10s","max_token_ttl":"60s"})"}},
       .example = "jwt/keys/matrix",
       .summary = "Read or create a JWT keyset (its keys and their phases)"},
      {.id = RouteId::kJwtSign,
       .surface = Surface::kJwt,
       .pattern = "jwt/sign/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"claims":{"sub":"matrix"},"ttl":"30s"})"}},
       .example = "jwt/sign/matrix",
       .summary = "Sign a JWT with the keyset's active key"},
      {.id = RouteId::kJwtVerify,
       .surface = Surface::kJwt,
       .pattern = "jwt/verify/:name",
       .ops = {{Op::kWrite, Needs({kUpdate}), R"({"token":"{token}"})"}},
       .example = "jwt/verify/matrix",
       .summary = "Verify a JWT against the keyset"},
      {.id = RouteId::kJwtJwks,
       .surface = Surface::kJwt,
       .pattern = "jwt/jwks/:name",
       .ops = {{Op::kRead, Nothing()}},
       .authenticated = false,
       .example = "jwt/jwks/matrix",
       .summary = "The keyset's JWK Set (no token; also at /.well-known/jwks/<name>.json)"},

      // --- sys/rotate, sys/key-status: the storage keyring (Vault's endpoints) ----------------
      {.id = RouteId::kSysRotate,
       .surface = Surface::kStorageKeys,
       .pattern = "sys/rotate",
       .ops = {{Op::kWrite, Needs({kUpdate, kSudo})}},
       .example = "sys/rotate",
       .summary = "Rotate the storage key: a new primary, and a background rewrap of every record"},
      {.id = RouteId::kSysKeyStatus,
       .surface = Surface::kStorageKeys,
       .pattern = "sys/key-status",
       .ops = {{Op::kRead, Needs({kRead})}},
       .example = "sys/key-status",
       .summary = "The storage keyring (ids, status, usage) and the rewrap's progress"},
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
