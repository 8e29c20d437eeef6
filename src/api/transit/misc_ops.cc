// Transit's keyless utilities: hash and random.
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "api/transit/internal/operations.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "api/transit/transit_handler.h"
#include "api/vault/json_fields.h"
#include "core/strings.h"
#include "transit/base64.h"

namespace rekey::api::transit_internal {
namespace {

// The body's "format", `fallback` when absent: "hex" or "base64", else an error.
absl::StatusOr<std::string_view> EncodingFormat(const json::object& body,
                                                std::string_view fallback) {
  absl::StatusOr<std::optional<std::string_view>> format = StringField(body, "format");
  if (!format.ok()) return format.status();
  const std::string_view f = format->value_or(fallback);
  if (f != "hex" && f != "base64") {
    return absl::InvalidArgumentError("unsupported encoding format; must be \"hex\" or \"base64\"");
  }
  return f;
}

}  // namespace

http::Response HandleHash(const TransitCall& call) {
  absl::StatusOr<transit::HashAlgorithm> algorithm =
      AlgorithmFrom(Segment(call.vreq, 2), call.body, {"algorithm"});
  if (!algorithm.ok()) return Fail(algorithm.status());
  absl::StatusOr<std::optional<std::string_view>> input = StringField(call.body, "input");
  if (!input.ok()) return Fail(input.status());
  absl::StatusOr<std::string_view> format = EncodingFormat(call.body, "hex");
  if (!format.ok()) return Fail(format.status());
  absl::StatusOr<SecretBytes> data_in = DecodeSecretField("input", input->value_or(""));
  if (!data_in.ok()) return Fail(data_in.status());
  absl::StatusOr<std::string> sum = transit::HashData(*algorithm, data_in->Reveal());
  if (!sum.ok()) return ErrorFromStatus(sum.status());
  json::object data = NewSecretObject();
  data["sum"] = *format == "hex" ? absl::BytesToHexString(*sum) : transit::Base64Encode(*sum);
  return DataResponse(call.request, std::move(data));
}

http::Response HandleRandom(const TransitCall& call) {
  constexpr size_t kMaxBytes = TransitHandler::kMaxRandomBytes;
  uint64_t bytes = 32;
  if (call.route == RouteId::kTransitRandomBytes) {
    if (!absl::SimpleAtoi(ToAbsl(Segment(call.vreq, 2)), &bytes)) {
      return BadRequest("invalid value for bytes: expected a number");
    }
  } else {
    absl::StatusOr<std::optional<uint64_t>> b = GetUint(call.body, "bytes");
    if (!b.ok()) return Fail(b.status());
    bytes = b->value_or(32);
  }
  if (bytes < 1) return BadRequest("missing bytes");
  if (bytes > kMaxBytes) return BadRequest(rekey::StrCat("bytes cannot be more than ", kMaxBytes));
  absl::StatusOr<std::string_view> format = EncodingFormat(call.body, "base64");
  if (!format.ok()) return Fail(format.status());
  SecretBytes random = call.transit.RandomBytes(bytes);
  json::object data = NewSecretObject();
  if (*format == "hex") {
    std::string hex = absl::BytesToHexString(ToAbsl(random.Reveal()));
    data["random_bytes"] = hex;
    SecureWipe(hex);
  } else {
    SetBase64Secret(data, "random_bytes", random);
  }
  return DataResponse(call.request, std::move(data));
}

}  // namespace rekey::api::transit_internal
