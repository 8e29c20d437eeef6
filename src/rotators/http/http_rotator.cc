#include "rotators/http/http_rotator.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/hash.h"
#include "rotators/common/params.h"
#include "rotators/http/step_protocol.h"

namespace rekey::rotators::http {
namespace {

namespace json = boost::json;
namespace urls = boost::urls;
using rotation::HttpCall;
using rotation::HttpReply;
using rotation::Problem;
using rotation::StepContext;
using step_protocol::Action;
using step_protocol::ActionName;
using step_protocol::Answer;

constexpr size_t kMinSigningKeyBytes = 16;
constexpr size_t kMaxHeaders = 20;
constexpr size_t kMaxHeaderValueChars = 1024;
constexpr size_t kMaxPathChars = 512;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

void AddProblem(std::vector<Problem>* problems, std::string_view name, std::string_view message) {
  problems->push_back({rekey::StrCat("params.", name), std::string(message)});
}

struct UrlInfo {
  std::string url;
  std::string origin;  // "https://host:443"
  bool tls = false;
};

bool IsLoopback(const urls::url_view& url) {
  switch (url.host_type()) {
    case urls::host_type::ipv4:
      return url.host_ipv4_address().is_loopback();
    case urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case urls::host_type::name:
      return absl::AsciiStrToLower(std::string(url.encoded_host())) == "localhost";
    default:
      return false;
  }
}

// The URL in params[name]; nullopt (with a Problem unless absent and optional) when bad.
std::optional<UrlInfo> ParseUrlParam(const json::object& params, std::string_view name,
                                     bool required, bool allow_insecure_http,
                                     std::vector<Problem>* problems) {
  const json::value* v = params.if_contains(J(name));
  if (v == nullptr) {
    if (required) AddProblem(problems, name, "is required (the provider's https:// URL)");
    return std::nullopt;
  }
  if (!v->is_string()) {
    AddProblem(problems, name, "must be a string");
    return std::nullopt;
  }
  const std::string_view text = S(v->as_string());
  auto parsed = urls::parse_absolute_uri(urls::string_view(text.data(), text.size()));
  if (!parsed) {
    AddProblem(problems, name, "must be an absolute http:// or https:// URL");
    return std::nullopt;
  }
  const urls::url_view& url = *parsed;
  UrlInfo info;
  info.url = std::string(text);
  if (url.scheme_id() == urls::scheme::https) {
    info.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    AddProblem(problems, name, "must be http or https");
    return std::nullopt;
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    AddProblem(problems, name, "has no host");
    return std::nullopt;
  }
  bool ok = true;
  if (url.has_userinfo()) {
    AddProblem(problems, name, "must not contain user info (credentials in a URL are not secret)");
    ok = false;
  }
  if (url.has_fragment()) {
    AddProblem(problems, name, "must not have a fragment");
    ok = false;
  }
  uint32_t port = info.tls ? 443 : 80;
  if (url.has_port()) {
    if (!absl::SimpleAtoi(std::string(url.port()), &port) || port == 0 || port > 65535) {
      AddProblem(problems, name, "port must be in 1..65535");
      ok = false;
    }
  }
  if (!info.tls && !allow_insecure_http && !IsLoopback(url)) {
    AddProblem(problems, name,
               "plain http sends keys in clear text: use https (or set "
               "params.allow_insecure_http)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  info.origin = rekey::StrCat(info.tls ? "https://" : "http://",
                              absl::AsciiStrToLower(std::string(url.encoded_host())), ":", port);
  return info;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Header names rekey sets itself, or that carry credentials (params are not secret storage).
bool IsReservedHeader(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  for (std::string_view reserved :
       {"host", "content-length", "content-type", "transfer-encoding", "connection", "te",
        "upgrade", "idempotency-key", "authorization", "proxy-authorization", "cookie"}) {
    if (lower == reserved) return true;
  }
  return absl::StartsWith(lower, "x-rekey-");
}

bool IsSecretPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathChars) return false;
  for (absl::string_view segment : absl::StrSplit(ToAbsl(path), '/')) {
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
  }
  return true;
}

struct Config {
  UrlInfo url;
  std::string signing_secret;
  std::string signing_field = "hmac_key";
  absl::Duration timeout = absl::Seconds(10);
  int retries = 2;
  std::string ca_file;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<UrlInfo> test_url;
  std::string test_header = "Authorization";
  step_protocol::ValueOptions value;
};

// Parses and validates `params`; every problem is appended, the returned Config is usable only
// when none was.
Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  Config config;
  step_protocol::CheckKnownParams(
      params,
      {"url", "signing_secret", "signing_field", "timeout", "retries", "ca_file", "headers",
       "allow_insecure_http", "test_url", "test_header", "field", "merge", "value_source"},
      problems);
  const bool insecure =
      step_protocol::ParseBoolParam(params, "allow_insecure_http", false, problems);
  if (auto url = ParseUrlParam(params, "url", true, insecure, problems)) config.url = *url;
  config.test_url = ParseUrlParam(params, "test_url", false, insecure, problems);

