#include "rotators/acme/acme_rotator.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "acme/http01_responder.h"
#include "acme/jws.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/csr.h"
#include "pki/deploy_check.h"
#include "pki/keys.h"
#include "pki/x509.h"
#include "rotators/common/cert_value.h"
#include "rotators/common/params.h"
#include "rotators/exec/subprocess.h"

namespace rekey::rotators::acme {
namespace internal {

// One Http01Responder per address, shared by the orders that run at the same time and shut down
// when the last of them is done.
class ResponderPool {
 public:
  // Serves one order's tokens on a shared responder; releases it when destroyed.
  class Lease {
   public:
    Lease(ResponderPool& pool, std::string listen, rekey::acme::Http01Responder& responder)
        : pool_(pool), listen_(std::move(listen)), responder_(responder) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.Release(listen_); }
    rekey::acme::Http01Responder& responder() { return responder_; }

   private:
    ResponderPool& pool_;
    std::string listen_;
    rekey::acme::Http01Responder& responder_;
  };

  absl::StatusOr<std::unique_ptr<Lease>> Acquire(const std::string& listen) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = live_[listen];
    if (e.responder == nullptr) {
      absl::StatusOr<std::unique_ptr<rekey::acme::Http01Responder>> started =
          rekey::acme::Http01Responder::Start(listen);
      if (!started.ok()) {
        live_.erase(listen);
        return started.status();
      }
      e.responder = std::move(*started);
    }
    ++e.users;
    return std::make_unique<Lease>(*this, listen, *e.responder);
  }

 private:
  struct Entry {
    std::unique_ptr<rekey::acme::Http01Responder> responder;
    int users = 0;
  };

  void Release(const std::string& listen) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(listen);
    if (it != live_.end() && --it->second.users == 0) live_.erase(it);
  }

  std::mutex mu_;
  std::map<std::string, Entry> live_;
};

}  // namespace internal

