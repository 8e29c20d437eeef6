// Lenient reads of Vault request fields (booleans as "true", numbers as strings, lists as
// comma-separated strings), recording "<field>: <problem>" for every bad one. Internal to
// src/pki/.
#ifndef REKEY_PKI_INTERNAL_JSON_FIELDS_H_
#define REKEY_PKI_INTERNAL_JSON_FIELDS_H_

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace rekey::pki::internal {

// Reads fields of `fields`; each reader leaves its output untouched when the field is absent or
// null, and records a problem (never quoting the value) when it has the wrong type.
class FieldReader {
 public:
  FieldReader(const boost::json::object& fields, std::vector<std::string>* problems)
      : fields_(fields), problems_(problems) {}

  void Problem(std::string_view field, std::string_view message);
  void Bool(std::string_view field, bool* out);
  void String(std::string_view field, std::string* out);
  // A non-negative integer up to 65536 (a JSON number or a string of digits).
  void Int(std::string_view field, int* out);
  // Seconds or a duration string (pki/ttl.h).
  void Duration(std::string_view field, absl::Duration* out);
  // A JSON array of strings or one comma-separated string (entries trimmed, empty ones
  // dropped); nullopt when absent or bad.
  std::optional<std::vector<std::string>> List(std::string_view field);
  bool Has(std::string_view field) const;

 private:
  const boost::json::object& fields_;
  std::vector<std::string>* problems_;
};

}  // namespace rekey::pki::internal

#endif  // REKEY_PKI_INTERNAL_JSON_FIELDS_H_
