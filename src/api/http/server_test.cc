// Tests for rekey::http::Server over loopback, driven by net::HttpClient and by raw POSIX sockets
// where a test needs bytes the client would not send; plus HttpClient's own error handling.
#include "api/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_client.h"

namespace rekey::http {
namespace {

using ::rekey::net::ClientOptions;
using ::rekey::net::ClientResponse;
using ::rekey::net::HttpClient;
using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kFixedBody[] = "hello, world";
constexpr size_t kBigBodyBytes = 32 << 20;  // more than loopback socket buffers hold

// What the handler saw of one request.
struct Seen {
  std::string method, path, query, body, remote_addr, request_id;
  std::vector<Header> headers;
  bool on_io_thread = false;
  bool tls = false;
};

// Routes by path:
//   /fixed       200 kFixedBody
//   /nocontent   204, no Content-Type
//   /throw       throws (the server must answer 500)
//   /block...    MayBlock; echoes
//   /slow        MayBlock; blocks until Release()
//   /big         kBigBodyBytes of 'b'; notifies WaitUntilBigHandled()
//   anything else: echoes "<method> <path>?<query>\n<body>"
class TestHandler : public Handler {
 public:
  bool MayBlock(const Request& req) const override {
    return absl::StartsWith(req.path, "/block") || req.path == "/slow";
  }

  Response Handle(Request& req) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(Seen{req.method, req.path, req.query, req.body, req.remote_addr,
                           req.request_id, req.headers, Server::OnIoThread(), req.tls});
    }
    Response r;
    if (req.path == "/fixed") {
      r.body = kFixedBody;
    } else if (req.path == "/nocontent") {
      r.status = 204;
      r.content_type = "";
    } else if (req.path == "/throw") {
      throw std::runtime_error("boom");
    } else if (req.path == "/big") {
      r.body.assign(kBigBodyBytes, 'b');
      big_handled_.Notify();
    } else if (req.path == "/slow") {
      slow_entered_.Notify();
      release_.WaitForNotification();
      r.body = "slow done";
    } else {
      r.body = absl::StrCat(req.method, " ", req.path, "?", req.query, "\n", req.body);
      r.headers.push_back({"X-Echo", "yes"});
    }
    return r;
  }

  // /async: answered at once from another thread; /async-retry: answers kRunBlocking;
  // /async-held: answered by AnswerHeld(). Everything else is declined.
  bool HandleAsync(Request& req, Responder respond) override {
    if (req.path == "/async") {
      std::thread([respond, method = req.method] {
        respond([method] {
          Response r;
          r.body = absl::StrCat("async ", method, " on-io=", Server::OnIoThread());
          return r;
        });
      }).detach();
      return true;
    }
    if (req.path == "/async-retry") {
      respond([] {
        Response r;
        r.status = kRunBlocking;
        return r;
      });
      return true;
    }
    if (req.path == "/async-held") {
      {
        std::lock_guard<std::mutex> lock(mu_);
        held_ = std::move(respond);
      }
      held_taken_.Notify();
      return true;
    }
    return false;
  }
  void WaitUntilHeldTaken() { held_taken_.WaitForNotification(); }
  void AnswerHeld() {
    Responder respond;
    {
      std::lock_guard<std::mutex> lock(mu_);
      respond = std::move(held_);
    }
    respond([] {
      Response r;
      r.body = "held done";
      return r;
    });
  }

  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  void WaitUntilSlowEntered() { slow_entered_.WaitForNotification(); }
  void WaitUntilBigHandled() { big_handled_.WaitForNotification(); }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  Responder held_;  // guarded by mu_
  absl::Notification held_taken_;
  absl::Notification slow_entered_;
  absl::Notification big_handled_;
  absl::Notification release_;
};