namespace {

namespace json = boost::json;
namespace ca = ::rekey::pki;
namespace ac = ::rekey::acme;
using rotation::Problem;
using rotation::StepContext;

constexpr char kOrderState[] = "order_url";
constexpr int kReasonSuperseded = 4;  // RFC 5280 CRLReason
constexpr int kReasonCessation = 5;
constexpr absl::Duration kClockSkew = absl::Minutes(5);

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

struct Config {
  std::string directory_url;
  std::string ca_file;
  std::string account_secret;
  bool agree_tos = false;
  std::vector<std::string> contact;
  std::vector<std::string> domains;
  std::string challenge = "http-01";
  std::string http01_listen = "0.0.0.0:80";
  std::vector<std::string> dns01_hook;
  absl::Duration dns01_hook_timeout = absl::Seconds(60);
  absl::Duration dns01_propagation_wait = absl::ZeroDuration();
  ca::KeyType key_type = ca::KeyType::kEcP256;
  std::string trust_bundle_file;
  bool revoke_on_retire = false;
};

void DurationParam(const json::object& params, std::string_view name, absl::Duration min,
                   absl::Duration max, std::vector<Problem>* problems, absl::Duration& out) {
  if (auto t = StringParam(params, name, problems)) {
    absl::Duration d;
    if (!absl::ParseDuration(ToAbsl(*t), &d) || d < min || d > max) {
      AddProblem(problems, name,
                 rekey::StrCat("must be a duration from ", absl::FormatDuration(min), " to ",
                               absl::FormatDuration(max), ", e.g. \"30s\""));
    } else {
      out = d;
    }
  }
}

// A DNS name as a CA accepts it: labels of letters, digits and '-', optionally "*." first.
bool IsDnsName(std::string_view name) {
  if (absl::StartsWith(ToAbsl(name), "*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253 || name.back() == '.') return false;
  for (absl::string_view label : absl::StrSplit(ToAbsl(name), '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  return true;
}

bool AbsolutePath(std::string_view p) { return !p.empty() && p.front() == '/'; }

Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  static const std::vector<std::string_view> kKnown = {"directory_url",
                                                       "ca_file",
                                                       "account_secret",
                                                       "agree_tos",
                                                       "contact",
                                                       "domains",
                                                       "challenge",
                                                       "http01_listen",
                                                       "dns01_hook",
                                                       "dns01_hook_timeout",
                                                       "dns01_propagation_wait",
                                                       "key_type",
                                                       "trust_bundle_file",
                                                       "revoke_on_retire"};
  RejectUnknownParams(params, kKnown, problems);
  Config c;
  if (auto url = StringParam(params, "directory_url", problems)) {
    if (!absl::StartsWith(ToAbsl(*url), "https://") && !absl::StartsWith(ToAbsl(*url), "http://")) {
      AddProblem(problems, "directory_url", "must be an https:// URL of an ACME directory");
    } else if (url->size() > 2048) {
      AddProblem(problems, "directory_url", "must be at most 2048 characters");
    } else {
      c.directory_url = *url;
    }
  } else if (!params.contains("directory_url")) {
    AddProblem(problems, "directory_url", "is required: the CA's ACME directory URL");
  }
  if (auto f = StringParam(params, "ca_file", problems)) {
    if (!AbsolutePath(*f)) {
      AddProblem(problems, "ca_file", "must be an absolute path to a PEM file");
    } else {
      c.ca_file = *f;
    }
  }
  if (auto a = StringParam(params, "account_secret", problems); a && !a->empty()) {
    if (a->front() == '/' || a->size() > 512) {
      AddProblem(problems, "account_secret", "must be a secret path (no leading '/')");
    } else {
      c.account_secret = *a;
    }
  } else if (!params.contains("account_secret") || a.has_value()) {
    AddProblem(problems, "account_secret",
               "is required: the secret path where the ACME account key is kept");
  }
  BoolParam(params, "agree_tos", problems, c.agree_tos);
  for (std::string& mail : ListParam(params, "contact", problems)) {
    if (!absl::StartsWith(ToAbsl(mail), "mailto:")) mail = rekey::StrCat("mailto:", mail);
    if (mail.find('@') == std::string::npos || mail.size() > 320) {
      AddProblem(problems, "contact", "must hold e-mail addresses");
    }
    c.contact.push_back(std::move(mail));
  }
  c.domains = ListParam(params, "domains", problems);
  for (std::string& d : c.domains) {
    d = absl::AsciiStrToLower(d);
    if (!IsDnsName(d)) {
      AddProblem(problems, "domains",
                 rekey::StrCat("\"", OneLine(d, 64),
                               "\" is not a DNS name (IP addresses are not "
                               "supported)"));
    }
  }
  if (c.domains.empty() && !params.contains("domains")) {
    AddProblem(problems, "domains", "is required: the DNS names the certificate is for");
  } else if (c.domains.empty() || c.domains.size() > 100) {
    AddProblem(problems, "domains", "must hold 1 to 100 names");
  }
  if (auto ch = StringParam(params, "challenge", problems)) {
    if (*ch != "http-01" && *ch != "dns-01") {
      AddProblem(problems, "challenge", "must be \"http-01\" or \"dns-01\"");
    } else {
      c.challenge = *ch;
    }
  }
  if (auto l = StringParam(params, "http01_listen", problems)) {
    const size_t colon = l->rfind(':');
    if (colon == std::string::npos || colon + 1 == l->size() ||
        !std::all_of(l->begin() + colon + 1, l->end(), absl::ascii_isdigit)) {
      AddProblem(problems, "http01_listen", "must be \"ip:port\", e.g. \"0.0.0.0:80\"");
    } else {
      c.http01_listen = *l;
    }
  }
  if (const json::value* v = params.if_contains("dns01_hook")) {
    const bool ok = v->is_array() && !v->get_array().empty() && v->get_array().size() <= 64 &&
                    std::all_of(v->get_array().begin(), v->get_array().end(),
                                [](const json::value& e) { return e.is_string(); });
    if (!ok) {
      AddProblem(problems, "dns01_hook",
                 "must be an array of 1 to 64 strings: the program's absolute path, then its "
                 "arguments");
    } else {
      for (const json::value& e : v->get_array()) c.dns01_hook.emplace_back(S(e.get_string()));
      if (!AbsolutePath(c.dns01_hook.front())) {
        AddProblem(problems, "dns01_hook", "must start with an absolute path (no PATH search)");
      }
    }
  }
  DurationParam(params, "dns01_hook_timeout", absl::Seconds(1), absl::Minutes(10), problems,
                c.dns01_hook_timeout);
  DurationParam(params, "dns01_propagation_wait", absl::ZeroDuration(), absl::Minutes(10), problems,
                c.dns01_propagation_wait);
  if (auto k = StringParam(params, "key_type", problems)) {
    absl::StatusOr<ca::KeyType> type = ca::ParseKeyType(*k);
    if (!type.ok() || *type == ca::KeyType::kEd25519) {
      AddProblem(problems, "key_type", "must be ec-p256, ec-p384, rsa-2048 or rsa-3072");
    } else {
      c.key_type = *type;
    }
  }
  if (auto f = StringParam(params, "trust_bundle_file", problems)) {
    if (!AbsolutePath(*f)) {
      AddProblem(problems, "trust_bundle_file", "must be an absolute path to a PEM file");
    } else {
      c.trust_bundle_file = *f;
    }
  }
  BoolParam(params, "revoke_on_retire", problems, c.revoke_on_retire);
  // Cross-field rules.
  if (c.challenge == "dns-01" && c.dns01_hook.empty() && !params.contains("dns01_hook")) {
    AddProblem(problems, "dns01_hook", "is required with challenge \"dns-01\"");
  }
  if (c.challenge == "http-01") {
    for (const std::string& d : c.domains) {
      if (absl::StartsWith(ToAbsl(d), "*.")) {
        AddProblem(problems, "domains",
                   rekey::StrCat("\"", OneLine(d, 64),
                                 "\" is a wildcard: it needs challenge "
                                 "\"dns-01\""));
        break;
      }
    }
  }
  return c;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config c = ParseConfig(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return c;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(rekey::StrCat(what, " \"", path, "\" cannot be read"));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The step's HTTP through ctx.http(), trusting `ca_file` for https, each call bounded by the
// step's deadline (and 30 s).
class ContextTransport final : public ac::Transport {
 public:
  ContextTransport(StepContext& ctx, std::string ca_file)
      : ctx_(ctx), ca_file_(std::move(ca_file)) {}

  absl::StatusOr<ac::HttpResponse> Send(const ac::HttpRequest& request) override {
    const absl::Duration left = ctx_.deadline() - ctx_.clock().Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("the step's deadline passed");
    }
    rotation::HttpCall call;
    call.method = request.method;
    call.url = request.url;
    call.headers = request.headers;
    call.body = request.body;
    call.timeout = std::clamp(left, absl::Seconds(1), absl::Seconds(30));
    call.ca_file = ca_file_;
    ASSIGN_OR_RETURN(rotation::HttpReply reply, ctx_.http().Send(call));
    ac::HttpResponse out;
    out.status = reply.status;
    out.headers = std::move(reply.headers);
    out.body = std::move(reply.body);
    return out;
  }

 private:
  StepContext& ctx_;
  std::string ca_file_;
};

// http-01 through a pooled responder.
class Http01Solver final : public ac::ChallengeSolver {
 public:
  Http01Solver(internal::ResponderPool::Lease& lease, StepContext& ctx)
      : lease_(lease), ctx_(ctx) {}
  std::string_view type() const override { return "http-01"; }
  absl::Status Present(const ac::Authorization& authz, const ac::Challenge& challenge,
                       std::string_view key_authorization) override {
    lease_.responder().Put(challenge.token, key_authorization);
    ctx_.log().Info(rekey::StrCat("serving the http-01 response for ", authz.identifier.value,
                                  " on ", lease_.responder().address()));
    return absl::OkStatus();
  }
  void CleanUp(const ac::Authorization&, const ac::Challenge& challenge,
               std::string_view) override {
    lease_.responder().Remove(challenge.token);
  }

 private:
  internal::ResponderPool::Lease& lease_;
  StepContext& ctx_;
};

// dns-01 through the configured hook command.
class Dns01HookSolver final : public ac::ChallengeSolver {
 public:
  Dns01HookSolver(const Config& config, StepContext& ctx, ac::Sleeper& sleeper)
      : config_(config), ctx_(ctx), sleeper_(sleeper) {}
  std::string_view type() const override { return "dns-01"; }

  absl::Status Present(const ac::Authorization& authz, const ac::Challenge&,
                       std::string_view key_authorization) override {
    RETURN_IF_ERROR(Run("present", authz, key_authorization));
    if (config_.dns01_propagation_wait > absl::ZeroDuration()) {
      if (ctx_.clock().Now() + config_.dns01_propagation_wait >= ctx_.deadline()) {
        return absl::DeadlineExceededError(
            "dns01_propagation_wait does not fit in what is left of the step's time");
      }
      sleeper_.Sleep(config_.dns01_propagation_wait);
    }
    return absl::OkStatus();
  }
  void CleanUp(const ac::Authorization& authz, const ac::Challenge&,
               std::string_view key_authorization) override {
    if (absl::Status s = Run("cleanup", authz, key_authorization); !s.ok()) {
      ctx_.log().Warn(std::string(s.message()));
    }
  }

 private:
  absl::Status Run(std::string_view action, const ac::Authorization& authz,
                   std::string_view key_authorization) {
    const std::string& domain = authz.identifier.value;
    exec::internal::SubprocessOptions run;
    run.argv = config_.dns01_hook;
    run.timeout = config_.dns01_hook_timeout;
    run.max_stdout = 64 << 10;
    run.max_stderr_kept = 4 << 10;
    const std::map<std::string, std::string> env = {
        {"PATH", "/usr/local/bin:/usr/bin:/bin"},
        {"REKEY_ACME_ACTION", std::string(action)},
        {"REKEY_ACME_DOMAIN", domain},
        {"REKEY_ACME_RECORD", rekey::StrCat("_acme-challenge.", domain)},
        {"REKEY_ACME_TXT", ac::Dns01TxtValue(key_authorization)},
        {"REKEY_ACME_WILDCARD", authz.wildcard ? "1" : "0"},
        {"REKEY_SECRET_PATH", std::string(ctx_.path())},
    };
    for (const auto& [name, value] : env) run.env.push_back(rekey::StrCat(name, "=", value));
    const std::string what =
        rekey::StrCat("dns01_hook ", config_.dns01_hook.front(), " (", action, " ", domain, ")");
    absl::StatusOr<exec::internal::SubprocessResult> result =
        exec::internal::RunSubprocess(run, "");
    if (!result.ok()) return result.status();
    SecureWipe(result->stdout_data);
    if (result->timed_out) {
      return absl::DeadlineExceededError(rekey::StrCat(
          what, " did not finish within ", absl::FormatDuration(config_.dns01_hook_timeout)));
    }
    if (!result->exited || result->exit_code != 0) {
      const std::string status = result->exited
                                     ? rekey::StrCat("exited with status ", result->exit_code)
                                     : rekey::StrCat("was killed by signal ", result->signal);
      const std::string err = OneLine(result->stderr_tail, 200);
      return absl::FailedPreconditionError(
          rekey::StrCat(what, " ", status, err.empty() ? "" : ": ", err));
    }
    ctx_.log().Info(rekey::StrCat(what, " done"));
    return absl::OkStatus();
  }

  const Config& config_;
  StepContext& ctx_;
  ac::Sleeper& sleeper_;
};

// The account as stored in account_secret.
struct StoredAccount {
  std::optional<ac::AccountKey> key;
  std::string account_url;
  std::string directory_url;
};

absl::StatusOr<StoredAccount> ParseAccount(const SecretBytes& value, std::string_view path) {
  WipedObject obj;
  RETURN_IF_ERROR(obj.Parse(value.Reveal(), rekey::StrCat("account secret \"", path, "\"")));
  StoredAccount out;
  const json::value* k = obj.object().if_contains("account_key");
  if (k == nullptr || !k->is_string()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("account secret \"", path, "\" has no account_key"));
  }
  absl::StatusOr<ac::AccountKey> key = ac::AccountKey::FromPem(SecretBytes(S(k->get_string())));
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("account secret \"", path, "\": ", key.status().message()));
  }
  out.key = std::move(*key);
  out.account_url = obj.String("account_url");
  out.directory_url = obj.String("directory_url");
  return out;
}

std::string OriginOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url.substr(0, 64));
  const size_t path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

// A status with `prefix` before its message, same code.
absl::Status Prefixed(const absl::Status& s, std::string_view prefix) {
  if (s.ok()) return s;
  return absl::Status(s.code(), rekey::StrCat(prefix, s.message()));
}

// The name a TLS client would use for the certificate: the first non-wildcard domain, else a
// name under the first wildcard.
std::string ServerNameFor(const std::vector<std::string>& domains) {
  for (const std::string& d : domains) {
    if (!absl::StartsWith(ToAbsl(d), "*.")) return d;
  }
  return domains.empty() ? "" : rekey::StrCat("rekey-probe", domains.front().substr(1));
}

// An open account: the client speaking for it (its transport with it).
struct AccountSession {
  std::unique_ptr<ContextTransport> transport;
  std::unique_ptr<ac::Client> client;
  bool registered = false;  // false: check found no account (nothing was created)
};

ac::ClientOptions ClientOptionsFor(const Config& c, StepContext& ctx,
                                   const AcmeRotatorOptions& options) {
  ac::ClientOptions o;
  o.directory_url = c.directory_url;
  o.poll_interval = options.poll_interval;
  o.max_poll_interval = options.max_poll_interval;
  o.poll_timeout = absl::Minutes(10);
  o.deadline = ctx.deadline();
  o.log = [&ctx](std::string_view line) { ctx.log().Info(line); };
  return o;
}

// Opens the account kept at config.account_secret and finds it at the CA (registering the same
// key again when the CA lost it). When the secret does not exist: with `may_create`, makes a key,
// registers it and stores {account_key, account_url, directory_url} there (only once the CA has
// it; a lost race reopens the winner's); without, returns a session that is not registered.
absl::StatusOr<AccountSession> OpenAccount(const Config& c, StepContext& ctx,
                                           const AcmeRotatorOptions& options, ac::Sleeper& sleeper,
                                           bool may_create, int depth = 0) {
  if (c.account_secret == ctx.path()) {
    return absl::InvalidArgumentError(
        "params.account_secret must not be the certificate's own secret");
  }
  absl::StatusOr<SecretBytes> stored = options.accounts != nullptr
                                           ? options.accounts->Read(c.account_secret)
                                           : ctx.ReadSecret(c.account_secret);
  if (!stored.ok() && !absl::IsNotFound(stored.status())) {
    return Prefixed(stored.status(),
                    rekey::StrCat("reading account secret \"", c.account_secret, "\": "));
  }
  if (!stored.ok() && may_create && options.accounts == nullptr) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "account secret \"", c.account_secret,
        "\" does not exist and this server cannot create it; write {\"account_key\": <P-256 "
        "PEM>} there"));
  }

  std::optional<ac::AccountKey> key;
  std::optional<SecretBytes> new_key_pem;
  if (stored.ok()) {
    ASSIGN_OR_RETURN(StoredAccount account, ParseAccount(*stored, c.account_secret));
    key = std::move(account.key);
  } else {
    ASSIGN_OR_RETURN(ac::AccountKey fresh, ac::AccountKey::Generate());
    ASSIGN_OR_RETURN(SecretBytes pem, fresh.ToPem());
    key = std::move(fresh);
    new_key_pem = std::move(pem);
  }

  AccountSession session;
  session.transport = std::make_unique<ContextTransport>(ctx, c.ca_file);
  session.client = std::make_unique<ac::Client>(*session.transport, ctx.clock(), sleeper,
                                                std::move(*key), ClientOptionsFor(c, ctx, options));
  ac::Client& client = *session.client;
  RETURN_IF_ERROR(client.FetchDirectory());
  if (client.directory().external_account_required) {
    return absl::FailedPreconditionError(
        "the CA requires external account binding, which the acme rotator does not support");
  }
  if (!stored.ok() && !may_create) return session;

  ac::Client::AccountRequest register_request;
  register_request.terms_of_service_agreed = c.agree_tos;
  register_request.contact = c.contact;
  const std::string& terms = client.directory().terms_of_service;
  const absl::Status terms_refused =
      terms.empty() || c.agree_tos
          ? absl::OkStatus()
          : absl::FailedPreconditionError(rekey::StrCat(
                "registering an ACME account needs agreeing to the CA's terms of service (",
                OneLine(terms, 200), "): set params.agree_tos to true"));

  if (stored.ok()) {
    ac::Client::AccountRequest existing;
    existing.only_return_existing = true;
    absl::StatusOr<std::string> url = client.NewAccount(existing);
    if (absl::IsNotFound(url.status())) {
      if (!may_create) return session;
      RETURN_IF_ERROR(terms_refused);
      ctx.log().Warn(rekey::StrCat("the CA knows no account for the key in \"", c.account_secret,
                                   "\"; registering it"));
      url = client.NewAccount(register_request);
    }
    RETURN_IF_ERROR(url.status());
    session.registered = true;
    return session;
  }

  RETURN_IF_ERROR(terms_refused);
  ASSIGN_OR_RETURN(std::string url, client.NewAccount(register_request));
  json::value doc = json::object();
  doc.get_object()["account_key"] = J(new_key_pem->Reveal());
  doc.get_object()["account_url"] = J(url);
  doc.get_object()["directory_url"] = J(c.directory_url);
  doc.get_object()["created_at"] = J(Rfc3339(ctx.clock().Now()));
  std::string text = json::serialize(doc);
  WipeJsonStrings(doc);
  const SecretBytes value = SecretBytes::TakeFrom(text);
  absl::Status created = options.accounts->Create(c.account_secret, value);
  if (absl::IsAlreadyExists(created) && depth == 0) {
    ctx.log().Warn(rekey::StrCat("account secret \"", c.account_secret,
                                 "\" was created by another rotation meanwhile; using it"));
    return OpenAccount(c, ctx, options, sleeper, may_create, depth + 1);
  }
  RETURN_IF_ERROR(
      Prefixed(created, rekey::StrCat("storing account secret \"", c.account_secret, "\": ")));
  ctx.log().Info(
      rekey::StrCat("stored the new ACME account ", url, " in \"", c.account_secret, "\""));
  session.registered = true;
  return session;
}

}  // namespace

