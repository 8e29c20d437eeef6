#include "rotators/http/step_protocol.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::rotators::step_protocol {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;
using rotation::VersionView;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

void AddProblem(std::vector<Problem>* problems, std::string_view name, std::string_view message) {
  problems->push_back({rekey::StrCat("params.", name), std::string(message)});
}

// Zeroes every string (and key) held in `v` before it is freed.
void Wipe(json::value& v);
void Wipe(json::object& o) {
  for (auto& kv : o) Wipe(kv.value());
}
void Wipe(json::value& v) {
  if (v.is_string()) {
    json::string& s = v.as_string();
    SecureZero(s.data(), s.size());
  } else if (v.is_object()) {
    Wipe(v.as_object());
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) Wipe(e);
  }
}

// Serializes `o` into SecretBytes and wipes both the object and the intermediate string.
SecretBytes SerializeAndWipe(json::object& o) {
  std::string text = json::serialize(o);
  Wipe(o);
  return SecretBytes::TakeFrom(text);
}

// The version's value as a JSON object; kFailedPrecondition naming `which` when unreadable or
// not an object.
absl::StatusOr<json::object> ParseVersionValue(const VersionView& version, std::string_view which,
                                               std::string_view path) {
  if (!version.value.has_value()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("the ", which, " version of ", path, " has no readable value"));
  }
  json::error_code ec;
  json::value v = json::parse(J(version.value->Reveal()), ec);
  if (ec || !v.is_object()) {
    Wipe(v);
    return absl::FailedPreconditionError(
        rekey::StrCat("the ", which, " value of ", path, " is not a JSON object"));
  }
  return std::move(v.as_object());
}

bool IsStateKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxStateKeyChars) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

Answer::~Answer() {
  if (value.has_value()) Wipe(*value);
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kCheck:
      return "check";
    case Action::kCreate:
      return "create";
    case Action::kSet:
      return "set";
    case Action::kTest:
      return "test";
    case Action::kFinish:
      return "finish";
    case Action::kRevoke:
      return "revoke";
    case Action::kRollback:
      return "rollback";
  }
  return "unknown";
}

Action ActionFor(rotation::Step step) {
  switch (step) {
    case rotation::Step::kCreate:
      return Action::kCreate;
    case rotation::Step::kSet:
      return Action::kSet;
    case rotation::Step::kTest:
      return Action::kTest;
    case rotation::Step::kFinish:
      return Action::kFinish;
    case rotation::Step::kRevoke:
      return Action::kRevoke;
    case rotation::Step::kRollback:
      return Action::kRollback;
  }
  return Action::kCheck;
}

ValueOptions ParseValueOptions(const boost::json::object& params, std::vector<Problem>* problems) {
  ValueOptions options;
  if (const json::value* v = params.if_contains("field")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string().size() > 128) {
      AddProblem(problems, "field", "must be a non-empty string of at most 128 characters");
    } else {
      options.field = std::string(S(v->as_string()));
    }
  }
  options.merge = ParseBoolParam(params, "merge", true, problems);
  if (const json::value* v = params.if_contains("value_source")) {
    if (v->is_string() && v->as_string() == "provider") {
      options.source = ValueSource::kProvider;
    } else if (v->is_string() && v->as_string() == "rekey") {
      options.source = ValueSource::kRekey;
    } else {
      AddProblem(problems, "value_source", "must be \"provider\" or \"rekey\"");
    }
  }
  return options;
}

void CheckKnownParams(const boost::json::object& params,
                      std::initializer_list<std::string_view> known,
                      std::vector<Problem>* problems) {
  for (const auto& kv : params) {
    const std::string_view key = S(kv.key());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      AddProblem(problems, SafeMessage(key), "unknown parameter");
    }
  }
}

absl::Duration ParseDurationParam(const boost::json::object& params, std::string_view name,
                                  absl::Duration fallback, absl::Duration min, absl::Duration max,
                                  std::vector<Problem>* problems) {
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) return fallback;
  absl::Duration d;
  const std::string range =
      rekey::StrCat("must be a duration such as \"10s\" or \"500ms\" from ",
                    absl::FormatDuration(min), " to ", absl::FormatDuration(max));
  if (!v->is_string() ||
      !absl::ParseDuration(absl::string_view(v->as_string().data(), v->as_string().size()), &d) ||
      d < min || d > max) {
    AddProblem(problems, name, range);
    return fallback;
  }
  return d;
}

bool ParseBoolParam(const boost::json::object& params, std::string_view name, bool fallback,
                    std::vector<Problem>* problems) {
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) return fallback;
  if (!v->is_bool()) {
    AddProblem(problems, name, "must be true or false");
    return fallback;
  }
  return v->as_bool();
}

std::string IdempotencyKey(Action action, const StepContext& ctx) {
  return rekey::StrCat(ctx.run_id(), ":", ActionName(action), ":", ctx.attempt());
}

