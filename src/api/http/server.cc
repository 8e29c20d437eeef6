// Beast/Asio implementation of rekey::http::Server and WaitForShutdownSignal. The only server TU
// that includes Boost; every Beast/Asio error becomes a value here and no exception leaves it.
//
// Threading model: one io_context per I/O thread. Listeners accept on their own context and hand
// each connection to the next context round-robin; a connection then lives on that one thread, so
// its state needs no locks. Each connection runs two coroutines: a reader that parses up to
// `max_pipelined` requests ahead into a queue, and a writer that answers them in order (inline on
// the I/O thread, or on the blocking asio::thread_pool when Handler::MayBlock says so, resuming on
// the I/O thread afterwards). Timeouts are timers that close the socket. The session registry
// (mutex-guarded) exists for graceful shutdown and the connection limit.
#include "api/http/server.h"

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/secret_bytes.h"
#include "core/status_macros.h"

namespace rekey::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 64 << 10;
// After an error response that closes the connection, unread request bytes are drained for at most
// this long (and at most max(kLingerMinBytes, 2 * max_body_bytes)) so that closing does not reset
// the connection before the client has read the response.
constexpr absl::Duration kLinger = absl::Seconds(2);
constexpr size_t kLingerMinBytes = 4 << 20;
constexpr absl::Duration kTlsShutdownTimeout = absl::Seconds(2);
constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

thread_local bool t_on_io_thread = false;

// Debian's Abseil has its own string_view type; std and Beast views convert through this.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Zeroes memory before returning it, so that request bytes (tokens, secret values) held by the read
// buffer and the parsed header fields do not linger in freed memory.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    SecureZero(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

using Fields = bhttp::basic_fields<WipingAllocator<char>>;
using RequestParser = bhttp::request_parser<bhttp::string_body, WipingAllocator<char>>;
using WireResponse = bhttp::response<bhttp::string_body>;

std::string NewRequestId() {
  uint8_t b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    spdlog::critical("http: RAND_bytes failed; cannot generate a request id");
    std::abort();
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

// The Vault error shape, used for every server-generated error.
Response JsonError(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = absl::StrCat("{\"errors\":[\"", JsonEscape(message), "\"]}");
  return r;
}

// Printable, bounded form of a request path or method for the access log.
std::string ForLog(std::string_view s) {
  constexpr size_t kMax = 256;
  if (s.empty()) return "-";
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u >= 0x7f) c = '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

bool IsTokenChar(unsigned char c) {
  return absl::ascii_isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool ValidHeaderName(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return IsTokenChar(c); });
}

bool ValidHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers the server owns; a handler's copy is dropped.
bool ReservedHeader(std::string_view name) {
  for (std::string_view r : {"connection", "content-length", "transfer-encoding", "x-request-id",
                             "keep-alive", "upgrade", "trailer", "te"}) {
    if (absl::EqualsIgnoreCase(Absl(name), Absl(r))) return true;
  }
  return false;
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const asio::ip::address a = ep.address();
  if (a.is_v6()) return absl::StrCat("[", a.to_string(), "]:", ep.port());
  return absl::StrCat(a.to_string(), ":", ep.port());
}

absl::StatusOr<tcp::endpoint> ParseListenAddress(const std::string& spec) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", spec, "\": ", why, " (want host:port, [v6]:port)"));
  };
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos) return bad("missing port");
  std::string host = spec.substr(0, colon);
  const std::string port_text = spec.substr(colon + 1);
  uint32_t port = 0;
  if (port_text.empty() || !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("port must be a number in 0..65535");
  }
  bool bracketed = false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) return bad("host must be an IP address or localhost");
  if (addr.is_v6() != bracketed) return bad("IPv6 addresses must be in brackets, IPv4 not");
  return tcp::endpoint(addr, static_cast<uint16_t>(port));
}

void LogException(std::exception_ptr e, std::string_view where) {
  if (!e) return;
  // The type only: what() of a parsing library may quote request bytes.
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("http: {} ended by an exception of type {}", where, typeid(ex).name());
  } catch (...) {
    spdlog::error("http: {} ended by an exception of unknown type", where);
  }
}

// Maps a failed read to the response the server owes before closing, if any. Network errors,
// timeouts and a client closing between requests get none.
std::optional<Response> ErrorForReadFailure(const beast::error_code& ec,
                                            const ServerOptions& options) {
  if (ec == bhttp::error::body_limit) {
    return JsonError(413, absl::StrCat("request body exceeds ", options.max_body_bytes, " bytes"));
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return JsonError(
        431, absl::StrCat("request header fields exceed ", options.max_header_bytes, " bytes"));
  }
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return std::nullopt;
  }
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::end_of_stream:
    case bhttp::error::partial_message:
    case bhttp::error::need_more:
    case bhttp::error::need_buffer:
    case bhttp::error::end_of_chunk:
    case bhttp::error::stale_parser:
    case bhttp::error::short_read:
      return std::nullopt;
    default:
      // Beast's messages ("bad method", "bad version", ...) quote no request bytes.
      return JsonError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }
}

