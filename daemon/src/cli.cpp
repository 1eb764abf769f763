#include "cli.h"

#include <filesystem>
#include <iostream>

namespace vigil::daemon {

std::vector<Command> allCommands() {
  return {serveCommand(),     validateCommand(), describeCommand(), evalCommand(),    runCommand(),
          runsCommand(),      showCommand(),     cancelCommand(),   publishCommand(), approvalsCommand(),
          approveCommand(),   rejectCommand(),   decideCommand(),   claimCommand(),   reassignCommand(),
          connectorsCommand(), auditCommand(),    replayCommand(),   usersCommand(),    tokensCommand(),
          witnessCommand(),   storeCommand()};
}

int usageError(const std::string& command, const std::string& message) {
  std::cerr << "vigil " << command << ": " << message << "\n"
            << "Run 'vigil help " << command << "' for usage.\n";
  return kExitUsage;
}

std::optional<std::string> missingDataDir(const std::string& dir, const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return "no data directory at " + dir;
  }
  if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / file, ec)) {
    return dir + " has no " + file + ": is it a vigil data directory?";
  }
  return std::nullopt;
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