  if (const json::value* v = params.if_contains("signing_secret")) {
    if (!v->is_string() || !IsSecretPath(S(v->as_string()))) {
      AddProblem(problems, "signing_secret",
                 "must be the path of a rekey secret (segments of [A-Za-z0-9._-])");
    } else {
      config.signing_secret = std::string(S(v->as_string()));
    }
  } else {
    AddProblem(problems, "signing_secret",
               "is required: the path of the secret holding the HMAC key rekey signs requests "
               "with");
  }
  if (const json::value* v = params.if_contains("signing_field")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string().size() > 128) {
      AddProblem(problems, "signing_field", "must be a non-empty string");
    } else {
      config.signing_field = std::string(S(v->as_string()));
    }
  }
  config.timeout = step_protocol::ParseDurationParam(
      params, "timeout", absl::Seconds(10), absl::Milliseconds(100), absl::Minutes(5), problems);
  if (const json::value* v = params.if_contains("retries")) {
    if (!v->is_int64() && !v->is_uint64()) {
      AddProblem(problems, "retries", "must be an integer from 0 to 10");
    } else if (v->is_uint64() || v->as_int64() < 0 || v->as_int64() > 10) {
      AddProblem(problems, "retries", "must be an integer from 0 to 10");
    } else {
      config.retries = static_cast<int>(v->as_int64());
    }
  }
  if (const json::value* v = params.if_contains("ca_file")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string()[0] != '/') {
      AddProblem(problems, "ca_file", "must be an absolute path to a PEM file");
    } else {
      config.ca_file = std::string(S(v->as_string()));
    }
  }
  if (const json::value* v = params.if_contains("headers")) {
    if (!v->is_object()) {
      AddProblem(problems, "headers", "must be an object of header names to string values");
    } else if (v->as_object().size() > kMaxHeaders) {
      AddProblem(problems, "headers", rekey::StrCat("at most ", kMaxHeaders, " headers"));
    } else {
      for (const auto& kv : v->as_object()) {
        const std::string name(S(kv.key()));
        const std::string field = rekey::StrCat("headers.", step_protocol::SafeMessage(name));
        if (!IsToken(name)) {
          AddProblem(problems, field, "is not a valid header name");
        } else if (IsReservedHeader(name)) {
          AddProblem(problems, field,
                     "is set by rekey or carries credentials (rotation params are not secret; "
                     "the provider authenticates rekey by the X-Rekey-Signature HMAC)");
        } else if (!kv.value().is_string() ||
                   kv.value().as_string().size() > kMaxHeaderValueChars ||
                   std::any_of(kv.value().as_string().begin(), kv.value().as_string().end(),
                               [](char c) {
                                 const auto u = static_cast<unsigned char>(c);
                                 return (u < 0x20 && c != '\t') || u == 0x7f;
                               })) {
          AddProblem(problems, field,
                     "must be a string of at most 1024 characters without control characters");
        } else {
          config.headers.emplace_back(name, std::string(S(kv.value().as_string())));
        }
      }
    }
  }
  if (const json::value* v = params.if_contains("test_header")) {
    if (!v->is_string() || !IsToken(S(v->as_string())) ||
        (IsReservedHeader(S(v->as_string())) &&
         !absl::EqualsIgnoreCase(ToAbsl(S(v->as_string())), "authorization"))) {
      AddProblem(problems, "test_header", "must be a header name such as \"Authorization\"");
    } else {
      config.test_header = std::string(S(v->as_string()));
    }
    if (!params.contains("test_url")) AddProblem(problems, "test_header", "needs params.test_url");
  }
  config.value = step_protocol::ParseValueOptions(params, problems);
  return config;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config config = ParseConfig(ctx.params(), &problems);
  if (!problems.empty()) {
    return absl::FailedPreconditionError(
        rekey::StrCat(problems[0].field, ": ", problems[0].message));
  }
  return config;
}

std::string Who(const Config& config) { return rekey::StrCat("provider ", config.url.origin); }

