// Cron schedules on the manual clock and dropped files, through a real engine and store.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "triggers/trigger_service.h"
#include "vigil/loader.h"

using namespace vigil;
using namespace vigil::daemon;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Rig {
  Rig() : clock(std::make_shared<ManualClock>(*parseTime("2026-11-26T09:00:30Z"))) {
    dir = fs::temp_directory_path() / ("vigil-triggers-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(dir);
    fs::create_directories(dir / "inbox");
    store = std::shared_ptr<Store>(std::move(openSqliteStore((dir / "data").string())).value());
    EngineOptions o;
    o.store = store;
    o.clock = clock;
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    engine = std::move(Engine::create(o)).value();
    REQUIRE(engine->start().isOk());
  }
  ~Rig() {
    engine->stop();
    fs::remove_all(dir);
  }
  std::shared_ptr<const Workflow> publish(const std::string& yaml) {
    auto r = loadWorkflow(yaml, "w.yaml");
    for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
    REQUIRE(r.ok());
    REQUIRE(engine->publish(r.workflow, yaml).isOk());
    return r.workflow;
  }
  size_t runs(const std::string& workflow) {
    auto list = store->runs().list(RunFilter{std::nullopt, workflow, 1000, ""});
    REQUIRE(list.isOk());
    return list->size();
  }
  void drop(const std::string& name, const std::string& content) { std::ofstream(dir / "inbox" / name) << content; }

  static inline int counter = 0;
  fs::path dir;
  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<Store> store;
  std::unique_ptr<Engine> engine;
  std::shared_ptr<spdlog::logger> log = std::make_shared<spdlog::logger>("test");
};

}  // namespace

TEST_CASE("a cron trigger fires once per slot on the manual clock, even when fired twice", "[daemon][triggers][cron]") {
  Rig rig;
  auto wf = rig.publish("workflow: sweep\nversion: 1\nowner: o\ninputs: { n: { type: integer, default: 1 } }\n"
                        "triggers: [{ cron: \"*/15 * * * *\" }]\nsteps: [{ id: s, set: { x: 1 } }]\n");
  TriggerService t(*rig.engine, rig.clock, rig.log);
  t.setWorkflows({wf});
  CHECK(t.pollOnce() == 0);
  rig.clock->advance(14min);
  CHECK(t.pollOnce() == 0);
  rig.clock->advance(30s);  // 09:15:00
  CHECK(t.pollOnce() == 1);
  CHECK(t.pollOnce() == 0);
  rig.clock->advance(31min);  // 09:46: the 09:30 and 09:45 slots are due
  CHECK(t.pollOnce() == 2);
  CHECK(rig.runs("sweep") == 3);

  // A second service (as after a restart) that sees the 09:45 slot again starts nothing.
  rig.clock->set(*parseTime("2026-11-26T09:44:00Z"));
  TriggerService again(*rig.engine, rig.clock, rig.log);
  again.setWorkflows({wf});
  rig.clock->set(*parseTime("2026-11-26T09:45:00Z"));
  CHECK(again.pollOnce() == 0);
  CHECK(rig.runs("sweep") == 3);
}

TEST_CASE("a dropped file starts a run and moves to processed/, a bad one moves to rejected/ with the reason",
          "[daemon][triggers][watch]") {
  Rig rig;
  auto wf = rig.publish("workflow: intake\nversion: 1\nowner: o\ninputs: { referral_id: string }\n"
                        "triggers: [{ watch: \"" + (rig.dir / "inbox").string() + "\", pattern: \"*.json\" }]\n"
                        "steps: [{ id: s, set: { id: \"${{ inputs.referral_id }}\" } }]\n");
  TriggerService t(*rig.engine, rig.clock, rig.log);
  t.setWorkflows({wf});
  rig.drop("001.json", R"({"referral_id": "R-1"})");
  rig.drop("002.json", R"({"referral_id": )");
  rig.drop("003.json", R"({"referral_id": 42})");
  rig.drop("notes.txt", "ignored: does not match the pattern");
  CHECK(t.pollOnce() == 1);
  CHECK(fs::exists(rig.dir / "inbox" / "processed" / "001.json"));
  CHECK(fs::exists(rig.dir / "inbox" / "rejected" / "002.json"));
  CHECK(fs::exists(rig.dir / "inbox" / "rejected" / "003.json"));
  CHECK(fs::exists(rig.dir / "inbox" / "notes.txt"));
  auto reason = [&](const std::string& f) {
    std::ifstream in(rig.dir / "inbox" / "rejected" / (f + ".reason.txt"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  CHECK(reason("002.json").rfind("request body is not valid JSON", 0) == 0);
  CHECK(reason("003.json") == "inputs.referral_id: expected string, got number\n");

  // The same file dropped again (as when the daemon died after starting the run but
  // before moving the file) starts no second run; it only moves.
  rig.drop("001.json", R"({"referral_id": "R-1"})");
  CHECK(t.pollOnce() == 0);
  CHECK(rig.runs("intake") == 1);
  CHECK_FALSE(fs::exists(rig.dir / "inbox" / "001.json"));
}
