#include "api/transit/internal/response.h"

#include <optional>

#include "api/vault/json_fields.h"
#include "api/vault/vault_wire.h"
#include "api/vault/zeroing_json.h"
#include "core/strings.h"
#include "transit/base64.h"

namespace rekey::api::transit_internal {
namespace {

// Serializes `v` into a string of exactly its size, so that no reallocation leaves an unwiped
// copy of a value behind (the server wipes the body after writing it).
std::string SerializeBody(const json::value& v) {
  char buf[4096];
  size_t total = 0;
  {
    json::serializer sr;
    sr.reset(&v);
    while (!sr.done()) total += sr.read(buf, sizeof(buf)).size();
  }
  SecureWipe(buf, sizeof(buf));
  std::string out(total, '\0');
  json::serializer sr;
  sr.reset(&v);
  size_t at = 0;
  while (!sr.done() && at < total) at += sr.read(out.data() + at, total - at).size();
  return out;
}

}  // namespace

json::object NewObject() { return json::object(ZeroingStorage()); }

http::Response Respond(const http::Request& req, json::object data,
                       const std::vector<std::string>& warnings, int status) {
  json::object top = NewObject();
  top["request_id"] = req.request_id;
  top["lease_id"] = "";
  top["renewable"] = false;
  top["lease_duration"] = 0;
  top["data"] = std::move(data);
  top["wrap_info"] = nullptr;
  if (warnings.empty()) {
    top["warnings"] = nullptr;
  } else {
    json::array w(ZeroingStorage());
    for (const std::string& s : warnings) w.emplace_back(JsonView(s));
    top["warnings"] = std::move(w);
  }
  top["auth"] = nullptr;
  http::Response res;
  res.status = status;
  res.body = SerializeBody(top);
  return res;
}

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
  json::object data = NewObject();
  data["batch_results"] = std::move(results);
  return Respond(req, std::move(data), warnings, code);
}

}  // namespace rekey::api::transit_internal
