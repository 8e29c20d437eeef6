// The audit trail's HTTP side: AuditRecorder records every request before it is served and
// every response before it is sent (fail-closed: 503 when no device can record), and
// SysAuditHandler serves /v1/sys/audit (list, enable, disable devices), /v1/sys/audit-hash/:name
// and /v1/sys/audit/events.
#ifndef REKEY_API_AUDIT_AUDIT_RECORDER_H_
#define REKEY_API_AUDIT_AUDIT_RECORDER_H_

#include "api/http/message.h"
#include "audit/broker.h"
#include "auth/token_store.h"

namespace rekey::api {

// Thread-safe. With no device enabled it records nothing and lets everything through.
class AuditRecorder final : public http::Recorder {
 public:
  // Both must outlive the recorder.
  AuditRecorder(audit::AuditBroker& broker, auth::TokenStore& tokens);

  void BeforeServe(const http::Request& req, Done done) override;
  void BeforeSend(const http::Request& req, const http::Response& res, Done done) override;

 private:
  audit::AuditEntry EntryFor(const http::Request& req, audit::EntryType type);

  audit::AuditBroker& broker_;
  auth::TokenStore& tokens_;
};

// Thread-safe. Root tokens only (the sudo paths of Vault's sys/audit).
class SysAuditHandler final : public http::Handler {
 public:
  SysAuditHandler(audit::AuditBroker& broker, auth::TokenStore& tokens);
  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;

 private:
  audit::AuditBroker& broker_;
  auth::TokenStore& tokens_;
};

// Routes each request to the handler of the longest matching path prefix, else `fallback`.
class PrefixRouter final : public http::Handler {
 public:
  explicit PrefixRouter(http::Handler& fallback) : fallback_(fallback) {}
  // `prefix` is matched against the raw path, e.g. "/v1/sys/audit".
  void Add(std::string prefix, http::Handler& handler) {
    routes_.emplace_back(std::move(prefix), &handler);
  }
  bool MayBlock(const http::Request& req) const override { return Pick(req).MayBlock(req); }
  http::Response Handle(http::Request& req) override { return Pick(req).Handle(req); }
  bool HandleAsync(http::Request& req, http::Responder respond) override {
    return Pick(req).HandleAsync(req, std::move(respond));
  }

 private:
  http::Handler& Pick(const http::Request& req) const {
    http::Handler* best = &fallback_;
    size_t best_len = 0;
    for (const auto& [prefix, handler] : routes_) {
      if (prefix.size() > best_len && req.path.rfind(prefix, 0) == 0 &&
          (req.path.size() == prefix.size() || req.path[prefix.size()] == '/' ||
           req.path[prefix.size()] == '-' || prefix.back() == '/')) {
        best = handler;
        best_len = prefix.size();
      }
    }
    return *best;
  }
  http::Handler& fallback_;
  std::vector<std::pair<std::string, http::Handler*>> routes_;
};

}  // namespace rekey::api

#endif  // REKEY_API_AUDIT_AUDIT_RECORDER_H_
