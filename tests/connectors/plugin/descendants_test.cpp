// Nothing a plugin starts outlives it: fault_plugin.py's `escape` action leaves a `sleep 300`
// in a session of its own (setsid, or a daemonizing double fork), and the test watches that
// pid in /proc after the plugin is killed, exits or is stopped. Processes that are not the
// plugin's (another plugin's grandchild, a child of this test) must be left alone. Each case
// runs with a cgroup per plugin (where this machine's cgroup v2 hierarchy is writable) and
// with the session and process-tree rules alone.
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vigil/plugin_connector.h"

using namespace vigil;
using namespace std::chrono_literals;

namespace {

const std::string kPython = VIGIL_PYTHON3;
const std::string kFaultDir = std::string(VIGIL_SOURCE_DIR) + "/tests/connectors/plugin";

// A process as /proc shows it: its start time (clock ticks after boot) tells it from a
// later process that reuses the pid.
struct Seen {
  pid_t pid = 0;
  unsigned long long start = 0;
};

std::optional<unsigned long long> startTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && rest >> field; ++i) {
  }
  unsigned long long start = 0;
  if (!(rest >> start)) {
    return std::nullopt;
  }
  return start;
}

// Still in the process table (a zombie counts: nobody reaped it).
bool present(const Seen& p) { return startTicks(p.pid) == p.start; }

bool goneWithin(const Seen& p, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (present(p)) {
    if (std::chrono::steady_clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Kills what a failed check left behind, so a failing run does not leave sleeps for 300 s.
struct Leftovers {
  std::vector<Seen> pids;
  ~Leftovers() {
    for (const auto& p : pids) {
      if (present(p)) {
        ::kill(p.pid, SIGKILL);
        ::waitpid(p.pid, nullptr, WNOHANG);
      }
    }
  }
};

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/vigil-escape-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// The grandchild named in `file` (it writes its own pid there, so it did start). When it
// has gone already (killed with a plugin that timed out before the file was read), its
// start time is 0, which no process has.
Seen waitForPidFile(const std::string& file, Leftovers& leftovers) {
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) {
      leftovers.pids.push_back({pid, startTicks(pid).value_or(0)});
      return leftovers.pids.back();
    }
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

// Whether the process is in a cgroup of the plugin host's making.
bool inPluginCgroup(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      return line.find("/vigil-plugin-") != std::string::npos;
    }
  }
  return false;
}

PluginOptions escaper(const std::string& name, bool ownCgroup) {
  PluginOptions o;
  o.ownCgroup = ownCgroup;
  o.name = name;
  o.argv = {kPython, "fault_plugin.py", "ok"};
  o.workingDir = kFaultDir;
  o.callTimeout = 1500ms;
  o.startTimeout = 3000ms;
  return o;
}

ConnectorCall escapeCall(const std::string& pidfile, const std::string& how, const std::string& stdio,
                         const std::string& then) {
  ConnectorCall c;
  c.runId = "run-1";
  c.step = "escape";
  c.attempt = 1;
  c.action = "escape";
  c.input = {{"value", {{"pidfile", pidfile}, {"how", how}, {"stdio", stdio}, {"then", then}}}};
  c.idempotencyKey = "run-1/escape/1";
  c.purpose = "containment test";
  return c;
}

// A child of this process that no plugin started: it shares our session, as the daemon's
// own children would.
Seen startStranger(Leftovers& leftovers) {
  pid_t pid = 0;
  char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("300"), nullptr};
  REQUIRE(::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) == 0);
  leftovers.pids.push_back({pid, startTicks(pid).value_or(0)});
  return leftovers.pids.back();
}

// Whether plugins here can get cgroups: this process's cgroup v2 directory is writable.
const bool cgroupWritable = [] {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      std::ifstream mounts("/proc/self/mountinfo");
      std::string m;
      while (std::getline(mounts, m)) {
        auto dash = m.find(" - cgroup2 ");
        if (dash != std::string::npos) {
          std::istringstream f(m.substr(0, dash));
          std::string id, parent, dev, root, point;
          f >> id >> parent >> dev >> root >> point;
          std::string rel = line.substr(3);
          std::string dir = point + (rel == "/" ? "" : rel);
          return ::access((dir + "/cgroup.procs").c_str(), W_OK) == 0;
        }
      }
    }
  }
  return false;
}();

}  // namespace

TEST_CASE("a plugin's setsid grandchild dies with the plugin when a call times out", "[plugin][containment]") {
  const bool ownCgroup = GENERATE(true, false);
  TempDir dir;
  Leftovers leftovers;
  ConnectorRegistry registry;
  REQUIRE(registerPlugin(registry, escaper("hangs", ownCgroup)).isOk());
  auto outcome = registry.find("hangs")->call(escapeCall(dir.path + "/pid", "setsid", "inherit", "hang"));
  CHECK(outcome.code == "timeout");
  Seen grandchild = waitForPidFile(dir.path + "/pid", leftovers);
  REQUIRE(grandchild.pid > 0);
  CHECK(goneWithin(grandchild, 3s));
  CHECK(registry.find("hangs")->call(escapeCall(dir.path + "/pid2", "setsid", "null", "answer")).ok);
  waitForPidFile(dir.path + "/pid2", leftovers);
}