AcmeRotator::AcmeRotator(AcmeRotatorOptions options)
    : options_(std::move(options)), responders_(std::make_unique<internal::ResponderPool>()) {}

AcmeRotator::~AcmeRotator() = default;

std::vector<Problem> AcmeRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

std::vector<rotation::Reference> AcmeRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "account_secret", "secret/data/", "", {"read", "create", "update"}, &refs);
  if (params.contains("dns01_hook")) {
    refs.push_back(rotation::Reference{.path = std::string(rotation::kRunCommandsPath),
                                       .capabilities = {"sudo"},
                                       .param = "dns01_hook"});
  }
  return refs;
}

std::string AcmeRotator::TargetKey(const json::object& params) const {
  const json::value* v = params.if_contains("directory_url");
  return v != nullptr && v->is_string() ? rekey::StrCat("acme:", S(v->get_string())) : "";
}

absl::Status AcmeRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  const std::string where = rekey::StrCat("ACME server ", OriginOf(c.directory_url), ": ");
  absl::StatusOr<AccountSession> session =
      OpenAccount(c, ctx, options_, sleeper(), /*may_create=*/false);
  RETURN_IF_ERROR(Prefixed(session.status(), where));
  if (session->registered) {
    ctx.log().Info(rekey::StrCat("the CA knows the account in \"", c.account_secret, "\" (",
                                 session->client->account_url(), ")"));
  } else {
    ctx.log().Info(rekey::StrCat("no ACME account yet at \"", c.account_secret,
                                 "\": the first rotation registers one"));
  }
  if (c.challenge == "http-01") {
    absl::StatusOr<std::unique_ptr<internal::ResponderPool::Lease>> lease =
        responders_->Acquire(c.http01_listen);
    RETURN_IF_ERROR(lease.status());
    ctx.log().Info(
        rekey::StrCat("the http-01 responder can listen on ", (*lease)->responder().address()));
  } else if (::access(c.dns01_hook.front().c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        rekey::StrCat("dns01_hook ", c.dns01_hook.front(), " is not an executable file"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> AcmeRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  const std::string where = rekey::StrCat("ACME server ", OriginOf(c.directory_url), ": ");
  absl::StatusOr<AccountSession> session =
      OpenAccount(c, ctx, options_, sleeper(), /*may_create=*/true);
  RETURN_IF_ERROR(Prefixed(session.status(), where));
  ac::Client& client = *session->client;

  // A new key every rotation, and a CSR for the domains.
  ASSIGN_OR_RETURN(ca::EvpPkeyPtr key, ca::GenerateKey(c.key_type));
  ca::CsrSpec spec;
  for (const std::string& d : c.domains) {
    if (d.size() <= 64) {
      spec.common_name = d;
      break;
    }
  }
  if (spec.common_name.empty()) {
    return absl::InvalidArgumentError("params.domains needs one name of at most 64 characters");
  }
  spec.dns_names = c.domains;
  ASSIGN_OR_RETURN(std::string csr_pem, ca::BuildCsrPem(spec, key.get()));
  ASSIGN_OR_RETURN(std::string csr_der, ac::CsrPemToDer(csr_pem));

  absl::StatusOr<ac::Client::Issued> issued;
  if (c.challenge == "http-01") {
    absl::StatusOr<std::unique_ptr<internal::ResponderPool::Lease>> lease =
        responders_->Acquire(c.http01_listen);
    RETURN_IF_ERROR(lease.status());
    Http01Solver solver(**lease, ctx);
    issued = client.ObtainCertificate(c.domains, csr_der, solver);
  } else {
    Dns01HookSolver solver(c, ctx, sleeper());
    issued = client.ObtainCertificate(c.domains, csr_der, solver);
  }
  RETURN_IF_ERROR(Prefixed(issued.status(), where));
  ctx.state()[kOrderState] = issued->order_url;

  // The chain: the leaf first, then its issuers.
  absl::StatusOr<std::vector<ca::X509Ptr>> certs = ca::ParseCertificatesPem(issued->chain_pem);
  if (!certs.ok()) {
    return absl::UnavailableError(
        rekey::StrCat(where, "certificate ", issued->certificate_url,
                      " is not readable PEM: ", certs.status().message()));
  }
  if (!ca::CertificateMatchesKey((*certs)[0].get(), key.get())) {
    return absl::FailedPreconditionError(rekey::StrCat(
        where, "certificate ", issued->certificate_url, " is not for the key rekey sent"));
  }
  ASSIGN_OR_RETURN(ca::CertificateInfo info, ca::DescribeCertificate((*certs)[0].get()));
  ASSIGN_OR_RETURN(std::string leaf_pem, ca::CertificateToPem((*certs)[0].get()));
  std::string chain_pem;
  std::string issuing_ca;
  for (size_t i = 1; i < certs->size(); ++i) {
    ASSIGN_OR_RETURN(std::string pem, ca::CertificateToPem((*certs)[i].get()));
    if (i == 1) issuing_ca = pem;
    chain_pem += pem;
  }
  ASSIGN_OR_RETURN(SecretBytes key_pem, ca::PrivateKeyToPem(key.get()));

  json::value doc = json::object();
  json::object& o = doc.get_object();
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    // Carry over fields other than the certificate's (e.g. notes a user added).
    WipedObject cur;
    if (cur.Parse(ctx.current()->value->Reveal(), "the current value").ok()) {
      for (const auto& [k, v] : cur.object()) {
        if (k != "private_key") o[k] = v;
      }
    }
  }
  o["certificate"] = J(leaf_pem);
  o["private_key"] = J(key_pem.Reveal());
  o["private_key_type"] = J(ca::KeyTypeName(c.key_type));
  o["issuing_ca"] = J(issuing_ca);
  o["chain"] = J(chain_pem);
  o["serial_number"] = J(info.serial_number);
  o["not_before"] = J(Rfc3339(info.not_before));
  o["not_after"] = J(Rfc3339(info.not_after));
  o["certificate_url"] = J(issued->certificate_url);
  std::string text = json::serialize(doc);
  WipeJsonStrings(doc);
  ctx.log().Info(rekey::StrCat(
      "obtained certificate ", info.serial_number, " for ", absl::StrJoin(c.domains, ", "),
      " with a new ", ca::KeyTypeName(c.key_type), " key, valid until ", Rfc3339(info.not_after)));
  return SecretBytes::TakeFrom(text);
}

absl::Status AcmeRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(CertValue pending, CertValueOf(ctx.pending(), "pending"));
  // Nothing to deploy: the CA issued the certificate; consumers read the new version.
  ctx.log().Info(rekey::StrCat("certificate ", pending.serial_number,
                               " is ready; consumers read it from the new version"));
  return absl::OkStatus();
}

