// Internal to src/cli: the pieces every client command shares: the connection to the server,
// error and table printing, path handling, and the usage-error plumbing.
#ifndef REKEY_CLI_CLIENT_H_
#define REKEY_CLI_CLIENT_H_

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "net/http_client.h"

namespace rekey::cli {

// The KV v2 mount the CLI works with.
inline constexpr char kMount[] = "secret";

// The value of the first of `names` that is set and not empty, else "".
std::string FirstEnv(std::initializer_list<const char*> names);

// A usage problem found after parsing (e.g. a malformed k=v pair): exit code 2.
struct UsageError {
  std::string message;
};

// Accepts both "foo/bar" and the Vault CLI's mount-prefixed "secret/foo/bar".
std::string StripMount(std::string path);

// Percent-encodes everything but [A-Za-z0-9._-/] for use in a URL path.
std::string UrlPath(std::string_view path);

// Percent-encodes everything but [A-Za-z0-9._-] for use in a query value.
std::string UrlQueryValue(std::string_view value);

// How to reach the server: --address / REKEY_ADDR / VAULT_ADDR (default http://127.0.0.1:8200),
// --ca-cert / REKEY_CACERT / VAULT_CACERT, --tls-skip-verify / REKEY_SKIP_VERIFY /
// VAULT_SKIP_VERIFY. The timeout is left at its default.
net::ClientOptions ConnectionOptions(const GlobalOptions& global);

// One server connection, made on first use from the global options and the environment.
// Not thread-safe.
class Client {
 public:
  explicit Client(const GlobalOptions& global) : global_(global) {}

  // Sends a request; returns the response, or prints the failure and returns nullopt.
  // Throws UsageError for a malformed address or an unreadable CA file.
  std::optional<net::ClientResponse> Send(std::string_view method, const std::string& path,
                                          std::string_view body = "",
                                          std::string_view content_type = "application/json");

  // The per-request timeout (default 30 s); takes effect for the next connection, so set it
  // before the first Send.
  void set_timeout(absl::Duration timeout) { timeout_ = timeout; }

  const GlobalOptions& global() const { return global_; }
  bool json() const { return global_.format == "json"; }

 private:
  const GlobalOptions& global_;
  absl::Duration timeout_ = absl::Seconds(30);
  std::unique_ptr<net::HttpClient> client_;
};

// The "errors" strings of a Vault-shaped error body (empty when there are none).
std::vector<std::string> ErrorsOf(const net::ClientResponse& res);

// Prints the server's (first) error for a non-2xx response; returns kExitServerError.
int ServerError(const net::ClientResponse& res, std::string_view what);

// A JSON scalar as table text: strings as they are, null as "n/a", anything else as JSON.
std::string Scalar(const boost::json::value& v);

using TableRows = std::vector<std::pair<std::string, std::string>>;

// A two-column Key/Value table on stdout.
void PrintTable(const TableRows& rows, const std::string& left = "Key",
                const std::string& right = "Value");

// A table with any number of columns on stdout; rows shorter than `headers` are padded.
void PrintColumns(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows);

TableRows Rows(const boost::json::object& o);

// The "data" object of a Vault envelope, or null.
const boost::json::object* DataOf(const boost::json::value& envelope);

// Parses a response body; nullopt when it is not JSON.
std::optional<boost::json::value> ParseBody(const net::ClientResponse& res);

// Sends LIST `url` and prints the answer's data.keys one per line (or the JSON with --format
// json). `what` names the listed thing in errors. Returns the exit code.
int ListKeys(Client& client, const std::string& url, std::string_view what);

// Prints a 2xx response: verbatim JSON, or a table of its data.
int PrintResult(const Client& client, const net::ClientResponse& res, const std::string& heading);

// Runs `fn`, turning a UsageError into exit code 2.
template <typename Fn>
std::function<void()> Guard(int& exit_code, Fn fn) {
  return [&exit_code, fn]() {
    try {
      exit_code = fn();
    } catch (const UsageError& e) {
      std::cerr << "Usage error: " << e.message << std::endl;
      exit_code = kExitUsage;
    }
  };
}

// The command groups; each adds its subcommands to `app`.
void RegisterKvCommands(CLI::App& app, std::shared_ptr<Client> client, int& exit_code);
void RegisterRotationCommands(CLI::App& app, std::shared_ptr<Client> client, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_CLIENT_H_
