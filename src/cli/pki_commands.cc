#include "cli/pki_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
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

struct PkiArgs {
  std::string name;  // common name, role, serial, issuer ref, or file, per command
  std::string arg2;
  std::string key_type;
  int key_bits = 0;
  std::string ttl;
  std::string issuer_name;
  std::string issuer_ref;
  std::string common_name;
  bool exported = false;
  bool force = false;
  bool default_only = false;
  bool rotate = false;
  std::vector<std::string> alt_names;
  std::vector<std::string> ip_sans;
  std::vector<std::string> pairs;
  std::string out;
  std::string safety_buffer;
};

std::string ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError{rekey::StrCat("cannot read ", what, " file ", path)};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? Scalar(*v) : "";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

// Sends the request; on success returns the parsed envelope's data (or an empty object for
// 204), else prints the error and sets `exit`.
// With --format json the body is echoed to stdout unless `echo` is false.
std::optional<json::object> Call(Client& c, std::string_view method, const std::string& url,
                                 const std::string& body, std::string_view what, int* exit,
                                 bool echo = true) {
  std::optional<ClientResponse> res = c.Send(method, url, body);
  if (!res) {
    *exit = kExitServerError;
    return std::nullopt;
  }
  if (res->status / 100 != 2) {
    *exit = ServerError(*res, what);
    return std::nullopt;
  }
  *exit = kExitOk;
  if (res->status == 204 || res->body.empty()) return json::object();
  if (c.json() && echo) std::cout << res->body << std::endl;
  std::optional<json::value> v = ParseBody(*res);
  const json::object* data = v.has_value() ? DataOf(*v) : nullptr;
  if (data == nullptr) {
    std::cerr << "Error: the server's answer for " << what << " has no data" << std::endl;
    *exit = kExitServerError;
    return std::nullopt;
  }
  // Warnings (e.g. a capped TTL) go to stderr so that stdout stays the result.
  if (const json::value* w = v->get_object().if_contains("warnings"); w && w->is_array()) {
    for (const json::value& item : w->get_array()) {
      std::cerr << "Warning: " << Scalar(item) << std::endl;
    }
  }
  return *data;
}

// Prints `data` as a Key/Value table (nothing with --format json: Call printed the body).
void PrintData(const Client& c, const json::object& data) {
  if (c.json()) return;
  TableRows rows;
  for (const auto& kv : data) {
    if (kv.value().is_array()) {
      std::string joined;
      for (const json::value& e : kv.value().get_array()) {
        if (!joined.empty()) joined += e.is_string() ? "\n" : ",";
        joined += Scalar(e);
      }
      rows.emplace_back(std::string(kv.key()), joined);
    } else {
      rows.emplace_back(std::string(kv.key()), Scalar(kv.value()));
    }
  }
  PrintTable(rows);
}

// A raw GET (PEM bodies): printed as received.
int PrintRaw(Client& c, const std::string& url, std::string_view what) {
  std::optional<ClientResponse> res = c.Send("GET", url);
  if (!res) return kExitServerError;
  if (res->status / 100 != 2) return ServerError(*res, what);
  std::cout << res->body;
  if (!res->body.empty() && res->body.back() != '\n') std::cout << "\n";
  std::cout << std::flush;
  return kExitOk;
}

