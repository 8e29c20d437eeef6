// Lenient Vault field reads.
#include "pki/internal/json_fields.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "pki/ttl.h"

namespace rekey::pki::internal {
namespace {

namespace json = boost::json;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

void FieldReader::Problem(std::string_view field, std::string_view message) {
  problems_->push_back(rekey::StrCat(field, ": ", message));
}

bool FieldReader::Has(std::string_view field) const {
  const json::value* v = fields_.if_contains(J(field));
  return v != nullptr && !v->is_null();
}

void FieldReader::Bool(std::string_view field, bool* out) {
  const json::value* v = fields_.if_contains(J(field));
  if (v == nullptr || v->is_null()) return;
  if (v->is_bool()) {
    *out = v->get_bool();
  } else if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false")) {
    *out = v->get_string() == "true";
  } else {
    Problem(field, "must be true or false");
  }
}

void FieldReader::String(std::string_view field, std::string* out) {
  const json::value* v = fields_.if_contains(J(field));
  if (v == nullptr || v->is_null()) return;
  if (v->is_string()) {
    *out = std::string(S(v->get_string()));
  } else {
    Problem(field, "must be a string");
  }
}

void FieldReader::Int(std::string_view field, int* out) {
  const json::value* v = fields_.if_contains(J(field));
  if (v == nullptr || v->is_null()) return;
  if (v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= 65536) {
    *out = static_cast<int>(v->get_int64());
  } else if (v->is_string() && !v->get_string().empty() && v->get_string().size() <= 5 &&
             std::all_of(v->get_string().begin(), v->get_string().end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    *out = std::stoi(std::string(S(v->get_string())));
  } else {
    Problem(field, "must be a non-negative integer");
  }
}

void FieldReader::Duration(std::string_view field, absl::Duration* out) {
  const json::value* v = fields_.if_contains(J(field));
  if (v == nullptr || v->is_null()) return;
  absl::StatusOr<absl::Duration> d = TtlFromJson(*v);
  if (d.ok()) {
    *out = *d;
  } else {
    Problem(field, ToStd(d.status().message()));
  }
}

std::optional<std::vector<std::string>> FieldReader::List(std::string_view field) {
  const json::value* v = fields_.if_contains(J(field));
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    for (absl::string_view part : absl::StrSplit(ToAbsl(S(v->get_string())), ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (!part.empty()) out.emplace_back(part);
    }
    return out;
  }
  if (v->is_array()) {
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) {
        Problem(field, "must be a list of strings");
        return std::nullopt;
      }
      std::string s(S(item.get_string()));
      if (!s.empty()) out.push_back(std::move(s));
    }
    return out;
  }
  Problem(field, "must be a list of strings or a comma-separated string");
  return std::nullopt;
}

}  // namespace rekey::pki::internal
