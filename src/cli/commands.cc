#include "cli/commands.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_join.h"
#include "cli/http_client.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;

constexpr char kMount[] = "secret";

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "";
}

// A usage problem found after parsing (e.g. a malformed k=v pair).
struct UsageError {
  std::string message;
};

// Accepts both "foo/bar" and the Vault CLI's mount-prefixed "secret/foo/bar".
std::string StripMount(std::string path) {
  const std::string prefix = rekey::StrCat(kMount, "/");
  if (path.rfind(prefix, 0) == 0) path = path.substr(prefix.size());
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  return path;
}

std::string UrlPath(std::string_view path) {
  // Secret paths are restricted to [A-Za-z0-9._-/] by the server; anything else is
  // percent-encoded here so the server can reject it with a clear message.
  std::string out;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
        c == '-') {
      out += c;
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
  return out;
}

// Parses k=v and k=@file arguments into a JSON object of strings.
json::object ParsePairs(const std::vector<std::string>& pairs) {
  json::object data;
  for (const std::string& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError{rekey::StrCat("expected key=value, got an argument without '=' ",
                                     "(argument ", std::to_string(&pair - &pairs[0] + 1), ")")};
    }
    std::string key = pair.substr(0, eq);
    std::string value = pair.substr(eq + 1);
    if (!value.empty() && value[0] == '@') {
      std::ifstream in(value.substr(1), std::ios::binary);
      if (!in) throw UsageError{rekey::StrCat("cannot read file ", value.substr(1))};
      std::stringstream ss;
      ss << in.rdbuf();
      value = ss.str();
    }
    data[key] = value;
    SecureWipe(value);
  }
  return data;
}

class Client {
 public:
  explicit Client(const GlobalOptions& global) : global_(global) {}

  // Sends a request; returns the response, or prints the failure and returns nullopt.
  std::optional<ClientResponse> Send(std::string_view method, const std::string& path,
                                     std::string_view body = "",
                                     std::string_view content_type = "application/json") {
    std::string address = global_.address;
    if (address.empty()) address = FirstEnv({"REKEY_ADDR", "VAULT_ADDR"});
    if (address.empty()) address = "http://127.0.0.1:8200";
    std::string token = global_.token;
    if (token.empty()) token = FirstEnv({"REKEY_TOKEN", "VAULT_TOKEN"});
    if (client_ == nullptr) {
      ClientOptions options;
      options.address = address;
      options.ca_file = global_.ca_file;
      if (options.ca_file.empty()) options.ca_file = FirstEnv({"REKEY_CACERT", "VAULT_CACERT"});
      const std::string skip = FirstEnv({"REKEY_SKIP_VERIFY", "VAULT_SKIP_VERIFY"});
      options.tls_skip_verify = global_.tls_skip_verify || skip == "1" || skip == "true";
      absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(options);
      if (!client.ok()) throw UsageError{std::string(ToStd(client.status().message()))};
      client_ = std::move(*client);
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("X-Vault-Token", token);
    if (!body.empty()) headers.emplace_back("Content-Type", std::string(content_type));
    absl::StatusOr<ClientResponse> res = client_->Send(method, path, headers, body);
    SecureWipe(token);
    for (auto& h : headers) SecureWipe(h.second);
    if (!res.ok()) {
      std::cerr << "Error: " << res.status().message() << std::endl;
      return std::nullopt;
    }
    return std::move(*res);
  }

  const GlobalOptions& global() const { return global_; }

 private:
  const GlobalOptions& global_;
  std::unique_ptr<HttpClient> client_;
};

// Prints the server's error for a non-2xx response; returns kExitServerError.
int ServerError(const ClientResponse& res, std::string_view what) {
  std::string message;
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec && v.is_object()) {
    if (const json::value* errors = v.get_object().if_contains("errors");
        errors && errors->is_array() && !errors->get_array().empty() &&
        errors->get_array()[0].is_string()) {
      message = std::string(errors->get_array()[0].get_string());
    }
  }
  if (message.empty() && res.status == 404) message = rekey::StrCat("nothing found at ", what);
  if (message.empty()) message = rekey::StrCat("the server answered ", std::to_string(res.status));
  std::cerr << "Error: " << message << " (HTTP " << res.status << ")" << std::endl;
  return kExitServerError;
}