// Writes `text` to `path` with mode `mode` (the file is created or truncated).
void WriteFile(const std::string& path, std::string_view text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw UsageError{rekey::StrCat("cannot write ", path)};
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw UsageError{rekey::StrCat("cannot write ", path)};
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// issue/sign answers: with --out PREFIX, PREFIX.crt, PREFIX.key (0600) and PREFIX.chain.pem are
// written and only the metadata is shown; otherwise everything is printed (as Vault's CLI does).
int PrintIssued(const Client& c, json::object& data, const std::string& out) {
  json::value* key = data.if_contains("private_key");
  if (!out.empty()) {
    WriteFile(out + ".crt", Field(data, "certificate") + "\n", 0644);
    std::string chain;
    if (const json::value* ca = data.if_contains("ca_chain"); ca && ca->is_array()) {
      for (const json::value& e : ca->get_array()) chain += Scalar(e) + "\n";
    }
    WriteFile(out + ".chain.pem", chain, 0644);
    if (key != nullptr && key->is_string()) {
      SecretBytes pem(std::string_view(key->get_string().data(), key->get_string().size()));
      WriteFile(out + ".key", rekey::StrCat(pem.Reveal(), "\n"), 0600);
    }
    if (c.json()) {
      json::object summary{{"serial_number", Field(data, "serial_number")},
                           {"expiration", Field(data, "expiration")},
                           {"certificate_file", out + ".crt"},
                           {"chain_file", out + ".chain.pem"}};
      if (key != nullptr) summary["private_key_file"] = out + ".key";
      std::cout << json::serialize(summary) << std::endl;
    } else {
      std::cout << "Wrote " << out << ".crt, " << out << ".chain.pem"
                << (key != nullptr ? rekey::StrCat(" and ", out, ".key (0600)") : "") << "\n";
      TableRows rows = {{"serial_number", Field(data, "serial_number")},
                        {"expiration", Field(data, "expiration")}};
      if (key != nullptr) rows.emplace_back("private_key_type", Field(data, "private_key_type"));
      PrintTable(rows);
    }
  } else {
    PrintData(c, data);
  }
  if (key != nullptr && key->is_string()) {
    SecureWipe(key->get_string().data(), key->get_string().size());
  }
  return kExitOk;
}

int RootGenerate(Client& c, const PkiArgs& a) {
  json::object body;
  body["common_name"] = a.name;
  if (!a.key_type.empty()) body["key_type"] = a.key_type;
  if (a.key_bits != 0) body["key_bits"] = a.key_bits;
  if (!a.ttl.empty()) body["ttl"] = a.ttl;
  if (!a.issuer_name.empty()) body["issuer_name"] = a.issuer_name;
  int exit = 0;
  std::optional<json::object> data = Call(
      c, "POST", a.exported ? "/v1/pki/root/generate/exported" : "/v1/pki/root/generate/internal",
      json::serialize(body), "pki/root/generate", &exit, a.out.empty());
  if (!data) return exit;
  return PrintIssued(c, *data, a.out);
}

int IntermediateGenerate(Client& c, const PkiArgs& a) {
  json::object body;
  body["common_name"] = a.name;
  if (!a.key_type.empty()) body["key_type"] = a.key_type;
  if (a.key_bits != 0) body["key_bits"] = a.key_bits;
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST",
           a.exported ? "/v1/pki/intermediate/generate/exported"
                      : "/v1/pki/intermediate/generate/internal",
           json::serialize(body), "pki/intermediate/generate", &exit, a.out.empty());
  if (!data) return exit;
  if (!a.out.empty() || a.exported) return PrintIssued(c, *data, a.out);
  if (!c.json()) std::cout << Field(*data, "csr") << std::endl;
  return kExitOk;
}

int IntermediateSign(Client& c, const PkiArgs& a) {
  json::object body;
  body["csr"] = ReadFile(a.name, "CSR");
  if (!a.common_name.empty()) body["common_name"] = a.common_name;
  if (!a.ttl.empty()) body["ttl"] = a.ttl;
  if (!a.issuer_ref.empty()) body["issuer_ref"] = a.issuer_ref;
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", "/v1/pki/root/sign-intermediate", json::serialize(body),
           "pki/root/sign-intermediate", &exit);
  if (!data) return exit;
  if (!c.json()) std::cout << Field(*data, "certificate") << std::endl;
  return kExitOk;
}

int IntermediateSetSigned(Client& c, const PkiArgs& a) {
  json::object body;
  body["certificate"] = ReadFile(a.name, "certificate");
  if (!a.issuer_name.empty()) body["issuer_name"] = a.issuer_name;
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", "/v1/pki/intermediate/set-signed", json::serialize(body),
           "pki/intermediate/set-signed", &exit);
  if (!data) return exit;
  if (!c.json()) {
    PrintTable(
        {{"issuer_id", Field(*data, "issuer_id")}, {"issuer_name", Field(*data, "issuer_name")}});
  }
  return kExitOk;
}

