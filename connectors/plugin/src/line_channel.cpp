#include "line_channel.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace vigil::plugin {
namespace {

// Milliseconds left for poll(), rounded up so we never spin just short of the deadline.
int pollTimeout(Deadline deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left <= left.zero()) {
    return 0;
  }
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, 60 * 60 * 1000));
}

// Blocks SIGPIPE in this thread while alive; on the way out, swallows a SIGPIPE that our
// write raised (but not one that was already pending before), then restores the mask.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipeSet_);
    sigaddset(&pipeSet_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    wasPending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipeSet_, &old_);
  }
  ~SigpipeBlock() {
    if (!wasPending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipeSet_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipeSet_;
  sigset_t old_;
  bool wasPending_ = false;
};

}  // namespace

IoResult writeAll(int fd, std::string_view data, Deadline deadline) {
  if (fd < 0) {
    return IoResult::kClosed;
  }
  SigpipeBlock block;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno != EAGAIN) {
      return IoResult::kClosed;  // EPIPE: the plugin is gone
    }
    // The pipe is full: the plugin is not reading (yet).
    if (std::chrono::steady_clock::now() >= deadline) {
      return IoResult::kTimeout;
    }
    pollfd p{fd, POLLOUT, 0};
    int rc = ::poll(&p, 1, pollTimeout(deadline));
    if (rc < 0 && errno != EINTR) {
      return IoResult::kClosed;
    }
    if (rc > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      return IoResult::kClosed;
    }
  }
  return IoResult::kOk;
}

IoResult LineReader::readLine(std::string& line, Deadline deadline) {
  char chunk[65536];
  for (;;) {
    auto nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos) {
      if (nl > maxLineBytes_) {
        return IoResult::kTooLong;
      }
      line.assign(buffer_, 0, nl);
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      return IoResult::kOk;
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > maxLineBytes_) {
      return IoResult::kTooLong;  // stop here: never hold more of a flood than this
    }
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      return IoResult::kClosed;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN) {
      return IoResult::kClosed;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return IoResult::kTimeout;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, pollTimeout(deadline));
    if (rc < 0 && errno != EINTR) {
      return IoResult::kClosed;
    }
    // POLLHUP with no data left surfaces as read() == 0 on the next turn.
  }
}

}  // namespace vigil::plugin
