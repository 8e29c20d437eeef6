#include "rotation/net_http_transport.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <exception>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "net/http_client.h"

namespace rekey::rotation {

namespace urls = boost::urls;

absl::StatusOr<ParsedHttpUrl> ParseHttpUrl(std::string_view url_text) {
  auto parsed = urls::parse_absolute_uri(urls::string_view(url_text.data(), url_text.size()));
  if (!parsed) return absl::InvalidArgumentError("URL is not an absolute http:// or https:// URL");
  const urls::url_view& url = *parsed;
  ParsedHttpUrl out;
  if (url.scheme_id() == urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    return absl::InvalidArgumentError("URL scheme must be http or https");
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    return absl::InvalidArgumentError("URL has no host");
  }
  if (url.has_userinfo()) {
    return absl::InvalidArgumentError("URL must not contain user info (credentials)");
  }
  switch (url.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
    case urls::host_type::name:
      break;
    default:
      return absl::InvalidArgumentError("URL host must be a name or an IP address");
  }
  uint32_t port = out.tls ? 443 : 80;
  if (url.has_port()) {
    const std::string port_text(url.port());
    if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError("URL port must be in 1..65535");
    }
  }
  const std::string host(url.encoded_host());
  out.origin =
      rekey::StrCat(out.tls ? "https://" : "http://", absl::AsciiStrToLower(host), ":", port);
  out.path_and_query = std::string(url.encoded_path());
  if (out.path_and_query.empty()) out.path_and_query = "/";
  if (url.has_query()) {
    out.path_and_query += '?';
    out.path_and_query += std::string(url.encoded_query());
  }
  return out;
}

absl::StatusOr<HttpReply> NetHttpTransport::Send(const HttpCall& call) {
  absl::StatusOr<ParsedHttpUrl> url;
  try {
    url = ParseHttpUrl(call.url);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("URL cannot be parsed");
  }
  if (!url.ok()) return url.status();
  if (call.timeout <= absl::ZeroDuration() || call.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("timeout for ", url->origin, " must be positive and finite"));
  }
  net::ClientOptions options;
  options.address = url->origin;
  options.ca_file = call.ca_file;
  options.timeout = call.timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client, net::HttpClient::Create(options));
  absl::StatusOr<net::ClientResponse> response =
      client->Send(call.method, url->path_and_query, call.headers, call.body);
  if (!response.ok()) {
    // A malformed response is the server's fault, like a dropped connection: report it as
    // unavailable so callers retry it as such.
    if (response.status().code() == absl::StatusCode::kInternal) {
      return absl::UnavailableError(response.status().message());
    }
    return response.status();
  }
  HttpReply reply;
  reply.status = response->status;
  reply.body = std::move(response->body);
  reply.headers = std::move(response->headers);
  return reply;
}

}  // namespace rekey::rotation
