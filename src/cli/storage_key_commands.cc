#include "cli/storage_key_commands.h"

#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "core/strings.h"

namespace rekey::cli {
namespace {

namespace json = boost::json;

std::optional<json::object> KeyStatus(Client& c) {
  auto res = c.Send("GET", "/v1/sys/key-status");
  if (!res || res->status != 200) return std::nullopt;
  std::optional<json::value> v = ParseBody(*res);
  if (!v) return std::nullopt;
  const json::object* data = DataOf(*v);
  if (data == nullptr) return std::nullopt;
  return *data;
}

std::string Num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v == nullptr ? std::string("n/a") : Scalar(*v);
}

TableRows StatusRows(const json::object& data) {
  TableRows rows;
  rows.emplace_back("Storage Key", Num(data, "primary_key_id"));
  rows.emplace_back("Storage Key Installed", Num(data, "install_time"));
  rows.emplace_back("Storage Key Encryptions", Num(data, "encryptions"));
  int enabled = 0, disabled = 0;
  if (const json::value* keys = data.if_contains("keys"); keys != nullptr && keys->is_array()) {
    for (const json::value& k : keys->as_array()) {
      if (!k.is_object()) continue;
      const json::value* s = k.as_object().if_contains("status");
      if (s != nullptr && s->is_string() && s->as_string() == "enabled") ++enabled;
      if (s != nullptr && s->is_string() && s->as_string() == "disabled") ++disabled;
    }
  }
  rows.emplace_back("Storage Keys", rekey::StrCat(Num(data, "term"), " (", enabled, " enabled, ",
                                                  disabled, " disabled)"));
  const json::value* rw = data.if_contains("rewrap");
  if (rw != nullptr && rw->is_object()) {
    const json::object& r = rw->as_object();
    const json::value* active = r.if_contains("active");
    if (active != nullptr && active->is_bool() && active->as_bool()) {
      rows.emplace_back("Rewrap",
                        rekey::StrCat("in progress to key ", Num(r, "target_key_id"), ": pass ",
                                      Num(r, "pass"), ", ", Num(r, "done"), "/", Num(r, "total"),
                                      " records, ", Num(r, "rewrapped"), " moved"));
    } else if (Num(r, "finished") != "") {
      rows.emplace_back("Rewrap", rekey::StrCat("complete at ", Num(r, "finished"), " (",
                                                Num(r, "rewrapped"), " records moved)"));
    } else {
      rows.emplace_back("Rewrap", "none");
    }
    if (Num(r, "unreadable") != "0") rows.emplace_back("Unreadable Records", Num(r, "unreadable"));
  }
  return rows;
}

int Rotate(Client& c, bool wait) {
  auto res = c.Send("POST", "/v1/sys/rotate", "{}");
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, "/v1/sys/rotate");
  std::optional<json::object> data = KeyStatus(c);
  while (wait && data) {
    const json::value* rw = data->if_contains("rewrap");
    const json::value* active =
        rw != nullptr && rw->is_object() ? rw->as_object().if_contains("active") : nullptr;
    if (active == nullptr || !active->is_bool() || !active->as_bool()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    data = KeyStatus(c);
  }
  if (c.json()) {
    std::cout << (data ? json::serialize(*data) : std::string("{}")) << std::endl;
    return kExitOk;
  }
  std::cout << "Rotated the storage key." << std::endl;
  if (data) PrintTable(StatusRows(*data));
  return kExitOk;
}

}  // namespace

bool PrintStorageKeyStatus(Client& client) {
  std::optional<json::object> data = KeyStatus(client);
  if (!data) return false;
  PrintTable(StatusRows(*data));
  return true;
}

void RegisterStorageKeyCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);
  auto wait = std::make_shared<bool>(false);
  CLI::App* op = app.get_subcommand("operator");
  CLI::App* rotate = op->add_subcommand(
      "rotate",
      "Rotate the storage key: new writes use a new key; a background rewrap moves "
      "every record to it");
  rotate->add_flag("--wait", *wait, "Wait until the rewrap has finished");
  rotate->callback(Guard(exit_code, [client, wait] { return Rotate(*client, *wait); }));
}

}  // namespace rekey::cli
