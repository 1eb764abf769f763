// Test harness for the email connector: a real SMTP sink (examples/smtp-sink/smtp_sink.py) in a
// child process, a throwaway CA and server certificate made with the openssl command line,
// and temporary directories, each owned by an RAII guard so a failing test still kills the
// child and removes its files.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "vigil/expr.h"

namespace vigil::testing {

namespace fs = std::filesystem;

inline std::string python3() {
  std::string p = VIGIL_PYTHON3;
  return p.empty() ? "/usr/bin/python3" : p;  // aiosmtpd is a Debian package: the system python
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vigil-email-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::vector<char*> execArgs(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

// Runs argv to completion with stdout and stderr sent to `log`; returns the exit status.
inline int runCommand(const std::vector<std::string>& argv, const fs::path& log) {
  // Everything the child needs is built before fork(): between fork and exec only
  // async-signal-safe calls, in case another thread held the allocator's lock.
  std::vector<char*> args = execArgs(argv);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA and a server certificate for 127.0.0.1 signed by it, made once per test process.
class TestPki {
 public:
  static const TestPki& get() {
    static TestPki pki;
    return pki;
  }
  fs::path caFile() const { return dir_.path() / "ca.pem"; }
  fs::path certFile() const { return dir_.path() / "server.pem"; }
  fs::path keyFile() const { return dir_.path() / "server.key"; }

 private:
  TestPki() {
    const fs::path d = dir_.path();
    const fs::path log = d / "openssl.log";
    std::ofstream(d / "ext.cnf") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                    "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n";
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> head, const std::vector<std::string>& tail) {
      head.insert(head.end(), tail.begin(), tail.end());
      return head;
    };
    bool ok =
        runCommand(with(with({"openssl", "req", "-x509"}, ec),
                        {"-keyout", d / "ca.key", "-out", caFile(), "-days", "2", "-subj", "/CN=vigil test CA",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"}),
                   log) == 0 &&
        runCommand(with(with({"openssl", "req"}, ec),
                        {"-keyout", keyFile(), "-out", d / "server.csr", "-subj", "/CN=127.0.0.1"}),
                   log) == 0 &&
        runCommand({"openssl", "x509", "-req", "-in", d / "server.csr", "-CA", caFile(), "-CAkey", d / "ca.key",
                    "-CAcreateserial", "-CAserial", d / "ca.srl", "-out", certFile(), "-days", "2", "-extfile",
                    d / "ext.cnf"},
                   log) == 0;
    if (!ok) throw std::runtime_error("openssl could not make the test certificates: " + readFile(log));
  }
  TempDir dir_;
};

// smtp_sink.py on an ephemeral loopback port. Killed (SIGTERM, then SIGKILL) on destruction.
class SmtpSink {
 public:
  explicit SmtpSink(const std::vector<std::string>& extraArgs = {}) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");  // dup2 clears it on fd 1
    std::vector<std::string> argv = {python3(), std::string(VIGIL_SOURCE_DIR) + "/examples/smtp-sink/smtp_sink.py",
                                     "--dir", (dir_.path() / "mail").string(), "--port", "0"};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    std::vector<char*> args = execArgs(argv);
    const std::string log = (dir_.path() / "sink.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (err >= 0) ::dup2(err, 2);
      ::close(out[0]);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
    if (pid_ < 0) throw std::runtime_error("fork failed");
    port_ = readPort();
    if (port_ <= 0) {
      stop();
      throw std::runtime_error("smtp_sink.py did not start: " + readFile(dir_.path() / "sink.log"));
    }
  }
  ~SmtpSink() { stop(); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }

  // Messages stored so far (the sink writes each before its 250 reply).
  int count() const {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.path() / "mail", ec)) {
      if (e.path().extension() == ".json" && e.path().filename().string()[0] != '.') ++n;
    }
    return n;
  }

  // Message n (1-based): {mail_from, rcpt_tos, data, parsed: {headers, body, defects}}.
  Json message(int n) const {
    fs::path p = dir_.path() / "mail" / (std::to_string(n) + ".json");
    if (!fs::exists(p)) throw std::runtime_error("the sink holds no message " + std::to_string(n));
    return Json::parse(readFile(p));
  }

 private:
  int readPort() {
    std::string line;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[128];
      ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    if (line.rfind("PORT ", 0) != 0) return -1;
    return std::atoi(line.c_str() + 5);
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      pid_ = -1;
    }
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = -1;
};

// A loopback port with nothing listening (bound, then closed): connections are refused.
inline int closedPort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// A loopback listener that never accepts or greets: a client connects (the kernel completes
// the handshake) and then waits for a banner that never comes.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace vigil::testing
