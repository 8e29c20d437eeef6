// EventLog: the numbered stream of rotation events (rotation.started, rotation.failed,
// secret.overdue, ...). Events are committed in the same store batch as the transition they
// describe, kept in memory for readers, and served to long-polling clients.
#ifndef REKEY_ROTATION_EVENTS_H_
#define REKEY_ROTATION_EVENTS_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace rekey::rotation {

struct Event {
  uint64_t seq = 0;  // assigned by Stage; 1, 2, 3, ... in commit-visible order
  absl::Time time = absl::InfinitePast();
  std::string type;  // "rotation.started", "rotation.completed", ...
  std::string path;
  std::string run_id;
  std::string step;
  int attempt = 0;
  std::string message;  // human text; never a value
};
boost::json::object EventToJson(const Event& event);

// Thread-safe.
class EventLog {
 public:
  // Keeps the last `keep` events in the store and in memory. `store` must outlive the log.
  EventLog(storage::Store& store, size_t keep = 10000);

  // Reads the stored tail; call once before Stage.
  absl::Status Load();

  // Gives `event` the next sequence number and adds its record to `batch` (and the removal of
  // the event that falls out of the kept window). After committing the batch, call Publish on
  // success or Cancel on failure, exactly once per staged event: readers see events only in
  // sequence order, so a staged event holds back later ones until then.
  Event Stage(Event event, storage::WriteBatch& batch);
  void Publish(const Event& event);
  void Cancel(uint64_t seq);

  // Published events with seq > `after`, oldest first, at most `limit`.
  std::vector<Event> Since(uint64_t after, size_t limit) const;
  uint64_t LastSeq() const;  // of the newest published event; 0 when none

  // Calls `done` once: with events after `after` as soon as there are any, or with none when
  // ExpireWaiters(now >= deadline) runs. `done` runs on the publishing or expiring thread and
  // must be quick.
  using WaitCallback = std::function<void(std::vector<Event>)>;
  void WaitAsync(uint64_t after, absl::Time deadline, size_t limit, WaitCallback done);
  void ExpireWaiters(absl::Time now);
  // Answers every waiter with what it has (at shutdown).
  void ReleaseWaiters();

  // Called (outside the lock) for every published event, in order; e.g. to notify webhooks.
  void AddListener(std::function<void(const Event&)> listener);

 private:
  struct Waiter {
    uint64_t after;
    absl::Time deadline;
    size_t limit;
    WaitCallback done;
  };
  std::vector<Event> SinceLocked(uint64_t after, size_t limit) const;
  // Moves the in-order prefix of settled events to the published window; returns them.
  std::vector<Event> AdvanceLocked();
  void Deliver(std::vector<Event> published);

  storage::Store& store_;
  const size_t keep_;
  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;
  uint64_t published_ = 0;                            // every seq <= published_ is settled
  std::map<uint64_t, std::optional<Event>> settled_;  // > published_; nullopt = cancelled
  std::deque<Event> window_;                          // the last `keep_` published events
  std::vector<Waiter> waiters_;
  std::vector<std::function<void(const Event&)>> listeners_;
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_EVENTS_H_
