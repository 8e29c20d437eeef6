// Transit's answers: Vault's response envelope, its error mapping, and batch status codes.
#ifndef REKEY_API_TRANSIT_INTERNAL_RESPONSE_H_
#define REKEY_API_TRANSIT_INTERNAL_RESPONSE_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "api/http/message.h"
#include "api/vault/data_response.h"
#include "core/secret_bytes.h"

namespace rekey::api::transit_internal {

namespace json = boost::json;

// A view of `s` for storing into JSON (copied on assignment).
inline json::string_view JsonView(std::string_view s) { return {s.data(), s.size()}; }

// True for the codes Vault counts as internal errors (5xx) rather than the caller's.
bool IsInternalError(const absl::Status& s);

// The error response for `s`, except that a missing key is 400 (Vault's ErrInvalidRequest).
http::Response Fail(const absl::Status& s);

// 400 {"errors":[message]}.
http::Response BadRequest(std::string_view message);

// Sets o[field] to the base64 of `plain`; the encoding is wiped once copied into `o`.
void SetBase64Secret(json::object& o, std::string_view field, const SecretBytes& plain);

// How a batch went, for its status code. Add each item's outcome once.
struct BatchTally {
  bool success = false;
  bool user_error = false;
  bool internal_error = false;
  void Add(const absl::Status& s);
};

// Vault's batchRequestResponse around `results`: 400 if any item had a user error, else 500 if
// any had an internal one, else 200; the body's `partial_failure_response_code` (1-599, else a
// warning) replaces the error code when some items succeeded.
http::Response BatchResponse(const http::Request& req, const json::object& body,
                             json::array results, const BatchTally& tally);

}  // namespace rekey::api::transit_internal

#endif  // REKEY_API_TRANSIT_INTERNAL_RESPONSE_H_
