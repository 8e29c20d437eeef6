// `rekey server` and `rekey operator init`: opening (or creating) the store, unsealing it, and
// serving the API until SIGINT/SIGTERM.
#ifndef REKEY_APP_SERVER_COMMAND_H_
#define REKEY_APP_SERVER_COMMAND_H_

#include <string>
#include <vector>

namespace rekey::app {

struct ServerFlags {
  std::string config_file;
  bool dev = false;
  std::vector<std::string> listen;
  std::string data_dir;
  std::string dev_root_token;
  std::string dev_aws_key;  // "ID:SECRET" with --dev: the root AWS access key
  std::string addr_file;
  std::string log_level;
};

// Runs the server; returns the process exit code (0 after a clean shutdown, 1 on a startup
// error, which is printed to stderr with what to do about it).
int RunServer(const ServerFlags& flags);

// Creates the store and its root key in `data_dir` and prints a root token once. Returns the
// process exit code.
int RunOperatorInit(const std::string& data_dir, const std::string& config_file);

}  // namespace rekey::app

#endif  // REKEY_APP_SERVER_COMMAND_H_
