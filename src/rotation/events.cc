#include "rotation/events.h"

#include <boost/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;

constexpr char kPrefix[] = "rot/ev/";

std::string EventKey(uint64_t seq) { return absl::StrFormat("%s%020d", kPrefix, seq); }

std::string FormatEventTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace

json::object EventToJson(const Event& e) {
  json::object o;
  o["seq"] = e.seq;
  o["time"] = FormatEventTime(e.time);
  o["type"] = e.type;
  o["path"] = e.path;
  if (!e.run_id.empty()) o["run_id"] = e.run_id;
  if (!e.step.empty()) o["step"] = e.step;
  if (e.attempt > 0) o["attempt"] = e.attempt;
  if (!e.message.empty()) o["message"] = e.message;
  return o;
}

EventLog::EventLog(storage::Store& store, size_t keep) : store_(store), keep_(keep) {}

absl::Status EventLog::Load() {
  std::vector<Event> loaded;
  std::string start_after;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::Record> page, store_.Scan(kPrefix, start_after, 1024));
    if (page.empty()) break;
    for (const storage::Record& r : page) {
      boost::system::error_code ec;
      json::value v =
          json::parse(json::string_view(r.value.Reveal().data(), r.value.Reveal().size()), ec);
      if (ec || !v.is_object()) continue;
      const json::object& o = v.get_object();
      Event e;
      uint64_t seq = 0;
      if (!absl::SimpleAtoi(ToAbsl(std::string_view(r.key).substr(sizeof(kPrefix) - 1)), &seq)) {
        continue;
      }
      e.seq = seq;
      auto str = [&](std::string_view k) {
        const json::value* f = o.if_contains(k);
        return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
      };
      std::string err;
      if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", str("time"), &e.time, &err)) continue;
      e.type = str("type");
      e.path = str("path");
      e.run_id = str("run_id");
      e.step = str("step");
      e.message = str("message");
      if (const json::value* a = o.if_contains("attempt"); a != nullptr && a->is_int64()) {
        e.attempt = static_cast<int>(a->get_int64());
      }
      loaded.push_back(std::move(e));
    }
    start_after = page.back().key;
  }
  std::lock_guard<std::mutex> lock(mu_);
  window_.clear();
  for (Event& e : loaded) {
    window_.push_back(std::move(e));
    if (window_.size() > keep_) window_.pop_front();
  }
  published_ = window_.empty() ? 0 : window_.back().seq;
  next_seq_ = published_ + 1;
  settled_.clear();
  return absl::OkStatus();
}

Event EventLog::Stage(Event event, storage::WriteBatch& batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    event.seq = next_seq_++;
  }
  batch.Put(EventKey(event.seq), SecretBytes(json::serialize(EventToJson(event))));
  if (event.seq > keep_) batch.Delete(EventKey(event.seq - keep_));
  return event;
}

void EventLog::Publish(const Event& event) {
  std::vector<Event> published;
  {
    std::lock_guard<std::mutex> lock(mu_);
    settled_[event.seq] = event;
    published = AdvanceLocked();
  }
  Deliver(std::move(published));
}

void EventLog::Cancel(uint64_t seq) {
  std::vector<Event> published;
  {
    std::lock_guard<std::mutex> lock(mu_);
    settled_[seq] = std::nullopt;
    published = AdvanceLocked();
  }
  Deliver(std::move(published));
}

std::vector<Event> EventLog::AdvanceLocked() {
  std::vector<Event> out;
  for (auto it = settled_.begin(); it != settled_.end() && it->first == published_ + 1;
       it = settled_.erase(it)) {
    published_ = it->first;
    if (!it->second.has_value()) continue;
    window_.push_back(*it->second);
    if (window_.size() > keep_) window_.pop_front();
    out.push_back(std::move(*it->second));
  }
  return out;
}

void EventLog::Deliver(std::vector<Event> published) {
  if (published.empty()) return;
  std::vector<std::pair<WaitCallback, std::vector<Event>>> ready;
  std::vector<std::function<void(const Event&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      std::vector<Event> events = SinceLocked(it->after, it->limit);
      if (events.empty()) {
        ++it;
        continue;
      }
      ready.emplace_back(std::move(it->done), std::move(events));
      it = waiters_.erase(it);
    }
    listeners = listeners_;
  }
  for (auto& [done, events] : ready) done(std::move(events));
  for (const Event& e : published) {
    for (const auto& listener : listeners) listener(e);
  }
}

std::vector<Event> EventLog::SinceLocked(uint64_t after, size_t limit) const {
  std::vector<Event> out;
  // The window is sorted by seq: skip to the first one after `after`.
  auto it = std::upper_bound(window_.begin(), window_.end(), after,
                             [](uint64_t a, const Event& e) { return a < e.seq; });
  for (; it != window_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

std::vector<Event> EventLog::Since(uint64_t after, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  return SinceLocked(after, limit);
}

uint64_t EventLog::LastSeq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return window_.empty() ? published_ : window_.back().seq;
}

void EventLog::WaitAsync(uint64_t after, absl::Time deadline, size_t limit, WaitCallback done) {
  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    events = SinceLocked(after, limit);
    if (events.empty()) {
      waiters_.push_back(Waiter{after, deadline, limit, std::move(done)});
      return;
    }
  }
  done(std::move(events));
}

void EventLog::ExpireWaiters(absl::Time now) {
  std::vector<WaitCallback> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->deadline > now) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->done));
      it = waiters_.erase(it);
    }
  }
  for (WaitCallback& done : expired) done({});
}

void EventLog::ReleaseWaiters() { ExpireWaiters(absl::InfiniteFuture()); }

void EventLog::AddListener(std::function<void(const Event&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(std::move(listener));
}

}  // namespace rekey::rotation
