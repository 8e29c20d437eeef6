#include "rotation/config.h"

#include <boost/json.hpp>

#include "core/strings.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;

// Reads optional typed fields of one JSON object, recording a problem for each wrong one and
// for every key it was not asked about (unknown keys are typos, not extensions).
class FieldReader {
 public:
  FieldReader(const json::object& o, std::string prefix, std::vector<Problem>& problems)
      : o_(o), prefix_(std::move(prefix)), problems_(problems) {}

  const json::value* Get(std::string_view key) {
    seen_.emplace_back(key);
    return o_.if_contains(key);
  }
  void Bad(std::string_view key, std::string_view message) {
    problems_.push_back(Problem{rekey::StrCat(prefix_, key), std::string(message)});
  }
  void Str(std::string_view key, std::string& out) {
    if (const json::value* v = Get(key); v != nullptr) {
      if (v->is_string()) {
        out = std::string(v->get_string());
      } else {
        Bad(key, "must be a string");
      }
    }
  }
  void Bool(std::string_view key, bool& out) {
    if (const json::value* v = Get(key); v != nullptr) {
      if (v->is_bool()) {
        out = v->get_bool();
      } else {
        Bad(key, "must be true or false");
      }
    }
  }
  void Int(std::string_view key, int& out, int min, int max) {
    const json::value* v = Get(key);
    if (v == nullptr) return;
    int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= INT64_MAX) {
      n = static_cast<int64_t>(v->get_uint64());
    } else {
      return Bad(key, "must be an integer");
    }
    if (n < min || n > max) return Bad(key, rekey::StrCat("must be between ", min, " and ", max));
    out = static_cast<int>(n);
  }
  void Duration(std::string_view key, absl::Duration& out, absl::Duration min, absl::Duration max) {
    std::string text;
    const size_t before = problems_.size();
    Str(key, text);
    if (problems_.size() != before || text.empty()) return;
    absl::StatusOr<absl::Duration> d = ParseScheduleDuration(text);
    if (!d.ok()) return Bad(key, ToStd(d.status().message()));
    if (*d < min || *d > max) {
      return Bad(key, rekey::StrCat("must be between ", FormatScheduleDuration(min), " and ",
                                    FormatScheduleDuration(max)));
    }
    out = *d;
  }
  // Records every key that no Get asked about.
  void RejectUnknown() {
    for (const auto& [key, value] : o_) {
      std::string_view k(key.data(), key.size());
      if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) Bad(k, "unknown field");
    }
  }

 private:
  const json::object& o_;
  std::string prefix_;
  std::vector<Problem>& problems_;
  std::vector<std::string> seen_;
};

GeneratorSpec ParseGenerator(const json::object& o, std::vector<Problem>& problems) {
  GeneratorSpec spec;
  FieldReader r(o, "generator.", problems);
  std::string type = "password";
  r.Str("type", type);
  if (type == "password") {
    spec.type = GeneratorSpec::Type::kPassword;
    crypto::PasswordPolicy& p = spec.password;
    r.Int("length", p.length, 1, 4096);
    r.Str("exclude_characters", p.exclude_characters);
    r.Bool("exclude_numbers", p.exclude_numbers);
    r.Bool("exclude_punctuation", p.exclude_punctuation);
    r.Bool("exclude_uppercase", p.exclude_uppercase);
    r.Bool("exclude_lowercase", p.exclude_lowercase);
    r.Bool("include_space", p.include_space);
    r.Bool("require_each_included_type", p.require_each_included_type);
    if (absl::Status s = crypto::ValidatePasswordPolicy(p); !s.ok()) {
      problems.push_back(Problem{"generator", std::string(s.message())});
    }
  } else if (type == "api_key") {
    spec.type = GeneratorSpec::Type::kApiKey;
    r.Str("prefix", spec.api_key.prefix);
    r.Int("length", spec.api_key.length, 8, 512);
    std::string alphabet = "base62";
    r.Str("alphabet", alphabet);
    if (auto a = crypto::ParseApiKeyAlphabet(alphabet); a.ok()) {
      spec.api_key.alphabet = *a;
    } else {
      r.Bad("alphabet", "must be base62 or hex");
    }
    if (absl::Status s = crypto::ValidateApiKeyFormat(spec.api_key); !s.ok()) {
      problems.push_back(Problem{"generator", std::string(s.message())});
    }
  } else if (type == "bytes") {
    spec.type = GeneratorSpec::Type::kBytes;
    r.Int("length", spec.bytes, 1, 4096);
    std::string encoding = "base64url";
    r.Str("encoding", encoding);
    if (auto e = crypto::ParseByteEncoding(encoding); e.ok()) {
      spec.encoding = *e;
    } else {
      r.Bad("encoding", "must be hex, base64 or base64url");
    }
  } else if (type == "uuid") {
    spec.type = GeneratorSpec::Type::kUuid;
  } else {
    r.Bad("type", "must be password, api_key, bytes or uuid");
  }
  r.RejectUnknown();
  return spec;
}

