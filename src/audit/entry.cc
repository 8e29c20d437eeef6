#include "audit/entry.h"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "audit/fields.h"
#include "audit/internal/line_format.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::audit {
namespace json = boost::json;
namespace {

constexpr int kMaxDepth = 32;

std::string_view FromJson(json::string_view s) { return std::string_view(s.data(), s.size()); }

AuditEntry::Node SecretNode(std::string_view bytes) {
  AuditEntry::Node node;
  node.kind = AuditEntry::Node::Kind::kSecret;
  node.secret = SecretBytes(bytes);
  return node;
}

// The bytes a sensitive `value` is fingerprinted from: a string's own bytes, otherwise the JSON
// text.
AuditEntry::Node SecretNodeFromJson(const json::value& value) {
  if (value.is_string()) return SecretNode(FromJson(value.get_string()));
  std::string text = json::serialize(value);
  AuditEntry::Node node = SecretNode(text);
  SecureWipe(text);
  return node;
}

absl::StatusOr<AuditEntry::Node> SafeNode(std::string_view where, const json::value& value,
                                          int depth) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(StrCat("audit field ", where, ": nested too deeply"));
  }
  AuditEntry::Node node;
  switch (value.kind()) {
    case json::kind::string:
      node.scalar_json = internal::JsonQuote(FromJson(value.get_string()));
      return node;
    case json::kind::array:
      node.kind = AuditEntry::Node::Kind::kArray;
      for (const json::value& item : value.get_array()) {
        ASSIGN_OR_RETURN(AuditEntry::Node child, SafeNode(where, item, depth + 1));
        node.values.push_back(std::move(child));
      }
      return node;
    case json::kind::object: {
      node.kind = AuditEntry::Node::Kind::kObject;
      std::vector<std::pair<std::string, AuditEntry::Node>> members;
      for (const json::key_value_pair& kv : value.get_object()) {
        std::string_view key = FromJson(kv.key());
        ASSIGN_OR_RETURN(FieldClass cls, ClassifyDataField(key));
        std::string child_where = StrCat(where, ".", key);
        if (cls == FieldClass::kSensitive) {
          members.emplace_back(std::string(key), SecretNodeFromJson(kv.value()));
        } else {
          ASSIGN_OR_RETURN(AuditEntry::Node child, SafeNode(child_where, kv.value(), depth + 1));
          members.emplace_back(std::string(key), std::move(child));
        }
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [name, child] : members) {
        node.names.push_back(std::move(name));
        node.values.push_back(std::move(child));
      }
      return node;
    }
    default:  // numbers, bool, null
      node.scalar_json = json::serialize(value);
      return node;
  }
}

}  // namespace

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kRequest:
      return "request";
    case EntryType::kResponse:
      return "response";
    case EntryType::kEvent:
      return "event";
    case EntryType::kCheckpoint:
      return "checkpoint";
    case EntryType::kOpen:
      return "open";
  }
  return "event";
}

void AuditEntry::Put(std::string_view field, Node node) {
  auto it = std::lower_bound(data_names_.begin(), data_names_.end(), field);
  size_t index = it - data_names_.begin();
  if (it != data_names_.end() && *it == field) {
    data_values_[index] = std::move(node);
    return;
  }
  data_names_.insert(it, std::string(field));
  data_values_.insert(data_values_.begin() + index, std::move(node));
}

absl::Status AuditEntry::Set(std::string_view field, const json::value& value) {
  ASSIGN_OR_RETURN(FieldClass cls, ClassifyDataField(field));
  if (cls == FieldClass::kSensitive) {
    Put(field, SecretNodeFromJson(value));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Node node, SafeNode(field, value, 0));
  Put(field, std::move(node));
  return absl::OkStatus();
}

absl::Status AuditEntry::SetString(std::string_view field, std::string_view value) {
  ASSIGN_OR_RETURN(FieldClass cls, ClassifyDataField(field));
  if (cls == FieldClass::kSensitive) {
    Put(field, SecretNode(value));
    return absl::OkStatus();
  }
  Node node;
  node.scalar_json = internal::JsonQuote(value);
  Put(field, std::move(node));
  return absl::OkStatus();
}

absl::Status AuditEntry::SetInt(std::string_view field, int64_t value) {
  return Set(field, json::value(value));
}

absl::Status AuditEntry::SetBool(std::string_view field, bool value) {
  return Set(field, json::value(value));
}

absl::Status AuditEntry::SetSecret(std::string_view field, const SecretBytes& value) {
  ASSIGN_OR_RETURN(FieldClass cls, ClassifyDataField(field));
  if (cls != FieldClass::kSensitive) {
    return absl::InvalidArgumentError(
        StrCat("audit field \"", field, "\" is declared safe and cannot hold a secret"));
  }
  Node node;
  node.kind = Node::Kind::kSecret;
  node.secret = value;
  Put(field, std::move(node));
  return absl::OkStatus();
}

absl::Status AuditEntry::SetRequestFields(const json::object& body) {
  json::object unlisted;
  for (const json::key_value_pair& kv : body) {
    std::string_view key = FromJson(kv.key());
    absl::StatusOr<FieldClass> cls = ClassifyDataField(key);
    if (!cls.ok()) {
      unlisted.emplace(kv.key(), kv.value());
      continue;
    }
    if (*cls == FieldClass::kSensitive) {
      Put(key, SecretNodeFromJson(kv.value()));
      continue;
    }
    absl::StatusOr<Node> node = SafeNode(key, kv.value(), 0);
    Put(key, node.ok() ? *std::move(node) : SecretNodeFromJson(kv.value()));
  }
  if (!unlisted.empty())
    Put("unlisted_fields", SecretNodeFromJson(json::value(std::move(unlisted))));
  return absl::OkStatus();
}

}  // namespace rekey::audit
