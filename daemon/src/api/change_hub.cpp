#include "api/change_hub.h"

#include <nlohmann/json.hpp>

namespace vigil::daemon {

ChangeHub::ChangeHub() : ChangeHub(Options{}) {}

ChangeHub::ChangeHub(Options o) : o_(o), thread_([this] { loop(); }) {}

ChangeHub::~ChangeHub() { stop(); }

void ChangeHub::publish(const std::vector<RunCommitted>& runs) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(runs);
  }
  cv_.notify_one();
}

void ChangeHub::awaitRun(const std::string& runId, std::chrono::steady_clock::time_point deadline,
                         std::function<void(std::optional<RunCommitted>)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      waiters_.emplace(runId, Waiter{deadline, std::move(done)});
      replan_ = true;  // its deadline may come before the loop's next wake-up
      cv_.notify_one();
      return;
    }
  }
  done(std::nullopt);
}

bool ChangeHub::reserve(const std::string& user) {
  std::lock_guard lock(mu_);
  if (stopping_ || reservedTotal_ >= o_.maxStreams || reserved_[user] >= o_.maxStreamsPerUser) return false;
  ++reserved_[user];
  ++reservedTotal_;
  return true;
}

void ChangeHub::release(const std::string& user) {
  std::lock_guard lock(mu_);
  auto it = reserved_.find(user);
  if (it == reserved_.end() || it->second == 0) return;
  if (--it->second == 0) reserved_.erase(it);
  --reservedTotal_;
}

void ChangeHub::stream(const std::string& user, Filter filter, std::shared_ptr<StreamSink> sink) {
  // The first bytes say how soon to reconnect, and show the client the stream is open.
  sink->send("retry: 3000\n: following\n\n");
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      streams_.push_back({user, std::move(filter), sink, std::chrono::steady_clock::now() + o_.maxStreamAge});
      return;
    }
  }
  sink->close();
  release(user);
}

void ChangeHub::stop() {
  std::vector<Waiter> waiting;
  std::vector<Stream> open;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    for (auto& [id, w] : waiters_) waiting.push_back(std::move(w));
    waiters_.clear();
    open.swap(streams_);
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  for (auto& w : waiting) w.done(std::nullopt);
  for (auto& s : open) s.sink->close();
}

void ChangeHub::deliver(const std::vector<RunCommitted>& runs) {
  std::vector<std::pair<std::function<void(std::optional<RunCommitted>)>, RunCommitted>> fire;
  std::vector<std::pair<std::shared_ptr<StreamSink>, std::string>> sends;
  {
    std::lock_guard lock(mu_);
    bool inbox = false;
    for (const auto& r : runs) {
      inbox = inbox || r.approvalsChanged;
      if (r.status != RunStatus::kRunning) {
        auto [a, b] = waiters_.equal_range(r.runId);
        for (auto it = a; it != b; ++it) fire.emplace_back(std::move(it->second.done), r);
        waiters_.erase(a, b);
      }
      for (const auto& s : streams_) {
        if (s.filter.runId == r.runId) {
          nlohmann::json j = {{"run", r.runId}, {"status", runStatusName(r.status)}, {"seq", r.lastSeq}};
          sends.emplace_back(s.sink, "event: change\ndata: " + j.dump() + "\n\n");
        }
      }
    }
    if (inbox) {
      for (const auto& s : streams_) {
        if (s.filter.inbox) sends.emplace_back(s.sink, "event: change\ndata: {\"inbox\":true}\n\n");
      }
    }
  }
  for (auto& [sink, text] : sends) sink->send(std::move(text));
  for (auto& [done, r] : fire) done(r);
}

void ChangeHub::loop() {
  auto nextBeat = std::chrono::steady_clock::now() + o_.heartbeat;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto wake = nextBeat;
    for (const auto& [id, w] : waiters_) wake = std::min(wake, w.deadline);
    cv_.wait_until(lock, wake, [this] { return stopping_ || !queue_.empty() || replan_; });
    replan_ = false;
    if (stopping_) break;
    while (!queue_.empty()) {
      auto runs = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      deliver(runs);
      lock.lock();
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::function<void(std::optional<RunCommitted>)>> late;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        late.push_back(std::move(it->second.done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<Stream> ended;
    std::vector<std::shared_ptr<StreamSink>> beat;
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (it->sink->closed() || it->closeAt <= now) {
        ended.push_back(std::move(*it));
        it = streams_.erase(it);
      } else {
        if (now >= nextBeat) beat.push_back(it->sink);
        ++it;
      }
    }
    if (now >= nextBeat) nextBeat = now + o_.heartbeat;
    for (const auto& s : ended) {
      auto r = reserved_.find(s.user);
      if (r != reserved_.end() && r->second > 0 && --r->second == 0) reserved_.erase(r);
      if (reservedTotal_ > 0) --reservedTotal_;
    }
    lock.unlock();
    for (auto& d : late) d(std::nullopt);
    for (auto& s : ended) s.sink->close();
    for (auto& b : beat) b->send(": keep-alive\n\n");
    lock.lock();
  }
}

}  // namespace vigil::daemon
