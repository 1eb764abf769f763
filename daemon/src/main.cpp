// vigil: one binary, many subcommands. Global options may come before or after the subcommand.
#include <iostream>

#include "build_info.h"
#include "cli.h"
#include "logging.h"

using vigil::daemon::Command;
using vigil::daemon::CommandContext;

namespace {

void printOverview(const std::vector<Command>& commands) {
  std::cout << "vigil " << VIGIL_VERSION
            << " - YAML-defined safeguarding workflows with human approval and a tamper-evident audit trail.\n\n"
               "Usage: vigil [global options] COMMAND [options] [arguments]\n\n"
               "Commands:\n";
  for (const auto& c : commands) {
    std::cout << "  " << c.name << std::string(12 - std::min<size_t>(11, c.name.size()), ' ') << c.summary << "\n";
  }
  std::cout << "  help        Show help for a command: vigil help COMMAND\n\n"
               "Global options:\n"
               "  --log-format text|json   Log records as text (default) or one JSON object per line\n"
               "  --log-level LEVEL        trace, debug, info (default), warn, error, off\n"
               "  --version                Print version and build information\n"
               "  -h, --help               Print this help\n\n"
               "Start here: vigil validate workflows/*.yaml, then vigil describe workflows/mash-triage.yaml.\n"
               "Documentation: docs/WORKFLOW-LANGUAGE.md and docs/EXPRESSIONS.md.\n";
}

int printCommandHelp(const std::vector<Command>& commands, const std::string& name) {
  for (const auto& c : commands) {
    if (c.name == name) {
      std::cout << "Usage: " << c.usage << "\n\n" << c.summary << "\n\n" << c.details;
      return vigil::daemon::kExitOk;
    }
  }
  std::cerr << "vigil help: unknown command '" << name << "'. Run 'vigil --help' for the list.\n";
  return vigil::daemon::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::vector<Command> commands = vigil::daemon::allCommands();
  vigil::daemon::LogFormat format = vigil::daemon::LogFormat::kText;
  std::string level = "info";
  // --log-format and --log-level: true when args[*i] is one (its value consumed); `bad` set
  // when its value is wrong.
  int bad = -1;
  auto globalOption = [&](size_t* i) {
    const std::string& a = args[*i];
    if (a != "--log-format" && a != "--log-level") return false;
    if (*i + 1 >= args.size()) {
      std::cerr << "vigil: " << a << " needs a value\n";
      bad = vigil::daemon::kExitUsage;
      return true;
    }
    const std::string& v = args[++*i];
    if (a == "--log-format" && !vigil::daemon::parseLogFormat(v, &format)) {
      std::cerr << "vigil: --log-format must be 'text' or 'json', got '" << v << "'\n";
      bad = vigil::daemon::kExitUsage;
    }
    if (a == "--log-level") {
      static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (std::find(kLevels.begin(), kLevels.end(), v) == kLevels.end()) {
        std::cerr << "vigil: --log-level must be one of trace, debug, info, warn, error, critical, off\n";
        bad = vigil::daemon::kExitUsage;
      }
      level = v;
    }
    return true;
  };
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--version") {
      std::cout << "vigil " << VIGIL_VERSION << "\ncommit " << VIGIL_GIT_COMMIT << "\nbuild " << VIGIL_BUILD_TYPE
                << ", " << VIGIL_COMPILER << ", C++" << (__cplusplus / 100 % 100) << "\n";
      return vigil::daemon::kExitOk;
    }
    if (a == "-h" || a == "--help") {
      printOverview(commands);
      return vigil::daemon::kExitOk;
    }
    if (globalOption(&i)) {
      if (bad >= 0) return bad;
      continue;
    }
    if (!a.empty() && a[0] == '-') {
      std::cerr << "vigil: unknown option '" << a << "'. Run 'vigil --help'.\n";
      return vigil::daemon::kExitUsage;
    }
    break;
  }
  if (i >= args.size()) {
    printOverview(commands);
    return vigil::daemon::kExitUsage;
  }
  const std::string name = args[i];
  if (name == "help") {
    if (i + 1 >= args.size()) {
      printOverview(commands);
      return vigil::daemon::kExitOk;
    }
    return printCommandHelp(commands, args[i + 1]);
  }
  for (const auto& c : commands) {
    if (c.name == name) {
      CommandContext ctx;
      // After the command: its own help, and the global options, wherever they are given
      // (up to a `--`, after which everything is the command's).
      for (size_t j = i + 1; j < args.size(); ++j) {
        if (args[j] == "--") {
          ctx.args.insert(ctx.args.end(), args.begin() + static_cast<long>(j), args.end());
          break;
        }
        if (args[j] == "-h" || args[j] == "--help") return printCommandHelp(commands, name);
        if (globalOption(&j)) {
          if (bad >= 0) return bad;
          continue;
        }
        ctx.args.push_back(args[j]);
      }
      ctx.log = vigil::daemon::makeLogger("vigil", format, level);
      try {
        return c.run(ctx);
      } catch (const std::exception& e) {
        // A command must not die with an uncaught exception; this is a bug, reported plainly.
        ctx.log->critical("internal error in '{}': {}", name, e.what());
        return vigil::daemon::kExitFailure;
      }
    }
  }
  std::cerr << "vigil: unknown command '" << name << "'. Run 'vigil --help' for the list.\n";
  return vigil::daemon::kExitUsage;
}
