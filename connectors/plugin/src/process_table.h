// ProcessTable: what /proc says about processes, for finding everything a plugin started.
//
// Each reading is a snapshot: a process may end, and its pid be reused, right after. The
// start time is what tells a process from a later one with the same pid. Linux only.
// Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <optional>
#include <unordered_map>

namespace vigil::plugin {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  unsigned long long start = 0;  // clock ticks after boot (the kernel's boot-time clock)
  bool zombie = false;           // ended, not yet reaped
};

using ProcessTable = std::unordered_map<pid_t, ProcessInfo>;

// The process `pid` now; nullopt when there is none or /proc cannot be read.
std::optional<ProcessInfo> readProcess(pid_t pid);

// Every process now (thread-group leaders, as /proc lists them), by pid. Empty when /proc
// cannot be read.
ProcessTable readProcessTable();

// Now, on the clock and in the unit of ProcessInfo::start.
unsigned long long ticksSinceBoot();

}  // namespace vigil::plugin
