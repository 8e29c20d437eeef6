#include "acme/http01_responder.h"

#include <map>
#include <mutex>
#include <utility>

#include "api/http/message.h"
#include "api/http/server.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::acme {
namespace {

constexpr std::string_view kPrefix = "/.well-known/acme-challenge/";

class ChallengeHandler final : public http::Handler {
 public:
  bool MayBlock(const http::Request&) const override { return false; }

  http::Response Handle(http::Request& req) override {
    http::Response res;
    res.content_type = "text/plain";
    if ((req.method == "GET" || req.method == "HEAD") && req.path.rfind(kPrefix, 0) == 0) {
      const std::string token = req.path.substr(kPrefix.size());
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = tokens_.find(token); it != tokens_.end()) {
        ++served_;
        res.content_type = "application/octet-stream";
        res.body = it->second;
        return res;
      }
    }
    res.status = 404;
    res.body = "not found\n";
    return res;
  }

  void Put(std::string_view token, std::string_view key_authorization) {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[std::string(token)] = std::string(key_authorization);
  }
  void Remove(std::string_view token) {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_.erase(std::string(token));
  }
  int served() const {
    std::lock_guard<std::mutex> lock(mu_);
    return served_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> tokens_;
  int served_ = 0;
};

}  // namespace

struct Http01Responder::Impl {
  ChallengeHandler handler;  // declared before the server, which uses it
  std::unique_ptr<http::Server> server;
  std::string address;
};

absl::StatusOr<std::unique_ptr<Http01Responder>> Http01Responder::Start(std::string_view listen) {
  auto impl = std::make_unique<Impl>();
  http::ServerOptions options;
  options.listen = {std::string(listen)};
  options.io_threads = 1;
  options.blocking_threads = 1;
  options.max_body_bytes = 4 << 10;
  options.max_header_bytes = 8 << 10;
  options.read_timeout = absl::Seconds(10);
  options.idle_timeout = absl::Seconds(10);
  options.write_timeout = absl::Seconds(10);
  options.max_pipelined = 2;
  options.max_connections = 64;
  options.access_log = false;
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Create(options, impl->handler);
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        rekey::StrCat("http-01 responder: ", server.status().message()));
  }
  impl->server = std::move(*server);
  impl->address = impl->server->BoundAddresses().front();
  impl->server->Start();
  return std::unique_ptr<Http01Responder>(new Http01Responder(std::move(impl)));
}

Http01Responder::Http01Responder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Http01Responder::~Http01Responder() { impl_->server->Shutdown(absl::Seconds(1)); }

const std::string& Http01Responder::address() const { return impl_->address; }

void Http01Responder::Put(std::string_view token, std::string_view key_authorization) {
  impl_->handler.Put(token, key_authorization);
}

void Http01Responder::Remove(std::string_view token) { impl_->handler.Remove(token); }

int Http01Responder::served() const { return impl_->handler.served(); }

}  // namespace rekey::acme