std::string Scalar(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "n/a";
  return json::serialize(v);
}

void PrintTable(const std::vector<std::pair<std::string, std::string>>& rows,
                const std::string& left = "Key", const std::string& right = "Value") {
  size_t width = left.size();
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  auto line = [&](const std::string& k, const std::string& v) {
    std::cout << k << std::string(width - k.size() + 4, ' ') << v << "\n";
  };
  line(left, right);
  line(std::string(left.size(), '-'), std::string(right.size(), '-'));
  for (const auto& [k, v] : rows) line(k, v);
}

std::vector<std::pair<std::string, std::string>> Rows(const json::object& o) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& kv : o) rows.emplace_back(std::string(kv.key()), Scalar(kv.value()));
  return rows;
}

const json::object* DataOf(const json::value& envelope) {
  if (!envelope.is_object()) return nullptr;
  const json::value* data = envelope.get_object().if_contains("data");
  return (data && data->is_object()) ? &data->get_object() : nullptr;
}

// Prints a 2xx response: verbatim JSON, or a table of its data.
int PrintResult(const Client& client, const ClientResponse& res, const std::string& heading) {
  if (client.global().format == "json") {
    std::cout << (res.body.empty() ? "{}" : res.body) << std::endl;
    return kExitOk;
  }
  if (res.status == 204 || res.body.empty()) {
    std::cout << "Success! " << heading << std::endl;
    return kExitOk;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  const json::object* data = ec ? nullptr : DataOf(v);
  if (data == nullptr) {
    std::cout << res.body << std::endl;
    return kExitOk;
  }
  std::cout << "== " << heading << " ==" << std::endl;
  PrintTable(Rows(*data));
  return kExitOk;
}

std::string Encode(const json::object& o) { return json::serialize(o); }

struct KvArgs {
  std::string path;
  std::vector<std::string> pairs;
  int64_t cas = -1;
  int64_t version = 0;
  std::string field;
  std::string versions;
  int64_t max_versions = -1;
  bool cas_required = false;
  std::string delete_version_after;
  std::vector<std::string> custom_metadata;
  std::string description;
};

json::array VersionList(const std::string& text, bool required) {
  json::array out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end = nullptr;
    long long n = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || n <= 0) throw UsageError{"--versions takes positive numbers, e.g. 1,2"};
    out.emplace_back(n);
  }
  if (required && out.empty()) throw UsageError{"--versions is required, e.g. --versions 1,2"};
  return out;
}

int KvPut(Client& c, const KvArgs& a, bool patch) {
  const std::string path = StripMount(a.path);
  if (a.pairs.empty()) throw UsageError{"give at least one key=value pair"};
  json::object body;
  body["data"] = ParsePairs(a.pairs);
  json::object options;
  if (a.cas >= 0) options["cas"] = a.cas;
  body["options"] = std::move(options);
  std::string text = Encode(body);
  auto res = patch ? c.Send("PATCH", rekey::StrCat("/v1/secret/data/", UrlPath(path)), text,
                            "application/merge-patch+json")
                   : c.Send("POST", rekey::StrCat("/v1/secret/data/", UrlPath(path)), text);
  SecureWipe(text);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Secret Path: ", kMount, "/data/", path));
}

