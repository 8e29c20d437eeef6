// `rekey audit ...`: offline verification, tail and search of audit log files.
#ifndef REKEY_CLI_AUDIT_COMMANDS_H_
#define REKEY_CLI_AUDIT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace rekey::cli {

// Adds `audit verify|tail|search` to `app`; the exit code of the one that runs goes to
// `exit_code` (0 ok / a valid log, 1 a bad log or unreadable file, 2 bad usage).
void RegisterAuditCommands(CLI::App& app, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_AUDIT_COMMANDS_H_
