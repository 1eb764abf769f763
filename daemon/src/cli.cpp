#include "cli.h"

#include <iostream>

namespace vigil::daemon {

std::vector<Command> allCommands() {
  return {serveCommand(),     validateCommand(), describeCommand(), evalCommand(),    runCommand(),
          runsCommand(),      showCommand(),     cancelCommand(),   publishCommand(), approvalsCommand(),
          approveCommand(),   rejectCommand(),   decideCommand(),   claimCommand(),   reassignCommand(),
          connectorsCommand(), auditCommand(),    replayCommand(),   usersCommand(),    tokensCommand()};
}

int usageError(const std::string& command, const std::string& message) {
  std::cerr << "vigil " << command << ": " << message << "\n"
            << "Run 'vigil help " << command << "' for usage.\n";
  return kExitUsage;
}

bool parseOptions(const std::string& command, const CommandContext& ctx,
                  const boost::program_options::options_description& opts,
                  const boost::program_options::positional_options_description& positional, int* rc) {
  namespace po = boost::program_options;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(ctx.args).options(opts).positional(positional).run(), vm);
    po::notify(vm);
    return true;
  } catch (const po::error& e) {
    *rc = usageError(command, e.what());
    return false;
  }
}

}  // namespace vigil::daemon
