#include "audit/broker.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>

#include "absl/strings/numbers.h"
#include "audit/device_keys.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::audit {
namespace {

namespace json = boost::json;

constexpr char kDevicePrefix[] = "sys/audit/device/";
constexpr size_t kRecentKept = 1000;

std::string_view FsyncName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kEveryBatch:
      return "every-batch";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "interval";
}

absl::Status ValidateConfig(const DeviceConfig& c) {
  if (c.name.empty() || c.name.size() > 64 ||
      c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
    return absl::InvalidArgumentError(
        "audit device name must be 1 to 64 of lower-case letters, digits, '_' and '-'");
  }
  if (c.type == "file") {
    if (c.path.empty() || c.path.front() != '/') {
      return absl::InvalidArgumentError("options.file_path must be an absolute path");
    }
  } else if (c.type != "stdout") {
    return absl::InvalidArgumentError("type must be \"file\" or \"stdout\"");
  }
  if (c.checkpoint_every < 1 || c.checkpoint_every > 1000000) {
    return absl::InvalidArgumentError("options.checkpoint_every must be from 1 to 1000000");
  }
  if (c.fsync_interval <= absl::ZeroDuration() || c.fsync_interval > absl::Hours(1)) {
    return absl::InvalidArgumentError("options.fsync_interval must be from 1ms to 1h");
  }
  return absl::OkStatus();
}

std::string EncodeDevice(const DeviceConfig& c, const DeviceKeys& keys, SecretBytes& out) {
  json::object o;
  o["name"] = c.name;
  o["type"] = c.type;
  o["path"] = c.path;
  o["fsync"] = std::string(FsyncName(c.fsync));
  o["fsync_interval_ms"] = absl::ToInt64Milliseconds(c.fsync_interval);
  o["max_file_bytes"] = c.max_file_bytes;
  o["checkpoint_every"] = c.checkpoint_every;
  SecretBytes encoded = keys.Encode();
  o["keys"] = json::string(encoded.Reveal().data(), encoded.Reveal().size());
  std::string text = json::serialize(o);
  SecureWipe(o["keys"].as_string().data(), o["keys"].as_string().size());
  out = SecretBytes::TakeFrom(text);
  return c.name;
}

absl::StatusOr<FsyncPolicy> ParseFsync(std::string_view name) {
  if (name == "every-batch") return FsyncPolicy::kEveryBatch;
  if (name == "interval") return FsyncPolicy::kInterval;
  if (name == "never") return FsyncPolicy::kNever;
  return absl::InvalidArgumentError("options.fsync must be every-batch, interval or never");
}

}  // namespace

