// ApprovalWatch: finds open approval tasks that nobody can act on and escalates them.
//
// A task assigned only to people who do not exist or are disabled, or to roles with no
// active member, would wait forever in nobody's inbox. Each sweep lists every open task,
// checks its assignees against the user store (auth/assignees.h) and reassigns each such
// task to its workflow's owner role as well (once: a task already with the owner role is
// only counted), so a person who can act sees it. `unactionable()` is the count from the
// last sweep, served as `vigil_approvals_unactionable`. start() sweeps every `interval` on
// its own thread; sweep() may also be called directly (tests, after user changes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/logger.h>

#include "auth/user_store.h"
#include "vigil/engine.h"

namespace vigil::daemon {

class ApprovalWatch {
 public:
  // `ownerOf(workflow, version)` gives the workflow's owner role ("" when unknown).
  ApprovalWatch(Engine& engine, Store& store, UserStore& users, std::function<std::string(const std::string&, int)> ownerOf,
                std::shared_ptr<spdlog::logger> log);
  ~ApprovalWatch();

  // Returns how many open tasks nobody can act on (after escalating those it could).
  Result<long long> sweep();
  long long unactionable() const { return unactionable_.load(); }

  void start(std::chrono::milliseconds interval);
  void stop();

 private:
  Engine& engine_;
  Store& store_;
  UserStore& users_;
  std::function<std::string(const std::string&, int)> ownerOf_;
  std::shared_ptr<spdlog::logger> log_;
  std::atomic<long long> unactionable_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace vigil::daemon
