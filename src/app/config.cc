#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "core/strings.h"
#include "rotation/schedule.h"

namespace rekey::app {
namespace {

absl::Status Bad(const std::string& key, const std::string& expected) {
  return absl::InvalidArgumentError(
      rekey::StrCat("config: invalid value for \"", key, "\": expected ", expected));
}

absl::Status CheckKeys(const YAML::Node& node, const std::string& where,
                       const std::set<std::string>& allowed) {
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.contains(key)) {
      return absl::InvalidArgumentError(rekey::StrCat("config: unknown key \"", where, key, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> Duration(const YAML::Node& n, const std::string& key) {
  absl::Duration d;
  std::string text = n.as<std::string>();
  if (!absl::ParseDuration(ToAbsl(text), &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return Bad(key, "a positive duration such as \"30s\"");
  }
  return d;
}

absl::StatusOr<ServerConfig> Parse(const YAML::Node& root, ServerConfig c) {
  if (!root.IsDefined() || root.IsNull()) return c;
  if (!root.IsMap()) return absl::InvalidArgumentError("config: the top level must be a mapping");
  if (absl::Status s = CheckKeys(
          root, "",
          {"listen", "tls", "data_dir", "storage", "storage_key_rotation_threshold",
           "root_key_file", "log_level", "access_log", "addr_file", "limits", "rotation"});
      !s.ok()) {
    return s;
  }
  if (const YAML::Node n = root["listen"]) {
    c.http.listen.clear();
    if (n.IsScalar())
      c.http.listen.push_back(n.as<std::string>());
    else if (n.IsSequence()) {
      for (const auto& item : n) c.http.listen.push_back(item.as<std::string>());
    } else {
      return Bad("listen", "an address or a list of addresses");
    }
    if (c.http.listen.empty()) return Bad("listen", "at least one address");
  }
  if (const YAML::Node n = root["tls"]) {
    if (!n.IsMap()) return Bad("tls", "a mapping with cert_file and key_file");
    if (absl::Status s = CheckKeys(n, "tls.", {"cert_file", "key_file"}); !s.ok()) return s;
    if (n["cert_file"]) c.http.tls_cert_file = n["cert_file"].as<std::string>();
    if (n["key_file"]) c.http.tls_key_file = n["key_file"].as<std::string>();
  }
  if (root["data_dir"]) c.data_dir = root["data_dir"].as<std::string>();
  if (root["storage"]) {
    c.storage = root["storage"].as<std::string>();
    if (c.storage != "sqlite") return Bad("storage", "\"sqlite\" (the only backend so far)");
  }
  if (const YAML::Node n = root["storage_key_rotation_threshold"]) {
    // Up to 2^32 (AES-GCM with random nonces must stay well below 2^32 encryptions per key).
    uint64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<uint64_t>::decode(n, v) || v > (uint64_t{1} << 32)) {
      return Bad("storage_key_rotation_threshold",
                 "a number of encryptions from 0 (never) to 4294967296");
    }
    c.storage_key_rotation_threshold = v;
  }
  if (root["root_key_file"]) c.root_key_file = root["root_key_file"].as<std::string>();
  if (root["log_level"]) c.log_level = root["log_level"].as<std::string>();
  if (root["access_log"]) c.http.access_log = root["access_log"].as<bool>();
  if (root["addr_file"]) c.addr_file = root["addr_file"].as<std::string>();
  if (const YAML::Node l = root["limits"]) {
    if (!l.IsMap()) return Bad("limits", "a mapping");
    if (absl::Status s = CheckKeys(
            l, "limits.",
            {"io_threads", "blocking_threads", "max_body_bytes", "max_header_bytes", "read_timeout",
             "idle_timeout", "write_timeout", "max_pipelined", "max_connections"});
        !s.ok()) {
      return s;
    }
    if (l["io_threads"]) c.http.io_threads = l["io_threads"].as<int>();
    if (l["blocking_threads"]) c.http.blocking_threads = l["blocking_threads"].as<int>();
    if (l["max_body_bytes"]) c.http.max_body_bytes = l["max_body_bytes"].as<size_t>();
    if (l["max_header_bytes"]) c.http.max_header_bytes = l["max_header_bytes"].as<size_t>();
    if (l["max_pipelined"]) c.http.max_pipelined = l["max_pipelined"].as<int>();
    if (l["max_connections"]) c.http.max_connections = l["max_connections"].as<int>();
    const std::pair<const char*, absl::Duration http::ServerOptions::*> kTimeouts[] = {
        {"read_timeout", &http::ServerOptions::read_timeout},
        {"idle_timeout", &http::ServerOptions::idle_timeout},
        {"write_timeout", &http::ServerOptions::write_timeout}};
    for (const auto& [key, field] : kTimeouts) {
      if (!l[key]) continue;
      absl::StatusOr<absl::Duration> d = Duration(l[key], rekey::StrCat("limits.", key));
      if (!d.ok()) return d.status();
      c.http.*field = *d;
    }
  }
  if (const YAML::Node r = root["rotation"]) {
    if (!r.IsMap()) return Bad("rotation", "a mapping");
    if (absl::Status s =
            CheckKeys(r, "rotation.",
                      {"default_grace", "failure_cooldown", "step_timeout", "workers",
                       "min_target_spacing", "max_jitter", "certificate_expiry_warnings"});
        !s.ok()) {
      return s;
    }
    if (r["workers"]) {
      c.rotation.workers = r["workers"].as<int>();
      if (c.rotation.workers < 1 || c.rotation.workers > 256) {
        return Bad("rotation.workers", "an integer from 1 to 256");
      }
    }
    const std::pair<const char*, absl::Duration*> kDurations[] = {
        {"default_grace", &c.rotation.default_grace},
        {"failure_cooldown", &c.rotation.failure_cooldown},
        {"step_timeout", &c.rotation.step_timeout},
        {"min_target_spacing", &c.rotation.spacing.min_target_spacing},
        {"max_jitter", &c.rotation.spacing.max_jitter}};
    for (const auto& [key, field] : kDurations) {
      if (!r[key]) continue;
      // Zero is allowed here: no jitter, no spacing, no grace by default.
      absl::Duration d;
      if (!absl::ParseDuration(ToAbsl(r[key].as<std::string>()), &d) || d < absl::ZeroDuration() ||
          d == absl::InfiniteDuration()) {
        return Bad(rekey::StrCat("rotation.", key), "a duration such as \"30s\" (0s allowed)");
      }
      *field = d;
    }
    if (const YAML::Node w = r["certificate_expiry_warnings"]) {
      // A list of positive durations before a certificate's not_after ("30d", "12h"); [] = warn
      // only when it has expired.
      constexpr char kWhat[] = "a list of positive durations such as [30d, 7d, 1d]";
      if (!w.IsSequence()) return Bad("rotation.certificate_expiry_warnings", kWhat);
      c.rotation.certificate_expiry_warnings.clear();
      for (const YAML::Node& item : w) {
        if (!item.IsScalar()) return Bad("rotation.certificate_expiry_warnings", kWhat);
        absl::StatusOr<absl::Duration> d = rotation::ParseScheduleDuration(item.as<std::string>());
        if (!d.ok() || *d <= absl::ZeroDuration()) {
          return Bad("rotation.certificate_expiry_warnings", kWhat);
        }
        c.rotation.certificate_expiry_warnings.push_back(*d);
      }
    }
    if (c.rotation.failure_cooldown <= absl::ZeroDuration()) {
      return Bad("rotation.failure_cooldown", "a positive duration such as \"1h\"");
    }
    if (c.rotation.step_timeout <= absl::ZeroDuration()) {
      return Bad("rotation.step_timeout", "a positive duration such as \"2m\"");
    }
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  if (!kLevels.contains(c.log_level)) {
    return Bad("log_level", "one of trace, debug, info, warn, error, off");
  }
  return c;
}

}  // namespace

absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path, ServerConfig base) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(rekey::StrCat("config file ", path, " does not exist"));
  }
  try {
    return Parse(YAML::LoadFile(path), std::move(base));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages give line and column, never a value.
    return absl::InvalidArgumentError(rekey::StrCat("config file ", path, ": ", e.what()));
  }
}

}  // namespace rekey::app
