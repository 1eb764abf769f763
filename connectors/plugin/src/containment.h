// Containment: nothing a plugin starts outlives it, and nothing else is killed.
//
// Each plugin process leads a session of its own (ChildProcess spawns it so), and this
// process is made a child subreaper (PR_SET_CHILD_SUBREAPER) the first time it starts one,
// so that whatever is orphaned below a plugin is reparented here rather than to init.
// When this process's cgroup v2 directory is writable, each plugin also gets a cgroup of
// its own (plugin_cgroup.h). Ending a plugin SIGKILLs everything that is its:
//   - the plugin and its process group;
//   - every process whose parent, session or process group is one of those found so far
//     (a process can only be in a session or group its own ancestors made);
//   - its cgroup's members;
//   - an orphan reparented here, outside the daemon's session, that no other running
//     plugin can have started: every other one started after it, or has had a cgroup
//     since before it started that it is not in;
// found in /proc until none is left (within 2 s), and reaps each that became our child.
// An orphan that another running plugin may have started is left alone and killed when
// the last plugin that may have started it ends: no process is killed unless it descends
// from the plugin being ended, or from one that has ended already. The daemon's other
// children are never taken for a plugin's, because they share the daemon's session and
// no process a plugin starts can join it. Processes are signalled through pidfds after
// their start time is checked, so a reused pid is never hit.
//
// Limits: a descendant that leaves the plugin's session and loses its parent (a daemonized
// helper) is recognised at once only with cgroups, or when no other plugin was running
// when it started; a hostile plugin can fork in the microseconds before it is moved into
// its cgroup, and run processes that are not its descendants' (through other services).
//
// One per process (get()): the subreaper attribute and the orphans reparented to it belong
// to the process, not to any object. Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "process_table.h"
#include "vigil/status.h"

namespace vigil::plugin {

class Containment {
 public:
  static Containment& get();

  Containment(const Containment&) = delete;
  Containment& operator=(const Containment&) = delete;

  // Runs `spawn`, which starts a process as the leader of a new session and returns its
  // pid, with the registry locked (so no sweep on another thread takes the new process for
  // an orphan), then registers it and, when `ownCgroup` and the hierarchy allows, moves it
  // into a cgroup of its own. Returns spawn's result.
  Result<pid_t> start(const std::function<Result<pid_t>()>& spawn, bool ownCgroup);

  // Ends the plugin `leader` (started by start()) and everything that is its, as above;
  // waits for the leader to end, reaps it and forgets it. Returns its wait status, or -1
  // when it could not be reaped (someone else did). Call once per leader.
  int finish(pid_t leader);

  // At most once a second: reaps zombie orphans and kills orphans that only plugins that
  // have ended can have started. Cheap when it is not yet time.
  void sweepSometimes();

 private:
  struct Leader {
    unsigned long long start = 0;   // as ProcessInfo::start
    std::string cgroup;             // its cgroup directory; "" when none
    unsigned long long sealed = 0;  // when it entered the cgroup (it may have forked before)
  };
  using Claimed = std::map<pid_t, unsigned long long>;  // pid -> start time

  Containment();
  // One look at /proc: claims what is the victim's (0: orphans no running plugin can have
  // started), SIGKILLs the living, reaps zombie orphans; how many claimed are still to go.
  std::size_t roundLocked(pid_t victim, Claimed& claimed);
  void claimLocked(pid_t victim, const ProcessTable& table, Claimed& claimed) const;
  bool anotherMayHaveStarted(pid_t victim, unsigned long long start) const;
  void sweep();

  const pid_t self_;
  const pid_t session_;
  std::mutex mu_;
  std::map<pid_t, Leader> leaders_;       // GUARDED_BY(mu_)
  std::string cgroupRoot_;                // GUARDED_BY(mu_); "" once cgroups do not work
  std::vector<std::string> leftCgroups_;  // GUARDED_BY(mu_): to remove once empty
  unsigned long long next_ = 0;           // GUARDED_BY(mu_): names cgroups
  std::atomic<long long> lastSweepMs_{0};
};

}  // namespace vigil::plugin