std::optional<std::string> FindHeader(const ClientResponse& r, const std::string& lower_name) {
  for (const auto& [name, value] : r.headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

int PortOf(const std::string& address) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
  return port;
}

// A blocking loopback TCP connection for hand-written requests. Reads time out after 10 s so a
// broken server fails the test instead of hanging it.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { close(fd_); }

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until the peer closes. `timed_out` tells a 10 s stall from a close.
  std::string ReadUntilClose(bool* timed_out = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (timed_out != nullptr) *timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      return out;
    }
  }

  // Reads until `needle` has been received (or the peer closes / 10 s pass).
  std::string ReadUntil(std::string_view needle) {
    std::string out;
    char buf[4096];
    while (out.find(needle) == std::string::npos) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

size_t CountOf(std::string_view haystack, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

class ServerTest : public ::testing::Test {
 protected:
  static ServerOptions TestOptions() {
    ServerOptions o;
    o.listen = {"127.0.0.1:0"};
    o.io_threads = 2;
    o.blocking_threads = 4;
    o.access_log = false;
    return o;
  }

  void TearDown() override {
    handler_.Release();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
  }

  void StartServer(const ServerOptions& options) {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options, handler_);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(server).value();
    server_->Start();
    ASSERT_EQ(server_->BoundAddresses().size(), 1u);
    address_ = server_->BoundAddresses()[0];
    port_ = PortOf(address_);
  }
  void StartServer() { StartServer(TestOptions()); }

  std::unique_ptr<HttpClient> NewClient() {
    ClientOptions o;
    o.address = "http://" + address_;
    o.timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
    EXPECT_THAT(client, IsOk());
    return client.ok() ? std::move(client).value() : nullptr;
  }

  TestHandler handler_;
  std::unique_ptr<Server> server_;
  std::string address_;
  int port_ = 0;
};

TEST_F(ServerTest, GetRoundTripCarriesRequestFieldsAndRequestId) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r =
      client->Send("GET", "/v1/secret/data/a%2Fb?version=2&x=y", {{"X-Vault-Token", "s.abc"}}, "");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /v1/secret/data/a%2Fb?version=2&x=y\n");
  EXPECT_EQ(FindHeader(*r, "content-type"), "application/json");
  EXPECT_EQ(FindHeader(*r, "x-echo"), "yes");
  std::optional<std::string> id = FindHeader(*r, "x-request-id");
  ASSERT_TRUE(id.has_value());
  EXPECT_THAT(*id,
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));

  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_id, *id);
  EXPECT_EQ(seen[0].path, "/v1/secret/data/a%2Fb");
  EXPECT_EQ(seen[0].query, "version=2&x=y");
  EXPECT_FALSE(seen[0].tls);
  EXPECT_THAT(seen[0].remote_addr, HasSubstr("127.0.0.1:"));
  bool found_token = false;
  for (const Header& h : seen[0].headers) {
    if (h.name == "x-vault-token") found_token = h.value == "s.abc";
  }
  EXPECT_TRUE(found_token) << "header names must arrive lower-cased";
}

TEST_F(ServerTest, EachRequestGetsAFreshRequestId) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> a = client->Send("GET", "/fixed", {}, "");
  absl::StatusOr<ClientResponse> b = client->Send("GET", "/fixed", {}, "");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(FindHeader(*a, "x-request-id"), FindHeader(*b, "x-request-id"));
}

TEST_F(ServerTest, PostBodyReachesHandler) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r =
      client->Send("POST", "/v1/transit/encrypt/k", {}, R"({"plaintext":"aGk="})");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body, "POST /v1/transit/encrypt/k?\n{\"plaintext\":\"aGk=\"}");
}

TEST_F(ServerTest, ListMethodReachesHandler) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("LIST", "/v1/secret/metadata/", {}, "");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "LIST /v1/secret/metadata/?\n");
  ASSERT_EQ(handler_.seen().size(), 1u);
  EXPECT_EQ(handler_.seen()[0].method, "LIST");
}

TEST_F(ServerTest, MayBlockRequestsRunOffTheIoThreads) {
  StartServer();
  auto client = NewClient();
  ASSERT_THAT(client->Send("GET", "/inline", {}, ""), IsOk());
  ASSERT_THAT(client->Send("POST", "/block/write", {}, "x"), IsOk());
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].on_io_thread);
  EXPECT_FALSE(seen[1].on_io_thread);
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  StartServer();
  auto client = NewClient();
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<ClientResponse> r = client->Send(i % 2 ? "GET" : "PUT", "/block/x", {}, "v");
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(FindHeader(*r, "connection"), std::nullopt);
  }
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 4u);
  for (const Seen& s : seen) EXPECT_EQ(s.remote_addr, seen[0].remote_addr);
}

