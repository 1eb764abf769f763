// vigil-force-systems: synthetic PND, RMS, children's social care and education systems on
// loopback, seeded with clearly synthetic people, for vigil's demo and the examples' tests.
//
//   vigil-force-systems [--port-base N] [--data people.json] [--token T] [--outcomes FILE]
//                       [--today YYYY-MM-DD] [--quiet]
//
// Prints {"pnd": P, "rms": P, "csc": P, "education": P} on one line once all four listen,
// then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "directory.h"
#include "systems.h"

#ifndef VIGIL_FORCE_SYSTEMS_DATA
#define VIGIL_FORCE_SYSTEMS_DATA "people.json"
#endif

namespace {

constexpr const char* kUsage =
    "usage: vigil-force-systems [--port-base N] [--data FILE] [--token T] [--outcomes FILE] [--today YYYY-MM-DD] [--quiet]\n"
    "  --port-base N   pnd on N, rms on N+1, csc on N+2, education on N+3 (default 8471; 0 picks free ports)\n"
    "  --data FILE     the synthetic people (default " VIGIL_FORCE_SYSTEMS_DATA ")\n"
    "  --token T       require Authorization: Bearer T on every request\n"
    "  --outcomes FILE append outcomes written back to RMS as JSON lines\n"
    "  --today DATE    date incidents given as days_ago are counted from (default: today, UTC)\n"
    "  --quiet         no request log on stderr\n";

int usageError(const std::string& message) {
  std::cerr << "vigil-force-systems: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigil::examples;
  int portBase = 8471;
  std::string data = VIGIL_FORCE_SYSTEMS_DATA;
  std::string today = todayUtc();
  SystemsOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--quiet") {
      options.log = false;
      continue;
    }
    if (i + 1 >= argc) return usageError(arg == "--port-base" || arg == "--data" || arg == "--token" || arg == "--outcomes" || arg == "--today"
                                             ? arg + " needs a value"
                                             : "unknown option " + arg);
    const std::string value = argv[++i];
    if (arg == "--port-base") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || n < 0 || n > 65532) return usageError("--port-base must be 0 or a port up to 65532");
      portBase = static_cast<int>(n);
    } else if (arg == "--data") {
      data = value;
    } else if (arg == "--token") {
      options.token = value;
    } else if (arg == "--outcomes") {
      options.outcomesFile = value;
    } else if (arg == "--today") {
      if (value.size() != 10 || value[4] != '-' || value[7] != '-') return usageError("--today must be YYYY-MM-DD");
      today = value;
    } else {
      return usageError("unknown option " + arg);
    }
  }

  Directory people;
  std::string error;
  if (!people.load(data, today, &error)) {
    std::cerr << "vigil-force-systems: " << error << "\n";
    return 1;
  }

  // Signals are taken by sigwait below; block them before any server thread starts so
  // that every thread inherits the mask.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  ForceSystems systems(people, options);
  if (!systems.bind(portBase, &error)) {
    std::cerr << "vigil-force-systems: " << error << "\n";
    return 1;
  }
  systems.start();
  std::cout << systems.ports().dump() << std::endl;
  std::cerr << "vigil-force-systems: " << people.size() << " synthetic people, token " << (options.token.empty() ? "off" : "on") << "\n";

  int signal = 0;
  sigwait(&stopSignals, &signal);
  systems.stop();
  return 0;
}