TEST_CASE("a plugin's setsid grandchild dies when the plugin exits by itself", "[plugin][containment]") {
  const bool ownCgroup = GENERATE(true, false);
  TempDir dir;
  Leftovers leftovers;
  ConnectorRegistry registry;
  REQUIRE(registerPlugin(registry, escaper("exits", ownCgroup)).isOk());
  auto outcome = registry.find("exits")->call(escapeCall(dir.path + "/pid", "setsid", "null", "exit"));
  CHECK(outcome.code == "plugin_crashed");
  CHECK_THAT(outcome.message, Catch::Contains("exited with status 3"));
  Seen grandchild = waitForPidFile(dir.path + "/pid", leftovers);
  REQUIRE(grandchild.pid > 0);
  CHECK(goneWithin(grandchild, 3s));
}

TEST_CASE("a daemonized grandchild lives while its plugin does and dies when the plugin is stopped",
          "[plugin][containment]") {
  const bool ownCgroup = GENERATE(true, false);
  TempDir dir;
  Leftovers leftovers;
  Seen grandchild;
  {
    ConnectorRegistry registry;
    REQUIRE(registerPlugin(registry, escaper("daemonizes", ownCgroup)).isOk());
    REQUIRE(registry.find("daemonizes")->call(escapeCall(dir.path + "/pid", "daemonize", "inherit", "answer")).ok);
    grandchild = waitForPidFile(dir.path + "/pid", leftovers);
    REQUIRE(grandchild.pid > 0);
    // A plugin may run helpers: nothing is killed while the plugin is healthy.
    std::this_thread::sleep_for(200ms);
    CHECK(present(grandchild));
    CHECK(registry.find("daemonizes")->call(escapeCall(dir.path + "/pid2", "setsid", "null", "answer")).ok);
    waitForPidFile(dir.path + "/pid2", leftovers);
    CHECK(present(grandchild));
  }
  CHECK(goneWithin(grandchild, 3s));
}

TEST_CASE("stopping one plugin kills its grandchild and nobody else's process", "[plugin][containment]") {
  const bool ownCgroup = GENERATE(true, false);
  TempDir dir;
  Leftovers leftovers;
  Seen stranger = startStranger(leftovers);
  auto b = std::make_unique<ConnectorRegistry>();
  REQUIRE(registerPlugin(*b, escaper("b", ownCgroup)).isOk());
  REQUIRE(b->find("b")->call(escapeCall(dir.path + "/b", "daemonize", "null", "answer")).ok);
  Seen ofB = waitForPidFile(dir.path + "/b", leftovers);
  REQUIRE(ofB.pid > 0);

  Seen ofA;
  Seen ofA2;
  bool contained = false;
  {
    ConnectorRegistry a;
    REQUIRE(registerPlugin(a, escaper("a", ownCgroup)).isOk());
    auto answered = a.find("a")->call(escapeCall(dir.path + "/a", "daemonize", "null", "answer"));
    REQUIRE(answered.ok);
    contained = inPluginCgroup(static_cast<pid_t>(answered.output["pid"].get<long>()));
    CHECK((contained || !ownCgroup || !cgroupWritable));
    ofA = waitForPidFile(dir.path + "/a", leftovers);
    REQUIRE(ofA.pid > 0);
    // A crash of `a` kills what it left, not b's grandchild.
    CHECK(a.find("a")->call(escapeCall(dir.path + "/a2", "setsid", "null", "exit")).code == "plugin_crashed");
    ofA2 = waitForPidFile(dir.path + "/a2", leftovers);
    REQUIRE(ofA2.pid > 0);
    if (contained) {
      CHECK(goneWithin(ofA2, 3s));
    }
    CHECK(present(ofB));
  }
  // Without cgroups, an orphan in a session of its own that b, running since before it
  // started, may have started too is left until b ends (containment.h).
  if (contained) {
    CHECK(goneWithin(ofA, 3s));
  } else {
    std::this_thread::sleep_for(100ms);
    CHECK(present(ofA));
    CHECK(present(ofA2));
  }
  CHECK(present(ofB));
  CHECK(present(stranger));
  CHECK(b->find("b")->call(escapeCall(dir.path + "/b2", "setsid", "null", "answer")).ok);
  Seen ofB2 = waitForPidFile(dir.path + "/b2", leftovers);

  b.reset();
  CHECK(goneWithin(ofB, 3s));
  CHECK(goneWithin(ofB2, 3s));
  CHECK(goneWithin(ofA, 3s));
  CHECK(goneWithin(ofA2, 3s));
  std::this_thread::sleep_for(100ms);
  CHECK(present(stranger));
  ::kill(stranger.pid, SIGKILL);
  ::waitpid(stranger.pid, nullptr, 0);
}
