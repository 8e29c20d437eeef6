// `rekey kv ...` and `rekey status`: the Vault-compatible KV v2 client commands.
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/client.h"
#include "cli/storage_key_commands.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;
using ::rekey::net::ClientResponse;

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
  if (res->status == 200) {
    std::cout << std::endl;
    PrintStorageKeyStatus(c);
  }
  return res->status == 200 ? kExitOk : kExitServerError;
}

}  // namespace

void RegisterKvCommands(CLI::App& app, std::shared_ptr<Client> client, int& exit_code) {
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
