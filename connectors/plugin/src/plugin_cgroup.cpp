#include "plugin_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vigil::plugin::cgroup {
namespace {

// Where the v2 hierarchy is mounted, and the part of it that mount shows (a cgroup
// namespace or a bind mount may show only a subtree): from /proc/self/mountinfo, whose
// lines are "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPEROPTIONS".
bool findMount(std::string& root, std::string& mountPoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) {
      continue;
    }
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device;
    if (fields >> id >> parent >> device >> root >> mountPoint) {
      return mountPoint.find('\\') == std::string::npos;  // no escaped characters to decode
    }
  }
  return false;
}

}  // namespace

std::string ownWritableDirectory() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::string path;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      path = line.substr(3);
      break;
    }
  }
  std::string root, mountPoint;
  if (path.empty() || path.find(" (deleted)") != std::string::npos || !findMount(root, mountPoint)) {
    return "";
  }
  if (root != "/") {
    if (path.rfind(root, 0) != 0) {
      return "";  // our cgroup is outside what the mount shows
    }
    path = path.substr(root.size());
  }
  std::string dir = mountPoint + (path == "/" ? "" : path);
  if (::access(dir.c_str(), W_OK) != 0 || ::access((dir + "/cgroup.procs").c_str(), W_OK) != 0) {
    return "";
  }
  return dir;
}

bool create(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0; }

bool enter(const std::string& path, pid_t pid) {
  int fd = ::open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const std::string text = std::to_string(pid) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::vector<pid_t> members(const std::string& path) {
  std::vector<pid_t> pids;
  std::ifstream in(path + "/cgroup.procs");
  long pid = 0;
  while (in >> pid) {
    pids.push_back(static_cast<pid_t>(pid));
  }
  return pids;
}

bool remove(const std::string& path) { return ::rmdir(path.c_str()) == 0 || errno == ENOENT; }

void removeAbandoned(const std::string& dir, const std::string& prefix) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) {
      continue;
    }
    long owner = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (owner > 0 && ::kill(static_cast<pid_t>(owner), 0) != 0 && errno == ESRCH) {
      ::rmdir((dir + "/" + name).c_str());  // fails, harmlessly, while it has members
    }
  }
  ::closedir(d);
}

}  // namespace vigil::plugin::cgroup
