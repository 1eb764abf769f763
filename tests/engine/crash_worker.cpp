// vigil-crash-worker DATA_DIR SIDE_EFFECT_LOG RUNS
// Runs the engine on DATA_DIR until RUNS runs of a five-step workflow have completed. The
// crash test kills it with SIGKILL at random moments and starts it again; every start must
// carry on from what the store holds. Exit 0 when all runs are complete.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/test_connector.h"

using namespace vigil;

namespace {

const char* kWorkflow = R"yaml(workflow: crash
version: 1
owner: test
inputs: { n: integer }
steps:
  - { id: one, uses: test.count, with: { key: one } }
  - id: both
    parallel:
      - { id: two, uses: test.count, with: { key: two } }
      - { id: three, uses: test.count, with: { key: three } }
  - id: rate
    decide:
      rules: [{ when: "inputs.n % 2 == 0", score: 1, reason: even }]
      bands: { EVEN: 1, ODD: 0 }
  - { id: four, uses: test.count, with: { key: four, band: "${{ steps.rate.output.band }}" } }
  - { id: five, set: { done: true } }
)yaml";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: vigil-crash-worker (DATA_DIR | postgres:CONNINFO) SIDE_EFFECT_LOG RUNS\n");
    return 2;
  }
  const int runs = std::atoi(argv[3]);
  // postgres:CONNINFO runs on the PostgreSQL store, its password in PGPASSWORD.
  const std::string where = argv[1];
  const char* password = std::getenv("PGPASSWORD");
  auto store = where.rfind("postgres:", 0) == 0 ? openPostgresStore(where.substr(9), password == nullptr ? "" : password)
                                                : openSqliteStore(where);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  std::shared_ptr<Store> shared(std::move(store).value());
  auto registry = std::make_shared<ConnectorRegistry>();
  TestConnectorOptions to;
  to.logPath = argv[2];
  if (!registerTestConnector(*registry, to)) return 1;
  EngineOptions o;
  o.store = shared;
  o.clock = systemClock();
  o.connectors = registry;
  o.workers = 16;
  o.timerPoll = std::chrono::milliseconds(50);
  auto engine = Engine::create(o);
  if (!engine) return 1;
  auto wf = loadWorkflow(kWorkflow, "crash.yaml");
  if (!wf.ok() || !(*engine)->publish(wf.workflow, kWorkflow)) return 1;
  if (!(*engine)->start()) return 1;

  // Start whatever runs do not exist yet, from several threads so commits group.
  std::atomic<int> next{0};
  std::vector<std::thread> starters;
  for (int t = 0; t < 8; ++t) {
    starters.emplace_back([&] {
      for (int i = next++; i < runs; i = next++) {
        char id[32];
        std::snprintf(id, sizeof id, "crash-%04d", i);
        auto existing = shared->runs().load(id);
        if (existing.isOk() && existing->has_value()) continue;
        auto r = (*engine)->startRun("crash", {{"n", i}}, "crash-test", id);
        if (!r && r.status().code() != Status::Code::kAlreadyExists) {
          std::fprintf(stderr, "start %s: %s\n", id, r.status().message().c_str());
        }
      }
    });
  }
  for (auto& t : starters) t.join();
  for (int i = 0; i < 6000; ++i) {  // at most 10 minutes
    (*engine)->waitIdle(std::chrono::milliseconds(100));
    auto active = shared->runs().list(RunFilter{RunStatus::kRunning, "", 1, ""});
    auto waiting = shared->runs().list(RunFilter{RunStatus::kWaiting, "", 1, ""});
    auto done = shared->runs().list(RunFilter{RunStatus::kCompleted, "", static_cast<size_t>(runs) + 1, ""});
    if (active && waiting && done && active->empty() && waiting->empty() && static_cast<int>(done->size()) == runs) {
      (*engine)->stop();
      return 0;
    }
  }
  std::fprintf(stderr, "runs did not complete in time\n");
  return 1;
}
