// rekey: one binary for the server and every client command.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/operator_commands.h"
#include "app/server_command.h"
#include "cli/audit_commands.h"
#include "cli/auth_commands.h"
#include "cli/aws_key_commands.h"
#include "cli/commands.h"
#include "cli/pki_commands.h"
#include "cli/storage_key_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"rekey: a secrets server with automated, zero-downtime rotation", "rekey"};
  app.fallthrough();  // global flags (--address, --token, --format) may follow the subcommand
  app.require_subcommand(1);
  app.set_version_flag("--version", "rekey 0.1.0");

  rekey::cli::GlobalOptions global;
  app.add_option("--address", global.address,
                 "Server address (default $REKEY_ADDR, $VAULT_ADDR, http://127.0.0.1:8200)")
      ->configurable(false);
  app.add_option("--token", global.token, "Token (default $REKEY_TOKEN, $VAULT_TOKEN)");
  app.add_option("--format", global.format, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--ca-file", global.ca_file, "CA bundle to verify the server's TLS certificate");
  app.add_flag("--tls-skip-verify", global.tls_skip_verify, "Do not verify the server certificate");

  int exit_code = 0;

  rekey::app::ServerFlags server_flags;
  CLI::App* server = app.add_subcommand("server", "Run the rekey server");
  server->add_option("--config", server_flags.config_file, "YAML configuration file");
  server->add_flag("--dev", server_flags.dev,
                   "Dev mode: create the store and root key if needed, print a root token");
  server->add_option("--listen", server_flags.listen, "host:port to listen on (repeatable)");
  server->add_option("--data-dir", server_flags.data_dir, "Directory of the store");
  server->add_option("--dev-root-token", server_flags.dev_root_token,
                     "With --dev: use this value as the root token");
  server->add_option("--dev-aws-key", server_flags.dev_aws_key,
                     "With --dev: ID:SECRET of the root AWS access key");
  server->add_option("--addr-file", server_flags.addr_file,
                     "Write the bound address to this file once listening");
  server->add_option("--log-level", server_flags.log_level, "trace|debug|info|warn|error|off");
  server->callback([&] { exit_code = rekey::app::RunServer(server_flags); });

  std::string init_data_dir, init_config;
  CLI::App* op = app.add_subcommand("operator", "Operator commands");
  op->require_subcommand(1);
  CLI::App* init =
      op->add_subcommand("init", "Create a store and its root key; print a root token");
  init->add_option("--data-dir", init_data_dir, "Directory for the new store");
  init->add_option("--config", init_config, "YAML configuration file (for data_dir/root_key_file)");
  init->callback([&] { exit_code = rekey::app::RunOperatorInit(init_data_dir, init_config); });
  std::string rekey_root_data_dir, rekey_root_config, rekey_root_new_key;
  CLI::App* rekey_root = op->add_subcommand(
      "rekey-root", "Re-wrap the storage keyring under a new root key (server stopped)");
  rekey_root->add_option("--data-dir", rekey_root_data_dir, "The store's data dir");
  rekey_root->add_option("--config", rekey_root_config, "YAML configuration file");
  rekey_root
      ->add_option("--new-key-file", rekey_root_new_key,
                   "The new root key (created with a fresh key, mode 0600, if it does not exist)")
      ->required();
  rekey_root->callback([&] {
    exit_code = rekey::app::RunOperatorRekeyRoot(rekey_root_data_dir, rekey_root_config,
                                                 rekey_root_new_key);
  });

  rekey::cli::RegisterClientCommands(app, global, exit_code);
  rekey::cli::RegisterAuthCommands(app, global, exit_code);
  rekey::cli::RegisterAwsKeyCommands(app, global, exit_code);
  rekey::cli::RegisterPkiCommands(app, global, exit_code);
  rekey::cli::RegisterAuditCommands(app, exit_code);
  rekey::cli::RegisterStorageKeyCommands(app, global, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : rekey::cli::kExitUsage;
  }
  return exit_code;
}
