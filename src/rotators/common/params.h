// What the rotators share: reading their params with every problem recorded, wiping parsed JSON
// that held secrets, and keeping values out of the error text of their client libraries.
#ifndef REKEY_ROTATORS_COMMON_PARAMS_H_
#define REKEY_ROTATORS_COMMON_PARAMS_H_

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rotation/rotator.h"

namespace rekey::rotators {

// Records the problem "params.<name>: <message>".
void AddProblem(std::vector<rotation::Problem>* problems, std::string_view name,
                std::string_view message);
// Records "unknown field" for every key of `params` that is not in `known`.
void RejectUnknownParams(const boost::json::object& params,
                         const std::vector<std::string_view>& known,
                         std::vector<rotation::Problem>* problems);
// params[name] as a string; nullopt when absent, or (with a problem recorded) not a string.
std::optional<std::string> StringParam(const boost::json::object& params, std::string_view name,
                                       std::vector<rotation::Problem>* problems);
// "host" (required, a name or address of at most 255 characters) into `host`, and "port" (1 to
// 65535, optional) into `port`.
void HostPortParams(const boost::json::object& params, std::vector<rotation::Problem>* problems,
                    std::string& host, int& port);
// params[name] as a list: a JSON array of strings or a comma-separated string (entries trimmed,
// empty ones dropped). At most `max_entries` entries (0 = no limit); a problem otherwise.
std::vector<std::string> ListParam(const boost::json::object& params, std::string_view name,
                                   std::vector<rotation::Problem>* problems,
                                   size_t max_entries = 0);
// params[name] as true/false into `out`, when present.
void BoolParam(const boost::json::object& params, std::string_view name,
               std::vector<rotation::Problem>* problems, bool& out);
// params[name] as a duration ("10s") from 1 s to 10 min into `out`, when present.
void TimeoutParam(const boost::json::object& params, std::string_view name,
                  std::vector<rotation::Problem>* problems, absl::Duration& out);
// Adds a Reference to `refs` when params[name] is a non-empty string: the policy path
// StrCat(prefix, value, suffix) with `capabilities`.
void AddReference(const boost::json::object& params, std::string_view name, std::string_view prefix,
                  std::string_view suffix, std::vector<std::string> capabilities,
                  std::vector<rotation::Reference>* refs);

// kInvalidArgument for the first of `problems` (a step's view of params that went bad), OK when
// there is none.
absl::Status FirstProblem(const std::vector<rotation::Problem>& problems);

// Zeroes every string inside `v` (a parsed value that held secrets) before it is freed.
void WipeJsonStrings(boost::json::value& v);

// A parsed JSON object whose strings are wiped when it goes away.
class WipedObject {
 public:
  WipedObject() : value_(boost::json::object()) {}
  ~WipedObject() { WipeJsonStrings(value_); }
  WipedObject(const WipedObject&) = delete;
  WipedObject& operator=(const WipedObject&) = delete;

  // kFailedPrecondition when `text` is not a JSON object; `what` names it in the message.
  absl::Status Parse(std::string_view text, std::string_view what);
  boost::json::object& object() { return value_.get_object(); }
  // The string at `key`, or "" when absent or not a string.
  std::string String(std::string_view key) const;

 private:
  boost::json::value value_;
};

// `text` with each non-empty string of `values` replaced by "[redacted]".
std::string RedactValues(std::string text, const std::vector<std::string_view>& values);
// `text` on one line (CR, LF and tab become spaces), cut to `max_chars`, trailing spaces dropped.
std::string OneLine(std::string_view text, size_t max_chars);

}  // namespace rekey::rotators

#endif  // REKEY_ROTATORS_COMMON_PARAMS_H_
