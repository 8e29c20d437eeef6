#include "audit/internal/records.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "audit/entry.h"
#include "audit/internal/line_format.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::audit::internal {
namespace json = boost::json;
namespace {

// Records hold no sensitive field, so this fingerprinter is never used.
const Fingerprinter& NoFingerprints() {
  static const Fingerprinter* fp = new Fingerprinter(SecretBytes());
  return *fp;
}

// Every Set below names a declared field with a valid value; failing is a broken invariant.
void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "FATAL: audit record: %s\n", s.ToString().c_str());
    std::abort();
  }
}

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(std::string(what)); }

struct Parsed {
  json::value root;
  absl::Time time;
  std::string node;
  const json::object* data = nullptr;
};

absl::StatusOr<Parsed> ParseCommon(std::string_view line) {
  Parsed p;
  json::error_code ec;
  p.root = json::parse(json::string_view(line.data(), line.size()), ec);
  if (ec || !p.root.is_object()) return Bad("not a JSON object");
  const json::object& obj = p.root.get_object();
  const json::value* time = obj.if_contains("time");
  const json::value* node = obj.if_contains("node");
  const json::value* data = obj.if_contains("data");
  if (time == nullptr || !time->is_string()) return Bad("missing time");
  if (node == nullptr || !node->is_string()) return Bad("missing node");
  if (data == nullptr || !data->is_object()) return Bad("missing data");
  const json::string& t = time->get_string();
  ASSIGN_OR_RETURN(p.time, ParseAuditTime(std::string_view(t.data(), t.size())));
  p.node = std::string(node->get_string().data(), node->get_string().size());
  p.data = &data->get_object();
  return p;
}

absl::StatusOr<std::string> GetString(const json::object& data, const char* name) {
  const json::value* v = data.if_contains(name);
  if (v == nullptr || !v->is_string()) return Bad(StrCat("missing data.", name));
  return std::string(v->get_string().data(), v->get_string().size());
}

absl::StatusOr<int64_t> GetInt(const json::object& data, const char* name) {
  const json::value* v = data.if_contains(name);
  if (v == nullptr || !v->is_int64()) return Bad(StrCat("missing data.", name));
  return v->get_int64();
}

}  // namespace

std::string OpenBody(const OpenRecord& r) {
  AuditEntry e(EntryType::kOpen);
  Check(e.SetString("device", r.device));
  Check(e.SetString("device_id", r.device_id));
  Check(e.SetString("public_key", r.public_key));
  Check(e.SetString("reason", r.reason));
  if (r.previous_closed.has_value()) Check(e.SetBool("previous_closed", *r.previous_closed));
  if (r.truncated_bytes != 0) Check(e.SetInt("truncated_bytes", r.truncated_bytes));
  return SerializeBody(e, r.time, r.node, NoFingerprints());
}

std::string CheckpointBody(const CheckpointRecord& r) {
  AuditEntry e(EntryType::kCheckpoint);
  Check(e.SetInt("count", r.count));
  Check(e.SetString("last_hash", r.last_hash));
  Check(e.SetString("reason", r.reason));
  Check(e.SetString("signature", r.signature));
  return SerializeBody(e, r.time, r.node, NoFingerprints());
}

absl::StatusOr<OpenRecord> ParseOpenLine(std::string_view line) {
  ASSIGN_OR_RETURN(Parsed p, ParseCommon(line));
  OpenRecord r;
  r.time = p.time;
  r.node = std::move(p.node);
  ASSIGN_OR_RETURN(r.device, GetString(*p.data, "device"));
  ASSIGN_OR_RETURN(r.device_id, GetString(*p.data, "device_id"));
  ASSIGN_OR_RETURN(r.public_key, GetString(*p.data, "public_key"));
  ASSIGN_OR_RETURN(r.reason, GetString(*p.data, "reason"));
  if (const json::value* v = p.data->if_contains("previous_closed")) {
    if (!v->is_bool()) return Bad("malformed data.previous_closed");
    r.previous_closed = v->get_bool();
  }
  if (p.data->contains("truncated_bytes")) {
    ASSIGN_OR_RETURN(r.truncated_bytes, GetInt(*p.data, "truncated_bytes"));
  }
  return r;
}

absl::StatusOr<CheckpointRecord> ParseCheckpointLine(std::string_view line) {
  ASSIGN_OR_RETURN(Parsed p, ParseCommon(line));
  CheckpointRecord r;
  r.time = p.time;
  r.node = std::move(p.node);
  ASSIGN_OR_RETURN(r.count, GetInt(*p.data, "count"));
  ASSIGN_OR_RETURN(r.last_hash, GetString(*p.data, "last_hash"));
  ASSIGN_OR_RETURN(r.reason, GetString(*p.data, "reason"));
  ASSIGN_OR_RETURN(r.signature, GetString(*p.data, "signature"));
  return r;
}

}  // namespace rekey::audit::internal
