#include "cli.h"

#include <iostream>

namespace vigil::daemon {

std::vector<Command> allCommands() { return {serveCommand(), validateCommand(), describeCommand(), evalCommand(), runCommand(),   runsCommand(),
          showCommand(),  cancelCommand(),   publishCommand(),   usersCommand(),    tokensCommand()}; }

int usageError(const std::string& command, const std::string& message) {
  std::cerr << "vigil " << command << ": " << message << "\n"
            << "Run 'vigil help " << command << "' for usage.\n";
  return kExitUsage;
}

}  // namespace vigil::daemon