absl::Status AcmeRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(CertValue pending, CertValueOf(ctx.pending(), "pending"));
  const std::string bundle_file =
      c.trust_bundle_file.empty() ? options_.default_trust_bundle_file : c.trust_bundle_file;
  ASSIGN_OR_RETURN(std::string bundle, ReadFile(bundle_file, "trust_bundle_file"));
  ca::DeployCheck check;
  check.certificate = pending.certificate;
  check.chain = pending.chain;
  check.private_key = &pending.private_key;
  check.trust_bundle = bundle;
  check.trust_name = bundle_file;
  check.now = ctx.clock().Now();
  check.start_skew = kClockSkew;
  check.names = c.domains;
  check.server_name = ServerNameFor(c.domains);
  absl::StatusOr<ca::DeployCheckResult> checked = ca::CheckForDeployment(check);
  if (!checked.ok()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "certificate ", pending.serial_number, " failed its test: ", checked.status().message()));
  }
  if (checked->checked_at != check.now) {
    ctx.log().Warn(rekey::StrCat("certificate ", pending.serial_number, " starts ",
                                 absl::FormatDuration(checked->checked_at - check.now),
                                 " from now (clock skew); tested as of its start"));
  }
  ctx.log().Info(rekey::StrCat("certificate ", pending.serial_number,
                               " matches its key, covers the domains, chains to ", bundle_file,
                               " and completed a TLS handshake as ", checked->server_name));
  return absl::OkStatus();
}

