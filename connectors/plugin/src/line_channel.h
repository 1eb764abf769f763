// Line I/O with a plugin over non-blocking pipes, every wait bounded by a deadline.
//
// Reads never block past the deadline (poll), and a line is never buffered beyond
// maxLineBytes plus one read chunk: a plugin flooding output without a newline costs a
// bounded amount of memory before the caller gives up on it. Writes cannot raise SIGPIPE
// in the daemon (see writeAll).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace vigil::plugin {

using Deadline = std::chrono::steady_clock::time_point;

enum class IoResult {
  kOk,
  kTimeout,  // the deadline passed first
  kClosed,   // the other end is gone (EOF on read, EPIPE on write) or the pipe failed
  kTooLong,  // a line longer than the limit
};

// Writes all of `data` to the non-blocking `fd` before `deadline`. SIGPIPE is blocked in
// the calling thread for the duration and any SIGPIPE the write raised is consumed, so a
// plugin that died cannot kill the daemon, whatever its signal disposition.
IoResult writeAll(int fd, std::string_view data, Deadline deadline);

// Splits a non-blocking fd's bytes into lines. One reader per stream; not thread-safe.
class LineReader {
 public:
  LineReader(int fd, std::size_t maxLineBytes) : fd_(fd), maxLineBytes_(maxLineBytes) {}

  // The next line, without its '\n' (a trailing '\r' is kept: JSON ignores it).
  IoResult readLine(std::string& line, Deadline deadline);

 private:
  int fd_;
  std::size_t maxLineBytes_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no '\n'
};

}  // namespace vigil::plugin
