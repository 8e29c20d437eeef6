// RotationHandler: rekey's own rotation API under /v1/rotation/ (config, rotate, runs, status,
// events). Vault-shaped envelopes and errors, so the same clients and CLI code read it.
#ifndef REKEY_API_ROTATION_ROTATION_HANDLER_H_
#define REKEY_API_ROTATION_ROTATION_HANDLER_H_

#include "api/http/message.h"
#include "auth/authorizer.h"
#include "core/clock.h"
#include "rotation/engine.h"

namespace rekey::api {

// Thread-safe. Every request is authorized through the route table (api/authz/route_table.h):
// rotation/config/<path> read/update/delete, rotation/rotate/<path> rotate, rotation/due rotate +
// sudo, rotation/runs/<path>, rotation/status and rotation/events read. Reads run inline; writes,
// rotations and requests of limited-use tokens on the blocking pool; GET
// /v1/rotation/events?wait=... long-polls without holding a thread.
class RotationHandler final : public http::Handler {
 public:
  // Every reference must outlive the handler.
  RotationHandler(rotation::RotationEngine& engine, auth::Authorizer& authz, const Clock& clock);

  bool MayBlock(const http::Request& req) const override;
  http::Response Handle(http::Request& req) override;
  bool HandleAsync(http::Request& req, http::Responder respond) override;

  static constexpr absl::Duration kMaxWait = absl::Seconds(60);

 private:
  rotation::RotationEngine& engine_;
  auth::Authorizer& authz_;
  const Clock& clock_;
};

}  // namespace rekey::api

#endif  // REKEY_API_ROTATION_ROTATION_HANDLER_H_