namespace {

// Revokes the certificate in `value` through the account (alreadyRevoked counts as done).
absl::Status RevokeWith(ac::Client& client, const CertValue& value, int reason) {
  ASSIGN_OR_RETURN(ca::X509Ptr cert, ca::ParseCertificatePem(value.certificate));
  ASSIGN_OR_RETURN(std::string der, ca::CertificateToDer(cert.get()));
  absl::Status s = client.RevokeCertificate(der, reason);
  if (!s.ok() && absl::StrContains(s.message(), "alreadyRevoked")) return absl::OkStatus();
  return s;
}

// Whether `value`'s certificate is for exactly `c`'s domains. The account may be shared by
// several secrets, and a value can be written by anyone allowed to write the secret: revoking
// only certificates for this secret's own domains keeps a crafted value from revoking another
// secret's certificate.
bool IsForDomains(const CertValue& value, const Config& c) {
  absl::StatusOr<ca::X509Ptr> cert = ca::ParseCertificatePem(value.certificate);
  if (!cert.ok()) return false;
  absl::StatusOr<ca::CertificateInfo> info = ca::DescribeCertificate(cert->get());
  if (!info.ok()) return false;
  std::vector<std::string> have = info->dns_names;
  std::vector<std::string> want = c.domains;
  std::sort(have.begin(), have.end());
  std::sort(want.begin(), want.end());
  return have == want;
}

}  // namespace

