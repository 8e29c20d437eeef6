// A native RFC 8555 (ACME) client: directory, nonces, accounts, orders, authorizations,
// http-01/dns-01 challenges (through a ChallengeSolver), finalization with a CSR, polling with
// Retry-After, and certificate download. HTTP goes through an injected Transport and waiting
// through an injected Sleeper, so tests drive it with fakes and never sleep.
#ifndef REKEY_ACME_CLIENT_H_
#define REKEY_ACME_CLIENT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "acme/jws.h"
#include "core/clock.h"

namespace rekey::acme {

struct HttpRequest {
  std::string method = "GET";  // "GET", "HEAD" or "POST"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  // The first header named `lower_name`, if any.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

// Outbound HTTP(S). Implementations decide TLS trust (e.g. a custom CA file). Must return any HTTP
// status as a successful call; kUnavailable when the server cannot be reached, kDeadlineExceeded
// on a timeout. Messages must not carry request bodies.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// Waits. Production: RealSleeper; tests: a fake that advances a FakeClock.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void Sleep(absl::Duration d) = 0;
};
class RealSleeper final : public Sleeper {
 public:
  void Sleep(absl::Duration d) override;
};

// The directory's URLs and meta (RFC 8555 section 7.1.1).
struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string terms_of_service;  // "" when the CA has none
  bool external_account_required = false;
};

struct Identifier {
  std::string type;  // "dns"
  std::string value;
};

struct Challenge {
  std::string type;  // "http-01", "dns-01", ...
  std::string url;
  std::string token;
  std::string status;
  std::string error;  // the problem's detail when the challenge failed
};

struct Authorization {
  std::string url;
  std::string status;  // pending, valid, invalid, deactivated, expired, revoked
  Identifier identifier;
  bool wildcard = false;
  std::vector<Challenge> challenges;
};

struct Order {
  std::string url;
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // set once valid
  std::string error;        // the problem's detail when invalid
};

// Makes a challenge's response visible to the CA (http-01: serve the key authorization; dns-01:
// publish its TXT value) and takes it away again.
class ChallengeSolver {
 public:
  virtual ~ChallengeSolver() = default;
  virtual std::string_view type() const = 0;  // the challenge type it solves, e.g. "http-01"
  // Publishes the response for `challenge` of `authz`. An error aborts the order.
  virtual absl::Status Present(const Authorization& authz, const Challenge& challenge,
                               std::string_view key_authorization) = 0;
  // Best effort; called once after each successful Present, whatever the outcome.
  virtual void CleanUp(const Authorization& authz, const Challenge& challenge,
                       std::string_view key_authorization) = 0;
};

struct ClientOptions {
  std::string directory_url;
  // Polling: the server's Retry-After (seconds or an HTTP date) when it sends one, capped at
  // max_poll_interval; otherwise poll_interval, doubling up to max_poll_interval.
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration max_poll_interval = absl::Seconds(30);
  // A poll loop gives up (kDeadlineExceeded) after sleeping this long in total, or once the
  // clock passes `deadline`.
  absl::Duration poll_timeout = absl::Minutes(5);
  absl::Time deadline = absl::InfiniteFuture();
  // badNonce answers retried per request (RFC 8555 section 6.5: retry with the fresh nonce).
  int max_bad_nonce_retries = 5;
  // Progress lines (URLs, statuses, names; never keys). May be empty.
  std::function<void(std::string_view)> log;
};

// One account's conversation with one CA. Not thread-safe (one order at a time); cheap to make.
//
// Errors: a transport failure keeps its code (kUnavailable, kDeadlineExceeded) with a message
// naming the request; an ACME problem document maps to kUnavailable (5xx, rateLimited),
// kPermissionDenied (unauthorized), kNotFound (accountDoesNotExist) or kFailedPrecondition (any
// other refusal), its message carrying what was asked, the problem type and its detail; a
// malformed answer is kUnavailable. Messages never carry keys, nonces or signatures.
class Client {
 public:
  Client(Transport& transport, const Clock& clock, Sleeper& sleeper, AccountKey key,
         ClientOptions options);

  // GET the directory (done by every other call when needed).
  absl::Status FetchDirectory();
  const Directory& directory() const { return directory_; }

