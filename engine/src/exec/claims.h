// Internal: work this node has handed on from the store (a timer fired, a call dispatched)
// and not yet seen committed, and what it saw committed recently. A poll of the store that
// began before a commit can still list the rows that commit removed; it must not hand them
// on a second time. One poll at a time per set (the caller serialises them).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace vigil {

class Claims {
 public:
  // Before reading the store: forgets what was committed before, which that read cannot list.
  void beginRead() {
    std::lock_guard lock(mu_);
    for (auto it = done_.begin(); it != done_.end();) it = it->second <= commits_ ? done_.erase(it) : std::next(it);
  }
  // Takes `key` to hand on; false when it is already out, or was committed since the read began.
  bool claim(const std::string& key) {
    std::lock_guard lock(mu_);
    return done_.count(key) == 0 && out_.insert(key).second;
  }
  // Handed on directly (a call its own commit created): out until settled.
  void hold(const std::string& key) {
    std::lock_guard lock(mu_);
    out_.insert(key);
  }
  // Back from one commit: `committed` ones are done (their rows are gone), the others may be
  // handed on again by a later poll.
  void settle(const std::vector<std::string>& keys, const std::set<std::string>& committed) {
    if (keys.empty()) return;
    std::lock_guard lock(mu_);
    if (!committed.empty()) ++commits_;
    for (const auto& k : keys) {
      out_.erase(k);
      if (committed.count(k) != 0) done_[k] = commits_;
    }
  }
  size_t outstanding() {
    std::lock_guard lock(mu_);
    return out_.size();
  }

 private:
  std::mutex mu_;
  std::set<std::string> out_;
  uint64_t commits_ = 0;
  std::map<std::string, uint64_t> done_;
};

}  // namespace vigil
