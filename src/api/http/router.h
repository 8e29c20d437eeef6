// PrefixRouter: sends each request to the handler of the longest matching path prefix (the API
// surfaces: /v1/rotation/, /v1/sys/audit, ...), else to a fallback.
#ifndef REKEY_API_HTTP_ROUTER_H_
#define REKEY_API_HTTP_ROUTER_H_

#include <string>
#include <utility>
#include <vector>

#include "api/http/message.h"

namespace rekey::http {

// Add() every route before serving; then thread-safe (read-only).
class PrefixRouter final : public Handler {
 public:
  explicit PrefixRouter(Handler& fallback) : fallback_(fallback) {}
  // `prefix` is matched against the raw path at a segment boundary: "/v1/sys/audit" matches
  // "/v1/sys/audit", "/v1/sys/audit/x" and "/v1/sys/audit-hash/x", not "/v1/sys/auditx".
  // `handler` must outlive the router.
  void Add(std::string prefix, Handler& handler) {
    routes_.emplace_back(std::move(prefix), &handler);
  }
  bool MayBlock(const Request& req) const override { return Pick(req).MayBlock(req); }
  Response Handle(Request& req) override { return Pick(req).Handle(req); }
  bool HandleAsync(Request& req, Responder respond) override {
    return Pick(req).HandleAsync(req, std::move(respond));
  }

 private:
  Handler& Pick(const Request& req) const {
    Handler* best = &fallback_;
    size_t best_len = 0;
    for (const auto& [prefix, handler] : routes_) {
      if (prefix.size() <= best_len || req.path.compare(0, prefix.size(), prefix) != 0) continue;
      const bool boundary = req.path.size() == prefix.size() || prefix.back() == '/' ||
                            req.path[prefix.size()] == '/' || req.path[prefix.size()] == '-';
      if (!boundary) continue;
      best = handler;
      best_len = prefix.size();
    }
    return *best;
  }
  Handler& fallback_;
  std::vector<std::pair<std::string, Handler*>> routes_;
};

}  // namespace rekey::http

#endif  // REKEY_API_HTTP_ROUTER_H_
