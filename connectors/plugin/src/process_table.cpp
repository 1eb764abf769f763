#include "process_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace vigil::plugin {
namespace {

// /proc/PID/stat is "pid (comm) state ppid pgrp session ... starttime ...". comm may hold
// spaces and parentheses, so the fields are counted from the last ')'.
std::optional<ProcessInfo> parseStat(pid_t pid, const char* text) {
  const char* close = std::strrchr(text, ')');
  if (close == nullptr || close[1] != ' ') {
    return std::nullopt;
  }
  ProcessInfo p;
  p.pid = pid;
  const char* cursor = close + 2;
  p.zombie = *cursor == 'Z';
  // Field 3 is the state; 4 ppid, 5 pgrp, 6 session, 22 starttime.
  for (int field = 4; field <= 22; ++field) {
    cursor = std::strchr(cursor, ' ');
    if (cursor == nullptr) {
      return std::nullopt;
    }
    ++cursor;
    char* end = nullptr;
    errno = 0;
    unsigned long long value = std::strtoull(cursor, &end, 10);
    const bool number = end != cursor && errno == 0;
    switch (field) {
      case 4:
        p.ppid = number ? static_cast<pid_t>(value) : 0;
        break;
      case 5:
        p.pgid = number ? static_cast<pid_t>(value) : 0;
        break;
      case 6:
        p.sid = number ? static_cast<pid_t>(value) : 0;
        break;
      case 22:
        if (!number) {
          return std::nullopt;
        }
        p.start = value;
        break;
      default:
        break;
    }
  }
  return p;
}

}  // namespace

std::optional<ProcessInfo> readProcess(pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  char buf[1024];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) {
    return std::nullopt;
  }
  buf[n] = '\0';
  return parseStat(pid, buf);
}

ProcessTable readProcessTable() {
  ProcessTable table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return table;
  }
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') {
      continue;
    }
    if (auto p = readProcess(static_cast<pid_t>(pid))) {
      table.emplace(p->pid, *p);
    }
  }
  ::closedir(proc);
  return table;
}

unsigned long long ticksSinceBoot() {
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  const unsigned long long hz = static_cast<unsigned long long>(::sysconf(_SC_CLK_TCK));
  return static_cast<unsigned long long>(now.tv_sec) * hz +
         static_cast<unsigned long long>(now.tv_nsec) * hz / 1000000000ULL;
}

}  // namespace vigil::plugin