int KvGet(Client& c, const KvArgs& a) {
  const std::string path = StripMount(a.path);
  std::string url = rekey::StrCat("/v1/secret/data/", UrlPath(path));
  if (a.version > 0) url += rekey::StrCat("?version=", std::to_string(a.version));
  auto res = c.Send("GET", url);
  if (!res) return kExitServerError;
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  const json::object* data = ec ? nullptr : DataOf(v);
  if (res->status == 404 && data != nullptr) {
    std::cerr << "Error: this version of " << path << " is deleted or destroyed" << std::endl;
    return kExitServerError;
  }
  if (res->status / 100 != 2) return ServerError(*res, path);
  const json::value* secret = data ? data->if_contains("data") : nullptr;
  if (!a.field.empty()) {
    const json::value* f =
        (secret && secret->is_object()) ? secret->get_object().if_contains(a.field) : nullptr;
    if (f == nullptr) {
      std::cerr << "Error: field \"" << a.field << "\" not present in " << path << std::endl;
      return kExitServerError;
    }
    std::cout << (c.global().format == "json" ? json::serialize(*f) : Scalar(*f)) << std::endl;
    return kExitOk;
  }
  if (c.global().format == "json") {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  if (const json::value* meta = data ? data->if_contains("metadata") : nullptr;
      meta && meta->is_object()) {
    std::cout << "====== Metadata ======" << std::endl;
    PrintTable(Rows(meta->get_object()));
    std::cout << std::endl;
  }
  std::cout << "====== Data ======" << std::endl;
  if (secret && secret->is_object()) PrintTable(Rows(secret->get_object()));
  return kExitOk;
}

int KvList(Client& c, const KvArgs& a) {
  const std::string path = StripMount(a.path);
  auto res = c.Send("LIST", rekey::StrCat("/v1/secret/metadata/", UrlPath(path)));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path.empty() ? "/" : path);
  if (c.global().format == "json") {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec) return ServerError(*res, path);
  std::cout << "Keys\n----\n";
  if (const json::object* data = DataOf(v)) {
    if (const json::value* keys = data->if_contains("keys"); keys && keys->is_array()) {
      for (const auto& k : keys->get_array()) std::cout << Scalar(k) << "\n";
    }
  }
  std::cout << std::flush;
  return kExitOk;
}

int KvMetadataGet(Client& c, const KvArgs& a) {
  const std::string path = StripMount(a.path);
  auto res = c.Send("GET", rekey::StrCat("/v1/secret/metadata/", UrlPath(path)));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  if (c.global().format == "json") {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  const json::object* data = ec ? nullptr : DataOf(v);
  if (data == nullptr) return ServerError(*res, path);
  std::cout << "====== Metadata Path: " << kMount << "/metadata/" << path << " ======" << std::endl;
  json::object top = *data;
  top.erase("versions");
  PrintTable(Rows(top));
  if (const json::value* versions = data->if_contains("versions");
      versions && versions->is_object()) {
    for (const auto& kv : versions->get_object()) {
      std::cout << "\n====== Version " << std::string(kv.key()) << " ======" << std::endl;
      if (kv.value().is_object()) PrintTable(Rows(kv.value().get_object()));
    }
  }
  return kExitOk;
}

int KvMetadataPut(Client& c, const KvArgs& a, const CLI::App& cmd) {
  const std::string path = StripMount(a.path);
  json::object body;
  if (a.max_versions >= 0) body["max_versions"] = a.max_versions;
  if (cmd.count("--cas-required") > 0) body["cas_required"] = a.cas_required;
  if (!a.delete_version_after.empty()) body["delete_version_after"] = a.delete_version_after;
  if (!a.custom_metadata.empty()) body["custom_metadata"] = ParsePairs(a.custom_metadata);
  if (!a.description.empty()) body["description"] = a.description;
  auto res = c.Send("POST", rekey::StrCat("/v1/secret/metadata/", UrlPath(path)), Encode(body));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Metadata updated for ", path));
}

int KvVersionOp(Client& c, const KvArgs& a, const std::string& op) {
  const std::string path = StripMount(a.path);
  std::optional<ClientResponse> res;
  if (op == "delete" && a.versions.empty()) {
    res = c.Send("DELETE", rekey::StrCat("/v1/secret/data/", UrlPath(path)));
  } else {
    json::object body;
    body["versions"] = VersionList(a.versions, true);
    res = c.Send("POST", rekey::StrCat("/v1/secret/", op, "/", UrlPath(path)), Encode(body));
  }
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  const char* done = op == "delete" ? "deleted" : op == "undelete" ? "undeleted" : "destroyed";
  return PrintResult(c, *res, rekey::StrCat("Data ", done, " at ", path));
}

int KvRmAll(Client& c, const KvArgs& a) {
  const std::string path = StripMount(a.path);
  auto res = c.Send("DELETE", rekey::StrCat("/v1/secret/metadata/", UrlPath(path)));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, path);
  return PrintResult(c, *res, rekey::StrCat("Deleted every version and the metadata of ", path));
}

int Status(Client& c) {
  auto res = c.Send("GET", "/v1/sys/health");
  if (!res) return kExitServerError;
  if (c.global().format == "json") {
    std::cout << res->body << std::endl;
    return res->status == 200 ? kExitOk : kExitServerError;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec || !v.is_object()) return ServerError(*res, "/v1/sys/health");
  PrintTable(Rows(v.get_object()));
  return res->status == 200 ? kExitOk : kExitServerError;
}

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

}  // namespace

void RegisterClientCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);
  auto args = std::make_shared<KvArgs>();

  CLI::App* kv = app.add_subcommand("kv", "Read and write secrets in the KV v2 mount secret/");
  kv->require_subcommand(1);

  auto add_path = [&](CLI::App* cmd) {
    cmd->add_option("path", args->path, "Secret path, e.g. prod/db (a leading secret/ is ignored)")
        ->required();
  };

  CLI::App* put =
      kv->add_subcommand("put", "Write a new version: rekey kv put PATH k=v [k=@file]...");
  add_path(put);
  put->add_option("pairs", args->pairs, "key=value pairs; key=@file reads the value from a file");
  put->add_option("--cas", args->cas, "Check-and-set: the current version (0 = must not exist)");
  put->callback(Guard(exit_code, [=] { return KvPut(*client, *args, false); }));

  CLI::App* patch = kv->add_subcommand("patch", "Merge key=value pairs into the current version");
  add_path(patch);
  patch->add_option("pairs", args->pairs, "key=value pairs");
  patch->add_option("--cas", args->cas, "Check-and-set: the current version");
  patch->callback(Guard(exit_code, [=] { return KvPut(*client, *args, true); }));

  CLI::App* get = kv->add_subcommand("get", "Read the current (or a given) version");
  add_path(get);
  get->add_option("--version", args->version, "Version number (default: current)");
  get->add_option("--field", args->field, "Print only this field's value");
  get->callback(Guard(exit_code, [=] { return KvGet(*client, *args); }));

  CLI::App* list = kv->add_subcommand("list", "List the names under a folder");
  list->add_option("path", args->path, "Folder (default: the root)");
  list->callback(Guard(exit_code, [=] { return KvList(*client, *args); }));

  CLI::App* metadata = kv->add_subcommand("metadata", "Read or change a secret's metadata");
  metadata->require_subcommand(1);
  CLI::App* mget = metadata->add_subcommand("get", "Show metadata and every version");
  add_path(mget);
  mget->callback(Guard(exit_code, [=] { return KvMetadataGet(*client, *args); }));
  CLI::App* mput =
      metadata->add_subcommand("put", "Change max versions, CAS, expiry, custom metadata");
  add_path(mput);
  mput->add_option("--max-versions", args->max_versions, "Versions to keep (0 = mount default)");
  mput->add_flag("--cas-required{true},--no-cas-required{false}", args->cas_required,
                 "Require check-and-set on writes");
  mput->add_option("--delete-version-after", args->delete_version_after,
                   "Soft-delete versions this long after they are written, e.g. 720h");
  mput->add_option("--custom-metadata", args->custom_metadata, "key=value (repeatable)");
  mput->add_option("--description", args->description, "Free-text description");
  mput->callback(Guard(exit_code, [=] { return KvMetadataPut(*client, *args, *mput); }));

  CLI::App* del = kv->add_subcommand("delete", "Soft-delete the current version or --versions");
  add_path(del);
  del->add_option("--versions", args->versions, "Comma-separated versions, e.g. 1,2");
  del->callback(Guard(exit_code, [=] { return KvVersionOp(*client, *args, "delete"); }));

  CLI::App* undel = kv->add_subcommand("undelete", "Restore soft-deleted versions");
  add_path(undel);
  undel->add_option("--versions", args->versions, "Comma-separated versions")->required();
  undel->callback(Guard(exit_code, [=] { return KvVersionOp(*client, *args, "undelete"); }));

  CLI::App* destroy = kv->add_subcommand("destroy", "Wipe versions' material for good");
  add_path(destroy);
  destroy->add_option("--versions", args->versions, "Comma-separated versions")->required();
  destroy->callback(Guard(exit_code, [=] { return KvVersionOp(*client, *args, "destroy"); }));

  CLI::App* rm_all = kv->add_subcommand("rm-all", "Delete a secret: metadata and every version");
  add_path(rm_all);
  rm_all->callback(Guard(exit_code, [=] { return KvRmAll(*client, *args); }));

  CLI::App* status = app.add_subcommand("status", "Show the server's health");
  status->callback(Guard(exit_code, [=] { return Status(*client); }));
}

}  // namespace rekey::cli
