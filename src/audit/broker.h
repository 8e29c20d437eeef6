// AuditBroker: the server's set of audit devices. It keeps their settings and keys in the store
// (so a restarted server continues each device's chain), fans every entry out to every enabled
// device, and says whether at least one recorded it — the fail-closed decision.
#ifndef REKEY_AUDIT_BROKER_H_
#define REKEY_AUDIT_BROKER_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "audit/device_keys.h"
#include "audit/entry.h"
#include "audit/file_sink.h"
#include "core/clock.h"
#include "core/random.h"
#include "storage/store.h"

namespace rekey::audit {

struct DeviceConfig {
  std::string name;  // 1-64 of [a-z0-9_-]
  std::string type;  // "file" or "stdout"
  std::string path;  // file: absolute path of the log file
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
  uint64_t max_file_bytes = 0;  // file: rotate at this size; 0 = never
  uint64_t checkpoint_every = 1000;
};

struct DeviceInfo {
  DeviceConfig config;
  std::string device_id;
  std::string public_key;  // base64 of the raw Ed25519 key: give it to `rekey audit verify`
  ChainHead head;          // the last entry written: compare with a copy to detect truncation
  bool healthy = true;     // the last write succeeded
};

// What the dashboard sees of a recent entry: metadata only.
struct EntrySummary {
  uint64_t seq = 0;  // the broker's own counter, for ?after=
  absl::Time time;
  std::string type;
  std::string operation;
  std::string path;
  int status = 0;
  std::string error;
  std::string request_id;
  std::string remote_addr;
};

// Thread-safe.
class AuditBroker {
 public:
  // `store` (the encrypted barrier), `clock` and `random` must outlive the broker. `node` names
  // this server in every entry.
  AuditBroker(storage::Store& store, const Clock& clock, Random& random, std::string node);
  ~AuditBroker();

  // Opens every device stored by an earlier Enable. A device whose file cannot be opened is
  // still listed, unhealthy, and fails every entry (fail-closed) until a retry (at most once a
  // second, on a later entry) opens it.
  absl::Status Load();

  // Validates `config` (kInvalidArgument naming the field), generates the device's keys, opens
  // it and stores it. kAlreadyExists for a name in use.
  absl::Status Enable(const DeviceConfig& config);
  // Writes the device's close checkpoint and forgets it (its files stay). kNotFound if unknown.
  absl::Status Disable(std::string_view name);
  // A device that is not open is tried again first (at most once a second, as for entries), so
  // the health shown is current.
  std::vector<DeviceInfo> List();
  // "hmac-sha256:<hex>" of `value` with the device's key. kNotFound for an unknown device.
  absl::StatusOr<std::string> Fingerprint(std::string_view device, std::string_view value) const;
  // Whether any device is enabled (with none, nothing is recorded and nothing fails).
  bool enabled() const;

  // Writes `entry` to every enabled device. `done` runs once: OK when at least one device
  // recorded it, or when no device is enabled; kUnavailable when none could. It may run on a
  // device's writer thread and must be quick.
  void Record(const AuditEntry& entry, std::function<void(absl::Status)> done);
  absl::Status RecordSync(const AuditEntry& entry);

  // The most recent entries recorded (at most 1,000 kept), oldest first, seq > `after`.
  std::vector<EntrySummary> Recent(uint64_t after, size_t limit) const;

  // Closes every device (close checkpoints). Later Records fail with kUnavailable.
  void CloseAll();

  // Enables a device writing to `sink` instead of the one its config names, not stored.
  absl::Status EnableWithSinkForTest(const DeviceConfig& config, std::unique_ptr<AuditSink> sink);

 private:
  struct Device {
    DeviceConfig config;
    DeviceKeys keys;
    std::mutex mu;
    // Null while the device cannot be opened (e.g. its filesystem is read-only at startup);
    // entries then fail on it, and it is reopened at most once a second. Guarded by mu.
    std::shared_ptr<AuditLog> log;
    absl::Time next_open = absl::InfinitePast();  // guarded by mu
  };
  // The device's log, opening it first if needed (and allowed yet); null when it cannot be.
  std::shared_ptr<AuditLog> LogOf(Device& device);
  // Opens the device's log on `sink`, or on the sink its config names when null.
  absl::StatusOr<std::unique_ptr<AuditLog>> OpenLog(const DeviceConfig& config,
                                                    const DeviceKeys& keys,
                                                    std::unique_ptr<AuditSink> sink = nullptr);
  EntrySummary Summarize(const AuditEntry& entry) const;
  void Remember(EntrySummary summary);

  storage::Store& store_;
  const Clock& clock_;
  Random& random_;
  const std::string node_;
  std::mutex admin_mu_;  // serializes Enable and Disable
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Device>> devices_;  // guarded by mu_
  bool closed_ = false;                                     // guarded by mu_
  mutable std::mutex recent_mu_;
  std::deque<EntrySummary> recent_;  // guarded by recent_mu_
  uint64_t recent_seq_ = 0;          // guarded by recent_mu_
};

// Parses the fields of POST /v1/sys/audit/:name ({"type": "file", "options": {"file_path",
// "fsync": "every-batch|interval|never", "fsync_interval", "max_file_bytes"}}), Vault's shape.
// kInvalidArgument naming the field.
absl::StatusOr<DeviceConfig> ParseDeviceConfig(std::string name, std::string_view json);

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_BROKER_H_
