// VaultHandler: the Vault-compatible HTTP surface (KV v2 at secret/, sys/health, token
// lookup-self), rendered exactly as Vault clients expect (see shared/reference/api-compat.md).
#ifndef REKEY_API_VAULT_VAULT_HANDLER_H_
#define REKEY_API_VAULT_VAULT_HANDLER_H_

#include <string>

#include "api/http/message.h"
#include "auth/token_store.h"
#include "core/clock.h"
#include "secrets/secrets_service.h"

namespace rekey::api {

struct VaultHandlerOptions {
  std::string version = "0.1.0";
  std::string cluster_name = "rekey";
  std::string cluster_id;
};

// Thread-safe. Reads run inline on I/O threads; writes are declared blocking so the server runs
// them on its pool.
class VaultHandler final : public http::Handler {
 public:
  // Every reference must outlive the handler.
  VaultHandler(secrets::SecretsService& kv, auth::TokenStore& tokens, const Clock& clock,
               VaultHandlerOptions options);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;
  // KV v2 data writes by an authenticated token, without a thread waiting on the commit.
  bool HandleAsync(http::Request& req, http::Responder respond) override;

 private:
  secrets::SecretsService& kv_;
  auth::TokenStore& tokens_;
  const Clock& clock_;
  VaultHandlerOptions options_;
};

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_VAULT_HANDLER_H_
