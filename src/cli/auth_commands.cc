// `rekey token ...` and `rekey policy ...`. A token value is printed only by `token create` (the
// one time it exists outside the caller's hands) and never appears in an error message.
#include "cli/auth_commands.h"

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;
using ::rekey::net::ClientResponse;

// "1h30m", "45s", "0s"; like Vault's CLI.
std::string FormatSeconds(int64_t s) {
  if (s <= 0) return "0s";
  std::string out;
  if (s >= 3600) out += rekey::StrCat(s / 3600, "h");
  if (s % 3600 >= 60) out += rekey::StrCat((s % 3600) / 60, "m");
  if (s % 60 != 0) out += rekey::StrCat(s % 60, "s");
  return out;
}

int64_t IntOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

std::string ListText(const json::value* v) {
  if (v == nullptr || !v->is_array()) return "[]";
  std::string out = "[";
  for (const json::value& item : v->get_array()) {
    if (out.size() > 1) out += " ";
    out += Scalar(item);
  }
  return out + "]";
}

// Reads all of `path` ("-" = stdin).
std::string ReadInput(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError{rekey::StrCat("cannot read file ", path)};
    ss << in.rdbuf();
  }
  return ss.str();
}

// A token or accessor argument; "-" reads it from stdin (keeps it out of the process list).
std::string ReadSecretArg(const std::string& arg) {
  if (arg != "-") return arg;
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) throw UsageError{"no token on stdin"};
  return line;
}

// Sends `body` (wiped afterwards) and returns the response, or nullopt after printing an error.
std::optional<ClientResponse> SendWiping(Client& c, std::string_view method,
                                         const std::string& path, std::string body) {
  std::optional<ClientResponse> res = c.Send(method, path, body);
  SecureWipe(body);
  return res;
}

// ---- token -------------------------------------------------------------------------------

struct TokenArgs {
  std::string token;  // positional: token or accessor; "" = the caller's own token
  bool accessor = false;
  bool self = false;
  bool orphan = false;
  std::vector<std::string> policies;
  std::string ttl;
  std::string explicit_max_ttl;
  std::string renewable;  // "", "true" or "false"
  int64_t use_limit = 0;
  std::string display_name;
  std::vector<std::string> metadata;
  bool no_default_policy = false;
  std::string field;
  std::string increment;
};

// Prints the "auth" block of a create/renew answer.
// `show_token`: print the token (only when it was just created).
int PrintAuth(const Client& c, ClientResponse& res, const std::string& field, bool show_token) {
  std::optional<json::value> v = ParseBody(res);
  const json::object* auth = nullptr;
  if (v.has_value() && v->is_object()) {
    const json::value* a = v->get_object().if_contains("auth");
    if (a != nullptr && a->is_object()) auth = &a->get_object();
  }
  if (auth == nullptr) {
    std::cerr << "Error: the server's answer has no auth block" << std::endl;
    return kExitServerError;
  }
  if (!field.empty()) {
    std::string name = field == "token" ? "client_token" : field;
    if (field == "token_accessor") name = "accessor";
    const json::value* f = auth->if_contains(name);
    if (f == nullptr) throw UsageError{rekey::StrCat("no field \"", field, "\" in the answer")};
    std::cout << Scalar(*f) << std::endl;
  } else if (c.json()) {
    std::cout << res.body << std::endl;
  } else {
    TableRows rows;
    const json::value* token = auth->if_contains("client_token");
    if (show_token && token != nullptr && token->is_string() && !token->get_string().empty()) {
      rows.emplace_back("token", std::string(token->get_string()));
    }
    rows.emplace_back("token_accessor", Scalar(auth->at("accessor")));
    const int64_t duration = IntOf(*auth, "lease_duration");
    rows.emplace_back("token_duration", duration == 0 ? "∞" : FormatSeconds(duration));
    rows.emplace_back("token_renewable", Scalar(auth->at("renewable")));
    rows.emplace_back("token_policies", ListText(auth->if_contains("token_policies")));
    rows.emplace_back("policies", ListText(auth->if_contains("policies")));
    if (IntOf(*auth, "num_uses") > 0) {
      rows.emplace_back("num_uses", std::to_string(IntOf(*auth, "num_uses")));
    }
    PrintTable(rows);
    for (auto& [k, value] : rows) SecureWipe(value);
  }
  SecureWipe(res.body);
  return kExitOk;
}

