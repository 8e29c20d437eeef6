#include "cli/client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/secret_bytes.h"
#include "core/strings.h"

namespace rekey::cli {

namespace json = boost::json;
using ::rekey::net::ClientOptions;
using ::rekey::net::ClientResponse;
using ::rekey::net::HttpClient;

namespace {

std::string PercentEncode(std::string_view text, bool keep_slash) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || (keep_slash && c == '/') || c == '.' ||
        c == '_' || c == '-') {
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

}  // namespace

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "";
}

std::string StripMount(std::string path) {
  const std::string prefix = rekey::StrCat(kMount, "/");
  if (path.rfind(prefix, 0) == 0) path = path.substr(prefix.size());
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  return path;
}

std::string UrlPath(std::string_view path) {
  // Secret paths are restricted to [A-Za-z0-9._-/] by the server; anything else is
  // percent-encoded here so the server can reject it with a clear message.
  return PercentEncode(path, /*keep_slash=*/true);
}

std::string UrlQueryValue(std::string_view value) {
  return PercentEncode(value, /*keep_slash=*/false);
}

ClientOptions ConnectionOptions(const GlobalOptions& global) {
  ClientOptions options;
  options.address = global.address;
  if (options.address.empty()) options.address = FirstEnv({"REKEY_ADDR", "VAULT_ADDR"});
  if (options.address.empty()) options.address = "http://127.0.0.1:8200";
  options.ca_file = global.ca_file;
  if (options.ca_file.empty()) options.ca_file = FirstEnv({"REKEY_CACERT", "VAULT_CACERT"});
  const std::string skip = FirstEnv({"REKEY_SKIP_VERIFY", "VAULT_SKIP_VERIFY"});
  options.tls_skip_verify = global.tls_skip_verify || skip == "1" || skip == "true";
  return options;
}

std::optional<ClientResponse> Client::Send(std::string_view method, const std::string& path,
                                           std::string_view body, std::string_view content_type) {
  std::string token = global_.token;
  if (token.empty()) token = FirstEnv({"REKEY_TOKEN", "VAULT_TOKEN"});
  if (client_ == nullptr) {
    ClientOptions options = ConnectionOptions(global_);
    options.timeout = timeout_;
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

std::vector<std::string> ErrorsOf(const ClientResponse& res) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (ec || !v.is_object()) return out;
  const json::value* errors = v.get_object().if_contains("errors");
  if (errors == nullptr || !errors->is_array()) return out;
  for (const json::value& e : errors->get_array()) {
    if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

int ServerError(const ClientResponse& res, std::string_view what) {
  std::string message;
  if (std::vector<std::string> errors = ErrorsOf(res); !errors.empty()) message = errors[0];
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

void PrintTable(const TableRows& rows, const std::string& left, const std::string& right) {
  size_t width = left.size();
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  auto line = [&](const std::string& k, const std::string& v) {
    std::cout << k << std::string(width - k.size() + 4, ' ') << v << "\n";
  };
  line(left, right);
  line(std::string(left.size(), '-'), std::string(right.size(), '-'));
  for (const auto& [k, v] : rows) line(k, v);
}

void PrintColumns(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < headers.size() && i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto line = [&](auto cell) {
    std::string out;
    for (size_t i = 0; i < headers.size(); ++i) {
      const std::string text = cell(i);
      out += text;
      if (i + 1 < headers.size()) out += std::string(width[i] - text.size() + 3, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line([&](size_t i) { return headers[i]; });
  line([&](size_t i) { return std::string(headers[i].size(), '-'); });
  for (const auto& row : rows) {
    line([&](size_t i) { return i < row.size() ? row[i] : std::string(); });
  }
  std::cout << std::flush;
}

TableRows Rows(const json::object& o) {
  TableRows rows;
  for (const auto& kv : o) rows.emplace_back(std::string(kv.key()), Scalar(kv.value()));
  return rows;
}

const json::object* DataOf(const json::value& envelope) {
  if (!envelope.is_object()) return nullptr;
  const json::value* data = envelope.get_object().if_contains("data");
  return (data && data->is_object()) ? &data->get_object() : nullptr;
}

std::optional<json::value> ParseBody(const ClientResponse& res) {
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (ec) return std::nullopt;
  return v;
}

int PrintResult(const Client& client, const ClientResponse& res, const std::string& heading) {
  if (client.json()) {
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

int ListKeys(Client& client, const std::string& url, std::string_view what) {
  std::optional<net::ClientResponse> res = client.Send("LIST", url);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, what);
  if (client.json()) {
    std::cout << res->body << std::endl;
    return kExitOk;
  }
  std::optional<boost::json::value> v = ParseBody(*res);
  const boost::json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  const boost::json::value* keys = data != nullptr ? data->if_contains("keys") : nullptr;
  if (keys != nullptr && keys->is_array()) {
    for (const boost::json::value& k : keys->get_array()) std::cout << Scalar(k) << "\n";
  }
  std::cout << std::flush;
  return kExitOk;
}

}  // namespace rekey::cli
