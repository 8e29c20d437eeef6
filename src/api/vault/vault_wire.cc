#include "api/vault/vault_wire.h"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/http/status_http.h"
#include "core/strings.h"

namespace rekey::api {

std::optional<std::string_view> VaultRequest::Query(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::string VaultRequest::JoinFrom(size_t from) const {
  if (from >= segments.size()) return "";
  return absl::StrJoin(segments.begin() + from, segments.end(), "/");
}

std::optional<bool> ParseGoBool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

absl::StatusOr<VaultRequest> ParseVaultRequest(const http::Request& req) {
  VaultRequest out;
  out.http = &req;
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_origin_form(req.target);
  if (!url) {
    return absl::InvalidArgumentError("malformed request path: not a valid URL path");
  }
  for (auto segment : url->segments()) {
    std::string decoded(segment);
    if (decoded.find('/') != std::string::npos || decoded.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          "invalid path: an encoded '/' or NUL inside a path segment is not allowed");
    }
    out.segments.push_back(std::move(decoded));
  }
  for (auto param : url->params()) {
    out.query.emplace_back(std::string(param.key), std::string(param.value));
  }
  out.operation = req.method;
  if (req.method == "GET") {
    if (auto list = out.Query("list"); list.has_value()) {
      std::optional<bool> b = ParseGoBool(*list);
      if (!b.has_value()) {
        return absl::InvalidArgumentError(
            rekey::StrCat("invalid value for query parameter \"list\": expected a boolean"));
      }
      if (*b) out.operation = "LIST";
    }
  }
  return out;
}

http::Response Envelope(const http::Request& req, std::string_view data_json, int status) {
  http::Response res;
  res.status = status;
  res.body = rekey::StrCat(R"({"request_id":")", req.request_id,
                           R"(","lease_id":"","renewable":false,"lease_duration":0,"data":)",
                           data_json, R"(,"wrap_info":null,"warnings":null,"auth":null})");
  return res;
}

http::Response NoContent() {
  http::Response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

http::Response ErrorResponse(int http_status, std::string_view message) {
  http::Response res;
  res.status = http_status;
  if (message.empty()) {
    res.body = R"({"errors":[]})";
  } else {
    boost::json::object o;
    boost::json::array errors;
    errors.emplace_back(message);
    o["errors"] = std::move(errors);
    res.body = boost::json::serialize(o);
  }
  return res;
}

http::Response ErrorFromStatus(const absl::Status& status) {
  return ErrorResponse(http::HttpStatusFromCode(status.code()), ToStd(status.message()));
}

std::optional<std::string_view> RequestToken(const http::Request& req) {
  if (auto t = req.GetHeader("x-vault-token"); t.has_value() && !t->empty()) return t;
  if (auto a = req.GetHeader("authorization"); a.has_value()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (absl::StartsWithIgnoreCase(ToAbsl(*a), ToAbsl(kBearer))) return a->substr(kBearer.size());
  }
  return std::nullopt;
}

}  // namespace rekey::api
