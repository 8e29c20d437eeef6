#include "api/transit/internal/response.h"

#include <optional>

#include "api/vault/data_response.h"
#include "api/vault/json_fields.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/strings.h"
#include "transit/base64.h"

namespace rekey::api::transit_internal {

bool IsInternalError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

http::Response Fail(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kNotFound) return ErrorResponse(400, ToStd(s.message()));
  return ErrorFromStatus(s);
}

http::Response BadRequest(std::string_view message) { return ErrorResponse(400, message); }

void SetBase64Secret(json::object& o, std::string_view field, const SecretBytes& plain) {
  SecretBytes encoded = transit::Base64EncodeSecret(plain.Reveal());
  o[JsonView(field)] = JsonView(encoded.Reveal());
}

void BatchTally::Add(const absl::Status& s) {
  if (s.ok()) {
    success = true;
  } else if (IsInternalError(s)) {
    internal_error = true;
  } else {
    user_error = true;
  }
}

http::Response BatchResponse(const http::Request& req, const json::object& body,
                             json::array results, const BatchTally& tally) {
  std::vector<std::string> warnings;
  int code = 200;
  if (tally.user_error) {
    code = 400;
  } else if (tally.internal_error) {
    code = 500;
  }
  if (code != 200 && tally.success) {
    absl::StatusOr<std::optional<uint64_t>> partial =
        GetUint(body, "partial_failure_response_code");
    if (partial.ok() && partial->has_value()) {
      if (**partial >= 1 && **partial <= 599) {
        code = static_cast<int>(**partial);
      } else {
        warnings.push_back(rekey::StrCat(
            "invalid HTTP response code override from partial_failure_response_code, reverting "
            "to ",
            code));
      }
    }
  }
  json::object data = NewSecretObject();
  data["batch_results"] = std::move(results);
  return DataResponse(req, std::move(data), warnings, code);
}

}  // namespace rekey::api::transit_internal
