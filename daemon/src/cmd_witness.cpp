// vigil witness: the tlog-witness service (witness/witness.h) behind the daemon's HTTP server.
#include <pthread.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "cli.h"
#include "http/http_server.h"
#include "witness/witness.h"

namespace po = boost::program_options;

namespace vigil::daemon {
namespace {

constexpr const char* kCommand = "witness";

bool splitHostPort(const std::string& listen, std::string* host, unsigned short* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() || colon + 6 < listen.size()) return false;
  unsigned value = 0;
  for (char ch : listen.substr(colon + 1)) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + static_cast<unsigned>(ch - '0');
  }
  if (value > 65535) return false;
  *host = listen.substr(0, colon);
  *port = static_cast<unsigned short>(value);
  return true;
}

// "ORIGIN=FILE" into the log list (several keys for one origin are kept together); a
// sentence saying what is wrong otherwise.
std::optional<std::string> addLog(const std::string& spec, std::vector<WitnessedLog>* logs) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) return "--log must be ORIGIN=PUBKEY.pem, got '" + spec + "'";
  const std::string origin = spec.substr(0, eq);
  const std::string file = spec.substr(eq + 1);
  if (!note::validName(origin)) return "--log origin '" + origin + "' must be one word of printable ASCII without '+'";
  std::ifstream in(file, std::ios::binary);
  if (!in) return "--log " + origin + ": cannot read the public key file " + file;
  std::stringstream pem;
  pem << in.rdbuf();
  const std::string raw = rawPublicKeyOf(pem.str());
  if (raw.size() != 32) return "--log " + origin + ": " + file + " does not hold an Ed25519 public key (PEM)";
  for (auto& l : *logs) {
    if (l.origin == origin) {
      l.publicKeys.push_back(raw);
      return std::nullopt;
    }
  }
  logs->push_back(WitnessedLog{origin, {raw}});
  return std::nullopt;
}

int runWitness(CommandContext& ctx) {
  std::string listen = "127.0.0.1:8480";
  WitnessConfig config;
  std::vector<std::string> logSpecs;
  po::options_description opts;
  opts.add_options()("listen", po::value(&listen))("data", po::value(&config.dataDir))("name", po::value(&config.name))(
      "log", po::value(&logSpecs));
  if (int rc = kExitOk; !parseOptions(kCommand, ctx, opts, po::positional_options_description(), &rc)) return rc;
  std::string host;
  unsigned short port = 0;
  if (!splitHostPort(listen, &host, &port)) return usageError(kCommand, "--listen must be HOST:PORT, e.g. 127.0.0.1:8480");
  if (config.dataDir.empty()) return usageError(kCommand, "--data DIR is required: where the witness keeps its key and state");
  if (config.name.empty()) return usageError(kCommand, "--name NAME is required: the witness's name in its cosignatures");
  if (!note::validName(config.name)) {
    return usageError(kCommand, "--name '" + config.name + "' must be one word of printable ASCII without '+'");
  }
  if (logSpecs.empty()) return usageError(kCommand, "give at least one --log ORIGIN=PUBKEY.pem: the logs to witness");
  for (const auto& spec : logSpecs) {
    if (auto problem = addLog(spec, &config.logs)) return usageError(kCommand, *problem);
  }

  // Signals are taken by sigwait below, never by the server's threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const size_t followed = config.logs.size();
  auto witness = Witness::open(std::move(config), systemClock(), ctx.log);
  if (!witness) {
    ctx.log->error("the witness cannot start: {}", witness.status().message());
    return kExitFailure;
  }
  Witness& w = **witness;
  HttpLimits limits;
  limits.maxBodyBytes = kMaxWitnessRequest + 64 * 1024;  // so a body just over the protocol's limit gets its 400
  HttpServer server(limits, [&w](HttpRequest& r) { return w.handle(r); }, ctx.log);
  std::string error;
  if (!server.start(host, port, &error)) {
    ctx.log->error("{}", error);
    return kExitFailure;
  }
  std::cout << "vigil witness listening on " << host << ":" << server.port() << "\n" << std::flush;
  ctx.log->info("witness {} (key id {}) following {} log(s) on {}:{}", w.name(), keyIdOf(w.publicKeyPem()), followed, host,
                server.port());
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    ctx.log->info("SIGHUP: a witness has nothing to reload (restart it to change --log)");
  }
  ctx.log->info("signal {}: stopping", sig);
  server.stop();
  return kExitOk;
}

}  // namespace

Command witnessCommand() {
  return Command{
      kCommand, "Witness a vigil audit log: co-sign its checkpoints only while it stays append-only",
      "vigil witness --data DIR --name NAME --log ORIGIN=PUBKEY.pem [--log ORIGIN=PUBKEY.pem]... [--listen HOST:PORT]",
      "A C2SP tlog-witness (https://c2sp.org/tlog-witness) for the daemon's signed checkpoints,\n"
      "meant to run on another machine, under someone else's control. For each log it keeps the\n"
      "newest checkpoint it co-signed and co-signs a new one only when the log's signature\n"
      "verifies and a consistency proof shows the new tree extends the one it holds; a\n"
      "rewritten, restored or replaced store is refused (422) and the held checkpoint kept.\n"
      "Point the daemon at it with audit.witnesses in its configuration (docs/AUDIT.md).\n\n"
      "  POST /add-checkpoint             the daemon's push (old size, proof, signed note)\n"
      "  GET  /checkpoint?origin=ORIGIN   the newest co-signed note it holds\n"
      "  GET  /public-key                 its name, PEM public key, key id and vkey\n\n"
      "Options:\n"
      "  --data DIR              its key (DIR/witness-ed25519.pem, created 0600) and what it holds\n"
      "                          (DIR/logs/); keep it: a witness that forgets would co-sign a fork\n"
      "  --name NAME             its key name in cosignatures, e.g. audit.northshire/w1\n"
      "  --log ORIGIN=FILE       a log to witness: its origin (audit.origin, or DATA/keys/audit-origin)\n"
      "                          and its public key (DATA/keys/audit-ed25519.pub.pem); repeat with\n"
      "                          the same ORIGIN to accept a rotated key beside the old\n"
      "  --listen HOST:PORT      address to serve on (default 127.0.0.1:8480; port 0 picks one)\n\n"
      "Prints 'vigil witness listening on HOST:PORT' once serving. Stops on SIGINT or SIGTERM.\n"
      "Exit status: 0 after a clean stop; 1 when it cannot start (the log says why); 2 for bad\n"
      "arguments.\n",
      runWitness};
}

}  // namespace vigil::daemon
