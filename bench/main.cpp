// vigil-bench: each subcommand prints one JSON object with its figures and settings.
#include <iostream>

#include "bench_util.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: vigil-bench COMMAND [options]\n\n"
                 "Commands:\n"
                 "  loader [--reps N] [--source DIR]  time to load the shipped workflows and to refuse\n"
                 "                                    hostile YAML (alias bomb, 10,000-deep nesting, 100 MB)\n"
                 "  expr [--evals N]                  expression evaluations per second\n"
                 "  engine [--runs N] [--concurrency C] [--data DIR] [--postgres CONNINFO]\n"
                 "                                    durable five-step runs: runs/s, events/s, latency\n"
                 "  parked [--runs N] [--data DIR]    runs parked at an approval: RSS, restart-to-ready\n"
                 "  audit-verify [--records N] [--data DIR]\n"
                 "                                    audit records verified per second (default 1,000,000)\n";
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "loader") return vigil::bench::runLoaderBench(rest);
  if (args[0] == "expr") return vigil::bench::runExprBench(rest);
  if (args[0] == "engine") return vigil::bench::runEngineBench(rest);
  if (args[0] == "parked") return vigil::bench::runParkedBench(rest, argv[0]);
  if (args[0] == "audit-verify") return vigil::bench::runAuditVerifyBench(rest);
  if (args[0] == "parked-restart") return vigil::bench::runParkedRestart(rest);
  std::cerr << "vigil-bench: unknown command '" << args[0] << "'\n";
  return 2;
}
