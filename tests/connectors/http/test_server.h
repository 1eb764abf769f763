// TestServer: http_test_server.py on 127.0.0.1 with TLS material made for the run.
//
// Started on first use, once per test binary, and stopped (SIGTERM; temporary keys removed)
// when the binary exits, whatever the tests did. If the binary crashes instead,
// PR_SET_PDEATHSIG stops the server and the server removes the directory itself.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "vigil/expr.h"

namespace vigil::test {

namespace fs = std::filesystem;

// The server checks webhook signatures with this secret.
inline const std::string kWebhookSecret = "hook-SECRETVALUE-3";

// Runs argv[0] with stdout and stderr discarded; throws unless it exits 0.
inline void run(const std::vector<std::string>& args, const fs::path& cwd) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("failed: " + args.at(0) + " " + args.at(1));
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl
// command line (EC keys: fast).
inline void makeCertificates(const fs::path& dir) {
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto req = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, ec.begin(), ec.end());
    run(args, dir);
  };
  req({"openssl", "req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=vigil-test-ca",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
  std::ofstream(dir / "client.ext") << "extendedKeyUsage=clientAuth\n";
  for (const std::string who : {"server", "client"}) {
    req({"openssl", "req", "-keyout", who + ".key", "-out", who + ".csr", "-subj", "/CN=vigil-test-" + who});
    run({"openssl", "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
         who == "server" ? "2" : "3", "-days", "2", "-out", who + ".pem", "-extfile", who + ".ext"},
        dir);
  }
}

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vigil-http-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A child process, stopped with SIGTERM and reaped when this goes away.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_;
};

class TestServer {
 public:
  static TestServer& get() {
    static TestServer server;
    return server;
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(http) + path; }
  std::string httpsUrl(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(https) + path; }
  std::string mtlsUrl(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(mtls) + path; }
  fs::path file(const std::string& name) const { return dir_.path() / name; }

  int http = 0, https = 0, mtls = 0;

 private:
  // Members are destroyed in reverse: the server stops before its directory goes, and a
  // constructor that throws half-way still stops and removes what it made.
  TestServer() : child_(start()) { readPorts(); }

  pid_t start() {
    makeCertificates(dir_.path());
    const std::string script = std::string(VIGIL_SOURCE_DIR) + "/tests/connectors/http/http_test_server.py";
    std::vector<std::string> args = {
        VIGIL_PYTHON3,       script,   "--webhook-secret", kWebhookSecret,     "--tls",        file("server.pem"),
        file("server.key"),  "--mtls", file("server.pem"), file("server.key"), file("ca.pem"), "--cleanup",
        dir_.path().string()};
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the test died before prctl took effect
      dup2(out[1], 1);                    // dup2 clears O_CLOEXEC on the copy
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = out[0];
    if (pid < 0) {
      close(stdout_);
      throw std::runtime_error("fork failed");
    }
    return pid;
  }

  // The first line of the server's stdout: {"http": port, "https": port, "mtls": port}.
  void readPorts() {
    std::string line;
    pollfd p{stdout_, POLLIN, 0};
    char c = 0;
    while (poll(&p, 1, 10000) == 1 && read(stdout_, &c, 1) == 1 && c != '\n') line += c;
    close(stdout_);
    Json ports = Json::parse(line, nullptr, false);
    if (!ports.is_object()) throw std::runtime_error("the test server did not start");
    http = ports.at("http").get<int>();
    https = ports.at("https").get<int>();
    mtls = ports.at("mtls").get<int>();
  }

  TempDir dir_;
  int stdout_ = -1;
  Child child_;
};

}  // namespace vigil::test
