// The request/response types and the Handler interface between the HTTP server and the API
// surfaces. Boost-free, so API code and fuzz targets need not link the server.
#ifndef REKEY_API_HTTP_MESSAGE_H_
#define REKEY_API_HTTP_MESSAGE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // Owned by the server's Recorder: what BeforeServe worked out about the request (e.g. who
  // sent it), for BeforeSend to reuse. Nothing else reads or writes it.
  mutable std::shared_ptr<const void> recorder_note;

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
// Makes a response; the server runs it on the request's I/O thread.
using ResponseMaker = std::function<Response()>;
// A ResponseMaker may return this status to have the server answer the request with Handle() on
// the blocking pool instead (e.g. after an optimistic asynchronous attempt lost a race).
inline constexpr int kRunBlocking = -1;
// Given to Handler::HandleAsync; callable from any thread, exactly once.
using Responder = std::function<void(ResponseMaker)>;

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
  // Tried first, on the I/O thread; must not block. Returns false to decline (the request then
  // goes through MayBlock/Handle). Returning true means the handler took the request and will
  // call `respond` exactly once, from any thread, with a maker the server runs on the I/O
  // thread; `req` stays valid and unmodified by the server until then.
  virtual bool HandleAsync(Request& req, Responder respond) { return false; }
};

// Sees every request before it is served and every response before it is sent (the audit
// trail). Must be thread-safe and must not throw. Each call's `done` runs exactly once, from any
// thread, quickly: with nullopt to go on, or with a response that takes the place of serving the
// request (BeforeServe: e.g. 503 when the request cannot be recorded; the handler never sees it)
// or of the response about to be sent (BeforeSend).
class Recorder {
 public:
  using Done = std::function<void(std::optional<Response>)>;
  virtual ~Recorder() = default;
  // Called on the I/O thread before the handler sees `req`; must not block.
  virtual void BeforeServe(const Request& req, Done done) = 0;
  // Called on the I/O thread with the handler's response; must not block.
  virtual void BeforeSend(const Request& req, const Response& res, Done done) = 0;
};

}  // namespace rekey::http

#endif  // REKEY_API_HTTP_MESSAGE_H_
