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
#include "api/http/message.h"

namespace rekey::http {

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
  // is not local, naming the address). Nothing is served until Start(). `handler` (and
  // `recorder`, when given: every request and response then passes through it) must outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        Handler& handler,
                                                        Recorder* recorder = nullptr);

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