int Import(Client& c, const PkiArgs& a) {
  json::object body;
  std::string bundle = ReadFile(a.name, "PEM bundle");
  body["pem_bundle"] = bundle;
  SecureWipe(bundle);
  if (!a.issuer_name.empty()) body["issuer_name"] = a.issuer_name;
  std::string text = json::serialize(body);
  SecureWipe(body["pem_bundle"].as_string().data(), body["pem_bundle"].as_string().size());
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", "/v1/pki/config/ca", text, "pki/config/ca", &exit);
  SecureWipe(text);
  if (!data) return exit;
  if (!c.json()) {
    PrintTable(
        {{"issuer_id", Field(*data, "issuer_id")}, {"issuer_name", Field(*data, "issuer_name")}});
  }
  return kExitOk;
}

int Issuers(Client& c) {
  int exit = 0;
  std::optional<json::object> data = Call(c, "LIST", "/v1/pki/issuers", "", "pki/issuers", &exit);
  if (!data || c.json()) return exit;
  std::vector<std::vector<std::string>> rows;
  const json::value* info = data->if_contains("key_info");
  if (const json::value* keys = data->if_contains("keys"); keys && keys->is_array()) {
    for (const json::value& k : keys->get_array()) {
      const std::string id = Scalar(k);
      const json::object* i = info && info->is_object() && info->get_object().contains(id)
                                  ? info->get_object().at(id).if_object()
                                  : nullptr;
      json::object empty;
      const json::object& o = i != nullptr ? *i : empty;
      rows.push_back({id, Field(o, "issuer_name"), Field(o, "common_name"),
                      Field(o, "is_default") == "true" ? "yes" : "",
                      Field(o, "retired") == "true" ? "yes" : "", Field(o, "not_after")});
    }
  }
  PrintColumns({"ID", "NAME", "COMMON NAME", "DEFAULT", "RETIRED", "NOT AFTER"}, rows);
  return kExitOk;
}

int IssuerRead(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "GET", rekey::StrCat("/v1/pki/issuer/", UrlQueryValue(a.name)), "",
           rekey::StrCat("pki/issuer/", a.name), &exit);
  if (!data) return exit;
  PrintData(c, *data);
  return kExitOk;
}

int IssuerDefault(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::string body;
  if (!a.name.empty()) body = json::serialize(json::object{{"default", a.name}});
  std::optional<json::object> data =
      Call(c, a.name.empty() ? "GET" : "POST", "/v1/pki/config/issuers", body, "pki/config/issuers",
           &exit);
  if (!data) return exit;
  if (!c.json()) std::cout << Field(*data, "default") << std::endl;
  return kExitOk;
}

int IssuerRetire(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", rekey::StrCat("/v1/pki/issuer/", UrlQueryValue(a.name), "/retire"),
           json::serialize(json::object{{"force", a.force}}),
           rekey::StrCat("pki/issuer/", a.name, "/retire"), &exit);
  if (!data) return exit;
  if (!c.json()) {
    std::cout << "Success! Retired issuer " << Field(*data, "issuer_id") << std::endl;
  }
  return kExitOk;
}

std::string RoleUrl(const std::string& name) {
  return rekey::StrCat("/v1/pki/roles/", UrlQueryValue(name));
}

int RoleWrite(Client& c, const PkiArgs& a) {
  json::object body;
  for (const std::string& pair : a.pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError{rekey::StrCat("expected key=value, got \"", pair.substr(0, 64), "\"")};
    }
    // Values go as strings: the server reads "true", "72h", "a.com,b.com" and "2048" leniently.
    body[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  int exit = 0;
  std::optional<json::object> data = Call(c, "POST", RoleUrl(a.name), json::serialize(body),
                                          rekey::StrCat("pki/roles/", a.name), &exit);
  if (!data) return exit;
  if (!c.json()) std::cout << "Success! Data written to: pki/roles/" << a.name << std::endl;
  return kExitOk;
}

int RoleRead(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "GET", RoleUrl(a.name), "", rekey::StrCat("pki/roles/", a.name), &exit);
  if (!data) return exit;
  PrintData(c, *data);
  return kExitOk;
}

