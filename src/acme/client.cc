#include "acme/client.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/internal/openssl.h"

namespace rekey::acme {
namespace {

namespace json = boost::json;

constexpr std::string_view kErrorPrefix = "urn:ietf:params:acme:error:";
constexpr char kUserAgent[] = "rekey-acme/1";
constexpr size_t kMaxDetail = 300;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

// `text` on one printable line of at most `max` characters (for text a server sent us).
std::string Printable(std::string_view text, size_t max = kMaxDetail) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(J(key));
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
}

// The detail of a problem object (with its type and up to three subproblems), for messages.
std::string DescribeProblem(const json::object& problem) {
  std::string type = StringField(problem, "type");
  if (type.rfind(kErrorPrefix, 0) == 0) type = type.substr(kErrorPrefix.size());
  std::string out = Printable(type, 64);
  const std::string detail = StringField(problem, "detail");
  if (!detail.empty())
    out = rekey::StrCat(out.empty() ? "" : rekey::StrCat(out, ": "), Printable(detail));
  if (const json::value* subs = problem.if_contains("subproblems"); subs && subs->is_array()) {
    int shown = 0;
    for (const json::value& sub : subs->get_array()) {
      if (!sub.is_object() || ++shown > 3) break;
      std::string who;
      if (const json::value* id = sub.get_object().if_contains("identifier");
          id && id->is_object()) {
        who = rekey::StrCat(Printable(StringField(id->get_object(), "value"), 100), ": ");
      }
      out += rekey::StrCat("; ", who, Printable(StringField(sub.get_object(), "detail")));
    }
  }
  return out;
}

struct Problem {
  std::string type;  // without the urn prefix
  std::string description;
};

Problem ParseProblem(const HttpResponse& response) {
  Problem p;
  boost::system::error_code ec;
  json::value v = json::parse(J(response.body), ec);
  if (!ec && v.is_object()) {
    p.type = StringField(v.get_object(), "type");
    if (p.type.rfind(kErrorPrefix, 0) == 0) p.type = p.type.substr(kErrorPrefix.size());
    p.description = DescribeProblem(v.get_object());
  }
  if (p.description.empty()) p.description = rekey::StrCat("HTTP ", response.status);
  return p;
}

absl::Status ProblemStatus(const Problem& p, int http_status, std::string_view what) {
  const std::string msg =
      rekey::StrCat(what, ": the ACME server answered ", http_status, " (", p.description, ")");
  if (http_status >= 500 || p.type == "rateLimited" || http_status == 429) {
    return absl::UnavailableError(msg);
  }
  if (p.type == "accountDoesNotExist") return absl::NotFoundError(msg);
  if (p.type == "unauthorized" || http_status == 401 || http_status == 403) {
    return absl::PermissionDeniedError(msg);
  }
  return absl::FailedPreconditionError(msg);
}

absl::StatusOr<json::object> ParseObject(const HttpResponse& response, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(J(response.body), ec);
  if (ec || !v.is_object()) {
    return absl::UnavailableError(
        rekey::StrCat(what, ": the ACME server's answer is not a JSON object"));
  }
  return std::move(v.get_object());
}

Identifier ParseIdentifier(const json::value* v) {
  Identifier id;
  if (v != nullptr && v->is_object()) {
    id.type = StringField(v->get_object(), "type");
    id.value = StringField(v->get_object(), "value");
  }
  return id;
}

std::string ErrorDetail(const json::object& o) {
  const json::value* e = o.if_contains("error");
  return e != nullptr && e->is_object() ? DescribeProblem(e->get_object()) : "";
}

Order ParseOrder(const json::object& o, std::string url) {
  Order order;
  order.url = std::move(url);
  order.status = StringField(o, "status");
  if (const json::value* ids = o.if_contains("identifiers"); ids && ids->is_array()) {
    for (const json::value& id : ids->get_array())
      order.identifiers.push_back(ParseIdentifier(&id));
  }
  if (const json::value* az = o.if_contains("authorizations"); az && az->is_array()) {
    for (const json::value& a : az->get_array()) {
      if (a.is_string()) order.authorizations.emplace_back(S(a.get_string()));
    }
  }
  order.finalize = StringField(o, "finalize");
  order.certificate = StringField(o, "certificate");
  order.error = ErrorDetail(o);
  return order;
}

Authorization ParseAuthorization(const json::object& o, std::string url) {
  Authorization authz;
  authz.url = std::move(url);
  authz.status = StringField(o, "status");
  authz.identifier = ParseIdentifier(o.if_contains("identifier"));
  if (const json::value* w = o.if_contains("wildcard"); w && w->is_bool()) {
    authz.wildcard = w->get_bool();
  }
  if (const json::value* cs = o.if_contains("challenges"); cs && cs->is_array()) {
    for (const json::value& c : cs->get_array()) {
      if (!c.is_object()) continue;
      Challenge ch;
      ch.type = StringField(c.get_object(), "type");
      ch.url = StringField(c.get_object(), "url");
      ch.token = StringField(c.get_object(), "token");
      ch.status = StringField(c.get_object(), "status");
      ch.error = ErrorDetail(c.get_object());
      authz.challenges.push_back(std::move(ch));
    }
  }
  return authz;
}

// "*.example.com" for a wildcard authorization, else the identifier's value.
std::string NameOf(const Authorization& authz) {
  return rekey::StrCat(authz.wildcard ? "*." : "", Printable(authz.identifier.value, 255));
}

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

void RealSleeper::Sleep(absl::Duration d) { absl::SleepFor(d); }

std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now) {
  absl::string_view v = absl::StripAsciiWhitespace(ToAbsl(value));
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    if (v.size() > 9 || !absl::SimpleAtoi(v, &seconds)) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", v, absl::UTCTimeZone(), &when, &err)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

absl::StatusOr<std::string> CsrPemToDer(std::string_view csr_pem) {
  pki::internal::BioPtr bio = pki::internal::MemBio(csr_pem);
  pki::internal::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (req == nullptr) {
    pki::internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a PEM certificate signing request");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return pki::internal::OpenSslError("encoding the CSR");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Client::Client(Transport& transport, const Clock& clock, Sleeper& sleeper, AccountKey key,
               ClientOptions options)
    : transport_(transport),
      clock_(clock),
      sleeper_(sleeper),
      key_(std::move(key)),
      options_(std::move(options)) {}

void Client::Log(std::string_view line) const {
  if (options_.log) options_.log(line);
}

std::string Client::KeyAuthorizationFor(std::string_view token) const {
  return KeyAuthorization(token, key_.thumbprint());
}

absl::Status Client::FetchDirectory() {
  HttpRequest req;
  req.method = "GET";
  req.url = options_.directory_url;
  req.headers.emplace_back("User-Agent", kUserAgent);
  absl::StatusOr<HttpResponse> resp = transport_.Send(req);
  if (!resp.ok()) {
    return absl::Status(resp.status().code(),
                        rekey::StrCat("fetching the ACME directory: ", resp.status().message()));
  }
  if (resp->status != 200) {
    return ProblemStatus(ParseProblem(*resp), resp->status, "fetching the ACME directory");
  }
  ASSIGN_OR_RETURN(json::object dir, ParseObject(*resp, "fetching the ACME directory"));
  Directory d;
  d.new_nonce = StringField(dir, "newNonce");
  d.new_account = StringField(dir, "newAccount");
  d.new_order = StringField(dir, "newOrder");
  d.revoke_cert = StringField(dir, "revokeCert");
  if (const json::value* meta = dir.if_contains("meta"); meta && meta->is_object()) {
    d.terms_of_service = StringField(meta->get_object(), "termsOfService");
    if (const json::value* eab = meta->get_object().if_contains("externalAccountRequired");
        eab && eab->is_bool()) {
      d.external_account_required = eab->get_bool();
    }
  }
  if (d.new_nonce.empty() || d.new_account.empty() || d.new_order.empty()) {
    return absl::UnavailableError(
        "the ACME directory lacks newNonce, newAccount or newOrder: is directory_url an ACME "
        "directory?");
  }
  directory_ = std::move(d);
  have_directory_ = true;
  return absl::OkStatus();
}

absl::Status Client::EnsureDirectory() {
  return have_directory_ ? absl::OkStatus() : FetchDirectory();
}

absl::Status Client::EnsureNonce() {
  if (!nonce_.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(EnsureDirectory());
  for (const char* method : {"HEAD", "GET"}) {
    HttpRequest req;
    req.method = method;
    RETURN_IF_ERROR(CheckOrigin(directory_.new_nonce, "getting an ACME nonce"));
    req.url = directory_.new_nonce;
    req.headers.emplace_back("User-Agent", kUserAgent);
    absl::StatusOr<HttpResponse> resp = transport_.Send(req);
    if (!resp.ok()) {
      return absl::Status(resp.status().code(),
                          rekey::StrCat("getting an ACME nonce: ", resp.status().message()));
    }
    if (std::optional<std::string_view> n = resp->Header("replay-nonce"); n && !n->empty()) {
      nonce_ = std::string(*n);
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError("getting an ACME nonce: newNonce sent no Replay-Nonce");
}

absl::Status Client::CheckOrigin(std::string_view url, std::string_view what) const {
  // scheme://host[:port] of the directory: every URL the CA hands out must be under it, so a CA
  // (or anyone between) cannot point rekey's signed requests at other hosts.
  std::string_view dir = options_.directory_url;
  const size_t scheme_end = dir.find("://");
  const size_t path =
      scheme_end == std::string_view::npos ? std::string_view::npos : dir.find('/', scheme_end + 3);
  const std::string_view origin = dir.substr(0, path);
  if (url == origin || (url.size() > origin.size() && url.substr(0, origin.size()) == origin &&
                        url[origin.size()] == '/')) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(rekey::StrCat(what, ": the CA sent a URL outside ", origin,
                                                     " (", Printable(url, 200), "): refused"));
}

absl::StatusOr<HttpResponse> Client::Post(std::string_view url, std::optional<std::string> payload,
                                          bool use_jwk, std::string_view what,
                                          std::vector<std::pair<std::string, std::string>> extra) {
  RETURN_IF_ERROR(CheckOrigin(url, what));
  if (!use_jwk && account_url_.empty()) {
    return absl::FailedPreconditionError(rekey::StrCat(what, ": no ACME account yet"));
  }
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(EnsureNonce());
    JwsHeader header;
    header.nonce = std::exchange(nonce_, "");
    header.url = std::string(url);
    if (!use_jwk) header.kid = account_url_;
    ASSIGN_OR_RETURN(std::string body, SignJws(key_, header, payload.value_or("")));
    HttpRequest req;
    req.method = "POST";
    req.url = std::string(url);
    req.headers.emplace_back("Content-Type", "application/jose+json");
    req.headers.emplace_back("User-Agent", kUserAgent);
    for (const auto& h : extra) req.headers.push_back(h);
    req.body = std::move(body);
    absl::StatusOr<HttpResponse> resp = transport_.Send(req);
    if (!resp.ok()) {
      return absl::Status(resp.status().code(), rekey::StrCat(what, ": ", resp.status().message()));
    }
    if (std::optional<std::string_view> n = resp->Header("replay-nonce"); n && !n->empty()) {
      nonce_ = std::string(*n);
    }
    if (resp->status < 400) return resp;
    Problem problem = ParseProblem(*resp);
    if (problem.type == "badNonce" && attempt < options_.max_bad_nonce_retries) {
      Log(rekey::StrCat(what, ": the ACME server refused the nonce (badNonce); retrying"));
      continue;
    }
    return ProblemStatus(problem, resp->status, what);
  }
}

absl::StatusOr<std::string> Client::NewAccount(const AccountRequest& request) {
  RETURN_IF_ERROR(EnsureDirectory());
  json::object payload;
  if (request.only_return_existing) {
    payload["onlyReturnExisting"] = true;
  } else {
    payload["termsOfServiceAgreed"] = request.terms_of_service_agreed;
    if (!request.contact.empty()) {
      json::array contact;
      for (const std::string& c : request.contact) contact.emplace_back(J(c));
      payload["contact"] = std::move(contact);
    }
  }
  ASSIGN_OR_RETURN(HttpResponse resp, Post(directory_.new_account, json::serialize(payload),
                                           /*use_jwk=*/true, "registering the ACME account"));
  std::optional<std::string_view> location = resp.Header("location");
  if (!location || location->empty()) {
    return absl::UnavailableError("registering the ACME account: no Location in the answer");
  }
  account_url_ = std::string(*location);
  Log(rekey::StrCat(resp.status == 201 ? "created" : "found", " ACME account ", account_url_));
  return account_url_;
}

absl::StatusOr<Order> Client::NewOrder(const std::vector<std::string>& domains) {
  RETURN_IF_ERROR(EnsureDirectory());
  json::array ids;
  for (const std::string& d : domains) {
    json::object id;
    id["type"] = "dns";
    id["value"] = J(d);
    ids.push_back(std::move(id));
  }
  json::object payload;
  payload["identifiers"] = std::move(ids);
  const std::string what =
      rekey::StrCat("ordering a certificate for ", absl::StrJoin(domains, ", "));
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post(directory_.new_order, json::serialize(payload), false, what));
  std::optional<std::string_view> location = resp.Header("location");
  if (!location || location->empty()) {
    return absl::UnavailableError(rekey::StrCat(what, ": no Location in the answer"));
  }
  ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
  Order order = ParseOrder(o, std::string(*location));
  if (order.finalize.empty()) {
    return absl::UnavailableError(rekey::StrCat(what, ": the order has no finalize URL"));
  }
  return order;
}

absl::StatusOr<Order> Client::GetOrder(std::string_view url) {
  const std::string what = rekey::StrCat("reading order ", url);
  ASSIGN_OR_RETURN(HttpResponse resp, Post(url, std::nullopt, false, what));
  ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
  return ParseOrder(o, std::string(url));
}

absl::StatusOr<Authorization> Client::GetAuthorization(std::string_view url) {
  const std::string what = rekey::StrCat("reading authorization ", url);
  ASSIGN_OR_RETURN(HttpResponse resp, Post(url, std::nullopt, false, what));
  ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
  return ParseAuthorization(o, std::string(url));
}

absl::Status Client::AnswerChallenge(std::string_view url) {
  return Post(url, "{}", false, rekey::StrCat("answering challenge ", url)).status();
}

absl::Status Client::WaitBeforePoll(const HttpResponse& last, absl::Duration& interval,
                                    absl::Duration& waited, std::string_view what,
                                    std::string_view status) {
  absl::Duration delay = interval;
  const absl::Time now = clock_.Now();
  std::optional<absl::Duration> retry_after;
  if (std::optional<std::string_view> h = last.Header("retry-after")) {
    retry_after = ParseRetryAfter(*h, now);
  }
  if (retry_after.has_value() && *retry_after > absl::ZeroDuration()) {
    delay = std::min(*retry_after, options_.max_poll_interval);
  } else {
    interval = std::min(interval * 2, options_.max_poll_interval);
  }
  if (waited + delay > options_.poll_timeout) {
    return absl::DeadlineExceededError(rekey::StrCat(what, " is still ", Printable(status, 32),
                                                     " after ", absl::FormatDuration(waited)));
  }
  if (now + delay > options_.deadline) {
    return absl::DeadlineExceededError(rekey::StrCat(what, " is still ", Printable(status, 32),
                                                     " and the step's deadline is near"));
  }
  sleeper_.Sleep(delay);
  waited += delay;
  return absl::OkStatus();
}

absl::StatusOr<Authorization> Client::WaitForAuthorization(std::string_view url) {
  const std::string what = rekey::StrCat("authorization ", url);
  absl::Duration interval = options_.poll_interval;
  absl::Duration waited = absl::ZeroDuration();
  while (true) {
    ASSIGN_OR_RETURN(HttpResponse resp,
                     Post(url, std::nullopt, false, rekey::StrCat("reading ", what)));
    ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
    Authorization authz = ParseAuthorization(o, std::string(url));
    if (authz.status != "pending") return authz;
    RETURN_IF_ERROR(WaitBeforePoll(resp, interval, waited, what, authz.status));
  }
}

absl::StatusOr<Order> Client::WaitForOrder(std::string_view url) {
  const std::string what = rekey::StrCat("order ", url);
  absl::Duration interval = options_.poll_interval;
  absl::Duration waited = absl::ZeroDuration();
  while (true) {
    ASSIGN_OR_RETURN(HttpResponse resp,
                     Post(url, std::nullopt, false, rekey::StrCat("reading ", what)));
    ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
    Order order = ParseOrder(o, std::string(url));
    if (order.status != "pending" && order.status != "processing") return order;
    RETURN_IF_ERROR(WaitBeforePoll(resp, interval, waited, what, order.status));
  }
}

absl::StatusOr<Order> Client::Finalize(const Order& order, std::string_view csr_der) {
  json::object payload;
  payload["csr"] = J(Base64UrlEncode(csr_der));
  const std::string what = rekey::StrCat("finalizing order ", order.url);
  ASSIGN_OR_RETURN(HttpResponse resp, Post(order.finalize, json::serialize(payload), false, what));
  ASSIGN_OR_RETURN(json::object o, ParseObject(resp, what));
  return ParseOrder(o, order.url);
}

absl::StatusOr<std::string> Client::DownloadCertificate(std::string_view url) {
  const std::string what = rekey::StrCat("downloading certificate ", url);
  ASSIGN_OR_RETURN(HttpResponse resp, Post(url, std::nullopt, false, what,
                                           {{"Accept", "application/pem-certificate-chain"}}));
  if (resp.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return absl::UnavailableError(rekey::StrCat(what, ": the answer holds no PEM certificate"));
  }
  return std::move(resp.body);
}

absl::Status Client::RevokeCertificate(std::string_view certificate_der, int reason) {
  RETURN_IF_ERROR(EnsureDirectory());
  if (directory_.revoke_cert.empty()) {
    return absl::UnimplementedError("the ACME directory offers no revokeCert");
  }
  json::object payload;
  payload["certificate"] = J(Base64UrlEncode(certificate_der));
  payload["reason"] = reason;
  return Post(directory_.revoke_cert, json::serialize(payload), false, "revoking a certificate")
      .status();
}

absl::StatusOr<Client::Issued> Client::ObtainCertificate(const std::vector<std::string>& domains,
                                                         std::string_view csr_der,
                                                         ChallengeSolver& solver) {
  ASSIGN_OR_RETURN(Order order, NewOrder(domains));
  Log(rekey::StrCat("order ", order.url, " is ", Printable(order.status, 32), " with ",
                    order.authorizations.size(), " authorization(s)"));
  for (const std::string& authz_url : order.authorizations) {
    ASSIGN_OR_RETURN(Authorization authz, GetAuthorization(authz_url));
    const std::string name = NameOf(authz);
    if (authz.status == "valid") {
      Log(rekey::StrCat(name, " is already authorized"));
      continue;
    }
    if (authz.status != "pending") {
      return absl::FailedPreconditionError(
          rekey::StrCat("the CA's authorization for ", name, " is ", Printable(authz.status, 32)));
    }
    // Only names this order asked for are ever presented (the dns-01 hook gets the name in its
    // environment): a CA (or anyone between) cannot make rekey publish records for others.
    if (authz.identifier.type != "dns" ||
        std::find(domains.begin(), domains.end(), name) == domains.end()) {
      return absl::FailedPreconditionError(rekey::StrCat("the CA sent an authorization for ", name,
                                                         ", which this order did not ask for"));
    }
    const Challenge* challenge = nullptr;
    std::vector<std::string> offered;
    for (const Challenge& c : authz.challenges) {
      if (c.type == solver.type()) challenge = &c;
      offered.push_back(Printable(c.type, 32));
    }
    if (challenge == nullptr) {
      return absl::FailedPreconditionError(
          rekey::StrCat("the CA offers no ", solver.type(), " challenge for ", name,
                        " (it offers: ", absl::StrJoin(offered, ", "), ")"));
    }
    // RFC 8555 section 8.1: a token is base64url (it becomes a file name and a DNS value).
    if (challenge->token.empty() || challenge->token.size() > 256 ||
        challenge->token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789-_") != std::string::npos) {
      return absl::FailedPreconditionError(rekey::StrCat("the CA's ", solver.type(),
                                                         " challenge for ", name,
                                                         " has a token that is not base64url"));
    }
    const std::string key_authorization = KeyAuthorizationFor(challenge->token);
    RETURN_IF_ERROR(solver.Present(authz, *challenge, key_authorization));
    absl::Cleanup clean_up = [&solver, &authz, challenge, &key_authorization] {
      solver.CleanUp(authz, *challenge, key_authorization);
    };
    if (challenge->status == "pending") RETURN_IF_ERROR(AnswerChallenge(challenge->url));
    ASSIGN_OR_RETURN(Authorization done, WaitForAuthorization(authz_url));
    if (done.status != "valid") {
      std::string reason;
      for (const Challenge& c : done.challenges) {
        if (c.type == solver.type() && !c.error.empty()) reason = c.error;
      }
      return absl::FailedPreconditionError(rekey::StrCat(
          "the CA could not validate ", name, " with ", solver.type(), " (authorization ",
          Printable(done.status, 32), ")", reason.empty() ? "" : ": ", reason));
    }
    Log(rekey::StrCat(name, " validated with ", solver.type()));
  }
  ASSIGN_OR_RETURN(order, WaitForOrder(order.url));
  if (order.status == "ready") {
    ASSIGN_OR_RETURN(order, Finalize(order, csr_der));
    if (order.status == "processing" || order.status == "ready") {
      ASSIGN_OR_RETURN(order, WaitForOrder(order.url));
    }
  }
  if (order.status != "valid") {
    return absl::FailedPreconditionError(
        rekey::StrCat("order ", order.url, " is ", Printable(order.status, 32),
                      order.error.empty() ? "" : ": ", order.error));
  }
  if (order.certificate.empty()) {
    return absl::UnavailableError(
        rekey::StrCat("order ", order.url, " is valid but names no certificate URL"));
  }
  ASSIGN_OR_RETURN(std::string chain, DownloadCertificate(order.certificate));
  Log(rekey::StrCat("downloaded certificate ", order.certificate));
  return Issued{order.url, order.certificate, std::move(chain)};
}

}  // namespace rekey::acme