class SessionBase;

}  // namespace

struct Server::Impl {
  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    std::string bound;
    size_t context_index = 0;
  };
  struct SessionEntry {
    std::weak_ptr<SessionBase> session;
    asio::any_io_executor executor;
  };

  Impl(const ServerOptions& o, Handler& h, Recorder* r) : options(o), handler(h), recorder(r) {}
  ~Impl();

  // Adds a session unless the server is stopping or full. Thread-safe.
  bool Register(const std::shared_ptr<SessionBase>& s, asio::any_io_executor ex);
  void Unregister(SessionBase* s);
  // Posts fn to every live session on its own executor. Thread-safe.
  void PostToSessions(void (SessionBase::*fn)());
  // Waits until no session is registered or `deadline` passes. True when none is left.
  bool WaitForNoSessions(SteadyClock::time_point deadline);
  asio::io_context& NextContext() {
    return *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
  }
  void StartSession(tcp::socket socket);

  // Destruction order matters (reverse of declaration): pending handlers destroyed with the
  // contexts may destroy sessions, which unregister under `mu` and use `ssl`.
  const ServerOptions options;
  Handler& handler;
  Recorder* const recorder;                 // null: requests are not recorded
  std::unique_ptr<asio::ssl::context> ssl;  // null: plain HTTP

  std::mutex mu;
  std::condition_variable sessions_cv;
  std::unordered_map<SessionBase*, SessionEntry> sessions;  // guarded by mu
  std::atomic<bool> stopping{false};

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<Listener> listeners;
  std::atomic<size_t> next_context{0};
  std::unique_ptr<asio::thread_pool> pool;
  // Requests taken by Handler::HandleAsync whose Responder has not run yet. Shutdown waits for
  // them, then closes the gate so that a late Responder never posts to a stopped I/O context.
  struct AsyncGate {
    std::mutex mu;
    std::condition_variable cv;
    size_t in_flight = 0;  // guarded by mu
    bool open = true;      // guarded by mu
  };
  std::shared_ptr<AsyncGate> async_gate = std::make_shared<AsyncGate>();
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_guards;
  std::vector<std::thread> threads;

  std::mutex lifecycle_mu;  // serializes Start and Shutdown
  bool started = false;     // guarded by lifecycle_mu
  bool shut_down = false;   // guarded by lifecycle_mu
};

namespace {

// Type-erased connection, as seen by the registry. BeginDrain and ForceClose must run on the
// session's executor.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(Server::Impl& server) : server_(server) {}
  virtual ~SessionBase() { server_.Unregister(this); }
  virtual void Start() = 0;
  // Stop reading new requests; finish the ones in flight, then close. Idle connections close now.
  virtual void BeginDrain() = 0;
  virtual void ForceClose() = 0;

 protected:
  Server::Impl& server_;
};

