// `rekey transit ...`: client commands for the transit engine at /v1/transit/. Today that is
// `rekey transit rewrap`, which moves a file of transit ciphertexts to a key's latest version
// through the server's rewrap endpoint, so that no plaintext ever reaches the client.
#ifndef REKEY_CLI_TRANSIT_COMMANDS_H_
#define REKEY_CLI_TRANSIT_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace rekey::cli {

// Adds `transit` to `app`; the command's exit code goes to `exit_code`. `global` must outlive
// parsing and the callbacks.
void RegisterTransitCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_TRANSIT_COMMANDS_H_
