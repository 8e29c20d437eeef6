#include "api/transit/internal/request.h"

#include "api/transit/internal/response.h"
#include "api/vault/json_fields.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "transit/base64.h"

namespace rekey::api::transit_internal {

absl::StatusOr<json::object> BodyObject(const http::Request& req) {
  ASSIGN_OR_RETURN(json::value body, ParseBody(req.body));
  if (!body.is_object()) {
    return absl::InvalidArgumentError("invalid request body: expected a JSON object");
  }
  return std::move(body.get_object());
}

std::string FieldName(std::optional<size_t> index, std::string_view field) {
  if (!index.has_value()) return rekey::StrCat("\"", field, "\"");
  return rekey::StrCat("'[", *index, "].", field, "'");
}

absl::StatusOr<std::optional<std::string_view>> StringField(const json::object& o,
                                                            std::string_view field,
                                                            std::optional<size_t> index) {
  const json::value* v = o.if_contains(JsonView(field));
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid value for ", FieldName(index, field), ": expected a string"));
  }
  return std::string_view(v->get_string().data(), v->get_string().size());
}

absl::StatusOr<uint32_t> VersionField(const json::object& o, std::string_view field,
                                      std::optional<size_t> index) {
  absl::StatusOr<std::optional<uint64_t>> v = GetUint(o, field);
  if (!v.ok() || v->value_or(0) > UINT32_MAX) {
    return absl::InvalidArgumentError(rekey::StrCat("invalid value for ", FieldName(index, field),
                                                    ": expected a non-negative integer"));
  }
  return static_cast<uint32_t>(v->value_or(0));
}

absl::StatusOr<bool> BoolField(const json::object& o, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<bool> b, GetBool(o, field));
  return b.value_or(false);
}

absl::StatusOr<std::string> DecodeField(std::string_view field, std::string_view text) {
  if (text.empty()) return std::string();
  std::optional<std::string> out = transit::Base64Decode(text);
  if (!out.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("illegal base64 data in ", field));
  }
  return *std::move(out);
}

absl::StatusOr<SecretBytes> DecodeSecretField(std::string_view field, std::string_view text) {
  std::optional<SecretBytes> out = transit::Base64DecodeSecret(text);
  if (!out.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("illegal base64 data in ", field));
  }
  return *std::move(out);
}

std::string ReferenceOf(const json::object& item) {
  absl::StatusOr<std::optional<std::string_view>> ref = StringField(item, "reference");
  return ref.ok() && ref->has_value() ? std::string(**ref) : std::string();
}

std::string_view Segment(const VaultRequest& vreq, size_t i) {
  return i < vreq.segments.size() ? std::string_view(vreq.segments[i]) : std::string_view();
}

absl::StatusOr<transit::HashAlgorithm> HashAlgorithmOf(std::string_view name) {
  std::optional<transit::HashAlgorithm> a = transit::ParseHashAlgorithm(name);
  if (!a.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("unsupported algorithm ", name.substr(0, 32)));
  }
  return *a;
}

absl::StatusOr<transit::HashAlgorithm> AlgorithmFrom(
    std::string_view url_algorithm, const json::object& body,
    std::initializer_list<std::string_view> fields) {
  if (!url_algorithm.empty()) return HashAlgorithmOf(url_algorithm);
  for (std::string_view f : fields) {
    ASSIGN_OR_RETURN(std::optional<std::string_view> v, StringField(body, f));
    if (v.has_value() && !v->empty()) return HashAlgorithmOf(*v);
  }
  return transit::HashAlgorithm::kSha2_256;
}

}  // namespace rekey::api::transit_internal