int RoleDelete(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "DELETE", RoleUrl(a.name), "", rekey::StrCat("pki/roles/", a.name), &exit);
  if (!data) return exit;
  if (c.json()) {
    std::cout << "{}" << std::endl;
  } else {
    std::cout << "Success! Deleted role (if it existed): " << a.name << std::endl;
  }
  return kExitOk;
}

void AddLeafFields(json::object& body, const PkiArgs& a) {
  if (!a.alt_names.empty()) body["alt_names"] = Joined(a.alt_names);
  if (!a.ip_sans.empty()) body["ip_sans"] = Joined(a.ip_sans);
  if (!a.ttl.empty()) body["ttl"] = a.ttl;
}

int Issue(Client& c, const PkiArgs& a) {
  json::object body;
  body["common_name"] = a.arg2;
  AddLeafFields(body, a);
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", rekey::StrCat("/v1/pki/issue/", UrlQueryValue(a.name)), json::serialize(body),
           rekey::StrCat("pki/issue/", a.name), &exit, a.out.empty());
  if (!data) return exit;
  return PrintIssued(c, *data, a.out);
}

int Sign(Client& c, const PkiArgs& a) {
  json::object body;
  body["csr"] = ReadFile(a.arg2, "CSR");
  if (!a.common_name.empty()) body["common_name"] = a.common_name;
  AddLeafFields(body, a);
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", rekey::StrCat("/v1/pki/sign/", UrlQueryValue(a.name)), json::serialize(body),
           rekey::StrCat("pki/sign/", a.name), &exit, a.out.empty());
  if (!data) return exit;
  return PrintIssued(c, *data, a.out);
}

int Revoke(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", "/v1/pki/revoke", json::serialize(json::object{{"serial_number", a.name}}),
           "pki/revoke", &exit);
  if (!data) return exit;
  if (!c.json()) {
    std::cout << "Success! Revoked " << a.name << " at " << Field(*data, "revocation_time_rfc3339")
              << std::endl;
  }
  return kExitOk;
}

int Cert(Client& c, const PkiArgs& a) {
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "GET", rekey::StrCat("/v1/pki/cert/", UrlQueryValue(a.name)), "",
           rekey::StrCat("pki/cert/", a.name), &exit);
  if (!data) return exit;
  PrintData(c, *data);
  return kExitOk;
}

int Crl(Client& c, const PkiArgs& a) {
  if (a.rotate) {
    int exit = 0;
    std::optional<json::object> data =
        Call(c, "GET", "/v1/pki/crl/rotate", "", "pki/crl/rotate", &exit, /*echo=*/false);
    if (!data) return exit;
  }
  return PrintRaw(c, "/v1/pki/crl/pem", "pki/crl/pem");
}

int Tidy(Client& c, const PkiArgs& a) {
  json::object body;
  if (!a.safety_buffer.empty()) body["safety_buffer"] = a.safety_buffer;
  int exit = 0;
  std::optional<json::object> data =
      Call(c, "POST", "/v1/pki/tidy", json::serialize(body), "pki/tidy", &exit);
  if (!data) return exit;
  PrintData(c, *data);
  return kExitOk;
}

void KeyFlags(CLI::App* cmd, PkiArgs& a) {
  cmd->add_option("--key-type", a.key_type, "rsa (default), ec or ed25519");
  cmd->add_option("--key-bits", a.key_bits, "rsa: 2048 (default) or 3072; ec: 256 or 384");
  cmd->add_flag("--exported", a.exported,
                "Return the private key (shown only now; otherwise it never leaves rekey)");
}

void LeafFlags(CLI::App* cmd, PkiArgs& a) {
  cmd->add_option("--alt-names", a.alt_names, "DNS subject alternative names (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--ip-sans", a.ip_sans, "IP subject alternative names (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--ttl", a.ttl, "Lifetime, e.g. 720h (default: the role's)");
  cmd->add_option("--out", a.out,
                  "Write PREFIX.crt, PREFIX.chain.pem and PREFIX.key (0600) instead of printing");
}

}  // namespace

void RegisterPkiCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);
  auto a = std::make_shared<PkiArgs>();
  CLI::App* pki = app.add_subcommand("pki", "Internal certificate authority (Vault PKI-shaped)");
  pki->require_subcommand(1);

  // root / intermediate / import
  CLI::App* root = pki->add_subcommand("root", "Root CA issuers");
  root->require_subcommand(1);
  CLI::App* root_gen = root->add_subcommand("generate", "Generate a self-signed root issuer");
  root_gen->add_option("common_name", a->name, "Common name of the root")->required();
  KeyFlags(root_gen, *a);
  root_gen->add_option("--ttl", a->ttl, "Lifetime (default 10 years), e.g. 87600h");
  root_gen->add_option("--issuer-name", a->issuer_name, "A name for the issuer");
  root_gen->add_option("--out", a->out, "With --exported: write PREFIX.crt and PREFIX.key");
  root_gen->callback(Guard(exit_code, [=] { return RootGenerate(*client, *a); }));

  CLI::App* inter = pki->add_subcommand("intermediate", "Intermediate CA issuers");
  inter->require_subcommand(1);
  CLI::App* inter_gen =
      inter->add_subcommand("generate", "Generate an intermediate key and print its CSR");
  inter_gen->add_option("common_name", a->name, "Common name of the intermediate")->required();
  KeyFlags(inter_gen, *a);
  inter_gen->callback(Guard(exit_code, [=] { return IntermediateGenerate(*client, *a); }));
  CLI::App* inter_sign =
      inter->add_subcommand("sign", "Sign an intermediate's CSR with an issuer of this CA");
  inter_sign->add_option("csr_file", a->name, "PEM CSR file")->required();
  inter_sign->add_option("--common-name", a->common_name, "Override the CSR's common name");
  inter_sign->add_option("--ttl", a->ttl, "Lifetime of the intermediate certificate");
  inter_sign->add_option("--issuer-ref", a->issuer_ref, "Signing issuer (default: the default)");
  inter_sign->callback(Guard(exit_code, [=] { return IntermediateSign(*client, *a); }));
  CLI::App* inter_set =
      inter->add_subcommand("set-signed", "Install the signed intermediate certificate");
  inter_set->add_option("cert_file", a->name, "PEM certificate (optionally with its issuers)")
      ->required();
  inter_set->add_option("--issuer-name", a->issuer_name, "A name for the issuer");
  inter_set->callback(Guard(exit_code, [=] { return IntermediateSetSigned(*client, *a); }));

  CLI::App* import =
      pki->add_subcommand("import", "Import a CA: a PEM bundle with its key and certificate");
  import->add_option("pem_bundle_file", a->name, "PEM file")->required();
  import->add_option("--issuer-name", a->issuer_name, "A name for the issuer");
  import->callback(Guard(exit_code, [=] { return Import(*client, *a);
}));

// issuers
CLI::App* issuers = pki->add_subcommand("issuers", "List issuers");
issuers->callback(Guard(exit_code, [=] { return Issuers(*client); }));
CLI::App* issuer = pki->add_subcommand("issuer", "Read, make default or retire an issuer");
issuer->require_subcommand(1);
CLI::App* issuer_read = issuer->add_subcommand("read", "Show an issuer");
issuer_read->add_option("ref", a->name, "Issuer id, name or \"default\"")->required();
issuer_read->callback(Guard(exit_code, [=] { return IssuerRead(*client, *a); }));
CLI::App* issuer_default =
    issuer->add_subcommand("default", "Print the default issuer, or set it to REF");
issuer_default->add_option("ref", a->name, "Issuer id or name");
issuer_default->callback(Guard(exit_code, [=] { return IssuerDefault(*client, *a); }));
CLI::App* issuer_retire = issuer->add_subcommand(
    "retire", "Retire an issuer (not the default): it stops signing, leaves the trust bundle");
issuer_retire->add_option("ref", a->name, "Issuer id or name")->required();
issuer_retire->add_flag("--force", a->force, "Even while certificates it signed are valid");
issuer_retire->callback(Guard(exit_code, [=] { return IssuerRetire(*client, *a); }));

