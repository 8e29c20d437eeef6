// Helpers for audit tests: deterministic device keys and a log on an in-memory sink.
#ifndef REKEY_AUDIT_TESTING_TEST_LOG_H_
#define REKEY_AUDIT_TESTING_TEST_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "audit/device_keys.h"
#include "audit/testing/fault_sink.h"
#include "core/clock.h"
#include "core/random.h"

namespace rekey::audit::testing {

inline DeviceKeys TestKeys(uint64_t seed = 7) {
  FakeRandom random(seed);
  return DeviceKeys::Generate(random);
}

inline AuditLogOptions TestOptions(uint64_t checkpoint_every = 1000) {
  AuditLogOptions options;
  options.device = "file";
  options.node = "node-1";
  options.checkpoint_every = checkpoint_every;
  return options;
}

// An AuditLog writing to `state`.
inline absl::StatusOr<std::unique_ptr<AuditLog>> OpenMemoryLog(
    std::shared_ptr<MemorySinkState> state, const DeviceKeys& keys, const Clock& clock,
    AuditLogOptions options = TestOptions()) {
  return AuditLog::Open(std::move(options), keys, std::make_unique<MemoryAuditSink>(state), clock);
}

// A typical request entry.
inline AuditEntry RequestEntry(int i) {
  AuditEntry e(EntryType::kRequest);
  e.actor.accessor = "accessor-abc";
  e.actor.policies = {"default", "app"};
  e.actor.remote_addr = "127.0.0.1:5000";
  e.operation = "read";
  e.path = "secret/data/app/db" + std::to_string(i % 100);
  e.request_id = "req-" + std::to_string(i);
  return e;
}

}  // namespace rekey::audit::testing

#endif  // REKEY_AUDIT_TESTING_TEST_LOG_H_