// The HMAC key from the signing secret's current value.
absl::StatusOr<SecretBytes> ReadSigningKey(StepContext& ctx, const Config& config) {
  absl::StatusOr<SecretBytes> secret = ctx.ReadSecret(config.signing_secret);
  if (absl::IsNotFound(secret.status())) {
    return absl::FailedPreconditionError(rekey::StrCat("params.signing_secret: secret ",
                                                       config.signing_secret,
                                                       " does not exist or has no "
                                                       "readable current version"));
  }
  if (!secret.ok()) return secret.status();
  std::optional<rotation::VersionView> view(std::in_place);
  view->value = std::move(*secret);
  absl::StatusOr<SecretBytes> key =
      step_protocol::FieldOf(view, "signing secret", config.signing_field);
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("params.signing_secret: the value of ", config.signing_secret,
                      " must be a JSON object with a string \"", config.signing_field, "\""));
  }
  if (key->size() < kMinSigningKeyBytes) {
    return absl::FailedPreconditionError(
        rekey::StrCat("params.signing_secret: \"", config.signing_field, "\" of ",
                      config.signing_secret, " must be at least ", kMinSigningKeyBytes, " bytes"));
  }
  return key;
}

void SetHeader(HttpCall& call, std::string name, std::string value) {
  for (auto& [n, v] : call.headers) {
    if (absl::EqualsIgnoreCase(n, name)) {
      v = std::move(value);
      return;
    }
  }
  call.headers.emplace_back(std::move(name), std::move(value));
}

bool Retryable(int status) { return status == 408 || status == 429 || status >= 500; }

class Deliverer {
 public:
  Deliverer(const HttpRotatorOptions& options, StepContext& ctx, const Config& config,
            std::string_view what)
      : options_(options), ctx_(ctx), config_(config), what_(what) {}

  // Sends `call` until it gets a non-retryable HTTP status (returned, whatever it is) or runs
  // out of deliveries or time (kUnavailable / kDeadlineExceeded). With `signing_key`, each
  // delivery is signed afresh (its own timestamp).
  absl::StatusOr<HttpReply> Send(HttpCall& call, std::string_view origin,
                                 const SecretBytes* signing_key) {
    const int deliveries = config_.retries + 1;
    absl::Status last = absl::DeadlineExceededError(
        rekey::StrCat(what_, ": the step's deadline passed before ", origin, " was called"));
    for (int n = 1; n <= deliveries; ++n) {
      const absl::Time now = ctx_.clock().Now();
      const absl::Duration remaining = ctx_.deadline() - now;
      if (remaining <= absl::ZeroDuration()) break;
      call.timeout = std::min(config_.timeout, remaining);
      if (signing_key != nullptr) {
        const std::string t = std::to_string(absl::ToUnixSeconds(now));
        ASSIGN_OR_RETURN(std::string mac, crypto::HmacSha256(signing_key->Reveal(),
                                                             rekey::StrCat(t, ".", call.body)));
        SetHeader(call, "X-Rekey-Signature",
                  rekey::StrCat("t=", t, ",v1=", absl::BytesToHexString(mac)));
      }
      SetHeader(call, "X-Rekey-Delivery", std::to_string(n));
      absl::StatusOr<HttpReply> reply = ctx_.http().Send(call);
      const std::string progress = rekey::StrCat(" (delivery ", n, " of ", deliveries, ")");
      if (reply.ok() && !Retryable(reply->status)) {
        ctx_.log().Info(rekey::StrCat(what_, ": ", origin, " answered ", reply->status, progress));
        return reply;
      }
      if (reply.ok()) {
        const std::string message = step_protocol::ErrorMessage(reply->body);
        SecureWipe(reply->body);
        last =
            absl::UnavailableError(rekey::StrCat(what_, ": ", origin, " answered ", reply->status,
                                                 message.empty() ? "" : ": ", message));
      } else if (absl::IsUnavailable(reply.status()) || absl::IsDeadlineExceeded(reply.status())) {
        last = absl::Status(reply.status().code(),
                            rekey::StrCat(what_, ": ", reply.status().message()));
      } else {
        // A bad URL, header or CA file: configuration, not the provider.
        return absl::FailedPreconditionError(
            rekey::StrCat(what_, ": ", origin, ": ", reply.status().message()));
      }
      if (n == deliveries) break;
      const int shift = std::min(n - 1, 16);
      absl::Duration backoff =
          std::min(options_.initial_backoff * (1 << shift), options_.max_backoff);
      backoff = backoff * (0.5 + static_cast<double>(ctx_.random().Uniform(500)) / 1000.0);
      if (ctx_.clock().Now() + backoff >= ctx_.deadline()) {
        ctx_.log().Warn(rekey::StrCat(last.message(), progress, "; no time left to retry"));
        break;
      }
      ctx_.log().Warn(
          rekey::StrCat(last.message(), progress, "; retrying in ",
                        absl::FormatDuration(absl::Trunc(backoff, absl::Milliseconds(1)))));
      if (options_.sleep) {
        options_.sleep(backoff);
      } else {
        absl::SleepFor(backoff);
      }
    }
    return last;
  }

