// Minimal HTTP/1.1 client for the CLI, rotators and tests: one keep-alive connection to one
// server, http:// or https://. Boost-free header; Beast lives in http_client.cc.
#ifndef REKEY_NET_HTTP_CLIENT_H_
#define REKEY_NET_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::net {

struct ClientOptions {
  // "http://host:port" or "https://host:port"; a trailing "/" is allowed, no other path.
  std::string address = "http://127.0.0.1:8200";
  std::string ca_file;           // PEM CA bundle for https; empty = the system's default paths
  bool tls_skip_verify = false;  // accept any certificate and host name (testing only)
  absl::Duration timeout = absl::Seconds(30);  // per Send(), connecting included
};

struct ClientResponse {
  int status = 0;
  std::string body;                                          // empty for HEAD
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
};

// Not thread-safe: one request at a time per client.
class HttpClient {
 public:
  // Parses the address (kInvalidArgument on a bad one) and, for https, loads ca_file
  // (kInvalidArgument naming the file). Does not connect.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const ClientOptions& options);

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends one request and reads the whole response. `method` is any token ("GET", "LIST", ...),
  // `path_and_query` starts with '/'. A Content-Length is sent when `body` is non-empty or the
  // method is POST, PUT or PATCH. Keeps the connection for reuse and reconnects once when a reused
  // connection turns out to be closed by the server. Errors: kInvalidArgument for a bad method,
  // path or header; kUnavailable when the server cannot be reached or the connection fails (the
  // message names the address); kDeadlineExceeded after `timeout`; kInternal for a malformed
  // response. Any HTTP status is a successful Send.
  absl::StatusOr<ClientResponse> Send(
      std::string_view method, std::string_view path_and_query,
      const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rekey::net

#endif  // REKEY_NET_HTTP_CLIENT_H_
