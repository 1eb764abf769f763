// The `vigil` command line: a table of subcommands, each with its own options, usage and
// help text. main() builds the table and dispatches; `vigil help CMD` prints one entry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <spdlog/spdlog.h>

namespace vigil::daemon {

// Exit codes shared by all subcommands.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the command ran and the answer is "no" (invalid, failed)
constexpr int kExitUsage = 2;    // bad arguments

struct CommandContext {
  std::vector<std::string> args;  // after the subcommand name
  std::shared_ptr<spdlog::logger> log;
};

struct Command {
  std::string name;
  std::string summary;  // one line for `vigil --help`
  std::string usage;    // "vigil validate [options] FILE..."
  std::string details;  // paragraphs and options for `vigil help NAME`
  std::function<int(CommandContext&)> run;
};

std::vector<Command> allCommands();

// Commands (one file each).
Command validateCommand();
Command describeCommand();
Command evalCommand();
Command serveCommand();
Command usersCommand();
Command tokensCommand();
Command runCommand();
Command runsCommand();
Command showCommand();
Command cancelCommand();
Command publishCommand();
Command approvalsCommand();
Command approveCommand();
Command rejectCommand();
Command decideCommand();
Command claimCommand();
Command reassignCommand();
Command auditCommand();
Command replayCommand();
Command connectorsCommand();
Command witnessCommand();
Command storeCommand();

// Prints "vigil CMD: MESSAGE" and a pointer to `vigil help CMD` on stderr; returns kExitUsage.
int usageError(const std::string& command, const std::string& message);

// For commands that read a data directory and must not create one (replay, audit verify,
// users list, tokens): nullopt when `dir` is a folder holding `file`; otherwise what is
// wrong, as a sentence to print ("no data directory at DIR", or "DIR has no FILE: ...").
// Reads nothing but the file system's metadata.
std::optional<std::string> missingDataDir(const std::string& dir, const std::string& file = "vigil.db");

// Parses ctx.args into `opts` (and `positional`); on a bad argument prints the usage
// error, sets *rc and returns false.
bool parseOptions(const std::string& command, const CommandContext& ctx,
                  const boost::program_options::options_description& opts,
                  const boost::program_options::positional_options_description& positional, int* rc);

}  // namespace vigil::daemon