 private:
  const HttpRotatorOptions& options_;
  StepContext& ctx_;
  const Config& config_;
  std::string what_;
};

// Sends `action`'s document to the provider and parses a 2xx answer; maps any other status to
// the error contract of http_rotator.h.
absl::StatusOr<Answer> CallProvider(const HttpRotatorOptions& options, Action action,
                                    StepContext& ctx, const Config& config) {
  ASSIGN_OR_RETURN(SecretBytes signing_key, ReadSigningKey(ctx, config));
  ASSIGN_OR_RETURN(SecretBytes body, step_protocol::BuildRequest(action, ctx, config.value));
  const std::string who = Who(config);
  const std::string what = rekey::StrCat("http ", ActionName(action));
  HttpCall call;
  call.method = "POST";
  call.url = config.url.url;
  call.ca_file = config.ca_file;
  call.headers = config.headers;
  call.headers.emplace_back("Content-Type", "application/json");
  call.headers.emplace_back("Accept", "application/json");
  call.headers.emplace_back("X-Rekey-Step", std::string(ActionName(action)));
  call.headers.emplace_back("X-Rekey-Run-Id", std::string(ctx.run_id()));
  call.headers.emplace_back("Idempotency-Key", step_protocol::IdempotencyKey(action, ctx));
  call.body = std::string(body.Reveal());
  Deliverer deliverer(options, ctx, config, what);
  absl::StatusOr<HttpReply> reply = deliverer.Send(call, config.url.origin, &signing_key);
  SecureWipe(call.body);
  if (!reply.ok()) return reply.status();
  const int status = reply->status;
  absl::StatusOr<Answer> answer;
  if (status >= 200 && status < 300) {
    answer = step_protocol::ParseAnswer(reply->body, who);
  } else {
    const std::string message = step_protocol::ErrorMessage(reply->body);
    const std::string text = rekey::StrCat(what, ": ", config.url.origin, " answered ", status,
                                           message.empty() ? "" : ": ", message);
    if (status == 401 || status == 403) {
      answer = absl::PermissionDeniedError(text);
    } else if (status == 400 || status == 422) {
      answer = absl::InvalidArgumentError(text);
    } else {
      answer = absl::FailedPreconditionError(text);
    }
  }
  SecureWipe(reply->body);
  return answer;
}

// Calls test_url with `key` in test_header; OK on 2xx, kFailedPrecondition when the key is
// refused or the URL answers anything else.
absl::Status Probe(const HttpRotatorOptions& options, StepContext& ctx, const Config& config,
                   const SecretBytes& key, std::string_view which) {
  const UrlInfo& url = *config.test_url;
  HttpCall call;
  call.method = "GET";
  call.url = url.url;
  call.ca_file = config.ca_file;
  call.headers = config.headers;
  const bool bearer = absl::EqualsIgnoreCase(config.test_header, "authorization");
  call.headers.emplace_back(config.test_header,
                            rekey::StrCat(bearer ? "Bearer " : "", key.Reveal()));
  Deliverer deliverer(options, ctx, config, rekey::StrCat("http test_url (", which, " key)"));
  absl::StatusOr<HttpReply> reply = deliverer.Send(call, url.origin, nullptr);
  SecureWipe(call.headers.back().second);
  if (!reply.ok()) return reply.status();
  SecureWipe(reply->body);
  if (reply->status >= 200 && reply->status < 300) return absl::OkStatus();
  return absl::FailedPreconditionError(
      rekey::StrCat("test_url ", url.origin, " answered ", reply->status, " to the ", which, " key",
                    reply->status == 401 || reply->status == 403 ? " (refused)" : ""));
}

