// A scripted executor for the pure RunMachine: connector results, timers and decisions are
// fed in by hand with a manual clock, so tests of machines never sleep.
#pragma once

#include <catch2/catch.hpp>
#include <algorithm>
#include <deque>
#include <functional>

#include "vigil/loader.h"
#include "vigil/machine.h"

namespace vigil::testing {

using namespace std::chrono_literals;

inline std::shared_ptr<const Workflow> load(const std::string& yaml) {
  auto r = loadWorkflow(yaml, "test.yaml");
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
  REQUIRE(r.ok());
  return r.workflow;
}

struct Harness {
  explicit Harness(const std::string& yaml) : m(load(yaml)) {}

  RunMachine m;
  RunState st;
  TimePoint now = *parseTime("2026-11-26T09:00:00Z");
  std::deque<Command> calls;
  std::vector<Command> timers;
  std::vector<Command> children;
  std::vector<Event> history;
  std::function<CallOutcome(const Command&)> connector = [](const Command& c) {
    return CallOutcome::success({{"echo", c.input}});
  };
  size_t maxOutstanding = 0;

  void feed(Transition t) {
    for (auto& e : t.events) history.push_back(e);
    for (auto& c : t.commands) {
      if (c.kind == Command::Kind::kCallConnector) calls.push_back(c);
      if (c.kind == Command::Kind::kSetTimer) timers.push_back(c);
      if (c.kind == Command::Kind::kStartChild) children.push_back(c);
    }
    maxOutstanding = std::max(maxOutstanding, calls.size());
  }
  void start(Json inputs = Json::object(), std::string by = "officer-1") {
    feed(m.start(st, "run-1", inputs, by, now));
  }
  void drain() {
    for (int guard = 0; !calls.empty() && guard < 10000; ++guard) {
      Command c = calls.front();
      calls.pop_front();
      feed(m.onCallResult(st, c.step, c.attempt, connector(c), now));
    }
  }
  // Moves the clock to `t`, firing due timers in due order.
  void advance(std::chrono::milliseconds d) {
    TimePoint until = now + d;
    while (true) {
      auto it = std::min_element(timers.begin(), timers.end(), [](const Command& a, const Command& b) { return a.due < b.due; });
      if (it == timers.end() || it->due > until) break;
      Command t = *it;
      timers.erase(it);
      now = t.due;
      feed(m.onTimer(st, t.step, t.attempt, t.timer, now));
      drain();
    }
    now = until;
  }
  std::vector<std::string> trace() const {
    std::vector<std::string> out;
    for (const auto& e : history) out.push_back(std::string(eventTypeName(e.type)) + (e.step.empty() ? "" : " " + e.step));
    return out;
  }
};

inline const char* kHeader = "workflow: t\nversion: 1\nowner: o\n";

}  // namespace vigil::testing