TEST_F(ServerTest, HeadSendsContentLengthButNoBody) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> head = client->Send("HEAD", "/fixed", {}, "");
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(FindHeader(*head, "content-length"), std::to_string(strlen(kFixedBody)));
  // No stray body bytes: the next response on the same connection parses cleanly.
  absl::StatusOr<ClientResponse> get = client->Send("GET", "/fixed", {}, "");
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(get->body, kFixedBody);
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "HEAD");
  EXPECT_EQ(seen[0].remote_addr, seen[1].remote_addr);
}

TEST_F(ServerTest, NoContentResponseHasNoBodyHeaders) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("DELETE /nocontent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string wire = conn.ReadUntilClose();
  EXPECT_THAT(wire, ::testing::StartsWith("HTTP/1.1 204 "));
  EXPECT_THAT(wire, HasSubstr("X-Request-Id: "));
  EXPECT_THAT(wire, ::testing::Not(HasSubstr("Content-Type")));
  EXPECT_THAT(wire, ::testing::Not(HasSubstr("Content-Length")));
  EXPECT_TRUE(absl::EndsWith(wire, "\r\n\r\n")) << wire;
}

TEST_F(ServerTest, OversizeBodyGets413JsonError) {
  StartServer();
  auto client = NewClient();
  const std::string body((1 << 20) + 1, 'x');
  absl::StatusOr<ClientResponse> r = client->Send("PUT", "/v1/secret/data/big", {}, body);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"errors":["request body exceeds 1048576 bytes"]})");
  EXPECT_EQ(FindHeader(*r, "content-type"), "application/json");
  EXPECT_EQ(FindHeader(*r, "connection"), "close");
  EXPECT_TRUE(FindHeader(*r, "x-request-id").has_value());
  EXPECT_TRUE(handler_.seen().empty());
  // The client reconnects transparently for the next request.
  absl::StatusOr<ClientResponse> next = client->Send("GET", "/fixed", {}, "");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->status, 200);
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1000;
  StartServer(options);
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("PUT", "/block/x", {}, std::string(1000, 'y'));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  r = client->Send("PUT", "/block/x", {}, std::string(1001, 'y'));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"errors":["request body exceeds 1000 bytes"]})");
}

TEST_F(ServerTest, OversizeHeaderGets431) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r =
      client->Send("GET", "/fixed", {{"X-Big", std::string(20 << 10, 'h')}}, "");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->body, R"({"errors":["request header fields exceed 16384 bytes"]})");
  EXPECT_EQ(FindHeader(*r, "content-type"), "application/json");
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(ServerTest, GarbageRequestLineGets400AndClose) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("this is not http\r\n\r\n"));
  bool timed_out = true;
  const std::string wire = conn.ReadUntilClose(&timed_out);
  EXPECT_FALSE(timed_out) << "the server must close after a malformed request";
  EXPECT_THAT(wire, ::testing::StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(wire, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(wire, HasSubstr("X-Request-Id: "));
  EXPECT_THAT(wire, HasSubstr(R"({"errors":["malformed HTTP request: )"));
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  ServerOptions options = TestOptions();
  options.max_pipelined = 2;  // fewer than the requests sent: the reader must wait for room
  StartServer(options);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  constexpr int kRequests = 12;
  std::string wire_out;
  for (int i = 0; i < kRequests; ++i) {
    // Alternate inline and blocking-pool requests so that completion order could differ.
    const std::string path = absl::StrCat(i % 2 ? "/block/" : "/inline/", i);
    absl::StrAppend(&wire_out, "POST ", path, " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n",
                    i == kRequests - 1 ? "Connection: close\r\n" : "", "\r\nb", i % 10, "\n");
  }
  ASSERT_TRUE(conn.Send(wire_out));
  const std::string wire = conn.ReadUntilClose();
  EXPECT_EQ(CountOf(wire, "HTTP/1.1 200 OK\r\n"), static_cast<size_t>(kRequests)) << wire;
  size_t last = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string expect = absl::StrCat("POST ", i % 2 ? "/block/" : "/inline/", i, "?\n");
    const size_t pos = wire.find(expect);
    ASSERT_NE(pos, std::string::npos) << expect;
    EXPECT_GT(pos, last) << "response " << i << " out of order";
    last = pos;
  }
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), static_cast<size_t>(kRequests));
  for (const Seen& s : seen) EXPECT_EQ(s.remote_addr, seen[0].remote_addr);
}