absl::StatusOr<DeviceConfig> ParseDeviceConfig(std::string name, std::string_view text) {
  DeviceConfig c;
  c.name = std::move(name);
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return absl::InvalidArgumentError("body must be a JSON object");
  const json::object& o = v.get_object();
  for (const auto& [key, value] : o) {
    if (key != "type" && key != "options" && key != "description" && key != "local") {
      return absl::InvalidArgumentError(
          rekey::StrCat("unknown field \"", std::string_view(key).substr(0, 64), "\""));
    }
  }
  const json::value* type = o.if_contains("type");
  if (type == nullptr || !type->is_string()) {
    return absl::InvalidArgumentError("type is required: \"file\" or \"stdout\"");
  }
  c.type = std::string(type->get_string());
  if (const json::value* opts = o.if_contains("options"); opts != nullptr) {
    if (!opts->is_object()) return absl::InvalidArgumentError("options must be an object");
    for (const auto& [key, value] : opts->get_object()) {
      // Vault sends every option as a string; accept numbers too.
      std::string s = value.is_string()   ? std::string(value.get_string())
                      : value.is_int64()  ? std::to_string(value.get_int64())
                      : value.is_uint64() ? std::to_string(value.get_uint64())
                                          : std::string();
      if (key == "file_path" || key == "path") {
        c.path = s;
      } else if (key == "fsync") {
        ASSIGN_OR_RETURN(c.fsync, ParseFsync(s));
      } else if (key == "fsync_interval") {
        absl::Duration d;
        if (!absl::ParseDuration(ToAbsl(s), &d)) {
          return absl::InvalidArgumentError("options.fsync_interval must be a duration like 1s");
        }
        c.fsync_interval = d;
      } else if (key == "max_file_bytes") {
        if (!absl::SimpleAtoi(ToAbsl(s), &c.max_file_bytes)) {
          return absl::InvalidArgumentError("options.max_file_bytes must be an integer");
        }
      } else if (key == "checkpoint_every") {
        if (!absl::SimpleAtoi(ToAbsl(s), &c.checkpoint_every)) {
          return absl::InvalidArgumentError("options.checkpoint_every must be an integer");
        }
      } else {
        return absl::InvalidArgumentError(
            rekey::StrCat("unknown option \"", std::string_view(key).substr(0, 64), "\""));
      }
    }
  }
  RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

AuditBroker::AuditBroker(storage::Store& store, const Clock& clock, Random& random,
                         std::string node)
    : store_(store), clock_(clock), random_(random), node_(std::move(node)) {}

AuditBroker::~AuditBroker() { CloseAll(); }

absl::StatusOr<std::unique_ptr<AuditLog>> AuditBroker::OpenLog(const DeviceConfig& config,
                                                               const DeviceKeys& keys,
                                                               std::unique_ptr<AuditSink> sink) {
  if (sink != nullptr) {
    // Given by a test.
  } else if (config.type == "file") {
    FileAuditSinkOptions options;
    options.fsync = config.fsync;
    options.fsync_interval = config.fsync_interval;
    options.max_file_bytes = config.max_file_bytes;
    ASSIGN_OR_RETURN(sink, FileAuditSink::Open(config.path, options, clock_));
  } else {
    sink = std::make_unique<StdoutAuditSink>();
  }
  AuditLogOptions options;
  options.device = config.name;
  options.node = node_;
  options.checkpoint_every = config.checkpoint_every;
  // Without an fsync per batch, writing on the recording thread is cheaper than handing over.
  options.lead_async_inline = config.type == "stdout" || config.fsync != FsyncPolicy::kEveryBatch;
  return AuditLog::Open(options, keys, std::move(sink), clock_);
}

absl::Status AuditBroker::Load() {
  ASSIGN_OR_RETURN(std::vector<storage::Record> records, store_.Scan(kDevicePrefix, "", 0));
  for (const storage::Record& r : records) {
    boost::system::error_code ec;
    json::value v =
        json::parse(json::string_view(r.value.Reveal().data(), r.value.Reveal().size()), ec);
    if (ec || !v.is_object()) {
      return absl::DataLossError(rekey::StrCat("stored audit device ", r.key, " is malformed"));
    }
    json::object& o = v.get_object();
    DeviceConfig c;
    auto str = [&](std::string_view k) {
      const json::value* f = o.if_contains(k);
      return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
    };
    auto num = [&](std::string_view k) -> uint64_t {
      const json::value* f = o.if_contains(k);
      if (f == nullptr) return 0;
      return f->is_uint64() ? f->get_uint64() : f->is_int64() ? f->get_int64() : 0;
    };
    c.name = str("name");
    c.type = str("type");
    c.path = str("path");
    ASSIGN_OR_RETURN(c.fsync, ParseFsync(str("fsync")));
    c.fsync_interval = absl::Milliseconds(num("fsync_interval_ms"));
    c.max_file_bytes = num("max_file_bytes");
    c.checkpoint_every = num("checkpoint_every");
    std::string keys_text = str("keys");
    absl::StatusOr<DeviceKeys> keys = DeviceKeys::Decode(SecretBytes::TakeFrom(keys_text));
    if (json::value* k = o.if_contains("keys"); k != nullptr && k->is_string()) {
      SecureWipe(k->get_string().data(), k->get_string().size());
    }
    if (!keys.ok()) {
      return absl::DataLossError(
          rekey::StrCat("stored keys of audit device ", c.name, " are malformed"));
    }
    auto device = std::make_shared<Device>();
    device->config = std::move(c);
    device->keys = std::move(*keys);
    absl::StatusOr<std::unique_ptr<AuditLog>> log = OpenLog(device->config, device->keys);
    if (log.ok()) {
      device->log = std::move(*log);
    } else {
      // Still enabled: requests fail closed until the device can be opened.
      spdlog::error("audit device {} cannot be opened: {}; requests fail until it can",
                    device->config.name, ToStd(log.status().message()));
      device->next_open = clock_.Now() + absl::Seconds(1);
    }
    std::unique_lock lock(mu_);
    devices_[device->config.name] = std::move(device);
  }
  return absl::OkStatus();
}

absl::Status AuditBroker::Enable(const DeviceConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  // One enable or disable at a time: two concurrent enables of one name or file would both open
  // the file and fork its chain.
  std::lock_guard<std::mutex> admin(admin_mu_);
  {
    std::shared_lock lock(mu_);
    if (devices_.contains(config.name)) {
      return absl::AlreadyExistsError(
          rekey::StrCat("audit device \"", config.name, "\" is already enabled"));
    }
    for (const auto& [name, d] : devices_) {
      if (config.type == "file" && d->config.path == config.path) {
        return absl::AlreadyExistsError(
            rekey::StrCat("audit device \"", name, "\" already writes ", config.path));
      }
    }
  }
  DeviceKeys keys = DeviceKeys::Generate(random_);
  ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log, OpenLog(config, keys));
  storage::WriteBatch batch;
  SecretBytes record;
  EncodeDevice(config, keys, record);
  const std::string key = rekey::StrCat(kDevicePrefix, config.name);
  batch.ExpectModIndex(key, 0);
  batch.Put(key, std::move(record));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  auto device = std::make_shared<Device>();
  device->config = config;
  device->keys = std::move(keys);
  device->log = std::move(log);
  std::unique_lock lock(mu_);
  devices_[config.name] = std::move(device);
  return absl::OkStatus();
}