absl::Status AcmeRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  if (!c.revoke_on_retire) {
    ctx.log().Info("the previous certificate stays valid until it expires (revoke_on_retire off)");
    return absl::OkStatus();
  }
  absl::StatusOr<CertValue> previous = CertValueOf(ctx.previous(), "previous");
  if (!previous.ok() || previous->certificate.empty()) {
    ctx.log().Warn("the previous value has no readable certificate; nothing to revoke");
    return absl::OkStatus();
  }
  if (!IsForDomains(*previous, c)) {
    ctx.log().Warn(rekey::StrCat("the previous certificate ", previous->serial_number,
                                 " is not for exactly this secret's domains; not revoking it"));
    return absl::OkStatus();
  }
  const std::string where = rekey::StrCat("ACME server ", OriginOf(c.directory_url), ": ");
  absl::StatusOr<AccountSession> session =
      OpenAccount(c, ctx, options_, sleeper(), /*may_create=*/false);
  RETURN_IF_ERROR(Prefixed(session.status(), where));
  if (!session->registered) {
    return absl::FailedPreconditionError(rekey::StrCat(where, "no account at \"", c.account_secret,
                                                       "\" to revoke certificate ",
                                                       previous->serial_number, " with"));
  }
  RETURN_IF_ERROR(Prefixed(RevokeWith(*session->client, *previous, kReasonSuperseded), where));
  ctx.log().Info(
      rekey::StrCat("revoked certificate ", previous->serial_number, " (retired by rotation)"));
  return absl::OkStatus();
}

