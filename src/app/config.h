// Server configuration: the YAML file given to `rekey server --config`, overridden by flags.
#ifndef REKEY_APP_CONFIG_H_
#define REKEY_APP_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/http/server.h"
#include "rotation/engine.h"

namespace rekey::app {

struct ServerConfig {
  // Listen addresses, TLS files, the access log switch and every limit: handed to the HTTP
  // server as they are (their defaults are the server's).
  http::ServerOptions http;
  std::string data_dir;
  std::string storage = "sqlite";  // the only backend so far
  // Rotate the storage key automatically once its primary has made this many encryptions
  // (0 = never). `storage` is a scalar, so the key is storage_key_rotation_threshold.
  uint64_t storage_key_rotation_threshold = uint64_t{1} << 31;
  std::string root_key_file;       // $REKEY_ROOT_KEY_FILE overrides it; default <data_dir>/root.key
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  std::string addr_file;           // written with the bound address once listening
  // The rotation engine's settings (default grace, workers, failure cooldown, spacing).
  rotation::EngineOptions rotation;
};

// Reads `path` over `base`. Keys (all optional):
//   listen: ["127.0.0.1:8200"] (or one string)   tls: {cert_file, key_file}
//   data_dir, storage: sqlite, storage_key_rotation_threshold, root_key_file, log_level,
//   access_log, addr_file
//   limits: {io_threads, blocking_threads, max_body_bytes, max_header_bytes, read_timeout,
//            idle_timeout, write_timeout, max_pipelined, max_connections}
//            (timeouts as "30s", "2m")
// kNotFound for a missing file; kInvalidArgument naming the key for a bad value or unknown key.
absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path, ServerConfig base = {});

}  // namespace rekey::app

#endif  // REKEY_APP_CONFIG_H_
