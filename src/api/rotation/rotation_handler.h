// RotationHandler: rekey's own rotation API under /v1/rotation/ (config, rotate, runs, status,
// events). Vault-shaped envelopes and errors, so the same clients and CLI code read it.
#ifndef REKEY_API_ROTATION_ROTATION_HANDLER_H_
#define REKEY_API_ROTATION_ROTATION_HANDLER_H_

#include "api/http/message.h"
#include "auth/token_store.h"
#include "core/clock.h"
#include "rotation/engine.h"

namespace rekey::api {

// Thread-safe. Every route needs a valid token. Reads run inline; writes and rotations on the
// blocking pool; GET /v1/rotation/events?wait=... long-polls without holding a thread.
class RotationHandler final : public http::Handler {
 public:
  // Every reference must outlive the handler.
  RotationHandler(rotation::RotationEngine& engine, auth::TokenStore& tokens, const Clock& clock);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;
  bool HandleAsync(http::Request& req, http::Responder respond) override;

  static constexpr absl::Duration kMaxWait = absl::Seconds(60);

 private:
  rotation::RotationEngine& engine_;
  auth::TokenStore& tokens_;
  const Clock& clock_;
};

// Routes requests under /v1/rotation/ to `rotation` and everything else to `fallback`.
class SurfaceRouter final : public http::Handler {
 public:
  SurfaceRouter(http::Handler& rotation, http::Handler& fallback)
      : rotation_(rotation), fallback_(fallback) {}
  bool MayBlock(const http::Request& req) const override { return Pick(req).MayBlock(req); }
  http::Response Handle(http::Request& req) override { return Pick(req).Handle(req); }
  bool HandleAsync(http::Request& req, http::Responder respond) override {
    return Pick(req).HandleAsync(req, std::move(respond));
  }

 private:
  http::Handler& Pick(const http::Request& req) const {
    return req.path.rfind("/v1/rotation/", 0) == 0 ? rotation_ : fallback_;
  }
  http::Handler& rotation_;
  http::Handler& fallback_;
};

}  // namespace rekey::api

#endif  // REKEY_API_ROTATION_ROTATION_HANDLER_H_