// One connection over Stream (tcp::socket or beast::ssl_stream<tcp::socket>). All members are
// touched only on the connection's executor (one I/O thread), except closed_, which the blocking
// pool reads.
template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Session(Server::Impl& server, Stream stream, std::string remote)
      : SessionBase(server),
        stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        remote_(std::move(remote)),
        buffer_(server.options.max_header_bytes + kReadChunk),
        reader_wake_(executor_),
        writer_wake_(executor_),
        idle_(executor_),
        read_(executor_),
        write_(executor_) {}

  ~Session() override {
    for (Item& item : queue_) WipeRequest(item.req);
  }

  void Start() override {
    auto self = Self();
    asio::co_spawn(executor_, Run(), [self](std::exception_ptr e) {
      LogException(e, "connection");
      self->CloseNow();
    });
  }

  void BeginDrain() override {
    draining_ = true;
    if (closed_) return;
    if (reader_state_ == ReaderState::kStarting ||
        (reader_state_ == ReaderState::kWaitingFirstByte && queue_.empty() && !writer_busy_)) {
      CloseNow();  // idle keep-alive connection or TLS handshake in progress
      return;
    }
    if (reader_state_ == ReaderState::kWaitingCapacity) reader_wake_.cancel();
  }

  void ForceClose() override { CloseNow(); }

 private:
  enum class ReaderState { kStarting, kWaitingFirstByte, kMidRequest, kWaitingCapacity, kDone };

  // A parsed request, or a server-generated error after which the connection closes.
  struct Item {
    Request req;
    bool keep_alive = true;
    unsigned version = 11;
    bool head = false;
    std::optional<Response> error;
    SteadyClock::time_point start;
  };

  // A timer that closes the connection when it fires; re-arming or disarming invalidates any
  // completion already queued (generation check).
  struct Deadline {
    explicit Deadline(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    uint64_t generation = 0;
    bool armed = false;
  };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  const ServerOptions& options() const { return server_.options; }

  void Arm(Deadline& d, absl::Duration timeout) {
    if (closed_) return;
    ++d.generation;
    d.armed = true;
    d.timer.expires_after(absl::ToChronoNanoseconds(timeout));
    d.timer.async_wait([self = Self(), &d, gen = d.generation](const beast::error_code& ec) {
      if (ec || gen != d.generation) return;
      d.armed = false;
      self->CloseNow();
    });
  }

  void Disarm(Deadline& d) {
    if (!d.armed) return;
    ++d.generation;
    d.armed = false;
    d.timer.cancel();
  }

  // The idle timer runs only while nothing is in flight and the reader awaits a new request.
  void UpdateIdleTimer() {
    const bool idle = !closed_ && reader_state_ == ReaderState::kWaitingFirstByte &&
                      queue_.empty() && !writer_busy_;
    if (idle && !idle_.armed) {
      Arm(idle_, options().idle_timeout);
    } else if (!idle && idle_.armed) {
      Disarm(idle_);
    }
  }

  // Closes the socket at once; pending operations complete with errors.
  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    no_more_requests_ = true;
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(stream_);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    Disarm(idle_);
    Disarm(read_);
    Disarm(write_);
    reader_wake_.cancel();
    writer_wake_.cancel();
  }

  bool StopReading() const { return closed_ || no_more_requests_ || draining_; }

  // Suspends until `timer` is cancelled (the wake-up signal between reader and writer).
  static asio::awaitable<void> WaitForSignal(asio::steady_timer& timer) {
    timer.expires_at(asio::steady_timer::time_point::max());
    co_await timer.async_wait(kAsTuple);
  }

  asio::awaitable<void> Run() {
    if constexpr (kTls) {
      Arm(read_, options().read_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kAsTuple);
      Disarm(read_);
      if (ec) {
        spdlog::debug("http: TLS handshake with {} failed: {}", remote_, ec.message());
        CloseNow();
        co_return;
      }
    }
    if (closed_) co_return;
    auto self = Self();
    asio::co_spawn(executor_, ReadLoop(), [self](std::exception_ptr e) {
      if (e) {
        LogException(e, "request reader");
        self->CloseNow();
      }
      self->reader_state_ = ReaderState::kDone;
      self->writer_wake_.cancel();
    });
    co_await WriteLoop();
  }

  asio::awaitable<void> ReadLoop() {
    const ServerOptions& opt = options();
    while (!closed_) {
      while (!StopReading() && queue_.size() >= static_cast<size_t>(opt.max_pipelined)) {
        reader_state_ = ReaderState::kWaitingCapacity;
        co_await WaitForSignal(reader_wake_);
      }
      if (StopReading()) break;
      if (buffer_.size() == 0) {
        reader_state_ = ReaderState::kWaitingFirstByte;
        UpdateIdleTimer();
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kAsTuple);
        buffer_.commit(n);
        if (ec || StopReading()) break;
      }
      reader_state_ = ReaderState::kMidRequest;
      UpdateIdleTimer();
      Arm(read_, opt.read_timeout);

      Item item;
      item.start = SteadyClock::now();
      RequestParser parser;
      parser.header_limit(static_cast<uint32_t>(opt.max_header_bytes));
      parser.body_limit(opt.max_body_bytes);
      beast::error_code ec;
      size_t n = 0;
      std::tie(ec, n) = co_await bhttp::async_read_header(stream_, buffer_, parser, kAsTuple);
      if (!ec && !parser.is_done()) {
        // The writer is idle and nothing is queued, so this write cannot interleave with a
        // response. Otherwise the client sends the body after its own timeout.
        if (ExpectsContinue(parser.get()) && queue_.empty() && !writer_busy_) {
          std::tie(ec, n) =
              co_await asio::async_write(stream_, asio::buffer(k100Continue), kAsTuple);
        }
        if (!ec) std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer_, parser, kAsTuple);
      }
      Disarm(read_);
      if (closed_) break;
      if (ec) {
        if (std::optional<Response> error = ErrorForReadFailure(ec, opt)) {
          if (parser.got_some()) {
            // The start line may have been parsed (e.g. body too large): keep it for the log.
            item.req.method = std::string(parser.get().method_string());
            std::string_view target = parser.get().target();
            item.req.path = std::string(target.substr(0, target.find('?')));
          }
          item.req.request_id = NewRequestId();
          item.version = 11;
          item.error = std::move(error);
          queue_.push_back(std::move(item));
        }
        break;
      }
      auto& msg = parser.get();
      item.keep_alive = msg.keep_alive();
      item.version = msg.version() == 10 ? 10 : 11;
      FillRequest(msg, item.req);
      item.head = item.req.method == "HEAD";
      const bool keep_alive = item.keep_alive;
      queue_.push_back(std::move(item));
      writer_wake_.cancel();
      if (!keep_alive) break;  // RFC 9112 9.6: nothing after "Connection: close" is processed
    }
    reader_state_ = ReaderState::kDone;
    UpdateIdleTimer();
    writer_wake_.cancel();
  }

  static bool ExpectsContinue(const bhttp::request<bhttp::string_body, Fields>& msg) {
    auto it = msg.find(bhttp::field::expect);
    return it != msg.end() && msg.version() >= 11 &&
           absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(Absl(it->value())), "100-continue");
  }

  void FillRequest(bhttp::request<bhttp::string_body, Fields>& msg, Request& req) {
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const size_t q = req.target.find('?');
    if (q == std::string::npos) {
      req.path = req.target;
    } else {
      req.path = req.target.substr(0, q);
      req.query = req.target.substr(q + 1);
    }
    for (const auto& field : msg) {
      req.headers.push_back(
          Header{absl::AsciiStrToLower(Absl(field.name_string())), std::string(field.value())});
    }
    req.body = std::move(msg.body());
    SecureWipe(msg.body());
    req.remote_addr = remote_;
    req.request_id = NewRequestId();
    req.tls = kTls;
  }

  static void WipeRequest(Request& req) {
    SecureWipe(req.body);
    SecureWipe(req.target);
    SecureWipe(req.query);
    for (Header& h : req.headers) SecureWipe(h.value);
    req.headers.clear();
  }

  Response CallHandler(Request& req) {
    try {
      return server_.handler.Handle(req);
    } catch (const std::exception& e) {
      spdlog::error("http: handler threw {} for request {}", typeid(e).name(), req.request_id);
    } catch (...) {
      spdlog::error("http: handler threw an unknown exception for request {}", req.request_id);
    }
    return JsonError(500, "internal error");
  }

  // Offers the request to Handler::HandleAsync. nullopt when declined; otherwise the response
  // (whose status may be kRunBlocking).
  asio::awaitable<std::optional<Response>> TryAsync(Request& req) {
    struct Outcome {
      bool taken = false;
      Response response;
    };
    auto executor = co_await asio::this_coro::executor;
    std::shared_ptr<Server::Impl::AsyncGate> gate = server_.async_gate;
    auto initiate = [this, &req, executor, gate](auto completion) {
      using Completion = decltype(completion);
      struct Call {
        explicit Call(Completion c) : completion(std::move(c)) {}
        Completion completion;
        std::atomic<bool> answered{false};
      };
      auto call = std::make_shared<Call>(std::move(completion));
      auto finish = [call, executor](std::function<Outcome()> make) {
        if (call->answered.exchange(true)) return;  // a second answer is a handler bug: ignore
        asio::post(executor, [call, make = std::move(make)]() mutable {
          Outcome outcome;
          try {
            outcome = make();
          } catch (...) {
            LogException(std::current_exception(), "Handler::HandleAsync response");
            outcome = Outcome{true, JsonError(500, "internal error")};
          }
          std::move(call->completion)(std::move(outcome));
        });
      };
      {
        std::lock_guard lock(gate->mu);
        ++gate->in_flight;
      }
      // Releases this request's in_flight count exactly once, whichever path gets there first.
      auto counted = std::make_shared<std::atomic<bool>>(true);
      auto release_locked = [gate, counted] {
        if (counted->exchange(false)) {
          --gate->in_flight;
          gate->cv.notify_all();
        }
      };
      Responder respond = [finish, gate, release_locked](ResponseMaker make) {
        std::lock_guard lock(gate->mu);
        if (gate->open) {
          finish([make = std::move(make)] { return Outcome{true, make()}; });
        }
        release_locked();
      };
      bool taken = false;
      try {
        taken = server_.handler.HandleAsync(req, respond);
      } catch (...) {
        LogException(std::current_exception(), "Handler::HandleAsync");
        finish([] { return Outcome{true, JsonError(500, "internal error")}; });
        std::lock_guard lock(gate->mu);
        release_locked();  // answered; a later respond() is ignored
        return;
      }
      if (!taken) {
        {
          std::lock_guard lock(gate->mu);
          release_locked();
        }
        finish([] { return Outcome{}; });
      }
    };
    Outcome outcome = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Outcome)>(
        std::move(initiate), asio::use_awaitable);
    if (!outcome.taken) co_return std::nullopt;
    co_return std::move(outcome.response);
  }

  // Passes the request through the recorder (if any), then the handler, then the response
  // through the recorder again. A recorder's answer takes the place of what would follow.
  asio::awaitable<Response> Dispatch(Request& req) {
    if (server_.recorder != nullptr) {
      if (std::optional<Response> replaced = co_await Record(req, nullptr); replaced.has_value()) {
        co_return std::move(*replaced);
      }
    }
    Response res = co_await DispatchToHandler(req);
    if (server_.recorder != nullptr) {
      if (std::optional<Response> replaced = co_await Record(req, &res); replaced.has_value()) {
        SecureWipe(res.body);
        res = std::move(*replaced);
      }
    }
    co_return res;
  }

  // Where a recorder's answer meets the coroutine waiting for it, whichever comes first.
  struct RecordRendezvous {
    std::mutex mu;
    std::optional<std::optional<Response>> answer;        // came before the waiter
    std::function<void(std::optional<Response>)> resume;  // the waiter, if it came first
  };

  // Calls the recorder's BeforeServe (`res` null) or BeforeSend and continues with its answer.
  // An answer given before the recorder returns (a read that needs no request entry, or an entry
  // this thread wrote itself) is used right here, without a trip through the executor, which
  // would wake another I/O thread. A later answer resumes this coroutine on this session's
  // executor. Counted like HandleAsync requests, so Shutdown waits for late answers and then
  // drops them instead of posting to a stopped context.
  asio::awaitable<std::optional<Response>> Record(Request& req, const Response* res) {
    using Answer = std::optional<Response>;
    auto executor = co_await asio::this_coro::executor;
    std::shared_ptr<Server::Impl::AsyncGate> gate = server_.async_gate;
    Recorder& recorder = *server_.recorder;
    auto meet = std::make_shared<RecordRendezvous>();
    {
      std::lock_guard lock(gate->mu);
      ++gate->in_flight;
    }
    auto called = std::make_shared<std::atomic<bool>>(false);
    Recorder::Done done = [meet, executor, gate, called](Answer answer) {
      if (called->exchange(true)) return;  // a second answer is a recorder bug: ignore
      std::function<void(Answer)> resume;
      {
        std::lock_guard lock(meet->mu);
        if (meet->resume) {
          resume = std::move(meet->resume);
        } else {
          meet->answer = std::move(answer);
        }
      }
      std::lock_guard lock(gate->mu);
      if (resume && gate->open) {
        asio::post(executor, [resume = std::move(resume), answer = std::move(answer)]() mutable {
          resume(std::move(answer));
        });
      }
      --gate->in_flight;
      gate->cv.notify_all();
    };
    try {
      if (res == nullptr) {
        recorder.BeforeServe(req, done);
      } else {
        recorder.BeforeSend(req, *res, done);
      }
    } catch (...) {
      LogException(std::current_exception(), "Recorder");
      done(JsonError(500, "internal error"));
    }
    std::optional<Answer> now;
    {
      std::lock_guard lock(meet->mu);
      now = std::move(meet->answer);
      meet->answer.reset();
    }
    if (now.has_value()) co_return std::move(*now);
    auto initiate = [meet, executor](auto completion) {
      using Completion = decltype(completion);
      auto slot = std::make_shared<std::optional<Completion>>(std::move(completion));
      std::optional<Answer> ready;
      {
        std::lock_guard lock(meet->mu);
        if (meet->answer.has_value()) {
          ready = std::move(meet->answer);
          meet->answer.reset();
        } else {
          meet->resume = [slot](Answer answer) { std::move (**slot)(std::move(answer)); };
        }
      }
      // Answered between the check above and now: resume through the executor (never inline
      // from the initiating function).
      if (ready.has_value()) {
        asio::post(executor, [slot, answer = std::move(*ready)]() mutable {
          std::move (**slot)(std::move(answer));
        });
      }
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Answer)>(
        std::move(initiate), asio::use_awaitable);
  }

  // Runs the handler asynchronously, inline, or on the blocking pool and resumes here afterwards.
  asio::awaitable<Response> DispatchToHandler(Request& req) {
    if (std::optional<Response> async = co_await TryAsync(req); async.has_value()) {
      if (async->status != kRunBlocking) co_return std::move(*async);
      co_return co_await OnPool(req);
    }
    bool may_block = true;
    try {
      may_block = server_.handler.MayBlock(req);
    } catch (...) {
      LogException(std::current_exception(), "Handler::MayBlock");
    }
    if (!may_block) co_return CallHandler(req);
    co_return co_await OnPool(req);
  }

  asio::awaitable<Response> OnPool(Request& req) {
    // A named lambda, not a temporary inside the co_await expression: GCC 12 destroys such a
    // temporary twice (chriskohlhoff/asio#858), and the captured shared_ptr then frees the
    // session early. Seen here as a double free in KeepAliveReusesOneConnection.
    auto on_pool = [self = Self(), &req]() -> asio::awaitable<Response> {
      // Force-closed while queued: nobody will read the answer.
      if (self->closed_) co_return JsonError(503, "server shutting down");
      co_return self->CallHandler(req);
    };
    Response response = co_await asio::co_spawn(server_.pool->get_executor(), std::move(on_pool),
                                                asio::use_awaitable);
    co_return response;
  }

  WireResponse BuildMessage(Item& item, Response& resp, bool close) {
    WireResponse msg;
    msg.version(item.version);
    if (resp.status < 200 || resp.status > 599) {
      spdlog::error("http: handler returned invalid status {} for request {}", resp.status,
                    item.req.request_id);
      SecureWipe(resp.body);
      resp = JsonError(500, "internal error");
    }
    msg.result(static_cast<unsigned>(resp.status));
    msg.set("X-Request-Id", item.req.request_id);
    if (!resp.content_type.empty() && ValidHeaderValue(resp.content_type)) {
      msg.set(bhttp::field::content_type, resp.content_type);
    }
    for (const Header& h : resp.headers) {
      if (!ValidHeaderName(h.name) || !ValidHeaderValue(h.value) || ReservedHeader(h.name)) {
        spdlog::warn("http: dropped response header \"{}\" for request {}", ForLog(h.name),
                     item.req.request_id);
        continue;
      }
      msg.insert(h.name, h.value);
    }
    if (resp.status == 204 || resp.status == 304) {
      SecureWipe(resp.body);
    } else {
      msg.content_length(resp.body.size());
      if (item.head) {
        SecureWipe(resp.body);
      } else {
        msg.body() = std::move(resp.body);
      }
    }
    msg.keep_alive(!close);
    return msg;
  }

  asio::awaitable<void> WriteLoop() {
    for (;;) {
      while (!closed_ && queue_.empty() && reader_state_ != ReaderState::kDone) {
        // Draining began while the last response was being written: nothing more will come.
        if (draining_ && reader_state_ != ReaderState::kMidRequest) break;
        writer_busy_ = false;
        UpdateIdleTimer();
        co_await WaitForSignal(writer_wake_);
      }
      if (closed_ || queue_.empty()) break;
      writer_busy_ = true;
      UpdateIdleTimer();
      Item item = std::move(queue_.front());
      queue_.pop_front();
      reader_wake_.cancel();

      const bool is_error = item.error.has_value();
      bool close = is_error || !item.keep_alive;
      Response resp;
      if (is_error) {
        resp = std::move(*item.error);
      } else {
        resp = co_await Dispatch(item.req);
      }
      if (closed_) {
        SecureWipe(resp.body);
        WipeRequest(item.req);
        break;
      }
      // Draining: the last answer before the reader stops says so.
      if (draining_ && queue_.empty() && reader_state_ != ReaderState::kMidRequest) close = true;
      if (close) no_more_requests_ = true;

      WireResponse msg = BuildMessage(item, resp, close);
      const size_t body_bytes = msg.body().size();
      Arm(write_, options().write_timeout);
      auto [ec, n] = co_await bhttp::async_write(stream_, msg, kAsTuple);
      Disarm(write_);
      if (options().access_log) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - item.start)
                .count();
        spdlog::info("http {} {} {} {} {} {} {}us{}", item.req.request_id, remote_,
                     ForLog(item.req.method), ForLog(item.req.path), msg.result_int(), body_bytes,
                     micros, ec ? " write-failed" : "");
      }
      SecureWipe(msg.body());
      WipeRequest(item.req);
      if (ec) {
        CloseNow();
        break;
      }
      if (close) {
        co_await CloseGracefully(is_error);
        break;
      }
    }
    writer_busy_ = false;
    if (!closed_) co_await CloseGracefully(false);
  }

  // Half-closes (plain) or sends close_notify (TLS, when no read is pending), optionally draining
  // unread request bytes first, then closes the socket.
  asio::awaitable<void> CloseGracefully(bool linger) {
    no_more_requests_ = true;
    if (closed_) co_return;
    const bool reader_done = reader_state_ == ReaderState::kDone;
    if constexpr (!kTls) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ec);
    }
    if (linger && reader_done) {
      const size_t max_bytes = std::max(kLingerMinBytes, 2 * options().max_body_bytes);
      std::vector<char> discard(kReadChunk);
      Arm(write_, kLinger);
      size_t total = 0;
      while (!closed_ && total < max_bytes) {
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(discard), kAsTuple);
        if (ec) break;
        total += n;
      }
      Disarm(write_);
      SecureZero(discard.data(), discard.size());
    }
    if constexpr (kTls) {
      if (reader_done && !closed_) {
        Arm(write_, kTlsShutdownTimeout);
        co_await stream_.async_shutdown(kAsTuple);
        Disarm(write_);
      }
    }
    CloseNow();
  }

  Stream stream_;
  asio::any_io_executor executor_;
  const std::string remote_;
  beast::basic_flat_buffer<WipingAllocator<char>> buffer_;
  std::deque<Item> queue_;
  asio::steady_timer reader_wake_;  // cancelled to wake the reader
  asio::steady_timer writer_wake_;  // cancelled to wake the writer
  Deadline idle_;
  Deadline read_;
  Deadline write_;
  ReaderState reader_state_ = ReaderState::kStarting;
  bool writer_busy_ = false;
  bool draining_ = false;
  bool no_more_requests_ = false;
  std::atomic<bool> closed_{false};
};