// A step that calls the provider and keeps only its state.
absl::Status SimpleStep(const HttpRotatorOptions& options, Action action, StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Answer answer, CallProvider(options, action, ctx, config));
  if (answer.value.has_value()) {
    ctx.log().Warn(rekey::StrCat("http ", ActionName(action), ": ignored the \"value\" in ",
                                 Who(config), "'s answer (only create may return one)"));
  }
  return step_protocol::ApplyState(answer, ctx, Who(config));
}

}  // namespace

HttpRotator::HttpRotator(HttpRotatorOptions options) : options_(std::move(options)) {}

std::vector<Problem> HttpRotator::Validate(const boost::json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

std::vector<rotation::Reference> HttpRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "signing_secret", "secret/data/", "", {"read"}, &refs);
  return refs;
}

std::string HttpRotator::TargetKey(const boost::json::object& params) const {
  std::vector<Problem> problems;
  Config config = ParseConfig(params, &problems);
  return config.url.origin;
}

// A dry run reports every problem it can find, so it goes on after the first: without the
// signing key it still checks that the provider can be reached (unsigned, with a GET that
// changes nothing), and it probes test_url either way.
absl::Status HttpRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  std::vector<absl::Status> problems;
  if (absl::StatusOr<SecretBytes> signing_key = ReadSigningKey(ctx, config); signing_key.ok()) {
    absl::StatusOr<Answer> answer = CallProvider(options_, Action::kCheck, ctx, config);
    if (!answer.ok()) {
      problems.push_back(answer.status());
    } else if (!answer->message.empty()) {
      ctx.log().Info(rekey::StrCat("http check: ", Who(config), " says: ", answer->message));
    }
  } else {
    problems.push_back(signing_key.status());
    HttpCall call;
    call.method = "GET";
    call.url = config.url.url;
    call.ca_file = config.ca_file;
    call.headers = config.headers;
    call.timeout = std::min(config.timeout, ctx.deadline() - ctx.clock().Now());
    absl::StatusOr<HttpReply> reply = ctx.http().Send(call);
    if (!reply.ok()) {
      problems.push_back(absl::Status(reply.status().code(),
                                      rekey::StrCat(Who(config), ": ", reply.status().message())));
    } else {
      SecureWipe(reply->body);
    }
  }
  if (config.test_url.has_value()) {
    absl::StatusOr<SecretBytes> key =
        step_protocol::FieldOf(ctx.current(), "current", config.value.field);
    if (key.ok()) {
      if (absl::Status probed = Probe(options_, ctx, config, *key, "current"); !probed.ok()) {
        problems.push_back(probed);
      }
    } else {
      ctx.log().Info(rekey::StrCat("http check: test_url not called: ", key.status().message()));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  std::string message;
  for (const absl::Status& p : problems) {
    if (!message.empty()) message += "; ";
    message += std::string(ToStd(p.message()));
  }
  return absl::Status(problems.front().code(), message);
}

absl::StatusOr<SecretBytes> HttpRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  if (config.value.source == step_protocol::ValueSource::kRekey) {
    return step_protocol::GenerateNewValue(ctx, config.value);
  }
  ASSIGN_OR_RETURN(Answer answer, CallProvider(options_, Action::kCreate, ctx, config));
  RETURN_IF_ERROR(step_protocol::ApplyState(answer, ctx, Who(config)));
  return step_protocol::NewValueFromAnswer(answer, ctx, config.value, Who(config));
}

absl::Status HttpRotator::Set(StepContext& ctx) { return SimpleStep(options_, Action::kSet, ctx); }

absl::Status HttpRotator::Test(StepContext& ctx) {
  RETURN_IF_ERROR(SimpleStep(options_, Action::kTest, ctx));
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  if (!config.test_url.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(SecretBytes key,
                   step_protocol::FieldOf(ctx.pending(), "pending", config.value.field));
  return Probe(options_, ctx, config, key, "pending");
}

absl::Status HttpRotator::Finish(StepContext& ctx) {
  return SimpleStep(options_, Action::kFinish, ctx);
}

absl::Status HttpRotator::Revoke(StepContext& ctx) {
  if (!ctx.previous().has_value()) {
    ctx.log().Info("http revoke: no previous version, nothing to revoke");
    return absl::OkStatus();
  }
  return SimpleStep(options_, Action::kRevoke, ctx);
}

absl::Status HttpRotator::Rollback(StepContext& ctx) {
  return SimpleStep(options_, Action::kRollback, ctx);
}

absl::Status RegisterHttpRotator(rotation::RotatorRegistry& registry) {
  return registry.Register("http", std::make_unique<HttpRotator>());
}

}  // namespace rekey::rotators::http
