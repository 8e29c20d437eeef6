// The audit field allow-list: every field name that can appear in an audit line, declared once,
// either safe (written as is) or sensitive (written only as "hmac-sha256:<hex>" under the audit
// device's HMAC key). A name that is not declared cannot be put in an entry.
#ifndef REKEY_AUDIT_FIELDS_H_
#define REKEY_AUDIT_FIELDS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace rekey::audit {

enum class FieldClass {
  kSafe,       // metadata: written as is
  kSensitive,  // values, tokens, keys, bodies: written only as an HMAC fingerprint
};

enum class FieldScope {
  kEnvelope,  // the fixed keys of a line and of its "actor" object (set through typed members)
  kData,      // keys inside the "data" object, at any depth
};

struct FieldSpec {
  std::string_view name;
  FieldScope scope;
  FieldClass field_class;
};

// The table, envelope fields first. Immutable; thread-safe.
absl::Span<const FieldSpec> AuditFieldTable();

// The class of data field `name`: kInvalidArgument("audit field \"<name>\" is not declared ...")
// when it is not in the table.
absl::StatusOr<FieldClass> ClassifyDataField(std::string_view name);

// True if `name` is a declared envelope field.
bool IsEnvelopeField(std::string_view name);

}  // namespace rekey::audit

#endif  // REKEY_AUDIT_FIELDS_H_
