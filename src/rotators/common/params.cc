#include "rotators/common/params.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::rotators {
namespace {

namespace json = boost::json;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

void AddProblem(std::vector<rotation::Problem>* problems, std::string_view name,
                std::string_view message) {
  problems->push_back({rekey::StrCat("params.", name), std::string(message)});
}

void RejectUnknownParams(const json::object& params, const std::vector<std::string_view>& known,
                         std::vector<rotation::Problem>* problems) {
  for (const auto& [key, value] : params) {
    if (std::find(known.begin(), known.end(), S(key)) == known.end()) {
      AddProblem(problems, S(key), "unknown field");
    }
  }
}

std::optional<std::string> StringParam(const json::object& params, std::string_view name,
                                       std::vector<rotation::Problem>* problems) {
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    AddProblem(problems, name, "must be a string");
    return std::nullopt;
  }
  return std::string(S(v->get_string()));
}

void HostPortParams(const json::object& params, std::vector<rotation::Problem>* problems,
                    std::string& host, int& port) {
  if (auto h = StringParam(params, "host", problems)) {
    if (h->empty() || h->size() > 255) {
      AddProblem(problems, "host", "must be a host name or address");
    } else {
      host = *h;
    }
  } else if (!params.contains("host")) {
    AddProblem(problems, "host", "is required");
  }
  if (const json::value* v = params.if_contains("port")) {
    if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 65535) {
      AddProblem(problems, "port", "must be an integer in 1..65535");
    } else {
      port = static_cast<int>(v->get_int64());
    }
  }
}

std::vector<std::string> ListParam(const json::object& params, std::string_view name,
                                   std::vector<rotation::Problem>* problems, size_t max_entries) {
  std::vector<std::string> out;
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) return out;
  if (v->is_string()) {
    for (absl::string_view part : absl::StrSplit(ToAbsl(S(v->get_string())), ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (!part.empty()) out.emplace_back(part);
    }
  } else if (v->is_array() && std::all_of(v->get_array().begin(), v->get_array().end(),
                                          [](const json::value& e) { return e.is_string(); })) {
    for (const json::value& e : v->get_array()) out.emplace_back(S(e.get_string()));
  } else {
    AddProblem(problems, name, "must be a list of strings or a comma-separated string");
  }
  if (max_entries > 0 && out.size() > max_entries) {
    AddProblem(problems, name, rekey::StrCat("must have at most ", max_entries, " entries"));
  }
  return out;
}

void BoolParam(const json::object& params, std::string_view name,
               std::vector<rotation::Problem>* problems, bool& out) {
  if (const json::value* v = params.if_contains(J(name))) {
    if (v->is_bool()) {
      out = v->get_bool();
    } else {
      AddProblem(problems, name, "must be true or false");
    }
  }
}

void TimeoutParam(const json::object& params, std::string_view name,
                  std::vector<rotation::Problem>* problems, absl::Duration& out) {
  if (auto t = StringParam(params, name, problems)) {
    absl::Duration d;
    if (!absl::ParseDuration(ToAbsl(*t), &d) || d < absl::Seconds(1) || d > absl::Minutes(10)) {
      AddProblem(problems, name, "must be a duration from 1s to 10m, e.g. \"10s\"");
    } else {
      out = d;
    }
  }
}

absl::Status FirstProblem(const std::vector<rotation::Problem>& problems) {
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(rekey::StrCat(problems[0].field, " ", problems[0].message));
}

void WipeJsonStrings(json::value& v) {
  if (v.is_string()) {
    SecureWipe(v.get_string().data(), v.get_string().size());
  } else if (v.is_object()) {
    for (auto& [k, f] : v.get_object()) WipeJsonStrings(f);
  } else if (v.is_array()) {
    for (json::value& e : v.get_array()) WipeJsonStrings(e);
  }
}

absl::Status WipedObject::Parse(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(J(text), ec);
  if (ec || !v.is_object()) {
    WipeJsonStrings(v);
    return absl::FailedPreconditionError(rekey::StrCat(what, " is not a JSON object"));
  }
  WipeJsonStrings(value_);
  value_ = std::move(v);
  return absl::OkStatus();
}

std::string WipedObject::String(std::string_view key) const {
  const json::value* v = value_.get_object().if_contains(J(key));
  return v != nullptr && v->is_string() ? std::string(S(v->get_string())) : "";
}

std::string RedactValues(std::string text, const std::vector<std::string_view>& values) {
  constexpr std::string_view kRedacted = "[redacted]";
  for (std::string_view r : values) {
    if (r.empty()) continue;
    for (size_t pos = 0; (pos = text.find(r, pos)) != std::string::npos; pos += kRedacted.size()) {
      text.replace(pos, r.size(), kRedacted);
    }
  }
  return text;
}

std::string OneLine(std::string_view text, size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars));
  for (char c : text) {
    if (out.size() >= max_chars) break;
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void AddReference(const json::object& params, std::string_view name, std::string_view prefix,
                  std::string_view suffix, std::vector<std::string> capabilities,
                  std::vector<rotation::Reference>* refs) {
  const json::value* v = params.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr || !v->is_string() || v->as_string().empty()) return;
  refs->push_back(rotation::Reference{
      .path = rekey::StrCat(prefix, std::string_view(v->as_string().data(), v->as_string().size()),
                            suffix),
      .capabilities = std::move(capabilities),
      .param = std::string(name)});
}

}  // namespace rekey::rotators