using TlsStream = beast::ssl_stream<tcp::socket>;

asio::awaitable<void> AcceptLoop(Server::Impl* impl, Server::Impl::Listener* listener) {
  tcp::acceptor& acceptor = *listener->acceptor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(impl->NextContext(), kAsTuple);
    if (impl->stopping) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      spdlog::warn("http: accept on {} failed: {}", listener->bound, ec.message());
      // Out of descriptors or memory: back off instead of spinning.
      asio::steady_timer backoff(co_await asio::this_coro::executor);
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kAsTuple);
      continue;
    }
    impl->StartSession(tcp::socket(std::move(socket)));
  }
}

}  // namespace

Server::Impl::~Impl() = default;

bool Server::Impl::Register(const std::shared_ptr<SessionBase>& s, asio::any_io_executor ex) {
  std::lock_guard<std::mutex> lock(mu);
  if (stopping) return false;
  if (sessions.size() >= static_cast<size_t>(options.max_connections)) return false;
  sessions.emplace(s.get(), SessionEntry{s, std::move(ex)});
  return true;
}

void Server::Impl::Unregister(SessionBase* s) {
  std::lock_guard<std::mutex> lock(mu);
  if (sessions.erase(s) > 0 && sessions.empty()) sessions_cv.notify_all();
}

