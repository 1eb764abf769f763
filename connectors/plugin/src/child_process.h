// ChildProcess: one running plugin executable, its pipes, and everything it starts.
//
// Spawned with posix_spawn (no shell) as the leader of a new session (and so of a new
// process group), registered with Containment (containment.h), which ends whatever the
// plugin started along with it: its group, its descendants even in sessions of their own,
// and, where the cgroup v2 hierarchy is writable, its cgroup. stdin and stdout are
// non-blocking pipes for the caller to poll; stderr is drained by a thread of its own and
// only counted, so a chatty plugin can never block on a full pipe. Ending the child, by
// kill(), by reaping it after it exited, or by the destructor, kills what it left behind and
// reaps it: no zombie outlives the object. Not thread-safe: one owner uses it at a time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vigil/status.h"

namespace vigil::plugin {

class ChildProcess {
 public:
  struct Spec {
    std::vector<std::string> argv;  // argv[0]: a path, or a bare name looked up in a fixed PATH
    std::string workingDir;
    std::vector<std::string> env;   // "NAME=value", the whole environment
    bool ownCgroup = true;          // a cgroup of its own when the hierarchy allows
  };

  // Starts the process. ioError naming the executable (never the arguments) when it cannot start.
  static Result<std::unique_ptr<ChildProcess>> spawn(const Spec& spec);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  int stdinFd() const { return in_; }
  int stdoutFd() const { return out_; }
  std::size_t stderrBytes() const { return errBytes_.load(); }

  // Closes our end of the plugin's stdin: the polite request to exit.
  void closeStdin();
  // When the child has already ended, kills what it left behind, reaps it and says how;
  // nullopt while it runs.
  std::optional<std::string> reapIfExited();
  // Waits up to `grace` for the child to end by itself, then kills it; says how it ended.
  std::string reapWithin(std::chrono::milliseconds grace);
  // SIGKILL to the child and everything it started, then reaps it.
  void kill();

 private:
  ChildProcess(pid_t pid, int in, int out, int err, int wake);
  void drainStderr();
  void finish();  // ends and reaps the child and what it started; sets ended_

  pid_t pid_;
  int in_;
  int out_;
  int err_;
  int wake_;  // eventfd that stops the stderr thread
  std::optional<std::string> ended_;  // set once reaped
  std::atomic<std::size_t> errBytes_{0};
  std::thread drainer_;
};

// "exited with status 3", "killed by signal 11 (SEGV)": how a waitpid status ended a process.
std::string describeWaitStatus(int status);

}  // namespace vigil::plugin
