// A connector's configured rate is a ceiling: under 200 runs calling it at once, no second
// ever holds more call starts than the rate allows. This test waits real time (about 4 s):
// a rate limit is a promise about the wall clock, so a manual clock cannot show it.
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

class StampConnector final : public Connector {
 public:
  CallOutcome call(const ConnectorCall&) override {
    std::lock_guard lock(mu_);
    starts_.push_back(std::chrono::steady_clock::now());
    return CallOutcome::success(Json::object());
  }
  std::vector<std::chrono::steady_clock::time_point> starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }

 private:
  std::mutex mu_;
  std::vector<std::chrono::steady_clock::time_point> starts_;
};

}  // namespace

TEST_CASE("the configured rate of a connector is never exceeded under 200 concurrent runs", "[engine][limits]") {
  DataDir dir;
  Fixture f(dir.path);
  auto stamp = std::make_shared<StampConnector>();
  constexpr double kRate = 50;
  REQUIRE(f.connectors->add("pnd", stamp, 64, kRate).isOk());
  f.publish("workflow: rated\nversion: 1\nowner: o\nsteps:\n  - { id: s, uses: pnd.person_search }\n");
  REQUIRE(f.engine->start().isOk());
  std::vector<std::thread> starters;
  std::atomic<int> started{0};
  for (int t = 0; t < 8; ++t) {
    starters.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (f.engine->startRun("rated", Json::object(), "officer-1")) ++started;
      }
    });
  }
  for (auto& t : starters) t.join();
  REQUIRE(started == 200);
  REQUIRE(f.engine->waitIdle(30s));
  auto starts = stamp->starts();
  REQUIRE(starts.size() == 200);
  std::sort(starts.begin(), starts.end());
  // Any 51 consecutive starts span at least a second: no one-second window holds 51.
  const size_t n = static_cast<size_t>(kRate);
  double tightest = 1e9;
  for (size_t i = 0; i + n < starts.size(); ++i) {
    tightest = std::min(tightest, std::chrono::duration<double>(starts[i + n] - starts[i]).count());
  }
  INFO("tightest span of " << n + 1 << " starts: " << tightest << " s");
  CHECK(tightest >= 0.999);
  // And the limit does not starve it: 200 calls at 50 a second take about 4 s, not much more.
  CHECK(std::chrono::duration<double>(starts.back() - starts.front()).count() < 6.0);
}
