// The client side of the CLI: `rekey kv ...`, `rekey status`, `rekey rotation ...` and
// `rekey rotate`, talking to a server over HTTP.
#ifndef REKEY_CLI_COMMANDS_H_
#define REKEY_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <string>

namespace rekey::cli {

// Exit codes of every client command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // the server answered with an error, or is unreachable
inline constexpr int kExitUsage = 2;        // bad flags or arguments

struct GlobalOptions {
  std::string address;  // --address, else $REKEY_ADDR, else $VAULT_ADDR, else http://127.0.0.1:8200
  std::string token;    // --token, else $REKEY_TOKEN, else $VAULT_TOKEN
  std::string format = "table";  // table | json
  std::string ca_file;           // --ca-file, else $REKEY_CACERT, else $VAULT_CACERT
  bool tls_skip_verify =
      false;  // --tls-skip-verify, or $REKEY_SKIP_VERIFY/$VAULT_SKIP_VERIFY=1|true
};

// Adds `kv`, `status`, `rotation`, `rotate` and `transit` to `app`. When one of them runs, its exit
// code is stored in `exit_code`. `global` must outlive parsing and the callbacks.
void RegisterClientCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_COMMANDS_H_
