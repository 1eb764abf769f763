// vigil serve: the daemon. Engine, HTTP API and shipped workflows on one data directory.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include <boost/program_options.hpp>

#include "api/api.h"
#include "api/change_hub.h"
#include "connector_setup.h"
#include "approvals/approval_watch.h"
#include "audit/audit_service.h"
#include "cli.h"
#include "area_file.h"
#include "catalog/folder_loads.h"
#include "catalog/workflow_catalog.h"
#include "config.h"
#include "store_setup.h"
#include "http/http_server.h"
#include "triggers/trigger_service.h"
#include "vigil/loader.h"
#include "workflow_files.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace vigil::daemon {
namespace {

// Loads every workflow file in `dirs` and publishes the valid ones through the catalog (a
// definition already published is a no-op); records what became of each file in `loads`,
// which then lists this load's files alone. Returns how many files were refused.
int loadWorkflowDirs(const std::vector<std::string>& dirs, WorkflowCatalog& catalog, FolderLoads& loads,
                     const ConnectorRegistry& connectors, TimePoint now, spdlog::logger& log) {
  std::vector<std::string> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && (it->path().extension() == ".yaml" || it->path().extension() == ".yml")) {
        files.push_back(it->path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  LoadedFiles loaded = loadWithLibrary(files, {});
  int bad = 0;
  std::vector<FolderLoads::File> record;
  std::vector<WorkflowCatalog::Candidate> batch;
  for (const auto& f : loaded.files) {
    const LoadResult& r = loaded.results.at(f);
    if (!r.ok()) {
      for (const auto& d : r.diagnostics) log.error("{}", d.format());
      record.push_back(FolderLoads::refusedFile(f, now, r.partial.get(), r.diagnostics));
      ++bad;
      continue;
    }
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    batch.push_back({r.workflow, text.str()});
  }
  auto outcomes = catalog.publish(batch, WorkflowCatalog::Origin::kFolder);
  for (size_t i = 0; i < batch.size(); ++i) {
    const Workflow& wf = *batch[i].workflow;
    const auto& o = outcomes[i];
    for (const auto& d : o.diagnostics) {
      if (d.severity == Severity::kError) {
        log.error("{}", d.format());
      } else {
        log.warn("{}", d.format());
      }
    }
    if (!o.ok()) {
      if (!o.message.empty()) log.error("{}: {}", wf.sourceFile, o.message);
      auto problems = o.message.empty() ? o.diagnostics
                                        : std::vector<Diagnostic>{FolderLoads::wholeFileProblem(wf.sourceFile, batch[i].source, o.message)};
      record.push_back(FolderLoads::refusedFile(wf.sourceFile, now, &wf, problems));
      ++bad;
      continue;
    }
    const bool published = o.kind == WorkflowCatalog::Outcome::Kind::kPublished;
    record.push_back({wf.sourceFile, now, published ? FolderLoads::Result::kPublished : FolderLoads::Result::kUnchanged,
                      wf.name, wf.version, {}});
    // A connector not configured here only fails the runs that reach it: a warning.
    for (const auto& name : connectors.missing(wf)) {
      log.warn("{}: workflow {} uses connector '{}', which is not configured; its calls will fail", wf.sourceFile, wf.name, name);
    }
    if (published) log.info("loaded workflow {} version {} from {}", wf.name, wf.version, wf.sourceFile);
  }
  loads.record(std::move(record));
  return bad;
}

// Workflows published through the API live only in the store: after a restart, each
// stored version newer than the folders hold is published again, through the same checks.
void restorePublished(Store& store, WorkflowCatalog& catalog, spdlog::logger& log) {
  auto stored = store.workflows().latest();
  if (!stored) {
    log.error("cannot list stored workflows: {}", stored.status().message());
    return;
  }
  std::vector<WorkflowCatalog::Candidate> batch;
  for (const auto& w : *stored) {
    auto active = catalog.latest(w.name);
    if (active && active->version >= w.version) continue;
    auto source = store.workflows().source(w.hash);
    LoadResult r = source ? loadWorkflow(*source, w.name + ".yaml") : LoadResult{};
    if (!r.ok()) {
      log.error("stored workflow {} version {} no longer loads; it is not offered", w.name, w.version);
      continue;
    }
    batch.push_back({r.workflow, *source});
  }
  auto outcomes = catalog.publish(batch, WorkflowCatalog::Origin::kStore);
  for (size_t i = 0; i < batch.size(); ++i) {
    const Workflow& wf = *batch[i].workflow;
    const auto& o = outcomes[i];
    for (const auto& d : o.diagnostics) log.warn("stored workflow {} version {}: {}", wf.name, wf.version, d.format());
    if (o.ok()) {
      log.info("restored workflow {} version {} published earlier", wf.name, wf.version);
    } else {
      log.error("stored workflow {} version {} is not offered: {}", wf.name, wf.version,
                o.message.empty() ? "it no longer passes the publication checks" : o.message);
    }
  }
}

bool splitListen(const std::string& listen, std::string* host, unsigned short* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<unsigned short>(p);
  } catch (const std::exception&) {
    return false;
  }
  return !host->empty();
}

int runServe(CommandContext& ctx) {
  std::string configPath, dataFlag, listenFlag, certFlag, keyFlag;
  std::vector<std::string> workflowFlags;
  po::options_description opts;
  opts.add_options()("config", po::value(&configPath))("data", po::value(&dataFlag))("listen", po::value(&listenFlag))(
      "workflows", po::value(&workflowFlags))("tls-cert", po::value(&certFlag))("tls-key", po::value(&keyFlag));
  if (int rc = kExitOk; !parseOptions("serve", ctx, opts, po::positional_options_description(), &rc)) {
    return rc;
  }
  // Defaults, then the configuration file, then flags.
  ServeConfig config;
  if (!configPath.empty()) {
    Status s = loadServeConfig(configPath, &config);
    if (!s) {
      std::cerr << s.message() << "\n";
      return kExitUsage;
    }
  }
  if (!dataFlag.empty()) config.data = dataFlag;
  if (!listenFlag.empty()) config.listen = listenFlag;
  if (!workflowFlags.empty()) config.workflows = workflowFlags;
  if (!certFlag.empty()) config.tlsCert = certFlag;
  if (!keyFlag.empty()) config.tlsKey = keyFlag;
  if (config.tlsCert.empty() != config.tlsKey.empty()) {
    return usageError("serve", "TLS needs both a certificate and a key (--tls-cert and --tls-key, or tls: in the config)");
  }
  const std::string& data = config.data;
  const std::string& listen = config.listen;
  std::vector<std::string>& workflowDirs = config.workflows;
  std::string host;
  unsigned short port = 0;
  if (!splitListen(listen, &host, &port)) return usageError("serve", "--listen must be HOST:PORT, e.g. 127.0.0.1:8470");
  if (workflowDirs.empty() && fs::is_directory("workflows")) workflowDirs.push_back("workflows");
  // The area file is checked before anything is created: a mistake in it starts nothing.
  std::shared_ptr<const Area> area;
  if (!config.area.empty()) {
    auto loaded = loadAreaFile(config.area);
    if (!loaded) {
      std::cerr << loaded.status().message() << "\n";
      return kExitUsage;
    }
    area = std::move(loaded).value();
  }

  // Signals are taken by sigwait below, never by a thread at random.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  // A first start is a data directory with no accounts and no runs. Accounts gone beside
  // runs (auth.db missing, or holding no users) are refused, never replaced by a new admin;
  // a damaged auth.db is refused by UserStore::open.
  const std::string authPath = (fs::path(data) / "auth.db").string();
  const bool authExisted = fs::exists(fs::symlink_status(authPath));
  // Secrets first: the store's password may be one of them.
  auto secrets = SecretStore::load(config.secretsFile);
  if (!secrets) {
    ctx.log->error("{}", secrets.status().message());
    return kExitFailure;
  }
  const std::string where = describeStore(config);
  auto storeR = openConfiguredStore(config, *secrets);
  if (!storeR) {
    ctx.log->error("{}", storeR.status().message());
    return kExitFailure;
  }
  std::shared_ptr<Store> store(std::move(storeR).value());
  ctx.log->info("store: {}", where);
  auto counts = store->runs().countByStatus();
  if (!counts) {
    ctx.log->error("cannot count the runs in {}: {}", where, counts.status().message());
    return kExitFailure;
  }
  long long runs = 0;
  for (const auto& [status, n] : *counts) runs += n;
  auto accountsGone = [&](const std::string& how) {
    ctx.log->error("{} {} but {} holds {} run(s): its users and tokens are gone, and vigil will not take this for a "
                   "first start. Restore auth.db from the backup taken with vigil.db (docs/OPERATIONS.md, \"Start-up checks "
                   "and restoring from a backup\"), or re-create the accounts deliberately with `vigil users add NAME --role "
                   "admin --data {}` and start again",
                   authPath, how, where, runs, data);
    return kExitFailure;
  };
  if (!authExisted && runs > 0) return accountsGone("is missing");
  auto usersR = UserStore::open(data);
  if (!usersR) {
    ctx.log->error("{}", usersR.status().message());
    return kExitFailure;
  }
  std::shared_ptr<UserStore> users(std::move(usersR).value());
  if (!users->hasUsers()) {
    if (runs > 0) return accountsGone("holds no users");
    auto token = users->addUser("admin", {"admin"});
    if (!token) {
      ctx.log->error("creating the first admin: {}", token.status().message());
      return kExitFailure;
    }
    std::cout << "First start: created user 'admin' (role admin). Its token, shown only now:\n" << *token << "\n" << std::flush;
  }

  auto auditR = AuditService::open(AuditPaths::inDataDir(data), store.get(), systemClock(), ctx.log,
                                  CheckpointPublishing{config.audit.origin, config.audit.checkpointLog, config.audit.witnesses});
  if (!auditR) {
    ctx.log->error("the audit trail cannot be opened: {}", auditR.status().message());
    return kExitFailure;
  }
  std::unique_ptr<AuditService> audit = std::move(auditR).value();

  // What commits are followed by (event streams, waiting starts); declared before the
  // engine, which calls it, and stopped before the server.
  ChangeHub changes;
  EngineOptions eo;
  eo.onCommitted = [&changes](const std::vector<RunCommitted>& committed) { changes.publish(committed); };
  eo.store = store;
  eo.clock = systemClock();
  eo.subjectKey = audit->subjectKey();
  eo.connectors = std::make_shared<ConnectorRegistry>();
  eo.secrets = secrets->lookup();
  if (Status s = setupConnectors(config.connectors, *secrets, *eo.connectors); !s) {
    ctx.log->error("{}", s.message());
    return kExitFailure;
  }
  if (area) {
    if (Status s = keepAreaFile(config.area, *area, data); !s) {
      ctx.log->error("{}", s.message());
      return kExitFailure;
    }
    eo.area = area;
    ctx.log->info("area '{}': {} calendar(s), {} timescale(s)", area->name, area->calendars.size(), area->timescales.size());
  }
  // Runs keep the area they started under, even after the file changes or is removed.
  eo.areaByHash = [data](const std::string& hash) { return keptArea(data, hash); };
  eo.log = ctx.log;
  eo.node = nodeName(config);
  eo.nodeAddress = config.listen;
  eo.leaseTtl = config.store.leaseTtl;
  ctx.log->info("node '{}': partition leases of {} s", eo.node, eo.leaseTtl.count() / 1000);
  auto engineR = Engine::create(eo);
  if (!engineR) {
    ctx.log->error("{}", engineR.status().message());
    return kExitFailure;
  }
  std::unique_ptr<Engine> engine = std::move(engineR).value();
  ApiContext apiContext;
  apiContext.engine = engine.get();
  apiContext.store = store.get();
  apiContext.users = users.get();
  apiContext.clock = eo.clock;
  apiContext.log = ctx.log;
  apiContext.requestsPerSecondPerToken = config.requestsPerSecondPerToken;
  apiContext.webhookSecrets = config.webhookSecrets;
  apiContext.webhookWindow = config.webhookWindow;
  apiContext.claimDuration = config.claimDuration;
  apiContext.quickDecision = config.quickDecision;
  apiContext.audit = audit.get();
  apiContext.connectors = eo.connectors.get();
  apiContext.dataDir = data;
  apiContext.node = eo.node;
  apiContext.leaseTtl = eo.leaseTtl;
  apiContext.tls = !config.tlsCert.empty();
  apiContext.changes = &changes;
  apiContext.sessions = config.sessions;
  WorkflowCatalog catalog(*engine, eo.connectors.get(), area, [&users]() -> std::optional<Assignees> {
    auto people = Assignees::load(*users);
    if (!people) return std::nullopt;
    return std::move(people).value();
  });
  apiContext.catalog = &catalog;
  FolderLoads folderLoads;  // what the latest load of the folders made of each file, for the API
  apiContext.folderLoads = &folderLoads;
  std::unique_ptr<ApprovalWatch> watch;
  apiContext.unactionable = [&watch] { return watch ? watch->unactionable() : 0LL; };
  Api api(apiContext);
  watch = std::make_unique<ApprovalWatch>(*engine, *store, *users,
                                          [&catalog](const std::string& w, int v) {
                                            auto wf = catalog.find(w, v);
                                            return wf ? wf->owner : std::string();
                                          },
                                          ctx.log);

  int bad = loadWorkflowDirs(workflowDirs, catalog, folderLoads, *eo.connectors, eo.clock->now(), *ctx.log);
  restorePublished(*store, catalog, *ctx.log);
  if (bad > 0) {
    ctx.log->error("{} workflow file(s) are invalid; fix them (vigil validate) and start again", bad);
    return kExitFailure;
  }
  Status started = engine->start();
  if (!started) {
    ctx.log->error("starting the engine: {}", started.message());
    return kExitFailure;
  }
  HttpServer server(config.limits, [&api](HttpRequest& r) { return api.handle(r); }, ctx.log);
  std::string err;
  const bool https = !config.tlsCert.empty();
  if (https && !server.useTls(config.tlsCert, config.tlsKey, &err)) {
    ctx.log->error("{}", err);
    engine->stop();
    return kExitFailure;
  }
  if (!server.start(host, port, &err)) {
    ctx.log->error("{}", err);
    engine->stop();
    return kExitFailure;
  }
  audit->setWriter([e = engine.get()](std::vector<AuditEntry> entries) { return e->appendAudit(std::move(entries)); });
  audit->checkpoint();
  audit->startTimer(config.auditCheckpointInterval);
  TriggerService triggers(*engine, eo.clock, ctx.log);
  // The triggers and the retention sweep follow the active versions, however published.
  catalog.onChange([&triggers, &audit](const std::vector<std::shared_ptr<const Workflow>>& active) {
    triggers.setWorkflows(active);
    std::map<std::string, int> days;
    for (const auto& wf : active) {
      if (wf->retentionDays) days[wf->name] = *wf->retentionDays;
    }
    audit->setRetention(days);
  });
  triggers.start(std::chrono::seconds(1));
  watch->start(config.unactionableCheckInterval);
  std::cout << "vigil serving on " << (https ? "https://" : "http://") << host << ":" << server.port() << " (data in " << data << ")\n" << std::flush;
  ctx.log->info("listening on {}:{}", host, server.port());

  int sig = 0;
  while (sigwait(&stopSignals, &sig) == 0 && sig == SIGHUP) {
    // Reload: new and changed workflow files are validated and published; an invalid file
    // keeps its previous version running. Runs in flight keep the definition they pinned.
    // The API lists the refused files and their problems (GET /api/v1/workflows).
    int invalid = loadWorkflowDirs(workflowDirs, catalog, folderLoads, *eo.connectors, eo.clock->now(), *ctx.log);
    ctx.log->info("SIGHUP: reloaded workflows ({} invalid file(s) kept at their previous version)", invalid);
  }
  ctx.log->info("signal {}: stopping; calls in flight may finish for up to 10 s", sig);
  changes.stop();  // waiting starts are answered with their run's state; streams end
  server.stop();
  catalog.onChange(nullptr);
  triggers.stop();
  watch->stop();
  engine->waitIdle(std::chrono::seconds(10));
  audit->setWriter(nullptr);
  engine->stop();
  audit->stop();
  audit->checkpoint();  // the chain's head at shutdown is signed, so a cut tail shows
  audit->stopWitnesses(std::chrono::seconds(2));
  ctx.log->info("stopped");
  return kExitOk;
}

}  // namespace

