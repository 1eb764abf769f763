// Engine figures: throughput and latency of durable five-step runs, and the cost of
// runs parked at an approval (memory while parked, time for a new process to be ready).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <future>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/signing.h"
#include "vigil/test_connector.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

const char* kFiveSteps = R"yaml(workflow: bench-five
version: 1
owner: bench
inputs: { n: integer }
steps:
  - { id: a, uses: test.echo, with: { n: "${{ inputs.n }}" } }
  - { id: b, uses: test.echo, with: { n: "${{ steps.a.output.n }}" } }
  - { id: c, uses: test.echo, with: { n: "${{ steps.b.output.n }}" } }
  - { id: d, uses: test.echo, with: { n: "${{ steps.c.output.n }}" } }
  - id: rate
    decide:
      rules: [{ when: "steps.d.output.n % 3 == 0", score: 2, reason: "multiple of three" }]
      bands: { HIGH: 2, LOW: 0 }
)yaml";

const char* kParked = R"yaml(workflow: bench-parked
version: 1
owner: bench
inputs: { n: integer }
steps:
  - id: review
    approval: { assign: supervisor, options: [approve, reject] }
  - { id: after, set: { n: "${{ inputs.n }}" } }
)yaml";

double currentRssMb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

struct Opts {
  long runs = 2000;
  int concurrency = 64;
  std::string data;
  bool keep = false;
  std::string postgres;  // a conninfo: the PostgreSQL store (its password in PGPASSWORD) instead of SQLite
};

Opts parse(const std::vector<std::string>& args, long defaultRuns) {
  Opts o;
  o.runs = defaultRuns;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--runs") o.runs = std::max(1L, std::stol(args[i + 1]));
    if (args[i] == "--concurrency") o.concurrency = std::max(1, std::stoi(args[i + 1]));
    if (args[i] == "--postgres") o.postgres = args[i + 1];
    if (args[i] == "--data") {
      o.data = args[i + 1];
      o.keep = true;
    }
  }
  if (o.data.empty()) o.data = (fs::temp_directory_path() / ("vigil-bench-" + std::to_string(getpid()))).string();
  return o;
}

struct Rig {
  std::shared_ptr<Store> store;
  std::unique_ptr<Engine> engine;
  std::mutex mu;
  // One waiter per run, so a run's end wakes only its client, not all of them.
  std::map<std::string, std::shared_ptr<std::promise<void>>> waiters;
  std::set<std::string> ended;

  void waitEnd(const std::string& id) {
    std::unique_lock lock(mu);
    if (ended.erase(id) != 0) return;
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    waiters[id] = p;
    lock.unlock();
    f.wait();
  }
};

Status makeRig(Rig& rig, const std::string& dir, const char* yaml, int workers, const std::string& postgres = "") {
  const char* password = std::getenv("PGPASSWORD");
  auto s = postgres.empty() ? openSqliteStore(dir) : openPostgresStore(postgres, password == nullptr ? "" : password);
  if (!s) return s.status();
  rig.store = std::shared_ptr<Store>(std::move(s).value());
  auto reg = std::make_shared<ConnectorRegistry>();
  Status st = registerTestConnector(*reg);
  if (!st) return st;
  EngineOptions o;
  o.store = rig.store;
  o.clock = systemClock();
  o.connectors = reg;
  o.workers = workers;
  o.onCommitted = [&rig](const std::vector<RunCommitted>& runs) {
    std::lock_guard lock(rig.mu);
    for (const auto& r : runs) {
      if (r.status == RunStatus::kRunning || r.status == RunStatus::kWaiting) continue;
      auto it = rig.waiters.find(r.runId);
      if (it == rig.waiters.end()) {
        rig.ended.insert(r.runId);
        continue;
      }
      it->second->set_value();
      rig.waiters.erase(it);
    }
  };
  auto e = Engine::create(o);
  if (!e) return e.status();
  rig.engine = std::move(e).value();
  auto wf = loadWorkflow(yaml, "bench.yaml");
  if (!wf.ok()) return Status::internal("bench workflow does not load");
  st = rig.engine->publish(wf.workflow, yaml);
  if (!st) return st;
  return rig.engine->start();
}

}  // namespace

