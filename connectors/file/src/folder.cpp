#include "folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>

namespace vigil::file {
namespace {

namespace fs = std::filesystem;

// Closes an fd on every path out.
struct Fd {
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

CallOutcome Folder::fail(const std::string& label, const std::string& code, const std::string& what,
                         bool retryable) const {
  return CallOutcome::failure(code, label + ": folder '" + name_ + "': " + what, retryable);
}

CallOutcome Folder::errnoFailure(const std::string& label, int error, const std::string& doing) const {
  if (error == ENOENT || error == ENOTDIR) return fail(label, "not_found", "no such file or directory", false);
  if (error == ELOOP) return fail(label, "path_refused", "the path leaves the folder", false);
  // A permission problem stays until someone changes the folder; the rest (full disk, I/O) may pass.
  bool retryable = error != EACCES && error != EPERM && error != EISDIR && error != EROFS;
  return fail(label, "io_error", doing + " failed (errno " + std::to_string(error) + ")", retryable);
}

std::variant<std::vector<std::string>, CallOutcome> Folder::resolve(const std::string& label,
                                                                    const std::string& path) const {
  auto refused = [&] { return fail(label, "path_refused", "the path is not a relative path inside the folder", false); };
  if (path.empty() || path.find('\0') != std::string::npos || path.front() == '/') return refused();
  for (const auto& part : split(path)) {
    if (part == "..") return refused();
  }
  // weakly_canonical follows every symlink that exists (file or directory) and the result
  // must stay in root_; openParent then walks the resolved path with O_NOFOLLOW (each
  // component checked as it is opened, like lstat but without a race).
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::path(root_) / path, ec);
  if (ec) return errnoFailure(label, ec.value(), "resolving the path");
  std::string r = resolved.string();
  if (r.size() <= root_.size() || r.compare(0, root_.size(), root_) != 0 || r[root_.size()] != '/') {
    return refused();
  }
  std::vector<std::string> parts;
  for (const auto& part : split(r.substr(root_.size() + 1))) {
    if (!part.empty()) parts.push_back(part);
  }
  if (parts.empty()) return refused();
  return parts;
}

int Folder::openParent(const std::string& label, const std::vector<std::string>& parts, CallOutcome& failed) const {
  int dir = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    failed = errnoFailure(label, errno, "opening the folder");
    return -1;
  }
  // The resolved path has no symlinks left: one appearing now is a swap, and is refused.
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = openat(dir, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int error = errno;
    close(dir);
    if (next < 0) {
      failed = error == ENOTDIR ? fail(label, "path_refused", "the path leaves the folder", false)
                                : errnoFailure(label, error, "opening a directory");
      return -1;
    }
    dir = next;
  }
  return dir;
}

std::variant<std::string, CallOutcome> Folder::read(const std::string& label, const std::string& path,
                                                    std::size_t maxBytes) const {
  auto resolved = resolve(label, path);
  if (auto* failed = std::get_if<CallOutcome>(&resolved)) return *failed;
  const auto& parts = std::get<std::vector<std::string>>(resolved);
  CallOutcome failed;
  Fd dir(openParent(label, parts, failed));
  if (dir.fd < 0) return failed;
  // O_NONBLOCK so that a FIFO planted here cannot hang the call before fstat refuses it.
  Fd f(openat(dir.fd, parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (f.fd < 0) return errnoFailure(label, errno, "opening the file");
  struct stat st {};
  if (fstat(f.fd, &st) != 0) return errnoFailure(label, errno, "reading the file");
  if (!S_ISREG(st.st_mode)) return fail(label, "path_refused", "the path is not a regular file", false);
  if (static_cast<std::size_t>(st.st_size) > maxBytes) {
    return fail(label, "too_large", "the file is larger than " + std::to_string(maxBytes) + " bytes", false);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoFailure(label, errno, "reading the file");
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    // The file may have grown since fstat.
    if (out.size() > maxBytes) {
      return fail(label, "too_large", "the file is larger than " + std::to_string(maxBytes) + " bytes", false);
    }
  }
  return out;
}

std::variant<std::size_t, CallOutcome> Folder::write(const std::string& label, const std::string& path,
                                                     const std::string& content) const {
  if (!writable_) return fail(label, "read_only", "the folder is not writable", false);
  auto resolved = resolve(label, path);
  if (auto* failed = std::get_if<CallOutcome>(&resolved)) return *failed;
  const auto& parts = std::get<std::vector<std::string>>(resolved);
  CallOutcome failed;
  Fd dir(openParent(label, parts, failed));
  if (dir.fd < 0) return failed;

  std::random_device random;
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 10 && fd < 0; ++attempt) {
    temp = "." + parts.back().substr(0, 200) + ".vigil-tmp-" + std::to_string(random());
    fd = openat(dir.fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return errnoFailure(label, errno, "creating a temp file");
  Fd f(fd);
  auto abandon = [&](const std::string& doing) {
    int error = errno;
    unlinkat(dir.fd, temp.c_str(), 0);
    return errnoFailure(label, error == ENOENT ? EIO : error, doing);
  };
  if (!writeAll(f.fd, content)) return abandon("writing the file");
  if (fsync(f.fd) != 0) return abandon("syncing the file");
  // renameat replaces the directory entry itself: a symlink at the target is replaced, not followed.
  if (renameat(dir.fd, temp.c_str(), dir.fd, parts.back().c_str()) != 0) return abandon("renaming the temp file");
  // The rename is durable only once the directory is synced.
  if (fsync(dir.fd) != 0) return errnoFailure(label, errno, "syncing the directory");
  return content.size();
}

}  // namespace vigil::file
