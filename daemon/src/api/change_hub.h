// ChangeHub: what the engine commits, passed on to those following it live: server-sent
// event streams (a run's page, an inbox) and starts that wait for their run to end or park
// (POST /api/v1/runs?wait=). The engine's committer only queues (publish); everything else
// happens on the hub's own thread, so a slow client or a store read never holds a commit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/http_types.h"
#include "vigil/engine.h"

namespace vigil::daemon {

class ChangeHub {
 public:
  struct Options {
    std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};  // a comment line to every stream
    std::chrono::milliseconds maxStreamAge{std::chrono::minutes(10)};  // then closed; EventSource reconnects
    size_t maxStreamsPerUser = 16;
    size_t maxStreams = 1000;
  };
  ChangeHub();
  explicit ChangeHub(Options o);
  ~ChangeHub();
  ChangeHub(const ChangeHub&) = delete;
  ChangeHub& operator=(const ChangeHub&) = delete;

  // The engine's onCommitted: queues and returns.
  void publish(const std::vector<RunCommitted>& runs);

  // Calls `done` once, on the hub's thread: with the run as committed when it is committed
  // with a status other than running, or with nullopt at `deadline` (or at stop()).
  void awaitRun(const std::string& runId, std::chrono::steady_clock::time_point deadline,
                std::function<void(std::optional<RunCommitted>)> done);

  struct Filter {
    std::string runId;   // changes of this run: {"run", "status", "seq"}
    bool inbox = false;  // any change to approval tasks: {"inbox": true}, never which
  };
  // A slot for one more stream of `user`; false at the limits. Each reserved slot is
  // released when its stream ends, or by release() when it never started.
  bool reserve(const std::string& user);
  void release(const std::string& user);
  // Follows `filter` into `sink` until the client goes, the stream's age limit, or stop().
  void stream(const std::string& user, Filter filter, std::shared_ptr<StreamSink> sink);

  void stop();  // waiters get nullopt; streams are closed

 private:
  void loop();
  void deliver(const std::vector<RunCommitted>& runs);

  struct Waiter {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(std::optional<RunCommitted>)> done;
  };
  struct Stream {
    std::string user;
    Filter filter;
    std::shared_ptr<StreamSink> sink;
    std::chrono::steady_clock::time_point closeAt;
  };

  const Options o_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<RunCommitted>> queue_;              // GUARDED_BY(mu_)
  std::multimap<std::string, Waiter> waiters_;              // GUARDED_BY(mu_) by run id
  std::vector<Stream> streams_;                             // GUARDED_BY(mu_)
  std::map<std::string, size_t> reserved_;                  // GUARDED_BY(mu_) streams by user
  size_t reservedTotal_ = 0;                                // GUARDED_BY(mu_)
  bool stopping_ = false;                                   // GUARDED_BY(mu_)
  bool replan_ = false;  // GUARDED_BY(mu_) a waiter was added: work out the next wake-up again
  std::thread thread_;
};

}  // namespace vigil::daemon
