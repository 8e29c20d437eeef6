#include "cli/commands.h"

#include <memory>

#include "cli/client.h"
#include "cli/transit_commands.h"

namespace rekey::cli {

void RegisterClientCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto client = std::make_shared<Client>(global);
  RegisterKvCommands(app, client, exit_code);
  RegisterRotationCommands(app, client, exit_code);
  RegisterTransitCommands(app, global, exit_code);
}

}  // namespace rekey::cli