int TokenCreate(Client& c, const TokenArgs& a) {
  json::object body;
  if (!a.policies.empty()) {
    json::array policies;
    for (const std::string& p : a.policies) policies.emplace_back(p);
    body["policies"] = std::move(policies);
  }
  if (!a.ttl.empty()) body["ttl"] = a.ttl;
  if (!a.explicit_max_ttl.empty()) body["explicit_max_ttl"] = a.explicit_max_ttl;
  if (!a.renewable.empty()) body["renewable"] = a.renewable == "true";
  if (a.use_limit < 0) throw UsageError{"--use-limit must not be negative"};
  if (a.use_limit > 0) body["num_uses"] = a.use_limit;
  if (!a.display_name.empty()) body["display_name"] = a.display_name;
  if (a.no_default_policy) body["no_default_policy"] = true;
  if (!a.metadata.empty()) {
    json::object meta;
    for (const std::string& pair : a.metadata) {
      size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw UsageError{"--metadata takes key=value"};
      }
      meta[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    body["meta"] = std::move(meta);
  }
  const std::string path = a.orphan ? "/v1/auth/token/create-orphan" : "/v1/auth/token/create";
  std::optional<ClientResponse> res = SendWiping(c, "POST", path, json::serialize(body));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "auth/token/create");
  return PrintAuth(c, *res, a.field, /*show_token=*/true);
}

int TokenLookup(Client& c, const TokenArgs& a) {
  std::optional<ClientResponse> res;
  if (a.token.empty()) {
    if (a.accessor) throw UsageError{"--accessor needs the accessor as an argument"};
    res = c.Send("GET", "/v1/auth/token/lookup-self");
  } else {
    std::string value = ReadSecretArg(a.token);
    json::object body;
    body[a.accessor ? "accessor" : "token"] = value;
    SecureWipe(value);
    res = SendWiping(c, "POST",
                     a.accessor ? "/v1/auth/token/lookup-accessor" : "/v1/auth/token/lookup",
                     json::serialize(body));
  }
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "the token");
  std::optional<json::value> v = ParseBody(*res);
  const json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  if (c.json() || data == nullptr) {
    std::cout << res->body << std::endl;
    SecureWipe(res->body);
    return kExitOk;
  }
  TableRows rows;
  for (const auto& kv : *data) {
    if (kv.key() == "id") continue;  // the token itself: never echoed to the terminal
    if (kv.value().is_array()) {
      rows.emplace_back(std::string(kv.key()), ListText(&kv.value()));
    } else {
      rows.emplace_back(std::string(kv.key()), Scalar(kv.value()));
    }
  }
  PrintTable(rows);
  SecureWipe(res->body);
  return kExitOk;
}

int TokenRenew(Client& c, const TokenArgs& a) {
  json::object body;
  if (!a.increment.empty()) body["increment"] = a.increment;
  std::string path = "/v1/auth/token/renew-self";
  if (!a.token.empty()) {
    std::string value = ReadSecretArg(a.token);
    body[a.accessor ? "accessor" : "token"] = value;
    SecureWipe(value);
    path = a.accessor ? "/v1/auth/token/renew-accessor" : "/v1/auth/token/renew";
  } else if (a.accessor) {
    throw UsageError{"--accessor needs the accessor as an argument"};
  }
  std::optional<ClientResponse> res = SendWiping(c, "POST", path, json::serialize(body));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "the token");
  return PrintAuth(c, *res, "", /*show_token=*/false);
}

int TokenRevoke(Client& c, const TokenArgs& a) {
  if (a.self == !a.token.empty()) {
    throw UsageError{"give a token (or accessor with --accessor), or --self"};
  }
  if (a.accessor && a.orphan) throw UsageError{"--accessor and --orphan cannot be combined"};
  std::optional<ClientResponse> res;
  if (a.self) {
    res = c.Send("POST", "/v1/auth/token/revoke-self");
  } else {
    std::string value = ReadSecretArg(a.token);
    json::object body;
    body[a.accessor ? "accessor" : "token"] = value;
    SecureWipe(value);
    const std::string path = a.accessor ? "/v1/auth/token/revoke-accessor"
                             : a.orphan ? "/v1/auth/token/revoke-orphan"
                                        : "/v1/auth/token/revoke";
    res = SendWiping(c, "POST", path, json::serialize(body));
  }
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "the token");
  if (c.json()) {
    std::cout << "{}" << std::endl;
  } else {
    std::cout << "Success! Revoked token (if it existed)" << std::endl;
  }
  return kExitOk;
}

// ---- policy ------------------------------------------------------------------------------

std::string PolicyUrl(const std::string& name) {
  return rekey::StrCat("/v1/sys/policies/acl/", UrlQueryValue(name));
}

int PolicyWrite(Client& c, const std::string& name, const std::string& file) {
  const std::string text = ReadInput(file);
  json::object body;
  body["policy"] = text;
  std::optional<ClientResponse> res = c.Send("PUT", PolicyUrl(name), json::serialize(body));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("policy ", name));
  if (c.json()) {
    std::cout << "{}" << std::endl;
  } else {
    std::cout << "Success! Uploaded policy: " << name << std::endl;
  }
  return kExitOk;
}

