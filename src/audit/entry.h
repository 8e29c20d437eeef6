// AuditEntry: one record of the audit trail (a request, a response or an engine event) before it
// is chained and written. Data fields are checked against the allow-list (audit/fields.h) when
// they are set, so an entry holding an undeclared field cannot exist; sensitive values are kept
// as SecretBytes and only ever written as HMAC fingerprints by the audit device.
#ifndef REKEY_AUDIT_ENTRY_H_
#define REKEY_AUDIT_ENTRY_H_

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"

namespace rekey::audit {

enum class EntryType {
  kRequest,
  kResponse,
  kEvent,
  kCheckpoint,  // written by AuditLog only
  kOpen,        // written by AuditLog only: the first entry of a file or of a run
};

// "request", "response", "event", "checkpoint", "open".
std::string_view EntryTypeName(EntryType type);

// Who made the request.
struct Actor {
  std::string accessor;  // the token's raw accessor: written only as "accessor_hmac"
  std::vector<std::string> policies;
  std::string remote_addr;  // "ip:port"
};

// Copyable; not thread-safe for concurrent mutation. Empty strings and a zero status are not
// written.
class AuditEntry {
 public:
  AuditEntry() = default;
  explicit AuditEntry(EntryType type) : type(type) {}

  EntryType type = EntryType::kEvent;
  absl::Time time = absl::InfinitePast();  // InfinitePast: stamped by AuditLog::Append
  Actor actor;
  std::string operation;  // e.g. "read", "update", "rotation.step"
  std::string path;       // e.g. "secret/data/app/db"
  int status = 0;         // HTTP status of a response
  std::string error;      // error text; by the project's rules it never holds a secret
  std::string request_id;

  // Sets data field `field` (replacing an earlier value) to `value`. Safe fields keep their
  // value; the keys of objects inside them are themselves checked against the table (sensitive
  // ones are fingerprinted, undeclared ones are an error). A sensitive field keeps the bytes of a
  // string value, or the JSON text of any other value, to be fingerprinted.
  // kInvalidArgument if `field` (or a nested key) is not declared, or nesting exceeds 32 levels.
  absl::Status Set(std::string_view field, const boost::json::value& value);
  absl::Status SetString(std::string_view field, std::string_view value);
  absl::Status SetInt(std::string_view field, int64_t value);
  absl::Status SetBool(std::string_view field, bool value);
  // Sets a sensitive field to the fingerprint of `value`. kInvalidArgument if `field` is not
  // declared or is declared safe.
  absl::Status SetSecret(std::string_view field, const SecretBytes& value);

  // Records an untrusted request body: declared fields as Set() would (a safe field holding an
  // undeclared nested key is fingerprinted whole instead of failing), and all undeclared fields
  // together, fingerprinted, as "unlisted_fields". Never fails on the body's content.
  absl::Status SetRequestFields(const boost::json::object& body);

  // Internal representation of a data value, read by the serializer.
  struct Node {
    enum class Kind { kScalar, kSecret, kObject, kArray };
    Kind kind = Kind::kScalar;
    std::string scalar_json;         // kScalar: the JSON text, e.g. "\"abc\"", "12", "true"
    SecretBytes secret;              // kSecret: the bytes to fingerprint
    std::vector<std::string> names;  // kObject: sorted member names
    std::vector<Node> values;        // kObject: member values; kArray: items
  };
  const std::vector<std::string>& data_names() const { return data_names_; }
  const std::vector<Node>& data_values() const { return data_values_; }

 private:
  void Put(std::string_view field, Node node);

  std::vector<std::string> data_names_;  // sorted
  std::vector<Node> data_values_;
};

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_ENTRY_H_
