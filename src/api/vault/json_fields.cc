#include "api/vault/json_fields.h"

#include <boost/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "secrets/model.h"

namespace rekey::api {
namespace {

absl::Status Bad(std::string_view field, std::string_view expected) {
  return absl::InvalidArgumentError(
      rekey::StrCat("invalid value for \"", field, "\": expected ", expected));
}

const boost::json::value* Find(const boost::json::object& o, std::string_view field) {
  const boost::json::value* v = o.if_contains(field);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

std::optional<uint64_t> AsUint(const boost::json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  if (v.is_double()) {
    double d = v.get_double();
    if (d >= 0 && d < 1.8e19 && d == static_cast<double>(static_cast<uint64_t>(d))) {
      return static_cast<uint64_t>(d);
    }
    return std::nullopt;
  }
  if (v.is_string()) {
    uint64_t n = 0;
    if (absl::SimpleAtoi(ToAbsl(v.get_string()), &n)) return n;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::optional<uint64_t>> GetUint(const boost::json::object& o,
                                                std::string_view field) {
  const boost::json::value* v = Find(o, field);
  if (v == nullptr) return std::nullopt;
  std::optional<uint64_t> n = AsUint(*v);
  if (!n.has_value()) return Bad(field, "a non-negative integer");
  return n;
}

absl::StatusOr<std::optional<bool>> GetBool(const boost::json::object& o, std::string_view field) {
  const boost::json::value* v = Find(o, field);
  if (v == nullptr) return std::nullopt;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string()) {
    std::string_view s = v->get_string();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  return Bad(field, "a boolean");
}

absl::StatusOr<std::optional<absl::Duration>> GetDuration(const boost::json::object& o,
                                                          std::string_view field) {
  const boost::json::value* v = Find(o, field);
  if (v == nullptr) return std::nullopt;
  if (std::optional<uint64_t> n = AsUint(*v); n.has_value() && !v->is_string()) {
    return absl::Seconds(static_cast<int64_t>(*n));
  }
  if (!v->is_string()) return Bad(field, "a duration such as \"30m\" or a number of seconds");
  absl::StatusOr<absl::Duration> d = secrets::ParseGoDuration(std::string_view(v->get_string()));
  if (!d.ok()) return Bad(field, "a duration such as \"30m\" or a number of seconds");
  return *d;
}

absl::StatusOr<std::optional<std::map<std::string, std::string>>> GetStringMap(
    const boost::json::object& o, std::string_view field) {
  const boost::json::value* v = Find(o, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) return Bad(field, "an object of strings");
  std::map<std::string, std::string> out;
  if (v->get_object().size() > 64) return Bad(field, "at most 64 keys");
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string()) return Bad(field, "an object of strings");
    if (kv.key().empty() || kv.key().size() > 128) return Bad(field, "keys of 1 to 128 bytes");
    if (kv.value().get_string().size() > 512) return Bad(field, "values of at most 512 bytes");
    out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return out;
}

absl::StatusOr<std::optional<std::vector<uint64_t>>> GetVersionList(const boost::json::object& o,
                                                                    std::string_view field) {
  const boost::json::value* v = Find(o, field);
  if (v == nullptr) return std::nullopt;
  std::vector<uint64_t> out;
  if (v->is_array()) {
    for (const auto& item : v->get_array()) {
      std::optional<uint64_t> n = AsUint(item);
      if (!n.has_value()) return Bad(field, "a list of non-negative integers");
      out.push_back(*n);
    }
    return out;
  }
  if (v->is_string()) {
    for (absl::string_view part :
         absl::StrSplit(ToAbsl(v->get_string()), ',', absl::SkipWhitespace())) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &n)) {
        return Bad(field, "a list of non-negative integers");
      }
      out.push_back(n);
    }
    return out;
  }
  return Bad(field, "a list of non-negative integers");
}

absl::StatusOr<uint64_t> ParseUintParam(std::string_view field, std::string_view text) {
  uint64_t n = 0;
  if (text.empty() || !absl::SimpleAtoi(ToAbsl(text), &n) || text[0] == '+' || text[0] == '-') {
    return absl::InvalidArgumentError(rekey::StrCat("invalid value for query parameter \"", field,
                                                    "\": expected a non-negative integer"));
  }
  return n;
}

}  // namespace rekey::api
