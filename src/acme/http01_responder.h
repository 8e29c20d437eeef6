// The http-01 challenge responder (RFC 8555 section 8.3): a small HTTP server that answers
// GET /.well-known/acme-challenge/<token> with the token's key authorization from an in-memory map
// and 404 to anything else. It runs on the project's bounded HTTP server (api/http/server.h) on an
// address of its own, only while an order needs it; nothing of rekey's API is reachable there.
#ifndef REKEY_ACME_HTTP01_RESPONDER_H_
#define REKEY_ACME_HTTP01_RESPONDER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rekey::acme {

// Thread-safe.
class Http01Responder {
 public:
  // Binds `listen` ("ip:port", "[v6]:port" or "localhost:port"; port 0 = ephemeral) and starts
  // serving. kUnavailable when the address cannot be bound (in use, no permission for a port
  // below 1024), kInvalidArgument for a malformed or non-local address; the message names it.
  static absl::StatusOr<std::unique_ptr<Http01Responder>> Start(std::string_view listen);

  Http01Responder(const Http01Responder&) = delete;
  Http01Responder& operator=(const Http01Responder&) = delete;
  ~Http01Responder();  // stops serving and unbinds

  // The bound "ip:port".
  const std::string& address() const;

  // Serves `key_authorization` for `token` until Remove(token).
  void Put(std::string_view token, std::string_view key_authorization);
  void Remove(std::string_view token);
  // Challenge requests answered with a key authorization so far.
  int served() const;

  struct Impl;

 private:
  explicit Http01Responder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rekey::acme

#endif  // REKEY_ACME_HTTP01_RESPONDER_H_