TEST_F(ServerTest, Http10RequestGetsHttp10ResponseAndClose) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /fixed HTTP/1.0\r\n\r\n"));
  bool timed_out = true;
  const std::string wire = conn.ReadUntilClose(&timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_THAT(wire, ::testing::StartsWith("HTTP/1.0 200 OK\r\n"));
  EXPECT_TRUE(absl::EndsWith(wire, kFixedBody)) << wire;
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(
      conn.Send("PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                "Content-Length: 4\r\nConnection: close\r\n\r\n"));
  const std::string interim = conn.ReadUntil("\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(conn.Send("data"));
  const std::string wire = conn.ReadUntilClose();
  EXPECT_THAT(wire, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(absl::EndsWith(wire, "PUT /echo?\ndata")) << wire;
}

TEST_F(ServerTest, HandlerExceptionBecomes500) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("GET", "/throw", {}, "");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"errors":["internal error"]})");
  // The connection survives.
  ASSERT_THAT(client->Send("GET", "/fixed", {}, ""), IsOk());
}

TEST_F(ServerTest, AccessLogNamesThePathButNeverQueryHeadersOrBody) {
  std::ostringstream log;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "access-log-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  ServerOptions options = TestOptions();
  options.access_log = true;
  StartServer(options);
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("PUT", "/v1/secret/data/app?token=qsecret",
                                                  {{"X-Vault-Token", "hsecret"}}, "bsecret");
  ASSERT_THAT(r, IsOk());
  server_->Shutdown(absl::Seconds(5));  // joins the I/O threads: the line has been written
  spdlog::set_default_logger(previous);

  const std::string text = log.str();
  EXPECT_THAT(text, HasSubstr(absl::StrCat(*FindHeader(*r, "x-request-id"), " 127.0.0.1:")));
  EXPECT_THAT(text, HasSubstr(" PUT /v1/secret/data/app 200 "));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("qsecret")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hsecret")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("bsecret")));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options = TestOptions();
  options.idle_timeout = absl::Milliseconds(100);
  StartServer(options);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  bool timed_out = true;
  EXPECT_EQ(conn.ReadUntilClose(&timed_out), "");
  EXPECT_FALSE(timed_out);
}

TEST_F(ServerTest, IncompleteRequestIsClosedAfterReadTimeoutWithoutResponse) {
  ServerOptions options = TestOptions();
  options.read_timeout = absl::Milliseconds(100);
  StartServer(options);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /fixed HTTP/1.1\r\nHost: x\r\n"));
  bool timed_out = true;
  EXPECT_EQ(conn.ReadUntilClose(&timed_out), "");
  EXPECT_FALSE(timed_out);
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreClosed) {
  ServerOptions options = TestOptions();
  options.max_connections = 1;
  options.io_threads = 1;
  StartServer(options);
  auto first = NewClient();
  ASSERT_THAT(first->Send("GET", "/fixed", {}, ""), IsOk());  // holds the only slot
  auto second = NewClient();
  EXPECT_THAT(second->Send("GET", "/fixed", {}, ""), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(first->Send("GET", "/fixed", {}, ""), IsOk());
}

TEST_F(ServerTest, AsyncHandlerAnswersFromAnotherThreadAndMakesTheResponseOnTheIoThread) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("POST", "/async", {}, "x");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "async POST on-io=1");
  EXPECT_TRUE(handler_.seen().empty());  // Handle() never ran
  absl::StatusOr<ClientResponse> again = client->Send("GET", "/async", {}, "");
  ASSERT_THAT(again, IsOk());  // the keep-alive connection goes on
  EXPECT_EQ(again->body, "async GET on-io=1");
}

TEST_F(ServerTest, AsyncRunBlockingAnswerIsRedoneByHandleOnThePool) {
  StartServer();
  auto client = NewClient();
  absl::StatusOr<ClientResponse> r = client->Send("POST", "/async-retry", {}, "body");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /async-retry?\nbody");
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].on_io_thread);
}