int runEngineBench(const std::vector<std::string>& args) {
  Opts o = parse(args, 2000);
  fs::remove_all(o.data);
  const DiskCommitRate disk = measureDiskCommitRate(o.data, 2000);
  Rig rig;
  Status s = makeRig(rig, o.data, kFiveSteps, 8, o.postgres);
  if (!s) {
    std::cerr << "vigil-bench: " << s.message() << "\n";
    return 1;
  }
  std::atomic<long> next{0};
  std::vector<std::vector<double>> lat(static_cast<size_t>(o.concurrency));
  std::atomic<long> failed{0};
  const double cpu0 = cpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < o.concurrency; ++c) {
    clients.emplace_back([&, c] {
      for (long i = next++; i < o.runs; i = next++) {
        auto start = std::chrono::steady_clock::now();
        auto id = rig.engine->startRun("bench-five", {{"n", i}}, "bench");
        if (!id) {
          ++failed;
          continue;
        }
        rig.waitEnd(*id);
        lat[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      }
    });
  }
  for (auto& t : clients) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpuSeconds() - cpu0;
  const EngineMetrics m = rig.engine->metrics();
  rig.engine->stop();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  long events = 0;
  auto sample = rig.store->runs().list(RunFilter{RunStatus::kCompleted, "bench-five", 1, ""});
  if (sample && !sample->empty()) {
    auto ev = rig.store->runs().events((*sample)[0].id);
    if (ev) events = static_cast<long>(ev->size());
  }
  nlohmann::json out = {
      {"bench", "engine"},
      {"runs", o.runs},
      {"concurrency", o.concurrency},
      {"steps_per_run", 5},
      {"store", o.postgres.empty() ? "sqlite WAL synchronous=FULL" : "postgresql (loopback, fsync on)"},
      {"completed", static_cast<long>(all.size())},
      {"failed_to_start", failed.load()},
      {"seconds", secs},
      {"runs_per_sec", static_cast<double>(all.size()) / secs},
      {"events_per_sec", static_cast<double>(all.size() * static_cast<size_t>(events)) / secs},
      {"events_per_run", events},
      {"group_commits", m.commits},
      {"inputs_per_commit", m.commits == 0 ? 0.0 : static_cast<double>(m.committedInputs) / static_cast<double>(m.commits)},
      {"cpu_ms_per_run", cpu * 1000.0 / static_cast<double>(std::max<size_t>(all.size(), 1))},
      {"p50_ms", percentile(all, 0.5)},
      {"p99_ms", percentile(all, 0.99)},
      {"peak_rss_mb", peakRssMb()},
      {"disk_commits_per_sec", disk.commitsPerSec},
      {"disk_commit_p50_ms", disk.p50Ms},
      // The figures to reach are these ratios: runs/s against the disk's single-row
      // commits/s, and a run's median latency in single-row commit latencies.
      {"runs_per_disk_commit", static_cast<double>(all.size()) / secs / disk.commitsPerSec},
      {"p50_in_disk_commits", percentile(all, 0.5) / disk.p50Ms},
  };
  std::cout << out.dump() << "\n";
  if (!o.keep) fs::remove_all(o.data);
  return 0;
}