void Server::Impl::PostToSessions(void (SessionBase::*fn)()) {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [ptr, entry] : sessions) {
    asio::post(entry.executor, [weak = entry.session, fn] {
      if (std::shared_ptr<SessionBase> s = weak.lock()) ((*s).*fn)();
    });
  }
}

bool Server::Impl::WaitForNoSessions(SteadyClock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu);
  return sessions_cv.wait_until(lock, deadline, [this] { return sessions.empty(); });
}

void Server::Impl::StartSession(tcp::socket socket) {
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string remote = FormatEndpoint(peer);
  socket.set_option(tcp::no_delay(true), ec);
  asio::any_io_executor ex = socket.get_executor();
  std::shared_ptr<SessionBase> session;
  if (ssl) {
    session = std::make_shared<Session<TlsStream>>(*this, TlsStream(std::move(socket), *ssl),
                                                   std::move(remote));
  } else {
    session = std::make_shared<Session<tcp::socket>>(*this, std::move(socket), std::move(remote));
  }
  if (!Register(session, ex)) {
    if (!stopping)
      spdlog::warn("http: connection limit {} reached; closing a new connection",
                   options.max_connections);
    return;  // the session (and its socket) is destroyed here, closing the connection
  }
  session->Start();
}

namespace {

absl::Status ValidateOptions(const ServerOptions& o) {
  auto bad = [](absl::string_view option, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("server option ", option, ": ", why));
  };
  if (o.listen.empty()) return bad("listen", "at least one address is required");
  if (o.io_threads < 0 || o.io_threads > 1024) return bad("io_threads", "must be in 0..1024");
  if (o.blocking_threads < 1 || o.blocking_threads > 4096) {
    return bad("blocking_threads", "must be in 1..4096");
  }
  if (o.max_header_bytes < 1024 || o.max_header_bytes > (64u << 20)) {
    return bad("max_header_bytes", "must be in 1 KiB..64 MiB");
  }
  const std::pair<absl::string_view, absl::Duration> timeouts[] = {
      {"read_timeout", o.read_timeout},
      {"idle_timeout", o.idle_timeout},
      {"write_timeout", o.write_timeout}};
  for (const auto& [name, d] : timeouts) {
    if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration() || d > absl::Hours(24 * 365)) {
      return bad(name, "must be positive and finite");
    }
  }
  if (o.max_pipelined < 1) return bad("max_pipelined", "must be >= 1");
  if (o.max_connections < 1) return bad("max_connections", "must be >= 1");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return bad(o.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
               "tls_cert_file and tls_key_file must be set together");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<asio::ssl::context>> LoadTls(const ServerOptions& o) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use |
                       asio::ssl::context::no_compression,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_cert_file \"", o.tls_cert_file, "\": cannot load certificate chain: ", ec.message()));
  }
  ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("tls_key_file \"", o.tls_key_file,
                                                   "\": cannot load private key: ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls_key_file \"", o.tls_key_file,
                                                   "\" does not match tls_cert_file \"",
                                                   o.tls_cert_file, "\""));
  }
  return ctx;
}