TEST_F(ServerTest, GracefulShutdownWaitsForAnAsyncAnswer) {
  StartServer();
  absl::StatusOr<ClientResponse> held;
  std::thread request([&] {
    auto client = NewClient();
    held = client->Send("POST", "/async-held", {}, "");
  });
  handler_.WaitUntilHeldTaken();
  std::atomic<bool> shutdown_returned{false};
  std::thread shutdown([&] {
    server_->Shutdown(absl::Seconds(30));
    shutdown_returned = true;
  });
  for (;;) {  // once no new connection is accepted, Shutdown is under way
    RawConnection probe(port_);
    if (!probe.connected()) break;
    std::this_thread::yield();
  }
  EXPECT_FALSE(shutdown_returned);
  handler_.AnswerHeld();
  request.join();
  shutdown.join();
  ASSERT_THAT(held, IsOk());
  EXPECT_EQ(held->status, 200);
  EXPECT_EQ(held->body, "held done");
}

TEST_F(ServerTest, GracefulShutdownWaitsForInFlightRequest) {
  StartServer();
  absl::StatusOr<ClientResponse> slow;
  std::thread request([&] {
    auto client = NewClient();
    slow = client->Send("GET", "/slow", {}, "");
  });
  handler_.WaitUntilSlowEntered();

  std::atomic<bool> shutdown_returned{false};
  std::thread shutdown([&] {
    server_->Shutdown(absl::Seconds(30));
    shutdown_returned = true;
  });
  // Once no new connection is accepted, Shutdown is under way.
  for (;;) {
    RawConnection probe(port_);
    if (!probe.connected()) break;
    std::this_thread::yield();
  }
  EXPECT_FALSE(shutdown_returned);
  handler_.Release();
  request.join();
  shutdown.join();
  ASSERT_THAT(slow, IsOk());
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "slow done");
  EXPECT_TRUE(shutdown_returned);
}

TEST_F(ServerTest, ShutdownForceClosesConnectionsAfterGrace) {
  StartServer();
  absl::StatusOr<ClientResponse> slow;
  std::thread request([&] {
    auto client = NewClient();
    slow = client->Send("GET", "/slow", {}, "");
  });
  handler_.WaitUntilSlowEntered();
  std::thread shutdown([&] { server_->Shutdown(absl::Milliseconds(50)); });
  // The connection is closed while the handler is still blocked.
  request.join();
  EXPECT_THAT(slow, StatusIs(absl::StatusCode::kUnavailable));
  handler_.Release();  // Shutdown then waits for the handler and returns
  shutdown.join();
}

TEST_F(ServerTest, ShutdownClosesIdleKeepAliveConnections) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /fixed HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(conn.ReadUntil(kFixedBody), HasSubstr(kFixedBody));
  server_->Shutdown(absl::Seconds(30));  // would take 30 s if the idle connection were kept
  bool timed_out = true;
  EXPECT_EQ(conn.ReadUntilClose(&timed_out), "");
  EXPECT_FALSE(timed_out);
}

// Regression: draining must also close a connection whose last response was still being written
// when Shutdown began (it used to wait for the whole grace period).
TEST_F(ServerTest, ShutdownClosesConnectionWhoseResponseWasBeingWritten) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  handler_.WaitUntilBigHandled();  // the write is now blocked: this test reads nothing yet
  std::thread shutdown([&] { server_->Shutdown(absl::Seconds(60)); });
  for (;;) {  // until no new connection is accepted: the drain request is being posted
    RawConnection probe(port_);
    if (!probe.connected()) break;
    std::this_thread::yield();
  }
  bool timed_out = true;
  const std::string wire = conn.ReadUntilClose(&timed_out);
  EXPECT_FALSE(timed_out) << "the connection must close once its response is written";
  EXPECT_GT(wire.size(), kBigBodyBytes);
  EXPECT_TRUE(absl::EndsWith(wire, "bbbb"));
  shutdown.join();
}

TEST_F(ServerTest, ShutdownIsIdempotentAndDestructorAfterShutdownIsFine) {
  StartServer();
  server_->Shutdown(absl::Seconds(1));
  server_->Shutdown(absl::Seconds(1));
  server_.reset();
}

