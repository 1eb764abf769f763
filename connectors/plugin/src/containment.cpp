#include "containment.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "plugin_cgroup.h"
#include "process_table.h"

namespace vigil::plugin {
namespace {

constexpr const char* kCgroupPrefix = "vigil-plugin-";
// How long an ending waits for what the plugin left to die; SIGKILL takes microseconds
// unless a process is stuck in the kernel.
constexpr std::chrono::milliseconds kPatience{2000};
constexpr std::chrono::milliseconds kSweepEvery{1000};

long long steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// SIGKILL to `pid` only while it is the process that started at `start`: the pidfd pins
// the process, and the start time read after opening it says it is the one we saw.
void killExactly(pid_t pid, unsigned long long start) {
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    auto now = readProcess(pid);
    if (now && now->start == start) {
      ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
    }
    ::close(fd);
    return;
  }
  if (errno != ENOSYS) {
    return;  // ESRCH: it has gone
  }
#endif
  auto now = readProcess(pid);
  if (now && now->start == start) {
    ::kill(pid, SIGKILL);
  }
}

// Whether `claimed` holds the process numbered `pid`: the same process if it is still in the
// table, or a number a claimed process left as its session or group.
bool holds(const std::map<pid_t, unsigned long long>& claimed, const ProcessTable& table, pid_t pid) {
  auto c = claimed.find(pid);
  if (c == claimed.end()) {
    return false;
  }
  auto now = table.find(pid);
  return now == table.end() || now->second.start == c->second;
}

}  // namespace

Containment& Containment::get() {
  static Containment instance;
  return instance;
}

Containment::Containment() : self_(::getpid()), session_(::getsid(0)) {
  // Without it (a kernel that refuses), orphans go to init: the session, group and cgroup
  // rules still find them, only the orphan rule does not apply.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  cgroupRoot_ = cgroup::ownWritableDirectory();
  if (!cgroupRoot_.empty()) {
    cgroup::removeAbandoned(cgroupRoot_, kCgroupPrefix);
  }
}

Result<pid_t> Containment::start(const std::function<Result<pid_t>()>& spawn, bool ownCgroup) {
  std::lock_guard<std::mutex> lock(mu_);
  auto pid = spawn();
  if (!pid) {
    return pid;
  }
  Leader leader;
  auto info = readProcess(*pid);
  leader.start = info ? info->start : ticksSinceBoot();
  if (ownCgroup && !cgroupRoot_.empty()) {
    std::string dir = cgroupRoot_ + "/" + kCgroupPrefix + std::to_string(self_) + "-" + std::to_string(++next_);
    if (!cgroup::create(dir)) {
      if (errno != EEXIST) {
        cgroupRoot_.clear();  // not writable after all: the process-tree rules only, from now on
      }
    } else if (cgroup::enter(dir, *pid)) {
      leader.cgroup = dir;
      leader.sealed = ticksSinceBoot();
    } else {
      cgroup::remove(dir);
      cgroupRoot_.clear();
    }
  }
  leaders_[*pid] = leader;
  return pid;
}

bool Containment::anotherMayHaveStarted(pid_t victim, unsigned long long start) const {
  for (const auto& [pid, leader] : leaders_) {
    if (pid != victim && leader.start <= start && (leader.cgroup.empty() || start <= leader.sealed)) {
      return true;
    }
  }
  return false;
}

