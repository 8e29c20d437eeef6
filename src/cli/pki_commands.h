// `rekey pki ...`: the client side of /v1/pki/ (rekey's internal CA, Vault PKI-shaped): issuers,
// roles, issuing and signing certificates, revocation, the trust bundle and the CRL.
#ifndef REKEY_CLI_PKI_COMMANDS_H_
#define REKEY_CLI_PKI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace rekey::cli {

// Adds `pki` to `app`; the command's exit code goes to `exit_code`. `global` must outlive
// parsing and the callbacks.
void RegisterPkiCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_PKI_COMMANDS_H_
