// The plugin connector against real plugin processes: the example plugin, and
// fault_plugin.py misbehaving in every way the connector must survive.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vigil/plugin_connector.h"

using namespace vigil;
using namespace std::chrono_literals;

namespace {

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kPython = VIGIL_PYTHON3;
const std::string kFaultDir = kSource + "/tests/connectors/plugin";

PluginOptions faultPlugin(const std::string& name, const std::string& mode = "ok") {
  PluginOptions o;
  o.name = name;
  o.argv = {kPython, "fault_plugin.py", mode};  // relative: resolved in the working directory
  o.workingDir = kFaultDir;
  o.callTimeout = 2000ms;
  o.startTimeout = 3000ms;
  o.maxLineBytes = 1024 * 1024;
  return o;
}

ConnectorCall makeCall(const std::string& action, Json input = Json::object()) {
  ConnectorCall c;
  c.runId = "run-1";
  c.step = "lookup";
  c.attempt = 1;
  c.action = action;
  c.input = std::move(input);
  c.idempotencyKey = "run-1/lookup/1";
  c.purpose = "safeguarding check";
  return c;
}

// Children of this process still in the process table (zombies included).
std::vector<int> childrenOfThisProcess() {
  std::vector<int> kids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return kids;
  }
  while (dirent* e = readdir(proc)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) {
      continue;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid()) {
      kids.push_back(pid);
    }
  }
  closedir(proc);
  return kids;
}

long vmHwmKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("the example plugin registers with its actions and answers calls", "[plugin]") {
  ConnectorRegistry registry;
  PluginOptions o;
  o.name = "pnd_lookup";
  o.argv = {kPython, kSource + "/plugins/example/pnd_lookup.py"};
  o.workingDir = kSource + "/plugins/example";
  REQUIRE(registerPlugin(registry, o).isOk());

  auto spec = registry.action("pnd_lookup", "person_search");
  REQUIRE(spec);
  CHECK(spec->access == "consultation");
  REQUIRE(spec->params.size() == 2);
  CHECK(spec->params[0].name == "name");
  CHECK(spec->params[0].required);
  CHECK_FALSE(spec->params[1].required);
  CHECK(registry.action("pnd_lookup", "health"));
  CHECK(registry.maxConcurrency("pnd_lookup") == 1);

  auto connector = registry.find("pnd_lookup");
  auto found = connector->call(makeCall("person_search", {{"name", "Alex Example"}, {"dob", "1980-01-01"}}));
  REQUIRE(found.ok);
  CHECK(found.output["count"] == 1);
  CHECK(found.output["synthetic"] == true);
  CHECK(found.output["matches"][0]["ref"] == "SYNTH-0001");

  auto both = connector->call(makeCall("person_search", {{"name", "alex example"}}));
  REQUIRE(both.ok);
  CHECK(both.output["count"] == 2);

  auto bad = connector->call(makeCall("person_search", {{"dob", "1980-01-01"}}));
  CHECK_FALSE(bad.ok);
  CHECK(bad.code == "invalid_request");

  auto health = connector->call(makeCall("health"));
  REQUIRE(health.ok);
  CHECK(health.output["status"] == "ok");

  auto unknown = connector->call(makeCall("delete_everything"));
  CHECK_FALSE(unknown.ok);
  CHECK(unknown.code == "unknown_action");
}

