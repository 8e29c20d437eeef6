// `rekey operator rotate`: the client side of /v1/sys/rotate (a new primary storage key and a
// background rewrap of every record); `rekey status` shows /v1/sys/key-status with it.
#ifndef REKEY_CLI_STORAGE_KEY_COMMANDS_H_
#define REKEY_CLI_STORAGE_KEY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/client.h"
#include "cli/commands.h"

namespace rekey::cli {

// Adds `rotate` to the existing `operator` subcommand of `app`. `global` must outlive parsing
// and the callbacks.
void RegisterStorageKeyCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

// Prints the storage key and rewrap lines of GET /v1/sys/key-status as a table; prints nothing
// when the token may not read it. Returns whether it printed.
bool PrintStorageKeyStatus(Client& client);

}  // namespace rekey::cli

#endif  // REKEY_CLI_STORAGE_KEY_COMMANDS_H_