  struct AccountRequest {
    bool only_return_existing = false;
    bool terms_of_service_agreed = false;
    std::vector<std::string> contact;  // "mailto:..." URLs
  };
  // newAccount (RFC 8555 section 7.3): the account URL, which later requests use as their kid.
  // With only_return_existing, kNotFound when the CA knows no account for this key.
  absl::StatusOr<std::string> NewAccount(const AccountRequest& request);
  // Uses `url` as the kid without asking the CA.
  void set_account_url(std::string url) { account_url_ = std::move(url); }
  const std::string& account_url() const { return account_url_; }

  // newOrder for DNS names (a "*." prefix asks for a wildcard).
  absl::StatusOr<Order> NewOrder(const std::vector<std::string>& domains);
  absl::StatusOr<Order> GetOrder(std::string_view url);
  absl::StatusOr<Authorization> GetAuthorization(std::string_view url);
  // Tells the CA the challenge is ready (POST {}).
  absl::Status AnswerChallenge(std::string_view url);
  // Polls until the authorization is no longer pending.
  absl::StatusOr<Authorization> WaitForAuthorization(std::string_view url);
  // Polls until the order is neither pending nor processing.
  absl::StatusOr<Order> WaitForOrder(std::string_view url);
  // POSTs the CSR (DER) to the order's finalize URL.
  absl::StatusOr<Order> Finalize(const Order& order, std::string_view csr_der);
  // The certificate chain as PEM (leaf first).
  absl::StatusOr<std::string> DownloadCertificate(std::string_view url);
  // revokeCert (RFC 8555 section 7.6) of a DER certificate issued to this account.
  absl::Status RevokeCertificate(std::string_view certificate_der, int reason);

  // The whole flow for an order of `domains`: new order, every pending authorization solved with
  // `solver` (Present, answer, wait, CleanUp), finalize with `csr_der`, wait, download.
  // kFailedPrecondition naming the identifier when the CA offers no challenge of the solver's
  // type or could not validate it (with the CA's reason), or when the order becomes invalid.
  struct Issued {
    std::string order_url;
    std::string certificate_url;
    std::string chain_pem;  // leaf first
  };
  absl::StatusOr<Issued> ObtainCertificate(const std::vector<std::string>& domains,
                                           std::string_view csr_der, ChallengeSolver& solver);

  // KeyAuthorization(token, this account key's thumbprint).
  std::string KeyAuthorizationFor(std::string_view token) const;

 private:
  // A signed POST to `url` with `payload` (nullopt = POST-as-GET). `use_jwk` embeds the JWK
  // instead of the kid. Retries badNonce; maps problems to a status naming `what`.
  // kFailedPrecondition unless `url` is under the directory URL's scheme://host[:port].
  absl::Status CheckOrigin(std::string_view url, std::string_view what) const;
  absl::StatusOr<HttpResponse> Post(std::string_view url, std::optional<std::string> payload,
                                    bool use_jwk, std::string_view what,
                                    std::vector<std::pair<std::string, std::string>> extra = {});
  absl::Status EnsureDirectory();
  absl::Status EnsureNonce();
  // Sleeps before the next poll of `what`; kDeadlineExceeded when the poll budget is spent.
  absl::Status WaitBeforePoll(const HttpResponse& last, absl::Duration& interval,
                              absl::Duration& waited, std::string_view what,
                              std::string_view status);
  void Log(std::string_view line) const;

  Transport& transport_;
  const Clock& clock_;
  Sleeper& sleeper_;
  AccountKey key_;
  ClientOptions options_;
  Directory directory_;
  bool have_directory_ = false;
  std::string nonce_;
  std::string account_url_;
};

// The delay an HTTP Retry-After value asks for at `now`: delta-seconds or an IMF-fixdate;
// nullopt when absent or unparseable. Negative delays become zero.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now);

// A PEM CSR as DER, for Client::Finalize. kInvalidArgument when it is not a CSR.
absl::StatusOr<std::string> CsrPemToDer(std::string_view csr_pem);

}  // namespace rekey::acme

#endif  // REKEY_ACME_CLIENT_H_