json::object GeneratorToJson(const GeneratorSpec& spec) {
  json::object o;
  switch (spec.type) {
    case GeneratorSpec::Type::kPassword: {
      const crypto::PasswordPolicy& p = spec.password;
      o["type"] = "password";
      o["length"] = p.length;
      if (!p.exclude_characters.empty()) o["exclude_characters"] = p.exclude_characters;
      if (p.exclude_numbers) o["exclude_numbers"] = true;
      if (p.exclude_punctuation) o["exclude_punctuation"] = true;
      if (p.exclude_uppercase) o["exclude_uppercase"] = true;
      if (p.exclude_lowercase) o["exclude_lowercase"] = true;
      if (p.include_space) o["include_space"] = true;
      if (!p.require_each_included_type) o["require_each_included_type"] = false;
      break;
    }
    case GeneratorSpec::Type::kApiKey:
      o["type"] = "api_key";
      if (!spec.api_key.prefix.empty()) o["prefix"] = spec.api_key.prefix;
      o["length"] = spec.api_key.length;
      o["alphabet"] = std::string(crypto::ApiKeyAlphabetName(spec.api_key.alphabet));
      break;
    case GeneratorSpec::Type::kBytes:
      o["type"] = "bytes";
      o["length"] = spec.bytes;
      o["encoding"] = std::string(crypto::ByteEncodingName(spec.encoding));
      break;
    case GeneratorSpec::Type::kUuid:
      o["type"] = "uuid";
      break;
  }
  return o;
}

// The shortest gap between two occurrences of a recurring schedule (sampled over the next 64
// occurrences for a cron); nullopt for lifetime-based schedules.
std::optional<absl::Duration> MinInterval(const Schedule& schedule) {
  if (schedule.lifetime_based()) return std::nullopt;
  const absl::Time anchor = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  absl::Time t = schedule.NextOccurrenceAfter(anchor, anchor);
  std::optional<absl::Duration> shortest;
  for (int i = 0; i < 64 && t != absl::InfiniteFuture(); ++i) {
    absl::Time next = schedule.NextOccurrenceAfter(anchor, t);
    if (next == absl::InfiniteFuture()) break;
    if (!shortest.has_value() || next - t < *shortest) shortest = next - t;
    t = next;
  }
  return shortest;
}

}  // namespace

absl::StatusOr<SecretBytes> GeneratorSpec::Generate(Random& random) const {
  switch (type) {
    case Type::kPassword:
      return crypto::GeneratePassword(password, random);
    case Type::kApiKey:
      return crypto::GenerateApiKey(api_key, random);
    case Type::kBytes:
      return crypto::GenerateRandomBytes(static_cast<size_t>(bytes), encoding, random);
    case Type::kUuid:
      return SecretBytes(crypto::GenerateUuidV4(random));
  }
  return absl::InternalError("unknown generator type");
}

