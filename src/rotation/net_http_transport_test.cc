// Tests for NetHttpTransport and ParseHttpUrl, against a one-shot loopback server in a thread.
#include "rotation/net_http_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "core/testing/status_matchers.h"

namespace rekey::rotation {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// Listens on 127.0.0.1:<ephemeral>; Serve() accepts one connection in a thread, reads one
// request and answers `response` (or nothing when `response` is empty, until Stop()).
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~OneShotServer() {
    Stop();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }

  int port() const { return port_; }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  void Serve(std::string response) {
    thread_ = std::thread([this, response = std::move(response)] {
      const int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      conn_ = conn;
      std::string data;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || data.size() < need) {
        const ssize_t n = read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        const size_t end = data.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t body = 0;
          const size_t cl = data.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) body = std::stoul(data.substr(cl + 16));
          need = end + 4 + body;
        }
      }
      request_ = data;
      if (!response.empty()) {
        (void)!write(conn, response.data(), response.size());
        shutdown(conn, SHUT_RDWR);
      } else {
        while (!stop_.load()) {
          if (read(conn, buf, sizeof(buf)) <= 0) break;
        }
      }
      close(conn);
    });
  }
  void Stop() {
    stop_ = true;
    if (conn_ >= 0) shutdown(conn_, SHUT_RDWR);
  }
  void Join() { thread_.join(); }
  const std::string& request() const { return request_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> conn_{-1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::string request_;
};

TEST(ParseHttpUrlTest, SplitsOriginAndPathAndQuery) {
  ASSERT_OK_AND_ASSIGN(ParsedHttpUrl u,
                       ParseHttpUrl("https://Keys.Example.com/v1/rekey?a=1&b=%20"));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.origin, "https://keys.example.com:443");
  EXPECT_EQ(u.path_and_query, "/v1/rekey?a=1&b=%20");
}

TEST(ParseHttpUrlTest, DefaultsPathAndPortAndKeepsIpv6Brackets) {
  ASSERT_OK_AND_ASSIGN(ParsedHttpUrl u, ParseHttpUrl("http://[::1]:8080"));
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.origin, "http://[::1]:8080");
  EXPECT_EQ(u.path_and_query, "/");
}

TEST(ParseHttpUrlTest, RejectsOtherSchemesUserInfoAndRelativeUrls) {
  EXPECT_THAT(ParseHttpUrl("ftp://h/x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHttpUrl("https://user:pw@h/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("pw"))));
  EXPECT_THAT(ParseHttpUrl("/relative"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHttpUrl("http://h:0/"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHttpUrl("http:///x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NetHttpTransportTest, SendsMethodPathHeadersAndBodyAndReturnsTheReply) {
  OneShotServer server;
  server.Serve(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Thing: yes\r\n"
      "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
  NetHttpTransport transport;
  HttpCall call;
  call.url = server.url("/hook/rotate?tenant=a");
  call.headers = {{"Content-Type", "application/json"}, {"X-Rekey-Step", "create"}};
  call.body = R"({"step":"create"})";
  call.timeout = absl::Seconds(5);
  ASSERT_OK_AND_ASSIGN(HttpReply reply, transport.Send(call));
  server.Join();
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.body, "{\"ok\":true}");
  EXPECT_THAT(reply.headers, ::testing::Contains(Pair("x-thing", "yes")));
  EXPECT_THAT(server.request(), HasSubstr("POST /hook/rotate?tenant=a HTTP/1.1\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("X-Rekey-Step: create\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("\r\n\r\n{\"step\":\"create\"}"));
}

TEST(NetHttpTransportTest, ClosedPortIsUnavailable) {
  int port = 0;
  {
    OneShotServer closed;  // bound, then closed: nothing listens on the port afterwards
    port = closed.port();
  }
  NetHttpTransport transport;
  HttpCall call;
  call.url = "http://127.0.0.1:" + std::to_string(port) + "/x?token=abc";
  call.timeout = absl::Seconds(5);
  EXPECT_THAT(transport.Send(call),
              StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr("token=abc"))));
}

TEST(NetHttpTransportTest, SilentServerTimesOut) {
  OneShotServer server;
  server.Serve("");
  NetHttpTransport transport;
  HttpCall call;
  call.url = server.url("/slow");
  call.timeout = absl::Milliseconds(200);
  EXPECT_THAT(transport.Send(call), StatusIs(absl::StatusCode::kDeadlineExceeded));
  server.Stop();
}

TEST(NetHttpTransportTest, BadUrlAndTimeoutAreInvalidArgument) {
  NetHttpTransport transport;
  HttpCall call;
  call.url = "gopher://x/";
  EXPECT_THAT(transport.Send(call), StatusIs(absl::StatusCode::kInvalidArgument));
  call.url = "http://127.0.0.1:1/";
  call.timeout = absl::ZeroDuration();
  EXPECT_THAT(transport.Send(call), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NetHttpTransportTest, UnreadableCaFileIsInvalidArgument) {
  NetHttpTransport transport;
  HttpCall call;
  call.url = "https://127.0.0.1:1/";
  call.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(transport.Send(call),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ca_file")));
}

}  // namespace
}  // namespace rekey::rotation
