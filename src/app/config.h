// Server configuration: the YAML file given to `rekey server --config`, overridden by flags.
#ifndef REKEY_APP_CONFIG_H_
#define REKEY_APP_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::app {

struct ServerConfig {
  std::vector<std::string> listen = {"127.0.0.1:8200"};
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string data_dir;
  std::string storage = "sqlite";  // the only backend so far
  std::string root_key_file;       // $REKEY_ROOT_KEY_FILE overrides it; default <data_dir>/root.key
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  bool access_log = true;
  std::string addr_file;  // written with the bound address once listening
  // limits
  int io_threads = 0;  // 0 = one per core
  int blocking_threads = 32;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(75);
  int max_pipelined = 16;
  int max_connections = 4096;
};

// Reads `path` over `base`. Keys (all optional):
//   listen: ["127.0.0.1:8200"] (or one string)   tls: {cert_file, key_file}
//   data_dir, storage: sqlite, root_key_file, log_level, access_log, addr_file
//   limits: {io_threads, blocking_threads, max_body_bytes, max_header_bytes, read_timeout,
//            idle_timeout, max_pipelined, max_connections}   (timeouts as "30s", "2m")
// kNotFound for a missing file; kInvalidArgument naming the key for a bad value or unknown key.
absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path, ServerConfig base = {});

}  // namespace rekey::app

#endif  // REKEY_APP_CONFIG_H_