TEST(ServerCreateTest, DestroyWithoutStartReleasesThePort) {
  TestHandler handler;
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options, handler);
  ASSERT_THAT(server, IsOk());
  const std::string address = (*server)->BoundAddresses()[0];
  server->reset();
  options.listen = {address};
  EXPECT_THAT(Server::Create(options, handler), IsOk());
}

TEST(ServerCreateTest, RejectsBadOptionsNamingThem) {
  TestHandler handler;
  auto create = [&](auto mutate) {
    ServerOptions o;
    o.listen = {"127.0.0.1:0"};
    mutate(o);
    return Server::Create(o, handler).status();
  };
  EXPECT_THAT(create([](ServerOptions& o) { o.listen = {"nonsense"}; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nonsense")));
  EXPECT_THAT(create([](ServerOptions& o) { o.listen = {"::1:80"}; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("::1:80")));
  EXPECT_THAT(create([](ServerOptions& o) { o.listen = {"127.0.0.1:99999"}; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(create([](ServerOptions& o) { o.listen.clear(); }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listen")));
  EXPECT_THAT(create([](ServerOptions& o) { o.max_pipelined = 0; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_pipelined")));
  EXPECT_THAT(create([](ServerOptions& o) { o.read_timeout = absl::ZeroDuration(); }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read_timeout")));
  EXPECT_THAT(create([](ServerOptions& o) { o.tls_cert_file = "/tmp/cert.pem"; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls_key_file")));
  EXPECT_THAT(create([](ServerOptions& o) {
                o.tls_cert_file = "/nonexistent/cert.pem";
                o.tls_key_file = "/nonexistent/key.pem";
              }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/nonexistent/cert.pem")));
}

TEST(ServerCreateTest, BindFailureNamesTheAddress) {
  TestHandler handler;
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  absl::StatusOr<std::unique_ptr<Server>> first = Server::Create(options, handler);
  ASSERT_THAT(first, IsOk());
  const std::string taken = (*first)->BoundAddresses()[0];
  options.listen = {taken};
  EXPECT_THAT(Server::Create(options, handler).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(taken)));
  options.listen = {"192.0.2.1:0"};  // TEST-NET-1: not an address of this host
  EXPECT_THAT(Server::Create(options, handler).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("192.0.2.1:0")));
}

TEST(ServerCreateTest, ListensOnIpv6Loopback) {
  TestHandler handler;
  ServerOptions options;
  options.listen = {"[::1]:0"};
  options.io_threads = 1;
  options.access_log = false;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options, handler);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  (*server)->Start();
  const std::string address = (*server)->BoundAddresses()[0];
  EXPECT_THAT(address, ::testing::StartsWith("[::1]:"));
  ClientOptions client_options;
  client_options.address = "http://" + address;
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(client_options);
  ASSERT_THAT(client, IsOk());
  absl::StatusOr<ClientResponse> r = (*client)->Send("GET", "/fixed", {}, "");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body, kFixedBody);
}

// Writes a self-signed P-256 certificate for 127.0.0.1/localhost and its key, as PEM.
void WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  ASSERT_NE(key, nullptr);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  ASSERT_NE(cert, nullptr);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("rekey test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"}};
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_file(cert_path.c_str(), "w"),
                                                     BIO_free);
  ASSERT_NE(cert_bio, nullptr);
  ASSERT_EQ(PEM_write_bio_X509(cert_bio.get(), cert.get()), 1);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_file(key_path.c_str(), "w"), BIO_free);
  ASSERT_NE(key_bio, nullptr);
  ASSERT_EQ(
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
}

class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/rekey-http-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    WriteSelfSignedCertificate(cert_, key_);
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void StartTlsServer(const std::string& listen = "127.0.0.1:0") {
    ServerOptions options = TestOptions();
    options.listen = {listen};
    options.tls_cert_file = cert_;
    options.tls_key_file = key_;
    StartServer(options);
  }

  std::string dir_, cert_, key_;
};

TEST_F(TlsServerTest, RoundTripWithCaFile) {
  StartTlsServer();
  ClientOptions o;
  o.address = "https://" + address_;
  o.ca_file = cert_;
  o.timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ClientResponse> r = (*client)->Send("PUT", "/block/tls", {}, "over tls");
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "PUT /block/tls?\nover tls");
    EXPECT_TRUE(FindHeader(*r, "x-request-id").has_value());
  }
  std::vector<Seen> seen = handler_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].tls);
  EXPECT_EQ(seen[0].remote_addr, seen[1].remote_addr) << "TLS keep-alive";
}

TEST_F(TlsServerTest, ErrorResponsesWorkOverTls) {
  StartTlsServer();
  ClientOptions o;
  o.address = "https://" + address_;
  o.ca_file = cert_;
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  absl::StatusOr<ClientResponse> r =
      (*client)->Send("PUT", "/block/big", {}, std::string((1 << 20) + 1, 'z'));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 413);
}

TEST_F(TlsServerTest, ClientRejectsUnknownCertificate) {
  StartTlsServer();
  ClientOptions o;
  o.address = "https://" + address_;  // no ca_file: the system store does not know this cert
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Send("GET", "/fixed", {}, ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("TLS handshake")));
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(TlsServerTest, ClientChecksTheHostName) {
  // The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (also loopback on Linux).
  StartTlsServer("127.0.0.2:0");
  ClientOptions o;
  o.address = "https://" + address_;
  o.ca_file = cert_;
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Send("GET", "/fixed", {}, ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("TLS handshake")));
  EXPECT_TRUE(handler_.seen().empty());
}

TEST_F(TlsServerTest, PlainHttpToTlsListenerGetsNoResponse) {
  StartTlsServer();
  auto client = NewClient();  // http:// to the TLS port
  EXPECT_THAT(client->Send("GET", "/fixed", {}, ""), ::testing::Not(IsOk()));
  EXPECT_TRUE(handler_.seen().empty());
}

TEST(HttpClientTest, UnavailableForClosedPort) {
  // Bind a port, then free it: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  ClientOptions o;
  o.address = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port));
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Send("GET", "/", {}, ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(o.address)));
}

TEST(HttpClientTest, RejectsBadAddresses) {
  for (const char* address : {"127.0.0.1:8200", "ftp://127.0.0.1:21", "http://127.0.0.1:8200/v1",
                              "http://user@127.0.0.1:8200", "http://127.0.0.1:99999", "http://",
                              "http://127.0.0.1:8200?x=1"}) {
    ClientOptions o;
    o.address = address;
    EXPECT_THAT(HttpClient::Create(o), StatusIs(absl::StatusCode::kInvalidArgument)) << address;
  }
  ClientOptions ok;
  ok.address = "https://localhost:8200/";
  EXPECT_THAT(HttpClient::Create(ok), IsOk());
}

TEST(HttpClientTest, RejectsBadRequestsWithoutSending) {
  ClientOptions o;
  o.address = "http://127.0.0.1:1";
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Send("GE T", "/", {}, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*client)->Send("GET", "no-slash", {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*client)->Send("GET", "/", {{"X-A", "a\r\nX-Injected: 1"}}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HttpClientTest, TimesOutWithDeadlineExceeded) {
  // A listener that never accepts: the kernel completes the handshake, nobody answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ClientOptions o;
  o.address = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port));
  o.timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Send("GET", "/", {}, ""), StatusIs(absl::StatusCode::kDeadlineExceeded));
  close(fd);
}

// A one-response-per-connection fake server: answers with keep-alive, then closes anyway.
TEST(HttpClientTest, ReconnectsOnceWhenAKeptConnectionWasClosed) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::atomic<int> connections{0};
  std::thread fake([&] {
    for (int i = 0; i < 2; ++i) {
      int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      ++connections;
      std::string in;
      char buf[1024];
      while (in.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      const std::string out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      close(fd);
    }
  });
  ClientOptions o;
  o.address = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port));
  o.timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(o);
  ASSERT_THAT(client, IsOk());
  absl::StatusOr<ClientResponse> first = (*client)->Send("GET", "/", {}, "");
  absl::StatusOr<ClientResponse> second = (*client)->Send("GET", "/", {}, "");
  fake.join();
  close(listener);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(connections, 2);
}

}  // namespace
}  // namespace rekey::http
