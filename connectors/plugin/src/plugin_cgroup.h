// Plugin cgroups: a cgroup v2 directory per plugin process, below this process's own
// cgroup, when that is writable (running as root, or under systemd with Delegate=yes).
//
// Membership is inherited by every descendant and cannot be left without write access to
// the hierarchy, so it says exactly what belongs to a plugin, whatever sessions it makes.
// These functions only touch the file system; Containment decides when to use them.
// Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vigil::plugin::cgroup {

// The directory of this process's own cgroup in the v2 hierarchy, if it is mounted and
// writable by this process; "" otherwise.
std::string ownWritableDirectory();

// Creates the cgroup `path`. False (errno set) when it cannot.
bool create(const std::string& path);

// Moves the process `pid` into the cgroup `path`. False when the kernel refuses.
bool enter(const std::string& path, pid_t pid);

// The processes in the cgroup now (zombies are not members).
std::vector<pid_t> members(const std::string& path);

// Removes the cgroup; false while it still has members (or it cannot be removed).
bool remove(const std::string& path);

// Removes empty cgroups `prefix`PID-* under `dir` left by a process PID that is gone.
void removeAbandoned(const std::string& dir, const std::string& prefix);

}  // namespace vigil::plugin::cgroup
