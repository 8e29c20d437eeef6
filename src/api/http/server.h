// HTTP/1.1 server that carries every rekey API surface on one port (design.md section 5). This
// header is Boost-free; Beast/Asio live only in server.cc.
#ifndef REKEY_API_HTTP_SERVER_H_
#define REKEY_API_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::http {

struct Header {
  std::string name;
  std::string value;
};

// One parsed request. Owned by the connection; the handler may modify it (e.g. take the body).
struct Request {
  std::string method;           // as received, e.g. "GET", "LIST", "PATCH" (not case-folded)
  std::string target;           // raw request-target
  std::string path;             // target before '?', still percent-encoded
  std::string query;            // raw text after '?', "" if none
  std::vector<Header> headers;  // names lower-cased, in received order
  std::string body;             // SecureWipe()d by the server after the response is written
  std::string remote_addr;      // "ip:port" of the peer ("[v6]:port" for IPv6)
  std::string request_id;       // fresh UUIDv4 per request, also sent back as X-Request-Id
  bool tls = false;

  // The value of the first header named `lower_name` (which must be lower-case), if any.
  std::optional<std::string_view> GetHeader(std::string_view lower_name) const;
};

struct Response {
  int status = 200;                               // 200..599; anything else is sent as 500
  std::string content_type = "application/json";  // omitted from the wire when empty
  // Extra headers. Connection, Content-Length, Transfer-Encoding and X-Request-Id are set by the
  // server and dropped here; headers whose name or value contain CR, LF or NUL are dropped.
  std::vector<Header> headers;
  std::string body;  // SecureWipe()d by the server after it is written; not sent for HEAD/204/304
};

// Implemented by the API layer. Must be thread-safe and must not throw (an escaping exception is
// caught and answered with a 500, but that is a bug).
class Handler {
 public:
  virtual ~Handler() = default;
  // True when Handle(req) may block (storage writes, outbound calls): such requests run on the
  // server's bounded blocking pool, never on an I/O thread. Others run inline on the I/O thread.
  // Called on the I/O thread; must be cheap.
  virtual bool MayBlock(const Request& req) const = 0;
  // Produces the response. HEAD requests arrive as method "HEAD": answer them like GET; the server
  // sends the headers with the body's Content-Length and drops the body.
  virtual Response Handle(Request& req) = 0;
};

struct ServerOptions {
  // "host:port" with an IP literal host (or "localhost"); port 0 = ephemeral; IPv6 as "[::1]:8200".
  std::vector<std::string> listen = {"127.0.0.1:8200"};
  int io_threads = 0;         // 0 = std::thread::hardware_concurrency(); at most 1024
  int blocking_threads = 32;  // pool for MayBlock requests; 1..4096
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;               // request line + header fields
  absl::Duration read_timeout = absl::Seconds(30);  // to receive one whole request once it started;
                                                    // also bounds the TLS handshake
  absl::Duration idle_timeout = absl::Seconds(75);  // keep-alive idle, and the wait for the first
                                                    // request on a new connection
  absl::Duration write_timeout = absl::Seconds(30);  // to write one response (slow readers)
  int max_pipelined = 16;      // parsed requests queued ahead of the one being answered, per
                               // connection; memory per connection is bounded by about
                               // (max_pipelined + 2) * (max_body_bytes + max_header_bytes) plus a
                               // read buffer of max_header_bytes + 64 KiB
  int max_connections = 4096;  // further connections are accepted and closed at once
  std::string tls_cert_file, tls_key_file;  // both set = HTTPS only on these listeners (PEM)
  // One spdlog info line per request: request id, remote, method, path (never the query, headers
  // or body), status, response body bytes, microseconds.
  bool access_log = true;
};

// Thread-safe: every method may be called from any thread except the server's own I/O and
// blocking-pool threads (Shutdown and the destructor join them).
class Server {
 public:
  // Validates options (kInvalidArgument naming the option), loads TLS files (kInvalidArgument
  // naming the file), binds every listener (kUnavailable, or kInvalidArgument for an address that
  // is not local, naming the address). Nothing is served until Start(). `handler` must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        Handler& handler);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Shutdown(0s) if still running

  // Actual "ip:port" of each listener after binding (ephemeral ports resolved), in options order.
  std::vector<std::string> BoundAddresses() const;

  // Starts the I/O threads and the blocking pool; returns immediately. No-op after the first call
  // or after Shutdown.
  void Start();

  // Graceful: stops accepting, lets in-flight requests finish (their responses carry
  // "Connection: close") and closes idle keep-alive connections; after `grace`, forcibly closes
  // the rest. Then waits for running blocking handlers and joins all threads. Idempotent.
  void Shutdown(absl::Duration grace);

  // True when the calling thread is an I/O thread of some Server: lets handlers assert that
  // blocking work is not running there.
  static bool OnIoThread();

  struct Impl;  // defined in server.cc

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Blocks until SIGINT or SIGTERM arrives (asio::signal_set on a private io_context). For main().
void WaitForShutdownSignal();

}  // namespace rekey::http

#endif  // REKEY_API_HTTP_SERVER_H_