TEST_CASE("registration fails clearly for a bad plugin", "[plugin]") {
  ConnectorRegistry registry;
  auto started = std::chrono::steady_clock::now();

  Status badHello = registerPlugin(registry, faultPlugin("bad", "bad_hello"));
  CHECK_FALSE(badHello.isOk());
  CHECK_THAT(badHello.message(), Catch::Contains("plugin 'bad'") && Catch::Contains("not JSON"));
  CHECK_THAT(badHello.message(), !Catch::Contains("this is not json"));  // never echoes output

  Status wrongProtocol = registerPlugin(registry, faultPlugin("v2", "wrong_protocol"));
  CHECK_FALSE(wrongProtocol.isOk());
  CHECK_THAT(wrongProtocol.message(), Catch::Contains("plugin 'v2'") && Catch::Contains("protocol 2"));

  PluginOptions missing = faultPlugin("ghost");
  missing.argv = {"/nonexistent/vigil-plugin"};
  Status noExe = registerPlugin(registry, missing);
  CHECK_FALSE(noExe.isOk());
  CHECK_THAT(noExe.message(), Catch::Contains("plugin 'ghost'") && Catch::Contains("/nonexistent/vigil-plugin"));

  PluginOptions silent = faultPlugin("mute", "silent");
  silent.startTimeout = 300ms;
  Status late = registerPlugin(registry, silent);
  CHECK_FALSE(late.isOk());
  CHECK_THAT(late.message(), Catch::Contains("plugin 'mute'") && Catch::Contains("no hello within 300 ms"));

  PluginOptions noDir = faultPlugin("nodir");
  noDir.workingDir = "/nonexistent/dir";
  CHECK_FALSE(registerPlugin(registry, noDir).isOk());

  REQUIRE(registerPlugin(registry, faultPlugin("twice")).isOk());
  CHECK_FALSE(registerPlugin(registry, faultPlugin("twice")).isOk());

  CHECK(registry.names() == std::vector<std::string>{"twice"});
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}

TEST_CASE("each fault fails the call clearly and the next call works again", "[plugin]") {
  ConnectorRegistry registry;
  PluginOptions o = faultPlugin("faulty");
  o.callTimeout = 500ms;
  REQUIRE(registerPlugin(registry, o).isOk());
  auto connector = registry.find("faulty");

  struct Fault {
    const char* action;
    const char* code;
    bool retryable;
    const char* says;
  };
  const Fault faults[] = {
      {"segv", "plugin_crashed", true, "SIGSEGV"},
      {"exit", "plugin_crashed", true, "exited with status 3"},
      {"close_stdout", "plugin_crashed", true, "stdout closed"},
      {"hang", "timeout", true, "did not answer within"},
      {"garbage", "plugin_protocol", false, "not JSON"},
      {"wrong_id", "plugin_protocol", false, "wrong id"},
      {"wrong_type", "plugin_protocol", false, "not a result"},
      {"long_line", "plugin_protocol", false, "longer than"},
      {"flood", "plugin_protocol", false, "longer than"},
  };
  auto before = connector->call(makeCall("echo", {{"value", 1}}));
  REQUIRE(before.ok);
  long lastPid = before.output["pid"];

  for (const auto& f : faults) {
    DYNAMIC_SECTION("fault " << f.action) {
      long hwmBefore = vmHwmKb();
      auto start = std::chrono::steady_clock::now();
      auto outcome = connector->call(makeCall(f.action));
      CHECK(std::chrono::steady_clock::now() - start < 3s);
      CHECK_FALSE(outcome.ok);
      CHECK(outcome.code == f.code);
      CHECK(outcome.retryable == f.retryable);
      CHECK_THAT(outcome.message, Catch::Contains("plugin 'faulty'") && Catch::Contains(f.says));
      CHECK_THAT(outcome.message, !Catch::Contains("%%%"));
      // The flood is 100 MB; only the line limit (1 MB) plus a read chunk may be held.
      CHECK(vmHwmKb() - hwmBefore < 64 * 1024);

      auto after = connector->call(makeCall("echo", {{"value", f.action}}));
      REQUIRE(after.ok);
      CHECK(after.output["value"] == f.action);
      CHECK(after.output["pid"] != lastPid);  // a fresh process
      lastPid = after.output["pid"];
    }
  }
}

