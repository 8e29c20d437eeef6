// `rekey aws-key create|list|read|delete`: the client side of /v1/sys/aws-keys (the AWS access
// keys the Secrets Manager surface accepts). The secret access key is printed only by `create`.
#ifndef REKEY_CLI_AWS_KEY_COMMANDS_H_
#define REKEY_CLI_AWS_KEY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace rekey::cli {

// Adds `aws-key` to `app`; the command's exit code goes to `exit_code`. `global` must outlive
// parsing and the callbacks.
void RegisterAwsKeyCommands(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace rekey::cli

#endif  // REKEY_CLI_AWS_KEY_COMMANDS_H_
