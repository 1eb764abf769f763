#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "containment.h"

namespace vigil::plugin {
namespace {

// The plugin's environment is minimal, so its PATH is too; resolving here keeps the
// daemon's own PATH out of the decision.
constexpr const char* kSearchPath[] = {"/usr/local/bin", "/usr/bin", "/bin"};

std::string resolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return name;  // relative paths resolve after the chdir into workingDir
  }
  for (const char* dir : kSearchPath) {
    std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return name;  // posix_spawn then reports ENOENT
}

void closeFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

bool setNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Owns spawn attributes so every early return releases them.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) + (abbrev ? " (SIG" + std::string(abbrev) + ")" : "");
  }
  return "ended (wait status " + std::to_string(status) + ")";
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const Spec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status::invalidArgument("no executable given");
  }
  struct stat st {};
  if (::stat(spec.workingDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::ioError("working directory '" + spec.workingDir + "' does not exist");
  }
  // Pipes are close-on-exec so that a plugin spawned concurrently on another thread never
  // inherits this one's ends (which would keep them open after this plugin dies).
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  auto closeAll = [&] {
    for (int* p : {in, out, err}) {
      closeFd(p[0]);
      closeFd(p[1]);
    }
  };
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    closeAll();
    return Status::ioError(std::string("cannot create pipes: ") + ::strerror(e));
  }

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err[1], 2);
  posix_spawn_file_actions_addchdir_np(&setup.actions, spec.workingDir.c_str());
  // Own session, and so own process group (containment.h says why), empty signal mask (the
  // calling thread may block SIGPIPE) and default dispositions (the daemon may ignore some
  // signals).
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&setup.attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  std::string path = resolveExecutable(spec.argv[0]);
  auto started = Containment::get().start(
      [&]() -> Result<pid_t> {
        pid_t pid = -1;
        int rc = ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
        if (rc != 0) {
          return Status::ioError("cannot start '" + spec.argv[0] + "': " + ::strerror(rc));
        }
        return pid;
      },
      spec.ownCgroup);
  if (!started) {
    closeAll();
    return started.status();
  }
  const pid_t pid = *started;
  closeFd(in[0]);
  closeFd(out[1]);
  closeFd(err[1]);
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0 || !setNonBlocking(in[1]) || !setNonBlocking(out[0]) || !setNonBlocking(err[0])) {
    // Still own the child: the object's destructor kills and reaps it.
    std::unique_ptr<ChildProcess> doomed(new ChildProcess(pid, in[1], out[0], err[0], wake));
    return Status::ioError("cannot set up the plugin's pipes");
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, in[1], out[0], err[0], wake));
}

ChildProcess::ChildProcess(pid_t pid, int in, int out, int err, int wake)
    : pid_(pid), in_(in), out_(out), err_(err), wake_(wake) {
  if (err_ >= 0 && wake_ >= 0) {
    drainer_ = std::thread([this] { drainStderr(); });
  }
}

ChildProcess::~ChildProcess() {
  kill();
  if (drainer_.joinable()) {
    uint64_t one = 1;
    // A grandchild that left the group could still hold stderr open: the eventfd ends the
    // thread regardless.
    [[maybe_unused]] ssize_t n = ::write(wake_, &one, sizeof one);
    drainer_.join();
  }
  closeFd(in_);
  closeFd(out_);
  closeFd(err_);
  closeFd(wake_);
}

void ChildProcess::drainStderr() {
  char buf[16384];
  pollfd fds[2] = {{err_, POLLIN, 0}, {wake_, POLLIN, 0}};
  for (;;) {
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(err_, buf, sizeof buf);
      if (n > 0) {
        errBytes_ += static_cast<std::size_t>(n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        return;  // EOF: every writer is gone
      }
    }
  }
}

void ChildProcess::closeStdin() { closeFd(in_); }

std::optional<std::string> ChildProcess::reapIfExited() {
  if (ended_) {
    return ended_;
  }
  Containment::get().sweepSometimes();
  // Peek without reaping: while the leader is an unreaped zombie its pid still names its
  // group and session, so ending what it left behind cannot hit a stranger.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == ECHILD) {
      ended_ = "ended (already reaped)";
    }
    return ended_;
  }
  if (info.si_pid != pid_) {
    return std::nullopt;  // still running
  }
  finish();
  return ended_;
}

std::string ChildProcess::reapWithin(std::chrono::milliseconds grace) {
  auto until = std::chrono::steady_clock::now() + grace;
  while (!reapIfExited()) {
    if (std::chrono::steady_clock::now() >= until) {
      kill();
      return "did not exit; " + *ended_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return *ended_;
}

void ChildProcess::kill() {
  if (!ended_) {
    finish();
  }
}

void ChildProcess::finish() {
  int status = Containment::get().finish(pid_);
  ended_ = status >= 0 ? describeWaitStatus(status) : "ended";
}

}  // namespace vigil::plugin