absl::Status BindListener(const std::string& spec, asio::io_context& ctx,
                          Server::Impl::Listener& out) {
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListenAddress(spec));
  auto acceptor = std::make_unique<tcp::acceptor>(ctx);
  beast::error_code ec;
  auto fail = [&](absl::string_view step) {
    const bool not_local = ec == boost::system::errc::address_not_available;
    const std::string msg =
        absl::StrCat("listen address \"", spec, "\": ", step, " failed: ", ec.message());
    return not_local ? absl::InvalidArgumentError(msg) : absl::UnavailableError(msg);
  };
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  const tcp::endpoint bound = acceptor->local_endpoint(ec);
  if (ec) return fail("getsockname");
  out.bound = FormatEndpoint(bound);
  out.acceptor = std::move(acceptor);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                       Handler& handler, Recorder* recorder) {
  RETURN_IF_ERROR(ValidateOptions(options));
  try {
    auto impl = std::make_unique<Impl>(options, handler, recorder);
    if (!options.tls_cert_file.empty()) {
      ASSIGN_OR_RETURN(impl->ssl, LoadTls(options));
    }
    int io_threads = options.io_threads;
    if (io_threads == 0) io_threads = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < io_threads; ++i) {
      impl->contexts.push_back(std::make_unique<asio::io_context>(1));
    }
    impl->listeners.resize(options.listen.size());
    for (size_t i = 0; i < options.listen.size(); ++i) {
      Impl::Listener& l = impl->listeners[i];
      l.context_index = i % impl->contexts.size();
      RETURN_IF_ERROR(BindListener(options.listen[i], *impl->contexts[l.context_index], l));
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("http server setup failed: ", e.what()));
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

std::vector<std::string> Server::BoundAddresses() const {
  std::vector<std::string> out;
  for (const Impl::Listener& l : impl_->listeners) out.push_back(l.bound);
  return out;
}

bool Server::OnIoThread() { return t_on_io_thread; }

void Server::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.started || impl.shut_down) return;
  impl.started = true;
  impl.pool = std::make_unique<asio::thread_pool>(impl.options.blocking_threads);
  for (auto& ctx : impl.contexts) impl.work_guards.push_back(asio::make_work_guard(*ctx));
  for (Impl::Listener& l : impl.listeners) {
    asio::co_spawn(impl.contexts[l.context_index]->get_executor(), AcceptLoop(&impl, &l),
                   [](std::exception_ptr e) { LogException(e, "accept loop"); });
  }
  for (auto& ctx : impl.contexts) {
    impl.threads.emplace_back([ctx = ctx.get()] {
      t_on_io_thread = true;
      for (;;) {
        try {
          ctx->run();
          return;
        } catch (...) {
          LogException(std::current_exception(), "I/O thread handler");
        }
      }
    });
  }
}

