// Vault wire shapes: the response envelope, error bodies, and the parsed form of a request.
#ifndef REKEY_API_VAULT_VAULT_WIRE_H_
#define REKEY_API_VAULT_VAULT_WIRE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/message.h"
#include "auth/token_store.h"

namespace rekey::api {

// A request as the Vault routes see it.
struct VaultRequest {
  const http::Request* http = nullptr;
  // The logical operation: GET, LIST (from the LIST verb or ?list=true), POST, PUT, PATCH, DELETE
  // or HEAD.
  std::string operation;
  std::vector<std::string> segments;  // percent-decoded path segments after "/v1/"
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  auth::TokenEntry token;                                  // set once authenticated

  std::optional<std::string_view> Query(std::string_view key) const;
  // Segments [from, end) joined with '/'.
  std::string JoinFrom(size_t from) const;
};

// Parses method, target and query. kInvalidArgument for an undecodable target or a bad `list`
// value.
absl::StatusOr<VaultRequest> ParseVaultRequest(const http::Request& req);

// 200 with Vault's envelope around `data_json` (a serialized JSON value, spliced in verbatim).
http::Response Envelope(const http::Request& req, std::string_view data_json, int status = 200);
// 204, no body.
http::Response NoContent();
// {"errors":[message]} with the status for `status`'s code. An empty message gives
// {"errors":[]}.
http::Response ErrorResponse(int http_status, std::string_view message);
http::Response ErrorFromStatus(const absl::Status& status);

// The client token of a request: X-Vault-Token, else an `Authorization: Bearer` header.
std::optional<std::string_view> RequestToken(const http::Request& req);

// Go's strconv.ParseBool.
std::optional<bool> ParseGoBool(std::string_view text);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_VAULT_WIRE_H_
