// The four synthetic systems, each an HTTP server on its own loopback port.
//
// Thread safety: the servers' worker threads share the read-only Directory; the written-back
// outcomes and each system's "down" switch are guarded. start() and stop() are called from
// one thread (main). Nothing personal is logged: a log line is system, method, path (the
// identifiers travel in the query, which is not logged) and status.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "directory.h"

namespace httplib {
class Server;
}

namespace vigil::examples {

struct SystemsOptions {
  std::string token;         // when set, every request needs Authorization: Bearer <token>
  std::string outcomesFile;  // when set, outcomes written back are appended as JSON lines
  bool log = true;           // one line per request on stderr
};

class ForceSystems {
 public:
  ForceSystems(const Directory& people, SystemsOptions options);
  ~ForceSystems();  // stops the servers
  ForceSystems(const ForceSystems&) = delete;
  ForceSystems& operator=(const ForceSystems&) = delete;

  // Binds pnd, rms, csc and education to 127.0.0.1 ports base..base+3, or to four free
  // ports when base is 0. On failure returns false and sets `error`.
  bool bind(int portBase, std::string* error);
  // {"pnd": P, "rms": P, "csc": P, "education": P}; valid after bind().
  Json ports() const;
  // Serves on background threads until stop().
  void start();
  void stop();

 private:
  struct System;
  void routes(System& s);
  void routePnd(httplib::Server& srv);
  void routeRms(httplib::Server& srv);
  void routeCsc(httplib::Server& srv);
  void routeEducation(httplib::Server& srv);

  const Directory& people_;
  SystemsOptions options_;
  std::array<std::unique_ptr<System>, 4> systems_;

  std::mutex mu_;
  Json outcomes_ = Json::array();  // GUARDED_BY(mu_)
};

}  // namespace vigil::examples