void Server::Shutdown(absl::Duration grace) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.shut_down) return;
  impl.shut_down = true;
  impl.stopping = true;
  if (!impl.started) {
    for (Impl::Listener& l : impl.listeners) {
      beast::error_code ec;
      l.acceptor->close(ec);
    }
    return;
  }
  // 1. Stop accepting (on each acceptor's own thread).
  for (Impl::Listener& l : impl.listeners) {
    asio::post(impl.contexts[l.context_index]->get_executor(), [acceptor = l.acceptor.get()] {
      beast::error_code ec;
      acceptor->close(ec);
    });
  }
  // 2. Drain: idle connections close now, busy ones after their in-flight responses.
  impl.PostToSessions(&SessionBase::BeginDrain);
  const auto deadline =
      SteadyClock::now() + absl::ToChronoNanoseconds(std::max(grace, absl::ZeroDuration()));
  if (!impl.WaitForNoSessions(deadline)) {
    spdlog::warn("http: shutdown grace period over; closing the remaining connections");
    impl.PostToSessions(&SessionBase::ForceClose);
  }
  // 3. Let running blocking handlers finish (they cannot be interrupted) and asynchronous ones
  //    answer, then stop the threads.
  impl.work_guards.clear();
  impl.pool->join();
  {
    std::unique_lock gate_lock(impl.async_gate->mu);
    if (!impl.async_gate->cv.wait_for(gate_lock, std::chrono::seconds(30),
                                      [&] { return impl.async_gate->in_flight == 0; })) {
      spdlog::error("http: {} asynchronous requests never answered; dropping them",
                    impl.async_gate->in_flight);
    }
    impl.async_gate->open = false;
  }
  if (!impl.WaitForNoSessions(SteadyClock::now() + std::chrono::seconds(5))) {
    spdlog::error("http: connections still open after forced close; stopping I/O anyway");
  }
  for (auto& ctx : impl.contexts) ctx->stop();
  for (std::thread& t : impl.threads) t.join();
  impl.threads.clear();
}

void WaitForShutdownSignal() {
  try {
    asio::io_context ctx(1);
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&](const beast::error_code& ec, int signal_number) {
      if (!ec) received = signal_number;
    });
    ctx.run();
    spdlog::info("received signal {}; shutting down", received);
  } catch (...) {
    LogException(std::current_exception(), "WaitForShutdownSignal");
  }
}

}  // namespace rekey::http
