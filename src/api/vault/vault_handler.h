// VaultHandler: the Vault-compatible HTTP surface (KV v2 at secret/, sys/health, sys/policies,
// sys/capabilities-self and the auth/token/ endpoints), rendered exactly as Vault clients expect
// (see shared/reference/api-compat.md). Every request is authorized through the route table
// (api/authz/route_table.h) before anything is read or written.
#ifndef REKEY_API_VAULT_VAULT_HANDLER_H_
#define REKEY_API_VAULT_VAULT_HANDLER_H_

#include <memory>
#include <string>

#include "api/http/message.h"
#include "api/vault/authorize.h"
#include "api/vault/vault_wire.h"
#include "auth/authorizer.h"
#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/clock.h"
#include "secrets/secrets_service.h"

namespace rekey::api {

struct VaultHandlerOptions {
  std::string version = "0.1.0";
  std::string cluster_name = "rekey";
  std::string cluster_id;
};

// Thread-safe. Reads run inline on I/O threads; writes (and every request of a limited-use
// token, which writes its use count) are declared blocking so the server runs them on its pool.
class VaultHandler final : public http::Handler {
 public:
  // Every reference must outlive the handler.
  VaultHandler(secrets::SecretsService& kv, auth::Authorizer& authz, const Clock& clock,
               VaultHandlerOptions options);
  // For tests, fuzzers and benchmarks: an Authorizer of its own, with a PolicyStore on the token
  // store's backing store.
  VaultHandler(secrets::SecretsService& kv, auth::TokenStore& tokens, const Clock& clock,
               VaultHandlerOptions options);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;
  // KV v2 data writes by an authorized token, without a thread waiting on the commit.
  bool HandleAsync(http::Request& req, http::Responder respond) override;

 private:
  http::Response Health(const VaultRequest& vreq) const;
  AuthorizeOptions AuthOptions() const;

  std::unique_ptr<auth::PolicyStore> owned_policies_;
  std::unique_ptr<auth::Authorizer> owned_authz_;
  secrets::SecretsService& kv_;
  auth::Authorizer& authz_;
  const Clock& clock_;
  VaultHandlerOptions options_;
};

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_VAULT_HANDLER_H_
