// TriggerService: starts runs from cron schedules and from files dropped in watched
// folders. Each start uses a run id derived from what caused it (the schedule slot, or
// the file's name and content), so a fire repeated after a crash finds the run it already
// started instead of starting another. Thread-safe; pollOnce() is what tests call with a
// ManualClock.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "vigil/engine.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

class TriggerService {
 public:
  TriggerService(Engine& engine, std::shared_ptr<Clock> clock, std::shared_ptr<spdlog::logger> log);
  ~TriggerService();

  // Replaces the triggers with those of `workflows` (the latest version of each).
  void setWorkflows(const std::vector<std::shared_ptr<const Workflow>>& workflows);
  // Fires whatever is due now; returns how many runs it started.
  size_t pollOnce();
  void start(std::chrono::milliseconds interval);
  void stop();

 private:
  struct Cron {
    std::string workflow;
    std::string spec;
    CronSchedule schedule;
    std::optional<TimeZone> zone;
    TimePoint next;
  };
  struct Watch {
    std::string workflow;
    std::string dir;
    std::string pattern;
  };
  size_t fireCron(Cron& c, TimePoint now);
  size_t scanFolder(const Watch& w);

  Engine& engine_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::vector<Cron> crons_;
  std::vector<Watch> watches_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vigil::daemon