Command serveCommand() {
  return Command{"serve", "Run the daemon: the engine, the HTTP API and the workflows",
                 "vigil serve [--config FILE] [--data DIR] [--listen HOST:PORT] [--workflows DIR]...",
                 "Opens (or creates) the data directory, loads and validates every workflow in each\n"
                 "--workflows DIR (default: ./workflows), and serves the API under /api/v1.\n"
                 "On first start it creates the user 'admin' and prints its token once.\n"
                 "Stops cleanly on SIGINT or SIGTERM: no new requests, in-flight calls finish (up to\n"
                 "10 s), everything committed.\n\n"
                 "Options (flags override the configuration file, which overrides the defaults):\n"
                 "  --config FILE       a vigil.yaml (see docs/OPERATIONS.md): data, listen, workflows, limits\n"
                 "  --data DIR          data directory (default ./vigil-data)\n"
                 "  --listen HOST:PORT  address to serve on (default 127.0.0.1:8470; loopback only by default)\n"
                 "  --workflows DIR     a directory of workflow files to load (repeatable)\n"
                 "  --tls-cert FILE     PEM certificate chain: serve HTTPS (TLS 1.2+) with --tls-key\n"
                 "  --tls-key FILE      PEM private key\n\n"
                 "Exit status: 0 after a clean stop; 1 when it cannot start (the log says why).\n",
                 runServe};
}

}  // namespace vigil::daemon
