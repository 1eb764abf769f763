// Internal: the runs read most recently, as their chained events and (once folded) their
// state, each at the last_seq it was read at. Reading one run is reading and parsing every
// payload of its history; a task page, a decision and the committer's load of the decided
// run read the same run four to six times in a row (22% of the daemon's samples while
// approvals were decided, before this cache). An entry is used only when the runs row still
// says that last_seq and the run is not erased, so whatever wrote the run since, this
// process or another, the cache is never behind the store; its contents came from the
// chain, never from the row's snapshot.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "vigil/run.h"

namespace vigil::sqlite {

class RunCache {
 public:
  explicit RunCache(size_t capacity) : capacity_(capacity) {}

  struct Entry {
    uint64_t lastSeq = 0;
    std::shared_ptr<const std::vector<Event>> events;
    std::shared_ptr<const RunState> state;  // null until a load folds it
  };

  std::optional<Entry> find(const std::string& id, uint64_t lastSeq) {
    std::lock_guard lock(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    if (it->second->second.lastSeq != lastSeq) {
      order_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void put(const std::string& id, Entry e) {
    std::lock_guard lock(mu_);
    auto it = index_.find(id);
    if (it != index_.end()) {
      // A newer read wins; the same read adds its fold.
      if (it->second->second.lastSeq > e.lastSeq) return;
      it->second->second = std::move(e);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(id, std::move(e));
    index_[id] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  size_t capacity_;
  std::list<std::pair<std::string, Entry>> order_;  // most recent first
  std::unordered_map<std::string, std::list<std::pair<std::string, Entry>>::iterator> index_;
};

}  // namespace vigil::sqlite
