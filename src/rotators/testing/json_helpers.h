// JSON helpers the database rotators' tests share: building credential values and reading
// fields and problems back.
#ifndef REKEY_ROTATORS_TESTING_JSON_HELPERS_H_
#define REKEY_ROTATORS_TESTING_JSON_HELPERS_H_

#include <boost/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_bytes.h"
#include "rotation/rotator.h"

namespace rekey::rotators::testing {

// The fields the problems name.
inline std::set<std::string> Fields(const std::vector<rotation::Problem>& problems) {
  std::set<std::string> out;
  for (const rotation::Problem& p : problems) out.insert(p.field);
  return out;
}

inline boost::json::object Obj(std::string_view text) {
  return boost::json::parse(boost::json::string_view(text.data(), text.size())).as_object();
}

// The string field `key` of a JSON value, or "".
inline std::string Field(const SecretBytes& value, std::string_view key) {
  boost::json::object o = Obj(value.Reveal());
  const boost::json::value* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
}

// {"username": user, "password": password}
inline std::string Cred(std::string_view user, std::string_view password) {
  boost::json::object o;
  o["username"] = boost::json::string_view(user.data(), user.size());
  o["password"] = boost::json::string_view(password.data(), password.size());
  return boost::json::serialize(o);
}

}  // namespace rekey::rotators::testing

#endif  // REKEY_ROTATORS_TESTING_JSON_HELPERS_H_