std::shared_ptr<AuditLog> AuditBroker::LogOf(Device& device) {
  std::lock_guard<std::mutex> lock(device.mu);
  if (device.log != nullptr) return device.log;
  const absl::Time now = clock_.Now();
  if (now < device.next_open) return nullptr;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = OpenLog(device.config, device.keys);
  if (!log.ok()) {
    device.next_open = now + absl::Seconds(1);
    return nullptr;
  }
  spdlog::info("audit device {} is open again", device.config.name);
  device.log = std::move(*log);
  return device.log;
}

absl::Status AuditBroker::Disable(std::string_view name) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  std::shared_ptr<Device> device;
  {
    std::shared_lock lock(mu_);
    auto it = devices_.find(std::string(name));
    if (it == devices_.end()) {
      return absl::NotFoundError(rekey::StrCat("no audit device \"", name, "\""));
    }
    device = it->second;
  }
  // Forget it in the store first: if that fails, the device stays enabled and recording.
  storage::WriteBatch batch;
  batch.Delete(rekey::StrCat(kDevicePrefix, name));
  RETURN_IF_ERROR(store_.Commit(batch).status());
  {
    std::unique_lock lock(mu_);
    devices_.erase(std::string(name));
  }
  std::lock_guard<std::mutex> device_lock(device->mu);
  if (device->log != nullptr) (void)device->log->Close();
  return absl::OkStatus();
}

