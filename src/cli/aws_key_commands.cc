#include "cli/aws_key_commands.h"

#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client.h"
#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;
using ::rekey::net::ClientResponse;

std::string KeyUrl(const std::string& id) {
  return rekey::StrCat("/v1/sys/aws-keys/", UrlQueryValue(id));
}

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? Scalar(*v) : "";
}

std::string Policies(const json::object& o) {
  std::string out;
  if (const json::value* p = o.if_contains("policies"); p != nullptr && p->is_array()) {
    for (const json::value& e : p->get_array()) {
      if (!out.empty()) out += ",";
      out += Scalar(e);
    }
  }
  return out;
}

int Create(Client& c, const std::vector<std::string>& policies) {
  json::array names;
  for (const std::string& p : policies) names.emplace_back(json::string_view(p));
  std::optional<ClientResponse> res =
      c.Send("POST", "/v1/sys/aws-keys", json::serialize(json::object{{"policies", names}}));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "sys/aws-keys");
  if (c.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<json::value> v = ParseBody(*res);
  const json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  if (data == nullptr || !data->contains("secret_access_key")) {
    std::cerr << "Error: the server's answer has no access key" << std::endl;
    return kExitServerError;
  }
  SecretBytes secret(Field(*data, "secret_access_key"));
  std::cout << "Key                    Value\n"
            << "---                    -----\n"
            << "access_key_id          " << Field(*data, "access_key_id") << "\n"
            << "secret_access_key      " << secret.Reveal() << "\n"
            << "policies               " << Policies(*data) << "\n\n"
            << "The secret access key is shown only now: store it where the client reads it,\n"
            << "e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY." << std::endl;
  return kExitOk;
}

int Read(Client& c, const std::string& id) {
  std::optional<ClientResponse> res = c.Send("GET", KeyUrl(id));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("aws-key ", id));
  if (c.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<json::value> v = ParseBody(*res);
  const json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  if (data == nullptr) return ServerError(*res, rekey::StrCat("aws-key ", id));
  std::cout << "access_key_id    " << Field(*data, "access_key_id") << "\n"
            << "policies         " << Policies(*data) << "\n"
            << "created          " << Field(*data, "created") << std::endl;
  return kExitOk;
}

int Delete(Client& c, const std::string& id) {
  std::optional<ClientResponse> res = c.Send("DELETE", KeyUrl(id));
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, rekey::StrCat("aws-key ", id));
  if (c.json()) {
    std::cout << "{}" << std::endl;
  } else {
    std::cout << "Success! Deleted AWS access key (if it existed): " << id << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterAwsKeyCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);
  CLI::App* group =
      app.add_subcommand("aws-key", "Manage AWS access keys for the Secrets Manager API (sudo)");
  group->require_subcommand(1);
  auto policies = std::make_shared<std::vector<std::string>>();
  auto id = std::make_shared<std::string>();

  CLI::App* create = group->add_subcommand(
      "create", "Issue an access key bound to policies; the secret is shown once");
  create->add_option("--policy", *policies, "Policy to bind (repeatable, at least one)")
      ->required();
  create->callback(Guard(exit_code, [=] { return Create(*client, *policies); }));

  CLI::App* list = group->add_subcommand("list", "List access key ids");
  list->callback(
      Guard(exit_code, [=] { return ListKeys(*client, "/v1/sys/aws-keys", "sys/aws-keys"); }));

  CLI::App* read = group->add_subcommand("read", "Show an access key's policies (not its secret)");
  read->add_option("id", *id, "Access key id")->required();
  read->callback(Guard(exit_code, [=] { return Read(*client, *id); }));

  CLI::App* del = group->add_subcommand("delete", "Delete an access key");
  del->add_option("id", *id, "Access key id")->required();
  del->callback(Guard(exit_code, [=] { return Delete(*client, *id); }));
}

}  // namespace rekey::cli