int PolicyRead(Client& c, const std::string& name) {
  std::optional<ClientResponse> res = c.Send("GET", PolicyUrl(name));
  if (!res) return kExitServerError;
  if (res->status == 404) {
    std::cerr << "Error: no policy named " << name << std::endl;
    return kExitServerError;
  }
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("policy ", name));
  if (c.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<json::value> v = ParseBody(*res);
  const json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  const json::value* policy = data != nullptr ? data->if_contains("policy") : nullptr;
  if (policy == nullptr || !policy->is_string()) {
    std::cerr << "Error: the server's answer has no policy text" << std::endl;
    return kExitServerError;
  }
  std::cout << std::string_view(policy->get_string()) << std::endl;
  return kExitOk;
}

int PolicyList(Client& c) { return ListKeys(c, "/v1/sys/policies/acl", "sys/policies/acl"); }

int PolicyDelete(Client& c, const std::string& name) {
  std::optional<ClientResponse> res = c.Send("DELETE", PolicyUrl(name));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("policy ", name));
  if (c.json()) {
    std::cout << "{}" << std::endl;
  } else {
    std::cout << "Success! Deleted policy: " << name << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterAuthCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);

  // token
  CLI::App* token = app.add_subcommand("token", "Create, look up, renew and revoke tokens");
  token->require_subcommand(1);
  auto args = std::make_shared<TokenArgs>();

  CLI::App* create = token->add_subcommand(
      "create", "Create a token (a child of the calling token unless --orphan); shown once");
  create->add_option("--policy", args->policies, "Policy to attach (repeatable)");
  create->add_option("--ttl", args->ttl, "Time to live, e.g. 1h (default: the server's, 768h)");
  create->add_option("--explicit-max-ttl", args->explicit_max_ttl,
                     "Hard limit: no renewal goes past creation + this");
  create->add_option("--renewable", args->renewable, "Whether it can be renewed (default true)")
      ->check(CLI::IsMember({"true", "false"}));
  create->add_option("--use-limit", args->use_limit, "Number of uses (default 0: unlimited)");
  create->add_option("--display-name", args->display_name, "Name shown in lookups and audit");
  create->add_option("--metadata", args->metadata, "key=value metadata (repeatable)");
  create->add_flag("--orphan", args->orphan, "No parent: survives revocation of its creator");
  create->add_flag("--no-default-policy", args->no_default_policy,
                   "Do not attach the default policy");
  create->add_option("--field", args->field,
                     "Print only this field (token, token_accessor, ...), e.g. for scripts");
  create->callback(Guard(exit_code, [=] { return TokenCreate(*client, *args); }));

  CLI::App* lookup =
      token->add_subcommand("lookup", "Show a token (default: the calling token; - = stdin)");
  lookup->add_option("token", args->token, "Token, or accessor with --accessor");
  lookup->add_flag("--accessor", args->accessor, "The argument is an accessor");
  lookup->callback(Guard(exit_code, [=] { return TokenLookup(*client, *args); }));

  CLI::App* renew =
      token->add_subcommand("renew", "Renew a token (default: the calling token; - = stdin)");
  renew->add_option("token", args->token, "Token, or accessor with --accessor");
  renew->add_flag("--accessor", args->accessor, "The argument is an accessor");
  renew->add_option("--increment", args->increment, "New TTL from now, e.g. 1h");
  renew->callback(Guard(exit_code, [=] { return TokenRenew(*client, *args); }));

  CLI::App* revoke = token->add_subcommand(
      "revoke", "Revoke a token and its children (- = read the token from stdin)");
  revoke->add_option("token", args->token, "Token, or accessor with --accessor");
  revoke->add_flag("--accessor", args->accessor, "The argument is an accessor");
  revoke->add_flag("--self", args->self, "Revoke the calling token");
  revoke->add_flag("--orphan", args->orphan, "Keep its children, as orphans (needs sudo)");
  revoke->callback(Guard(exit_code, [=] { return TokenRevoke(*client, *args); }));

  // policy
  CLI::App* policy = app.add_subcommand("policy", "Manage ACL policies (JSON syntax)");
  policy->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();

  CLI::App* write =
      policy->add_subcommand("write", "Create or replace a policy: rekey policy write NAME FILE");
  write->add_option("name", *name, "Policy name")->required();
  write->add_option("file", *file, "JSON policy file, or - for stdin")->required();
  write->callback(Guard(exit_code, [=] { return PolicyWrite(*client, *name, *file); }));

  CLI::App* read = policy->add_subcommand("read", "Print a policy");
  read->add_option("name", *name, "Policy name")->required();
  read->callback(Guard(exit_code, [=] { return PolicyRead(*client, *name); }));

  CLI::App* list = policy->add_subcommand("list", "List policy names");
  list->callback(Guard(exit_code, [=] { return PolicyList(*client); }));

  CLI::App* del = policy->add_subcommand("delete", "Delete a policy");
  del->add_option("name", *name, "Policy name")->required();
  del->callback(Guard(exit_code, [=] { return PolicyDelete(*client, *name); }));
}

}  // namespace rekey::cli
