// The audit trail's HTTP side: AuditRecorder records every request before it is served and
// every response before it is sent (fail-closed: 503 when no device can record), and
// SysAuditHandler serves /v1/sys/audit (list, enable, disable devices), /v1/sys/audit-hash/:name
// and /v1/sys/audit/events.
#ifndef REKEY_API_AUDIT_AUDIT_RECORDER_H_
#define REKEY_API_AUDIT_AUDIT_RECORDER_H_

#include "api/http/message.h"
#include "audit/broker.h"
#include "auth/authorizer.h"
#include "auth/token_store.h"

namespace rekey::api {

// Thread-safe. With no device enabled it records nothing and lets everything through.
// A request that changes something is recorded before it is served (type "request", with its
// declared body fields) and again with its outcome (type "response"). A read (GET, HEAD, LIST,
// or an AWS read operation, by a token without a use limit) is recorded once, by its "response"
// entry, before the response is sent; an unrecordable read is answered 503 and nothing it read
// is sent.
class AuditRecorder final : public http::Recorder {
 public:
  // Both must outlive the recorder.
  AuditRecorder(audit::AuditBroker& broker, auth::TokenStore& tokens);

  void BeforeServe(const http::Request& req, Done done) override;
  void BeforeSend(const http::Request& req, const http::Response& res, Done done) override;

 private:
  struct Note;
  // The request's note (actor, read-only or not), computed at the first call and kept on it.
  std::shared_ptr<const Note> NoteFor(const http::Request& req);
  audit::AuditEntry EntryFor(const http::Request& req, const Note& note, audit::EntryType type);

  audit::AuditBroker& broker_;
  auth::TokenStore& tokens_;
};

// Thread-safe. Authorized through the route table (sys/audit paths need sudo, as in Vault).
class SysAuditHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  SysAuditHandler(audit::AuditBroker& broker, auth::Authorizer& authz);
  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;

 private:
  audit::AuditBroker& broker_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api

#endif  // REKEY_API_AUDIT_AUDIT_RECORDER_H_