int runParkedBench(const std::vector<std::string>& args, const std::string& self) {
  Opts o = parse(args, 100000);
  fs::remove_all(o.data);
  nlohmann::json out = {{"bench", "parked"}, {"runs", o.runs}, {"store", "sqlite WAL synchronous=FULL"}};
  {
    Rig rig;
    Status s = makeRig(rig, o.data, kParked, 4);
    if (!s) {
      std::cerr << "vigil-bench: " << s.message() << "\n";
      return 1;
    }
    std::atomic<long> next{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < 64; ++c) {
      clients.emplace_back([&] {
        for (long i = next++; i < o.runs; i = next++) (void)rig.engine->startRun("bench-parked", {{"n", i}}, "bench");
      });
    }
    for (auto& t : clients) t.join();
    rig.engine->waitIdle(std::chrono::seconds(60));
    out["park_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out["rss_while_parked_mb"] = currentRssMb();
    // Decisions on runs spread over the parked set: the time from the call to the decision
    // and the run's next step being committed (actOnApproval returns once both are durable),
    // one decider at a time and eight at once.
    auto parked = rig.store->runs().list(RunFilter{RunStatus::kWaiting, "bench-parked", static_cast<size_t>(o.runs), ""});
    if (parked && !parked->empty()) {
      std::vector<std::string> ids;
      for (const auto& r : *parked) ids.push_back(r.id);
      std::mt19937_64 rng(42);
      std::shuffle(ids.begin(), ids.end(), rng);
      const size_t decisions = std::min<size_t>(ids.size(), 2000);
      for (int deciders : {1, 8}) {
        std::atomic<size_t> next2{deciders == 1 ? 0 : decisions / 2};
        const size_t end = deciders == 1 ? decisions / 2 : decisions;
        std::vector<std::vector<double>> lat(static_cast<size_t>(deciders));
        std::vector<std::thread> ts;
        auto d0 = std::chrono::steady_clock::now();
        for (int c = 0; c < deciders; ++c) {
          ts.emplace_back([&, c] {
            for (size_t i = next2++; i < end; i = next2++) {
              ApprovalAction a;
              a.actor = {"sup-" + std::to_string(c), {"supervisor"}};
              a.decision = "approve";
              a.reason = "checked the research in full";
              auto start = std::chrono::steady_clock::now();
              if (rig.engine->actOnApproval(ids[i], "review", a)) {
                lat[static_cast<size_t>(c)].push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
              }
            }
          });
        }
        for (auto& t : ts) t.join();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count();
        std::vector<double> all;
        for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
        out["decisions_" + std::to_string(deciders)] = {{"decided", all.size()},
                                                        {"p50_ms", percentile(all, 0.5)},
                                                        {"p99_ms", percentile(all, 0.99)},
                                                        {"per_sec", static_cast<double>(all.size()) / secs}};
      }
    }
    out["peak_rss_mb"] = peakRssMb();
    rig.engine->stop();
    // As the daemon does at shutdown: a signed checkpoint, whose Merkle frontier the next
    // start resumes from instead of rereading every record's hash.
    auto key = SigningKey::generate();
    if (key) (void)rig.store->audit().checkpoint(*key, systemClock()->now(), "vigil-bench/audit");
  }
  // A new process opening the same data directory: time until its engine is ready.
  std::string cmd = self + " parked-restart --data " + o.data;
  FILE* p = popen(cmd.c_str(), "r");
  std::string restart;
  char buf[512];
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) restart += buf;
  if (p != nullptr) pclose(p);
  auto r = nlohmann::json::parse(restart, nullptr, false);
  out["restart"] = r.is_discarded() ? nlohmann::json(restart) : r;
  std::cout << out.dump() << "\n";
  if (!o.keep) fs::remove_all(o.data);
  return 0;
}

int runParkedRestart(const std::vector<std::string>& args) {
  auto t0 = std::chrono::steady_clock::now();
  Opts o = parse(args, 0);
  Rig rig;
  Status s = makeRig(rig, o.data, kParked, 4);
  if (!s) {
    std::cerr << "vigil-bench: " << s.message() << "\n";
    return 1;
  }
  double ready = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  double rss = currentRssMb();
  auto waiting = rig.store->runs().list(RunFilter{RunStatus::kWaiting, "bench-parked", 10000000, ""});
  nlohmann::json out = {{"ready_ms", ready},
                        {"rss_when_ready_mb", rss},
                        {"parked_runs_found", waiting ? static_cast<long>(waiting->size()) : -1}};
  rig.engine->stop();
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace vigil::bench
