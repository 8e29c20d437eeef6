// Offline operator commands on a stopped server's data dir (they take its lock).
#ifndef REKEY_APP_OPERATOR_COMMANDS_H_
#define REKEY_APP_OPERATOR_COMMANDS_H_

#include <string>

namespace rekey::app {

// `rekey operator rekey-root --new-key-file F`: re-wraps the storage keyring under a new root
// key. F is created with a fresh key (mode 0600) unless it already holds one. The keyring is
// rewritten in one transaction; then the configured root key file is atomically replaced by the
// new key (written beside it, fsynced, renamed). Returns the process exit code.
int RunOperatorRekeyRoot(const std::string& data_dir, const std::string& config_file,
                         const std::string& new_key_file);

}  // namespace rekey::app

#endif  // REKEY_APP_OPERATOR_COMMANDS_H_