TEST_CASE("plugin failures pass through and stderr is drained and the environment is minimal", "[plugin]") {
  ConnectorRegistry registry;
  ::setenv("VIGIL_TEST_SECRET_TOKEN", "do-not-pass", 1);
  REQUIRE(registerPlugin(registry, faultPlugin("plain")).isOk());
  auto connector = registry.find("plain");

  auto failed = connector->call(makeCall("fail"));
  CHECK_FALSE(failed.ok);
  CHECK(failed.code == "not_found");
  CHECK(failed.message == "no such record");
  CHECK_FALSE(failed.retryable);

  // 2 MB on stderr would block the plugin forever if nobody drained the pipe.
  auto noisy = connector->call(makeCall("noisy"));
  REQUIRE(noisy.ok);
  CHECK(noisy.output["noisy"] == true);

  auto call = makeCall("echo", {{"value", "x"}});
  call.deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 1500ms;
  auto echo = connector->call(call);
  REQUIRE(echo.ok);
  CHECK(echo.output["cwd"] == kFaultDir);
  CHECK(echo.output["idempotency_key"] == "run-1/lookup/1");
  CHECK(echo.output["purpose"] == "safeguarding check");
  CHECK(echo.output["deadline_ms"].get<long>() <= 1500);
  CHECK(echo.output["deadline_ms"].get<long>() > 500);
  for (const auto& name : echo.output["env"]) {
    CHECK(name != "VIGIL_TEST_SECRET_TOKEN");
  }

  auto past = makeCall("echo");
  past.deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) - 1s;
  auto late = connector->call(past);
  CHECK_FALSE(late.ok);
  CHECK(late.code == "timeout");

  // The call's deadline cuts the call timeout.
  auto hang = makeCall("hang");
  hang.deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 300ms;
  auto start = std::chrono::steady_clock::now();
  auto hung = connector->call(hang);
  CHECK(hung.code == "timeout");
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  CHECK(connector->call(makeCall("echo")).ok);

  // Writing to a plugin that closed its stdin raises SIGPIPE; the test process survives it.
  REQUIRE(connector->call(makeCall("close_stdin")).ok);
  auto broken = connector->call(makeCall("echo"));
  CHECK_FALSE(broken.ok);
  CHECK(broken.code == "plugin_crashed");
  CHECK_THAT(broken.message, Catch::Contains("before reading the call"));
  CHECK(connector->call(makeCall("echo")).ok);
}

TEST_CASE("a faulting plugin does not disturb another one running at the same time", "[plugin]") {
  ConnectorRegistry registry;
  PluginOptions bad = faultPlugin("bad");
  bad.callTimeout = 300ms;
  REQUIRE(registerPlugin(registry, bad).isOk());
  REQUIRE(registerPlugin(registry, faultPlugin("good")).isOk());

  std::atomic<bool> stop{false};
  std::atomic<int> badCalls{0};
  std::thread chaos([&] {
    const char* actions[] = {"segv", "hang", "garbage", "exit", "flood"};
    for (int i = 0; !stop; ++i) {
      auto outcome = registry.find("bad")->call(makeCall(actions[i % 5]));
      if (!outcome.ok) {
        ++badCalls;
      }
    }
  });
  int goodCalls = 0;
  int wrong = 0;
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto outcome = registry.find("good")->call(makeCall("echo", {{"value", goodCalls}}));
    if (!outcome.ok || outcome.output["value"] != goodCalls) {
      ++wrong;
    }
    ++goodCalls;
  }
  stop = true;
  chaos.join();
  CHECK(wrong == 0);
  CHECK(goodCalls > 20);
  CHECK(badCalls > 2);
}

TEST_CASE("a plugin declaring max_concurrency serves calls in parallel", "[plugin]") {
  ConnectorRegistry registry;
  REQUIRE(registerPlugin(registry, faultPlugin("wide", "concurrent")).isOk());
  CHECK(registry.maxConcurrency("wide") == 4);
  auto connector = registry.find("wide");

  std::vector<std::thread> threads;
  std::vector<long> pids(4, 0);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto outcome = connector->call(makeCall("slow", {{"value", 1.0}}));
      if (outcome.ok) {
        pids[static_cast<size_t>(i)] = outcome.output["pid"];
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 3000ms);  // serially it would take 4 s
  for (long pid : pids) {
    CHECK(pid != 0);
  }
  std::sort(pids.begin(), pids.end());
  CHECK(std::unique(pids.begin(), pids.end()) == pids.end());
}

TEST_CASE("no plugin process outlives its connector", "[plugin]") {
  {
    ConnectorRegistry registry;
    REQUIRE(registerPlugin(registry, faultPlugin("short_lived")).isOk());
    CHECK(registry.find("short_lived")->call(makeCall("segv")).code == "plugin_crashed");
    CHECK(registry.find("short_lived")->call(makeCall("echo")).ok);
    CHECK_FALSE(childrenOfThisProcess().empty());
  }
  CHECK(childrenOfThisProcess().empty());
}