absl::StatusOr<SecretBytes> BuildRequest(Action action, StepContext& ctx,
                                         const ValueOptions& options) {
  json::object doc;
  doc["protocol"] = kProtocolVersion;
  doc["step"] = J(ActionName(action));
  doc["dry_run"] = action == Action::kCheck || ctx.dry_run();
  doc["secret"] = J(ctx.path());
  doc["run_id"] = J(ctx.run_id());
  doc["attempt"] = ctx.attempt();
  doc["idempotency_key"] = J(IdempotencyKey(action, ctx));
  doc["field"] = J(options.field);
  doc["value_source"] = options.source == ValueSource::kRekey ? "rekey" : "provider";
  json::object state;
  for (const auto& [key, value] : ctx.state()) state[key] = value;
  doc["state"] = std::move(state);

  // set and rollback also get the current value: a single-user target may need it to
  // authenticate the change, and rolling back there means putting the current value back.
  const bool send_current = action == Action::kCheck || action == Action::kCreate ||
                            action == Action::kSet || action == Action::kRollback;
  const bool send_pending =
      action == Action::kSet || action == Action::kTest || action == Action::kRollback;
  const bool send_previous = action == Action::kRevoke;
  auto version = [&](const std::optional<VersionView>& v, std::string_view which,
                     bool with_value) -> absl::StatusOr<json::value> {
    if (!v.has_value()) return json::value(nullptr);
    json::object out;
    out["version"] = v->number;
    out["version_id"] = J(v->id);
    if (with_value) {
      if (v->value.has_value()) {
        ASSIGN_OR_RETURN(json::object value, ParseVersionValue(*v, which, ctx.path()));
        out["value"] = std::move(value);
      } else {
        out["value"] = nullptr;
      }
    }
    return json::value(std::move(out));
  };
  absl::Status status;
  for (auto [v, which, with_value] :
       {std::make_tuple(&ctx.current(), "current", send_current),
        std::make_tuple(&ctx.pending(), "pending", send_pending),
        std::make_tuple(&ctx.previous(), "previous", send_previous)}) {
    absl::StatusOr<json::value> jv = version(*v, which, with_value);
    if (!jv.ok()) {
      Wipe(doc);
      return jv.status();
    }
    doc[which] = std::move(*jv);
  }
  return SerializeAndWipe(doc);
}

absl::StatusOr<Answer> ParseAnswer(std::string_view text, std::string_view who) {
  if (text.size() > kMaxAnswerBytes) {
    return absl::InternalError(
        rekey::StrCat(who, " answered with more than ", kMaxAnswerBytes >> 20, " MiB"));
  }
  Answer answer;
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); })) {
    return answer;
  }
  json::error_code ec;
  json::value v = json::parse(J(text), ec);
  if (ec || !v.is_object()) {
    Wipe(v);
    return absl::InternalError(
        rekey::StrCat(who, " answered with something that is not a JSON object"));
  }
  json::object& obj = v.as_object();
  auto bad = [&](std::string_view what) {
    Wipe(obj);
    return absl::InternalError(rekey::StrCat(who, " answered with an invalid document: ", what));
  };
  if (json::value* value = obj.if_contains("value"); value != nullptr && !value->is_null()) {
    if (!value->is_object()) return bad("\"value\" is not an object");
    for (const auto& kv : value->as_object()) {
      if (kv.key().empty()) return bad("\"value\" has an empty member name");
      if (!kv.value().is_string()) {
        return bad(rekey::StrCat("value.", SafeMessage(S(kv.key())), " is not a string"));
      }
    }
    answer.value = std::move(value->as_object());
  }
  if (json::value* state = obj.if_contains("state"); state != nullptr && !state->is_null()) {
    if (!state->is_object()) return bad("\"state\" is not an object");
    for (const auto& kv : state->as_object()) {
      const std::string_view key = S(kv.key());
      if (!IsStateKey(key)) {
        return bad(rekey::StrCat("state key \"", SafeMessage(key),
                                 "\" must be 1-64 characters of [A-Za-z0-9._-]"));
      }
      if (kv.value().is_null()) {
        answer.state.emplace_back(std::string(key), std::nullopt);
      } else if (kv.value().is_string() && kv.value().as_string().size() <= kMaxStateValueChars) {
        answer.state.emplace_back(std::string(key), std::string(S(kv.value().as_string())));
      } else {
        return bad(rekey::StrCat("state.", key, " must be null or a string of at most ",
                                 kMaxStateValueChars, " characters"));
      }
    }
  }
  if (const json::value* message = obj.if_contains("message");
      message != nullptr && message->is_string()) {
    answer.message = SafeMessage(S(message->as_string()));
  }
  Wipe(obj);
  return answer;
}

