// Helpers shared by the fuzz targets: a per-process scratch directory for loaders that
// only read files, and a check that stops the process when a promised property fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::fuzz {

// Aborts (a crash libFuzzer reports, with the input) when `holds` is false.
inline void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "fuzz property failed: %s\n", what);
    std::abort();
  }
}

// One directory under $TMPDIR for this process, made on first use and removed when the
// process exits normally (libFuzzer's -max_total_time, -runs, or a replay). A process that
// crashed leaves its directory; the next one removes every such directory whose process
// is gone (the name ends in the process id).
inline const std::string& scratchDir() {
  static const std::string dir = [] {
    const std::filesystem::path tmp = std::filesystem::temp_directory_path();
    std::error_code ec;
    for (std::filesystem::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.rfind("vigil-fuzz-", 0) != 0) continue;
      const std::string pid = name.substr(name.rfind('-') + 1);
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) {
        std::error_code ignored;
        std::filesystem::remove_all(it->path(), ignored);
      }
    }
    const std::string made = (tmp / ("vigil-fuzz-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(made, ec);
    require(::mkdir(made.c_str(), 0700) == 0, "mkdir scratch directory");
    static std::string removeAtExit;
    removeAtExit = made;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removeAtExit, ignored);
    });
    return made;
  }();
  return dir;
}

// Replaces `path` with exactly `bytes`, with permission bits `mode`.
inline void writeFile(const std::string& path, std::string_view bytes, mode_t mode = 0600) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  require(fd >= 0, "open scratch file");
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    require(n > 0, "write scratch file");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  require(::fchmod(fd, mode) == 0, "chmod scratch file");
  ::close(fd);
}

}  // namespace vigil::fuzz
