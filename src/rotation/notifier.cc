#include "rotation/notifier.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::rotation {
namespace {

// "scheme://host:port" of a URL: webhook URLs often carry a secret in their path or query
// (chat webhooks do), so logs name only the origin.
std::string OriginOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(invalid url)";
  const size_t path = url.find_first_of("/?#", scheme + 3);
  std::string_view authority = url.substr(
      scheme + 3, path == std::string_view::npos ? std::string_view::npos : path - scheme - 3);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // never log user:password@
  }
  return rekey::StrCat(url.substr(0, scheme + 3), authority);
}

}  // namespace

Notifier::Notifier(TargetsOf targets, KeyOf key, HttpTransport& http, const Clock& clock,
                   NotifierOptions options)
    : targets_(std::move(targets)),
      key_(std::move(key)),
      http_(http),
      clock_(clock),
      options_(options),
      thread_([this] { Loop(); }) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Enqueue(const Event& event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= options_.max_queued) {
      spdlog::warn("rotation notify: queue full; event {} of {} not delivered", event.seq,
                   event.path);
      return;
    }
    queue_.push_back(event);
  }
  cv_.notify_one();
}

void Notifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
  }
  cv_.notify_all();
  std::call_once(joined_, [this] { thread_.join(); });
}

std::string Notifier::Body(const Event& event) {
  boost::json::object o = EventToJson(event);
  o["source"] = "rekey";
  return boost::json::serialize(o);
}

absl::StatusOr<std::string> Notifier::Signature(const SecretBytes& key, absl::Time now,
                                                std::string_view body) {
  const std::string t = std::to_string(absl::ToUnixSeconds(now));
  absl::StatusOr<std::string> mac = crypto::HmacSha256(key.Reveal(), rekey::StrCat(t, ".", body));
  if (!mac.ok()) return mac.status();
  return rekey::StrCat("t=", t, ",v1=", ToStd(absl::BytesToHexString(ToAbsl(*mac))));
}

void Notifier::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    if (stopping_ && std::chrono::steady_clock::now() > drain_deadline_) {
      // Shutdown must not wait on dead webhooks for long.
      spdlog::warn("rotation notify: stopping; {} queued event(s) not delivered", queue_.size());
      queue_.clear();
      return;
    }
    Event event = std::move(queue_.front());
    queue_.pop_front();
    const bool last_chance = stopping_;
    lock.unlock();
    absl::StatusOr<std::vector<NotifyTarget>> targets = targets_(event.path);
    if (targets.ok()) {
      for (const NotifyTarget& target : *targets) Deliver(event, target, last_chance);
    }
    lock.lock();
  }
}

bool Notifier::Deliver(const Event& event, const NotifyTarget& target, bool last_chance) {
  HttpCall call;
  call.method = "POST";
  call.url = target.url;
  call.body = Body(event);
  call.timeout = options_.timeout;
  call.headers = {{"Content-Type", "application/json"},
                  {"X-Rekey-Event", event.type},
                  {"X-Rekey-Event-Seq", std::to_string(event.seq)}};
  if (!target.signing_secret.empty()) {
    absl::StatusOr<SecretBytes> key = key_(target.signing_secret);
    absl::StatusOr<std::string> signature =
        key.ok() ? Signature(*key, clock_.Now(), call.body) : key.status();
    if (!signature.ok()) {
      spdlog::warn("rotation notify: cannot sign for {} with {}: {}", OriginOf(target.url),
                   target.signing_secret, ToStd(signature.status().message()));
      return false;
    }
    call.headers.emplace_back("X-Rekey-Signature", *signature);
  }
  const int attempts = last_chance ? 1 : std::max(1, options_.attempts);
  absl::Duration backoff = options_.backoff;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    absl::StatusOr<HttpReply> reply = http_.Send(call);
    if (reply.ok() && reply->status >= 200 && reply->status < 300) return true;
    std::string why = reply.ok() ? rekey::StrCat("HTTP ", reply->status)
                                 : std::string(ToStd(reply.status().message()));
    spdlog::warn("rotation notify: {} for event {} ({}) attempt {}/{}: {}", OriginOf(target.url),
                 event.seq, event.type, attempt, attempts, why);
    if (attempt == attempts) break;
    // Wait before the next attempt, unless the server is stopping.
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [this] { return stopping_; })) {
      break;
    }
    backoff *= 2;
  }
  return false;
}

absl::StatusOr<SecretBytes> ReadHmacKey(secrets::SecretsService& kv, std::string_view path) {
  absl::StatusOr<secrets::ReadResult> read = kv.Read(path, 0);
  if (!read.ok()) return read.status();
  if (!read->value.has_value()) {
    return absl::NotFoundError(rekey::StrCat("secret \"", path, "\" has no readable value"));
  }
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(
      boost::json::string_view(read->value->Reveal().data(), read->value->Reveal().size()), ec);
  const boost::json::value* key =
      !ec && doc.is_object() ? doc.get_object().if_contains("hmac_key") : nullptr;
  if (key == nullptr || !key->is_string() || key->get_string().size() < 16) {
    if (!ec && doc.is_object()) {
      for (auto& [k, v] : doc.get_object()) {
        if (v.is_string()) SecureWipe(v.get_string().data(), v.get_string().size());
      }
    }
    return absl::FailedPreconditionError(
        rekey::StrCat("secret \"", path, "\" needs a field \"hmac_key\" of at least 16 bytes"));
  }
  SecretBytes out(std::string_view(key->get_string().data(), key->get_string().size()));
  for (auto& [k, v] : doc.get_object()) {
    if (v.is_string()) SecureWipe(v.get_string().data(), v.get_string().size());
  }
  return out;
}

}  // namespace rekey::rotation
