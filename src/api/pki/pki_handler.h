// PkiHandler: Vault's PKI secrets engine at /v1/pki/ over rekey's internal CA (pki::CaService):
// issuers (generate a root or an intermediate, import a CA, default issuer, retire), the CA
// certificate, trust bundle and CRLs, roles, issue, sign, revoke, tidy. Request fields and
// response shapes are Vault's (docs/api/pki.md lists the differences). Every request is
// authorized through the route table first; the CA certificate, trust bundle, CRLs and stored
// certificates are served without a token, as Vault does.
#ifndef REKEY_API_PKI_PKI_HANDLER_H_
#define REKEY_API_PKI_PKI_HANDLER_H_

#include "api/http/message.h"
#include "auth/authorizer.h"
#include "pki/ca_service.h"

namespace rekey::api {

// Thread-safe. Every request runs on the blocking pool: each one reads or writes the store, and
// issuing generates keys.
class PkiHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  PkiHandler(pki::CaService& ca, auth::Authorizer& authz);

  bool MayBlock(const http::Request& req) const override { return true; }
  http::Response Handle(http::Request& req) override;

 private:
  pki::CaService& ca_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api

#endif  // REKEY_API_PKI_PKI_HANDLER_H_