std::size_t Containment::roundLocked(pid_t victim, Claimed& claimed) {
  if (victim != 0) {
    // Until it is reaped the leader's pid names it and its group: no stranger is hit.
    ::kill(-victim, SIGKILL);
    ::kill(victim, SIGKILL);
  }
  const ProcessTable table = readProcessTable();
  // A claimed pid now held by a later process is forgotten; one absent from the table is
  // kept, since the number may still name a session or group (and is not reused while so).
  for (auto it = claimed.begin(); it != claimed.end();) {
    auto now = table.find(it->first);
    it = now != table.end() && now->second.start != it->second ? claimed.erase(it) : std::next(it);
  }
  claimLocked(victim, table, claimed);

  std::set<pid_t> reaped;
  for (const auto& [pid, p] : table) {
    if (!p.zombie && holds(claimed, table, pid)) {
      killExactly(pid, p.start);
    }
    // A zombie reparented here from a plugin's tree (outside our session, not a plugin that
    // its owner reaps): dead already, so reaping it takes nothing from anyone.
    if (p.zombie && p.ppid == self_ && p.sid != session_ && leaders_.count(pid) == 0 &&
        ::waitpid(pid, nullptr, WNOHANG) == pid) {
      reaped.insert(pid);
    }
  }
  // Still to wait for: the living, and zombies that are ours to reap or will be once their
  // (claimed, dying) parent is gone. A zombie whose parent lives on is that parent's to reap.
  std::size_t left = 0;
  for (const auto& [pid, start] : claimed) {
    auto now = table.find(pid);
    if (pid == victim || now == table.end() || now->second.start != start || reaped.count(pid) != 0) {
      continue;
    }
    if (!now->second.zombie || now->second.ppid == self_ || holds(claimed, table, now->second.ppid)) {
      ++left;
    }
  }
  for (auto it = leftCgroups_.begin(); it != leftCgroups_.end();) {
    it = cgroup::remove(*it) ? leftCgroups_.erase(it) : std::next(it);
  }
  return left;
}

void Containment::claimLocked(pid_t victim, const ProcessTable& table, Claimed& claimed) const {
  std::map<pid_t, pid_t> cgroupOf;  // process -> the plugin whose cgroup holds it
  for (const auto& [pid, leader] : leaders_) {
    if (!leader.cgroup.empty()) {
      for (pid_t member : cgroup::members(leader.cgroup)) {
        cgroupOf[member] = pid;
      }
    }
  }
  if (auto v = table.find(victim); victim != 0 && v != table.end()) {
    claimed.emplace(victim, v->second.start);
  }
  // To a fixed point: a process is claimed through another claimed one.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, p] : table) {
      if (pid == self_ || p.sid == session_ || leaders_.count(pid) != 0 || holds(claimed, table, pid)) {
        continue;
      }
      bool mine = false;
      if (auto owner = cgroupOf.find(pid); owner != cgroupOf.end()) {
        mine = owner->second == victim;  // exact, either way
      } else {
        mine = holds(claimed, table, p.ppid) || holds(claimed, table, p.sid) || holds(claimed, table, p.pgid);
        if (!mine && p.ppid == self_ && leaders_.count(p.sid) == 0 && leaders_.count(p.pgid) == 0) {
          mine = !anotherMayHaveStarted(victim, p.start);  // an orphan only the victim (or the ended) can have started
        }
      }
      if (mine) {
        claimed[pid] = p.start;
        grew = true;
      }
    }
  }
}

int Containment::finish(pid_t leader) {
  Claimed claimed;
  const auto until = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    std::size_t left;
    {
      std::lock_guard<std::mutex> lock(mu_);
      left = roundLocked(leader, claimed);
    }
    if (left == 0 || std::chrono::steady_clock::now() >= until) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Wait for the (killed) leader without reaping it, then reap and forget it in one step
  // under the lock, so that its pid is never free while it is registered.
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(leader), &info, WEXITED | WNOWAIT);
  } while (rc != 0 && errno == EINTR);
  int status = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int st = 0;
    if (rc == 0 && ::waitpid(leader, &st, WNOHANG) == leader) {
      status = st;
    }
    if (auto it = leaders_.find(leader); it != leaders_.end()) {
      if (!it->second.cgroup.empty()) {
        leftCgroups_.push_back(it->second.cgroup);
      }
      leaders_.erase(it);
    }
  }
  sweep();  // orphans that it and another plugin, ended meanwhile, could both have started
  return status;
}

void Containment::sweep() {
  lastSweepMs_ = steadyMs();
  Claimed claimed;
  const auto until = std::chrono::steady_clock::now() + kPatience / 2;
  for (;;) {
    std::size_t left;
    {
      std::lock_guard<std::mutex> lock(mu_);
      left = roundLocked(0, claimed);
    }
    if (left == 0 || std::chrono::steady_clock::now() >= until) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Containment::sweepSometimes() {
  long long last = lastSweepMs_.load();
  const long long now = steadyMs();
  if (now - last < kSweepEvery.count() || !lastSweepMs_.compare_exchange_strong(last, now)) {
    return;
  }
  sweep();
}

}  // namespace vigil::plugin
