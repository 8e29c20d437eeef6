// Beast implementation of rekey::cli::HttpClient: synchronous to the caller, built on coroutines
// run on a private io_context so that every step (resolve, connect, TLS handshake, write, read)
// honours one deadline. Every Boost/Asio error becomes an absl::Status here.
#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <typeinfo>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/secret_bytes.h"

namespace rekey::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using WireRequest = bhttp::request<bhttp::string_body>;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxResponseBody = 64 << 20;
constexpr uint32_t kMaxResponseHeader = 64 << 10;

// Debian's Abseil has its own string_view type; std and Beast views convert through this.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsTokenChar(unsigned char c) {
  return absl::ascii_isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

// Result of one request/response exchange on an open connection.
struct Exchange {
  absl::Status status;
  bool retryable = false;   // the connection was found closed before any response byte
  bool keep_alive = false;  // the connection may carry another request
  ClientResponse response;
};

bool ClosedByPeer(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

struct HttpClient::Impl {
  ClientOptions options;
  bool tls = false;
  std::string host;  // no brackets; for connect, SNI and verification
  std::string port;
  std::string host_header;  // as sent in Host
  bool host_is_ip = false;

  asio::io_context ioc{1};
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> secure;
  beast::flat_buffer buffer;

  bool Connected() const { return plain != nullptr || secure != nullptr; }

  void Disconnect() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  absl::Status Failed(const beast::error_code& ec, absl::string_view what) const {
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(absl::StrCat("request to ", options.address,
                                                      " timed out after ",
                                                      absl::FormatDuration(options.timeout)));
    }
    return absl::UnavailableError(
        absl::StrCat(what, " ", options.address, " failed: ", ec.message()));
  }

  // Runs `aw` to completion on the private io_context.
  template <class T>
  T Run(asio::awaitable<T> aw) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result.emplace(std::move(value));
    });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    if (!result.has_value()) std::abort();  // run() returned before the coroutine finished
    return std::move(*result);
  }

  asio::awaitable<absl::Status> Connect(SteadyClock::time_point deadline) {
    Disconnect();
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(
        host, port, host_is_ip ? tcp::resolver::numeric_host : tcp::resolver::flags(), kAsTuple);
    if (rec) {
      co_return absl::UnavailableError(
          absl::StrCat("cannot resolve the host of ", options.address, ": ", rec.message()));
    }
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    auto [cec, endpoint] = co_await stream.async_connect(results, kAsTuple);
    if (cec) co_return Failed(cec, "connecting to");
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (!tls) {
      plain = std::make_unique<beast::tcp_stream>(std::move(stream));
      co_return absl::OkStatus();
    }
    auto tls_stream = std::make_unique<TlsStream>(std::move(stream), *ssl_ctx);
    SSL* ssl = tls_stream->native_handle();
    if (!host_is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (!options.tls_skip_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      const int ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (ok != 1) {
        co_return absl::InternalError(
            absl::StrCat("cannot set up host name verification for ", options.address));
      }
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    beast::get_lowest_layer(*tls_stream).expires_at(deadline);
    auto [hec] = co_await tls_stream->async_handshake(asio::ssl::stream_base::client, kAsTuple);
    if (hec) co_return Failed(hec, "TLS handshake with");
    secure = std::move(tls_stream);
    co_return absl::OkStatus();
  }

  template <class Stream>
  asio::awaitable<Exchange> ExchangeOn(Stream& stream, WireRequest& req, bool head,
                                       SteadyClock::time_point deadline) {
    Exchange out;
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [wec, written] = co_await bhttp::async_write(stream, req, kAsTuple);
    if (wec) {
      out.status = Failed(wec, "sending a request to");
      out.retryable = ClosedByPeer(wec);
      co_return out;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxResponseHeader);
    parser.body_limit(kMaxResponseBody);
    if (head) parser.skip(true);
    auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
    if (rec) {
      out.retryable = !parser.got_some() && ClosedByPeer(rec);
      out.status = IsHttpParseError(rec)
                       ? absl::InternalError(absl::StrCat("malformed HTTP response from ",
                                                          options.address, ": ", rec.message()))
                       : Failed(rec, "reading the response from");
      co_return out;
    }
    auto& msg = parser.get();
    out.keep_alive = msg.keep_alive();
    out.response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
      out.response.headers.emplace_back(absl::AsciiStrToLower(Absl(field.name_string())),
                                        std::string(field.value()));
    }
    out.response.body = std::move(msg.body());
    co_return out;
  }

  asio::awaitable<Exchange> DoExchange(WireRequest& req, bool head,
                                       SteadyClock::time_point deadline) {
    if (secure) co_return co_await ExchangeOn(*secure, req, head, deadline);
    co_return co_await ExchangeOn(*plain, req, head, deadline);
  }
};

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const ClientOptions& options) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", options.address, "\": ", why));
  };
  if (options.timeout <= absl::ZeroDuration() || options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("client timeout must be positive and finite");
  }
  try {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    auto parsed = urls::parse_absolute_uri(options.address);
    if (!parsed) return bad("not an absolute http:// or https:// URL");
    const urls::url_view& url = *parsed;
    if (url.scheme_id() == urls::scheme::https) {
      impl->tls = true;
    } else if (url.scheme_id() != urls::scheme::http) {
      return bad("scheme must be http or https");
    }
    if (!url.has_authority()) return bad("missing host");
    if (url.has_userinfo()) return bad("user info is not supported");
    if (url.has_query() || url.has_fragment()) return bad("query and fragment are not allowed");
    if (!url.encoded_path().empty() && url.encoded_path() != "/") return bad("path is not allowed");
    switch (url.host_type()) {
      case urls::host_type::ipv4:
        impl->host = url.host_ipv4_address().to_string();
        impl->host_is_ip = true;
        impl->host_header = impl->host;
        break;
      case urls::host_type::ipv6:
        impl->host = url.host_ipv6_address().to_string();
        impl->host_is_ip = true;
        impl->host_header = absl::StrCat("[", impl->host, "]");
        break;
      case urls::host_type::name:
        impl->host = url.host_name();
        impl->host_header = impl->host;
        break;
      default:
        return bad("unsupported host");
    }
    if (impl->host.empty()) return bad("missing host");
    if (url.has_port()) {
      const std::string port_text(url.port());
      uint32_t port = 0;
      if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
        return bad("port must be in 1..65535");
      }
      impl->port = std::to_string(port);
    } else {
      impl->port = impl->tls ? "443" : "80";
    }
    absl::StrAppend(&impl->host_header, ":", impl->port);

    if (impl->tls) {
      impl->ssl_ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(impl->ssl_ctx->native_handle(), TLS1_2_VERSION);
      beast::error_code ec;
      if (options.tls_skip_verify) {
        impl->ssl_ctx->set_verify_mode(asio::ssl::verify_none, ec);
      } else {
        impl->ssl_ctx->set_verify_mode(asio::ssl::verify_peer, ec);
        if (!options.ca_file.empty()) {
          impl->ssl_ctx->load_verify_file(options.ca_file, ec);
          if (ec) {
            return absl::InvalidArgumentError(absl::StrCat(
                "ca_file \"", options.ca_file, "\": cannot load CA certificates: ", ec.message()));
          }
        } else {
          impl->ssl_ctx->set_default_verify_paths(ec);
        }
      }
    }
    return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("http client setup failed: exception of type ", typeid(e).name()));
  }
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<ClientResponse> HttpClient::Send(
    std::string_view method, std::string_view path_and_query,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  Impl& impl = *impl_;
  if (!IsToken(method)) return absl::InvalidArgumentError("invalid HTTP method");
  if (path_and_query.empty() || path_and_query.front() != '/' ||
      std::any_of(path_and_query.begin(), path_and_query.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return absl::InvalidArgumentError(
        "request path must start with '/' and contain no spaces or control characters");
  }
  try {
    WireRequest req;
    req.version(11);
    req.method_string(method);
    req.target(path_and_query);
    req.set(bhttp::field::host, impl.host_header);
    req.set(bhttp::field::user_agent, "rekey-cli");
    for (const auto& [name, value] : headers) {
      if (!IsToken(name) ||
          value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("invalid request header \"", name, "\""));
      }
      req.insert(name, value);
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      req.body() = std::string(body);
      req.content_length(body.size());
    }
    const bool head = method == "HEAD";
    const auto deadline = SteadyClock::now() + absl::ToChronoNanoseconds(impl.options.timeout);

    absl::StatusOr<ClientResponse> result;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = impl.Connected();
      if (!reused) {
        absl::Status connected = impl.Run(impl.Connect(deadline));
        if (!connected.ok()) {
          impl.Disconnect();
          result = connected;
          break;
        }
      }
      Exchange exchange = impl.Run(impl.DoExchange(req, head, deadline));
      if (exchange.status.ok()) {
        if (!exchange.keep_alive) impl.Disconnect();
        result = std::move(exchange.response);
        break;
      }
      impl.Disconnect();
      result = exchange.status;
      if (!(reused && exchange.retryable)) break;
    }
    SecureWipe(req.body());
    return result;
  } catch (const std::exception& e) {
    impl.Disconnect();
    return absl::InternalError(
        absl::StrCat("http client: unexpected exception of type ", typeid(e).name()));
  }
}

}  // namespace rekey::net
