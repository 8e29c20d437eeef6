// `rekey token create|lookup|renew|revoke` and `rekey policy write|read|list|delete`: the client
// side of the Vault-compatible auth/token/ and sys/policies/acl/ endpoints.
#ifndef REKEY_CLI_AUTH_COMMANDS_H_
#define REKEY_CLI_AUTH_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace rekey::cli {

// Adds `token` and `policy` to `app`. When one of them runs, its exit code is stored in
// `exit_code`. `global` must outlive parsing and the callbacks.
void RegisterAuthCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_AUTH_COMMANDS_H_
