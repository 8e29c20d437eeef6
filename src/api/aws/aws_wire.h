// Wire helpers of the AWS surface shared by its operation files: the reply type, AWS error
// shapes, request field accessors that answer AWS's validation errors, label and time mapping,
// and the custom_metadata keys the AWS face keeps beside a secret's tags.
#ifndef REKEY_API_AWS_AWS_WIRE_H_
#define REKEY_API_AWS_AWS_WIRE_H_

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/aws/sigv4.h"
#include "auth/policy.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api::aws {

namespace json = boost::json;
using auth::Capability;

inline constexpr std::string_view kArnPrefix = "arn:aws:secretsmanager:";
// custom_metadata keys the AWS face keeps; every other key is a tag.
inline constexpr std::string_view kMetaPrefix = "aws:";
inline constexpr std::string_view kDeletionKey = "aws:deletion-date";
inline constexpr std::string_view kTokenPrefix = "aws:token:";
// A SecretString that is not a JSON object, or a SecretBinary, is stored as a one-key object.
inline constexpr std::string_view kStringField = "aws:SecretString";
inline constexpr std::string_view kBinaryField = "aws:SecretBinary";
inline constexpr size_t kMaxTokensKept = 10;

// The outcome of an operation: a JSON object or an AWS error.
struct Reply {
  std::optional<AwsError> error;
  json::object body;
};

inline Reply Err(std::string type, std::string message, int status = 400) {
  return Reply{AwsError{status, std::move(type), std::move(message)}, {}};
}
inline Reply NotFound() {
  return Err("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
}
inline Reply AccessDenied() {
  return Err("AccessDeniedException",
             "User is not authorized to perform this operation on the requested resource.");
}
inline Reply FromStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return NotFound();
    case absl::StatusCode::kInvalidArgument:
      return Err("InvalidParameterException", std::string(ToStd(s.message())));
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return Err("InvalidRequestException", std::string(ToStd(s.message())));
    default:
      return Err("InternalServiceError", "An error occurred on the server side.", 500);
  }
}

inline json::string_view JV(std::string_view s) { return json::string_view(s.data(), s.size()); }
inline double Epoch(absl::Time t) { return static_cast<double>(absl::ToUnixMillis(t)) / 1000.0; }

inline std::string ToAwsLabel(std::string_view label) {
  if (label == secrets::kLabelCurrent) return "AWSCURRENT";
  if (label == secrets::kLabelPending) return "AWSPENDING";
  if (label == secrets::kLabelPrevious) return "AWSPREVIOUS";
  return std::string(label);
}
inline std::string FromAwsLabel(std::string_view label) {
  if (label == "AWSCURRENT") return secrets::kLabelCurrent;
  if (label == "AWSPENDING") return secrets::kLabelPending;
  if (label == "AWSPREVIOUS") return secrets::kLabelPrevious;
  return std::string(label);
}

// Request field accessors; each returns false after filling `reply` with the error.
struct Body {
  const json::object& o;
  Reply& reply;

  bool String(std::string_view name, std::optional<std::string>& out, size_t min = 0,
              size_t max = 1 << 20) const {
    const json::value* v = o.if_contains(JV(name));
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_string()) return Fail(StrCat(name, " must be a string"), "SerializationException");
    out = std::string(v->as_string().c_str(), v->as_string().size());
    if (out->size() < min || out->size() > max) {
      return Fail(StrCat("Invalid length for parameter ", name, ", value: ", out->size(),
                         ", valid range: ", min, "-", max),
                  "InvalidParameterException");
    }
    return true;
  }
  bool Bool(std::string_view name, std::optional<bool>& out) const {
    const json::value* v = o.if_contains(JV(name));
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_bool()) return Fail(StrCat(name, " must be a boolean"), "SerializationException");
    out = v->as_bool();
    return true;
  }
  bool Int(std::string_view name, std::optional<int64_t>& out, int64_t min, int64_t max) const {
    const json::value* v = o.if_contains(JV(name));
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_int64() && !v->is_uint64()) {
      return Fail(StrCat(name, " must be an integer"), "SerializationException");
    }
    out = v->is_int64() ? v->as_int64() : static_cast<int64_t>(v->as_uint64());
    if (*out < min || *out > max) {
      return Fail(
          StrCat("Invalid value for parameter ", name, ": must be between ", min, " and ", max),
          "InvalidParameterException");
    }
    return true;
  }
  bool Strings(std::string_view name, std::optional<std::vector<std::string>>& out) const {
    const json::value* v = o.if_contains(JV(name));
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_array()) return Fail(StrCat(name, " must be a list"), "SerializationException");
    out.emplace();
    for (const json::value& e : v->as_array()) {
      if (!e.is_string()) return Fail(StrCat(name, " must hold strings"), "SerializationException");
      out->emplace_back(e.as_string().c_str(), e.as_string().size());
    }
    return true;
  }
  bool Fail(std::string message, std::string type) const {
    reply = Err(std::move(type), std::move(message));
    return false;
  }
};

}  // namespace rekey::api::aws

#endif  // REKEY_API_AWS_AWS_WIRE_H_