std::string ErrorMessage(std::string_view text) {
  if (text.size() > kMaxAnswerBytes) return "";
  json::error_code ec;
  json::value v = json::parse(J(text), ec);
  std::string message;
  if (!ec && v.is_object()) {
    if (const json::value* m = v.as_object().if_contains("message");
        m != nullptr && m->is_string()) {
      message = SafeMessage(S(m->as_string()));
    }
  }
  Wipe(v);
  return message;
}

std::string SafeMessage(std::string_view message) {
  std::string out;
  const size_t n = std::min(message.size(), kMaxMessageChars);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(message[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (message.size() > kMaxMessageChars) out += "...";
  return out;
}

absl::Status ApplyState(const Answer& answer, StepContext& ctx, std::string_view who) {
  if (answer.state.empty()) return absl::OkStatus();
  std::map<std::string, std::string> next = ctx.state();
  std::vector<std::string> set;
  std::vector<std::string> erased;
  for (const auto& [key, value] : answer.state) {
    if (value.has_value()) {
      next[key] = *value;
      set.push_back(key);
    } else {
      next.erase(key);
      erased.push_back(key);
    }
  }
  if (next.size() > kMaxStateEntries) {
    return absl::InternalError(
        rekey::StrCat(who, " answered with a state of more than ", kMaxStateEntries, " entries"));
  }
  ctx.state() = std::move(next);
  std::string line = rekey::StrCat(who, ": state");
  if (!set.empty()) absl::StrAppend(&line, " set ", absl::StrJoin(set, ", "));
  if (!erased.empty()) absl::StrAppend(&line, " removed ", absl::StrJoin(erased, ", "));
  ctx.log().Info(line);
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> NewValueFromAnswer(Answer& answer, StepContext& ctx,
                                               const ValueOptions& options, std::string_view who) {
  if (!answer.value.has_value()) {
    return absl::InternalError(rekey::StrCat(who, " answered create without a \"value\" object"));
  }
  if (const json::value* key = answer.value->if_contains(J(options.field));
      key == nullptr || !key->is_string() || key->as_string().empty()) {
    return absl::InternalError(rekey::StrCat(who,
                                             " answered create with a value without a "
                                             "non-empty \"",
                                             options.field, "\""));
  }
  json::object out;
  std::optional<SecretBytes> current_key;
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    absl::StatusOr<json::object> current = ParseVersionValue(*ctx.current(), "current", ctx.path());
    if (current.ok()) {
      if (const json::value* k = current->if_contains(J(options.field));
          k != nullptr && k->is_string()) {
        current_key.emplace(S(k->as_string()));
      }
      if (options.merge) {
        out = std::move(*current);
      } else {
        Wipe(*current);
      }
    } else if (options.merge) {
      ctx.log().Warn(rekey::StrCat(current.status().message(), "; not merged into the new value"));
    }
  }
  for (auto& kv : *answer.value) out[kv.key()] = kv.value();
  Wipe(*answer.value);
  const json::value* key = out.if_contains(J(options.field));
  if (current_key.has_value() && *current_key == SecretBytes(S(key->as_string()))) {
    Wipe(out);
    return absl::FailedPreconditionError(
        rekey::StrCat(who, " answered create with the current ", options.field, " again"));
  }
  SecretBytes value = SerializeAndWipe(out);
  if (value.size() > kMaxValueBytes) {
    return absl::InternalError(rekey::StrCat(who, " answered create with a value larger than ",
                                             kMaxValueBytes >> 10, " KiB"));
  }
  return value;
}

absl::StatusOr<SecretBytes> GenerateNewValue(StepContext& ctx, const ValueOptions& options) {
  json::object out;
  if (options.merge && ctx.current().has_value() && ctx.current()->value.has_value()) {
    absl::StatusOr<json::object> current = ParseVersionValue(*ctx.current(), "current", ctx.path());
    if (current.ok()) {
      out = std::move(*current);
    } else {
      ctx.log().Warn(rekey::StrCat(current.status().message(), "; not merged into the new value"));
    }
  }
  ASSIGN_OR_RETURN(SecretBytes key, ctx.Generate());
  if (json::value* old = out.if_contains(J(options.field)); old != nullptr) Wipe(*old);
  out[J(options.field)] = J(key.Reveal());
  return SerializeAndWipe(out);
}

absl::StatusOr<SecretBytes> FieldOf(const std::optional<VersionView>& version,
                                    std::string_view which, std::string_view field) {
  if (!version.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat("there is no ", which, " version"));
  }
  ASSIGN_OR_RETURN(json::object value, ParseVersionValue(*version, which, "the secret"));
  const json::value* v = value.if_contains(J(field));
  absl::StatusOr<SecretBytes> out;
  if (v == nullptr || !v->is_string() || v->as_string().empty()) {
    out = absl::FailedPreconditionError(
        rekey::StrCat("the ", which, " value has no non-empty \"", field, "\""));
  } else {
    out = SecretBytes(S(v->as_string()));
  }
  Wipe(value);
  return out;
}

}  // namespace rekey::rotators::step_protocol
