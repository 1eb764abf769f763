// An engine on a real store (test_store.h: SQLite in a temporary folder), with the test
// connector and a manual clock: timers fire when a test moves time, never by sleeping.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>

#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/test_connector.h"
#include "test_store.h"

namespace vigil::testing {

using namespace std::chrono_literals;

struct DataDir {
  DataDir() {
    static int n = 0;  // NOLINT: tests run on one thread
    path = std::filesystem::temp_directory_path() / ("vigil-engine-test-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~DataDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

struct Fixture {
  explicit Fixture(const std::filesystem::path& dir, SecretLookup secrets = nullptr,
                   std::shared_ptr<const Area> area = nullptr, const char* now = "2026-11-26T09:00:00Z",
                   const std::function<void(EngineOptions&)>& tweak = nullptr)
      : clock(std::make_shared<ManualClock>(*parseTime(now))) {
    auto s = openTestStore(dir);
    INFO(s.status().message());
    REQUIRE(s.isOk());
    store = std::shared_ptr<Store>(std::move(s).value());
    connectors = std::make_shared<ConnectorRegistry>();
    REQUIRE(registerTestConnector(*connectors).isOk());
    EngineOptions o;
    o.store = store;
    o.clock = clock;
    o.connectors = connectors;
    o.secrets = std::move(secrets);
    o.area = std::move(area);
    o.workers = 4;
    o.timerThread = false;
    if (tweak) tweak(o);
    auto e = Engine::create(o);
    REQUIRE(e.isOk());
    engine = std::move(e).value();
  }
  void publish(const std::string& yaml) {
    auto r = loadWorkflow(yaml, "wf.yaml");
    for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
    REQUIRE(r.ok());
    REQUIRE(engine->publish(r.workflow, yaml).isOk());
  }
  RunState runState(const std::string& id) {
    auto r = engine->run(id);
    REQUIRE(r.isOk());
    REQUIRE(r->has_value());
    return **r;
  }
  void advance(std::chrono::milliseconds d) {
    clock->advance(d);
    REQUIRE(engine->fireDueTimers().isOk());
    REQUIRE(engine->waitIdle(10s));
  }

  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<Store> store;
  std::shared_ptr<ConnectorRegistry> connectors;
  std::unique_ptr<Engine> engine;
};

}  // namespace vigil::testing