// roles
CLI::App* role = pki->add_subcommand("role", "Manage roles");
role->require_subcommand(1);
CLI::App* role_write =
    role->add_subcommand("write", "Create or replace a role: rekey pki role write NAME k=v...");
role_write->add_option("name", a->name, "Role name")->required();
role_write->add_option("pairs", a->pairs,
                       "Role fields, e.g. allowed_domains=example.com allow_subdomains=true "
                       "key_type=ec max_ttl=720h");
role_write->callback(Guard(exit_code, [=] { return RoleWrite(*client, *a); }));
CLI::App* role_read = role->add_subcommand("read", "Show a role");
role_read->add_option("name", a->name, "Role name")->required();
role_read->callback(Guard(exit_code, [=] { return RoleRead(*client, *a); }));
CLI::App* role_list = role->add_subcommand("list", "List roles");
role_list->callback(Guard(exit_code,
                          [=] { return ListKeys(*client, "/v1/pki/roles", "pki/roles"); }));
CLI::App* role_delete = role->add_subcommand("delete", "Delete a role");
role_delete->add_option("name", a->name, "Role name")->required();
role_delete->callback(Guard(exit_code, [=] { return RoleDelete(*client, *a); }));

// certificates
CLI::App* issue =
    pki->add_subcommand("issue", "Issue a certificate with a new key: rekey pki issue ROLE CN");
issue->add_option("role", a->name, "Role")->required();
issue->add_option("common_name", a->arg2, "Common name")->required();
LeafFlags(issue, *a);
issue->callback(Guard(exit_code, [=] { return Issue(*client, *a); }));
CLI::App* sign = pki->add_subcommand("sign", "Sign a CSR: rekey pki sign ROLE CSR_FILE");
sign->add_option("role", a->name, "Role")->required();
sign->add_option("csr_file", a->arg2, "PEM CSR file")->required();
sign->add_option("--common-name", a->common_name, "Common name (default: the CSR's)");
LeafFlags(sign, *a);
sign->callback(Guard(exit_code, [=] { return Sign(*client, *a); }));
CLI::App* revoke = pki->add_subcommand("revoke", "Revoke a certificate by serial number");
revoke->add_option("serial", a->name, "Serial, e.g. 4f:0a:... or 4f-0a-...")->required();
revoke->callback(Guard(exit_code, [=] { return Revoke(*client, *a); }));
CLI::App* cert = pki->add_subcommand("cert", "Show a stored certificate and its revocation");
cert->add_option("serial", a->name, "Serial")->required();
cert->callback(Guard(exit_code, [=] { return Cert(*client, *a); }));
CLI::App* certs = pki->add_subcommand("certs", "List stored certificates' serials");
certs->callback(Guard(exit_code, [=] { return ListKeys(*client, "/v1/pki/certs", "pki/certs"); }));

// trust bundle, CRL, tidy
CLI::App* ca = pki->add_subcommand(
    "ca", "Print the trust bundle (every active issuer's chain), PEM; no token needed");
ca->add_flag("--default-only", a->default_only, "Only the default issuer's certificate");
ca->callback(Guard(exit_code, [=] {
  return a->default_only ? PrintRaw(*client, "/v1/pki/ca/pem", "pki/ca/pem")
                         : PrintRaw(*client, "/v1/pki/ca_chain", "pki/ca_chain");
}));
CLI::App* crl = pki->add_subcommand("crl", "Print the default issuer's CRL, PEM");
crl->add_flag("--rotate", a->rotate, "Rebuild every issuer's CRL first");
crl->callback(Guard(exit_code, [=] { return Crl(*client, *a); }));
CLI::App* tidy = pki->add_subcommand("tidy", "Delete expired certificates and revocations");
tidy->add_option("--safety-buffer", a->safety_buffer, "Keep those expired less than this (72h)");
tidy->callback(Guard(exit_code, [=] { return Tidy(*client, *a); }));
}  // namespace rekey::cli

}  // namespace rekey::cli