absl::Status AcmeRotator::Rollback(StepContext& ctx) {
  ctx.state().erase(kOrderState);
  absl::StatusOr<Config> c = ConfigOf(ctx);
  absl::StatusOr<CertValue> pending = CertValueOf(ctx.pending(), "pending");
  if (!c.ok() || !c->revoke_on_retire || !pending.ok() || pending->certificate.empty() ||
      !IsForDomains(*pending, *c)) {
    ctx.log().Info("the pending certificate was never current; it expires unused");
    return absl::OkStatus();
  }
  // Best effort: an unused certificate that stays valid harms nobody.
  absl::StatusOr<AccountSession> session =
      OpenAccount(*c, ctx, options_, sleeper(), /*may_create=*/false);
  absl::Status s = session.ok() && session->registered
                       ? RevokeWith(*session->client, *pending, kReasonCessation)
                       : session.status();
  if (s.ok()) {
    ctx.log().Info(rekey::StrCat("revoked the rolled-back certificate ", pending->serial_number));
  } else {
    ctx.log().Warn(rekey::StrCat("could not revoke the rolled-back certificate ",
                                 pending->serial_number, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status RegisterAcmeRotator(rotation::RotatorRegistry& registry, AcmeRotatorOptions options) {
  return registry.Register("acme", std::make_unique<AcmeRotator>(std::move(options)));
}

}  // namespace rekey::rotators::acme