RotationConfig ParseRotationConfig(const json::object& o, const RotatorRegistry& registry,
                                   std::vector<Problem>& problems) {
  RotationConfig config;
  FieldReader r(o, "", problems);
  r.Str("rotator", config.rotator);
  const Rotator* rotator = nullptr;
  if (config.rotator.empty()) {
    r.Bad("rotator", rekey::StrCat(
                         "is required (one of: ",
                         [&] {
                           std::string names;
                           for (const std::string& n : registry.Names()) {
                             names += names.empty() ? n : rekey::StrCat(", ", n);
                           }
                           return names;
                         }(),
                         ")"));
  } else if (rotator = registry.Find(config.rotator); rotator == nullptr) {
    r.Bad("rotator", rekey::StrCat("unknown rotator \"", config.rotator.substr(0, 64), "\""));
  }
  if (const json::value* p = r.Get("params"); p != nullptr) {
    if (p->is_object()) {
      config.params = p->get_object();
    } else {
      r.Bad("params", "must be an object");
    }
  }
  if (rotator != nullptr) {
    for (Problem& problem : rotator->Validate(config.params)) {
      if (problem.field.rfind("params", 0) != 0) {
        problem.field = rekey::StrCat("params.", problem.field);
      }
      problems.push_back(std::move(problem));
    }
  }
  r.Str("schedule", config.schedule_text);
  if (!config.schedule_text.empty()) {
    absl::StatusOr<Schedule> schedule = Schedule::Parse(config.schedule_text);
    if (schedule.ok()) {
      config.schedule = std::move(*schedule);
      config.schedule_text = config.schedule->ToString();
    } else {
      r.Bad("schedule", ToStd(schedule.status().message()));
    }
  }
  r.Duration("window", config.window, absl::ZeroDuration(), absl::Hours(24 * 366));
  if (o.contains("grace")) {
    absl::Duration grace = absl::ZeroDuration();
    const size_t before = problems.size();
    r.Duration("grace", grace, absl::ZeroDuration(), absl::Hours(24 * 366));
    if (problems.size() == before) config.grace = grace;
  }
  if (const json::value* g = r.Get("generator"); g != nullptr) {
    if (g->is_object()) {
      config.generator = ParseGenerator(g->get_object(), problems);
    } else {
      r.Bad("generator", "must be an object");
    }
  }
  if (const json::value* rt = r.Get("retry"); rt != nullptr) {
    if (rt->is_object()) {
      FieldReader rr(rt->get_object(), "retry.", problems);
      rr.Int("max_attempts", config.retry.max_attempts, 1, 20);
      rr.Duration("backoff", config.retry.backoff, absl::ZeroDuration(), absl::Hours(24));
      rr.Duration("max_backoff", config.retry.max_backoff, absl::ZeroDuration(), absl::Hours(24));
      rr.RejectUnknown();
    } else {
      r.Bad("retry", "must be an object");
    }
  }
  if (const json::value* n = r.Get("notify"); n != nullptr) {
    constexpr char kNotifyShape[] =
        "must be a list of http(s) URLs (without user:password@) or {\"url\", "
        "\"signing_secret\"} objects";
    // http(s), a host, and no user:password@ (credentials belong in a signing secret, and a
    // URL is not secret storage: it is shown by the API).
    auto is_url = [](const json::value& v) {
      if (!v.is_string() || v.get_string().size() > 2048) return false;
      std::string_view url(v.get_string().data(), v.get_string().size());
      size_t rest = url.starts_with("https://") ? 8 : url.starts_with("http://") ? 7 : 0;
      if (rest == 0) return false;
      const size_t end = url.find_first_of("/?#", rest);
      std::string_view authority =
          url.substr(rest, end == std::string_view::npos ? std::string_view::npos : end - rest);
      return !authority.empty() && authority.find('@') == std::string_view::npos;
    };
    if (!n->is_array() || n->get_array().size() > 8) {
      r.Bad("notify", rekey::StrCat(kNotifyShape, ", at most 8"));
    } else {
      for (const json::value& item : n->get_array()) {
        NotifyTarget target;
        if (is_url(item)) {
          target.url = std::string(item.get_string());
        } else if (item.is_object() && item.get_object().size() <= 2 &&
                   item.get_object().contains("url") && is_url(item.get_object().at("url")) &&
                   (!item.get_object().contains("signing_secret") ||
                    item.get_object().at("signing_secret").is_string())) {
          target.url = std::string(item.get_object().at("url").get_string());
          if (const json::value* s = item.get_object().if_contains("signing_secret")) {
            target.signing_secret = std::string(s->get_string());
          }
          if (item.get_object().size() == 2 && target.signing_secret.empty()) {
            r.Bad("notify", kNotifyShape);
            break;
          }
        } else {
          r.Bad("notify", kNotifyShape);
          break;
        }
        config.notify.push_back(std::move(target));
      }
    }
  }
  r.RejectUnknown();
  // A grace period that outlasts the interval would keep a run open past its next due time.
  if (config.schedule.has_value() && config.grace.has_value()) {
    if (std::optional<absl::Duration> every = MinInterval(*config.schedule);
        every.has_value() && *config.grace >= *every) {
      problems.push_back(
          Problem{"grace", rekey::StrCat("must be shorter than the schedule's interval (",
                                         FormatScheduleDuration(*every), ")")});
    }
  }
  return config;
}

json::object ToJson(const RotationConfig& config) {
  json::object o;
  o["rotator"] = config.rotator;
  o["params"] = config.params;
  if (!config.schedule_text.empty()) o["schedule"] = config.schedule_text;
  if (config.window > absl::ZeroDuration()) o["window"] = FormatScheduleDuration(config.window);
  if (config.grace.has_value()) o["grace"] = FormatScheduleDuration(*config.grace);
  o["generator"] = GeneratorToJson(config.generator);
  json::object retry;
  retry["max_attempts"] = config.retry.max_attempts;
  retry["backoff"] = FormatScheduleDuration(config.retry.backoff);
  retry["max_backoff"] = FormatScheduleDuration(config.retry.max_backoff);
  o["retry"] = std::move(retry);
  if (!config.notify.empty()) {
    json::array notify;
    for (const NotifyTarget& t : config.notify) {
      if (t.signing_secret.empty()) {
        notify.emplace_back(t.url);
      } else {
        json::object target;
        target["url"] = t.url;
        target["signing_secret"] = t.signing_secret;
        notify.push_back(std::move(target));
      }
    }
    o["notify"] = std::move(notify);
  }
  return o;
}

std::string JoinProblems(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.field.empty() ? p.message : rekey::StrCat(p.field, ": ", p.message);
  }
  return out;
}

}  // namespace rekey::rotation