std::vector<DeviceInfo> AuditBroker::List() {
  std::vector<DeviceInfo> out;
  std::shared_lock lock(mu_);
  for (const auto& [name, d] : devices_) {
    DeviceInfo info;
    info.config = d->config;
    info.device_id = d->keys.device_id;
    if (absl::StatusOr<std::string> key = d->keys.PublicKey(); key.ok()) {
      info.public_key = PublicKeyToBase64(*key);
    }
    std::shared_ptr<AuditLog> log = LogOf(*d);
    info.healthy = log != nullptr && log->healthy();
    if (log != nullptr) info.head = log->Head();
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::string> AuditBroker::Fingerprint(std::string_view device,
                                                     std::string_view value) const {
  std::shared_lock lock(mu_);
  auto it = devices_.find(std::string(device));
  if (it == devices_.end()) {
    return absl::NotFoundError(rekey::StrCat("no audit device \"", device, "\""));
  }
  std::lock_guard<std::mutex> device_lock(it->second->mu);
  if (it->second->log == nullptr) {
    return absl::UnavailableError(rekey::StrCat("audit device \"", device, "\" is not open"));
  }
  return it->second->log->Fingerprint(value);
}

bool AuditBroker::enabled() const {
  std::shared_lock lock(mu_);
  return !devices_.empty();
}

void AuditBroker::Record(const AuditEntry& entry, std::function<void(absl::Status)> done) {
  std::vector<std::shared_ptr<Device>> devices;
  {
    std::shared_lock lock(mu_);
    if (closed_) {
      done(absl::UnavailableError("audit is closed: the server is shutting down"));
      return;
    }
    for (const auto& [name, d] : devices_) devices.push_back(d);
  }
  if (devices.empty()) {
    done(absl::OkStatus());
    return;
  }
  // The dashboard's ring keeps responses and events (requests add nothing a response lacks).
  const bool remember = entry.type != EntryType::kRequest;
  if (devices.size() == 1) {
    std::shared_ptr<AuditLog> log = LogOf(*devices.front());
    if (log == nullptr) {
      done(absl::UnavailableError("no audit device could record the request"));
      return;
    }
    if (!remember) {
      log->AppendAsync(entry, [done = std::move(done)](absl::Status s) {
        done(s.ok() ? s : absl::UnavailableError("no audit device could record the request"));
      });
      return;
    }
    log->AppendAsync(
        entry, [this, summary = Summarize(entry), done = std::move(done)](absl::Status s) mutable {
          if (s.ok()) Remember(std::move(summary));
          done(s.ok() ? s : absl::UnavailableError("no audit device could record the request"));
        });
    return;
  }
  struct Fanout {
    std::atomic<size_t> left;
    std::atomic<bool> any_ok{false};
    bool remember = false;
    EntrySummary summary;
    std::function<void(absl::Status)> done;
  };
  auto fanout = std::make_shared<Fanout>();
  fanout->left = devices.size();
  fanout->remember = remember;
  if (remember) fanout->summary = Summarize(entry);
  fanout->done = std::move(done);
  auto one_done = [this, fanout](absl::Status s) {
    if (s.ok()) fanout->any_ok = true;
    if (fanout->left.fetch_sub(1) != 1) return;
    if (fanout->any_ok && fanout->remember) Remember(std::move(fanout->summary));
    fanout->done(fanout->any_ok
                     ? absl::OkStatus()
                     : absl::UnavailableError("no audit device could record the request"));
  };
  for (const std::shared_ptr<Device>& d : devices) {
    std::shared_ptr<AuditLog> log = LogOf(*d);
    if (log == nullptr) {
      one_done(absl::UnavailableError("audit device is not open"));
      continue;
    }
    // The callback must not own the log: the last reference to an AuditLog released on its own
    // writer thread would destroy it from inside that thread.
    log->AppendAsync(entry, [one_done](absl::Status s) { one_done(std::move(s)); });
  }
}

absl::Status AuditBroker::RecordSync(const AuditEntry& entry) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<absl::Status> result;
  Record(entry, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(s);
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

EntrySummary AuditBroker::Summarize(const AuditEntry& entry) const {
  EntrySummary s;
  s.time = entry.time == absl::InfinitePast() ? clock_.Now() : entry.time;
  s.type = std::string(EntryTypeName(entry.type));
  s.operation = entry.operation;
  s.path = entry.path;
  s.status = entry.status;
  s.error = entry.error;
  s.request_id = entry.request_id;
  s.remote_addr = entry.actor.remote_addr;
  return s;
}

void AuditBroker::Remember(EntrySummary s) {
  std::lock_guard<std::mutex> lock(recent_mu_);
  s.seq = ++recent_seq_;
  recent_.push_back(std::move(s));
  if (recent_.size() > kRecentKept) recent_.pop_front();
}

std::vector<EntrySummary> AuditBroker::Recent(uint64_t after, size_t limit) const {
  std::vector<EntrySummary> out;
  std::lock_guard<std::mutex> lock(recent_mu_);
  for (const EntrySummary& s : recent_) {
    if (s.seq <= after) continue;
    out.push_back(s);
    if (out.size() >= limit) break;
  }
  return out;
}

absl::Status AuditBroker::EnableWithSinkForTest(const DeviceConfig& config,
                                                std::unique_ptr<AuditSink> sink) {
  RETURN_IF_ERROR(ValidateConfig(config));
  DeviceKeys keys = DeviceKeys::Generate(random_);
  ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log, OpenLog(config, keys, std::move(sink)));
  auto device = std::make_shared<Device>();
  device->config = config;
  device->keys = std::move(keys);
  device->log = std::move(log);
  std::unique_lock lock(mu_);
  devices_[config.name] = std::move(device);
  return absl::OkStatus();
}

void AuditBroker::CloseAll() {
  std::map<std::string, std::shared_ptr<Device>> devices;
  {
    std::unique_lock lock(mu_);
    closed_ = true;
    devices.swap(devices_);
  }
  for (auto& [name, d] : devices) {
    std::lock_guard<std::mutex> lock(d->mu);
    if (d->log != nullptr) (void)d->log->Close();
  }
}

}  // namespace rekey::audit
