// Partition leases: which runs' side effects this node makes happen. At every heartbeat a
// node renews what it holds, gives back what is beyond its fair share of the live nodes,
// and takes partitions nobody holds or whose holder stopped renewing, up to that share;
// when it gains one it picks up the partition's pending calls (its timers come with the
// next poll). The store's lease rows and the epoch check in each commit are what make
// this safe; this file only decides when to ask.
#include <random>

#include "engine_impl.h"

namespace vigil {

namespace {

std::string hex(uint64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string EngineImpl::newRunId(TimePoint now) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string prefix = "r-" + hex(static_cast<uint64_t>(now.time_since_epoch().count()), 11) + "-";
  // A run started here falls, where it can, in a partition this node holds, so that its
  // calls are made here at once rather than found by the holder's next poll.
  std::set<int> mine;
  {
    std::lock_guard lock(leaseMu_);
    for (const auto& [p, e] : held_) mine.insert(p);
  }
  std::string id;
  for (int i = 0; i < 4 * kPartitions; ++i) {
    id = prefix + hex(rng() & 0xffffffffULL, 8);
    if (mine.empty() || mine.count(partitionOf(id)) != 0) break;
  }
  return id;
}

std::optional<uint64_t> EngineImpl::heldEpoch(const std::string& runId) {
  std::lock_guard lock(leaseMu_);
  // Unrenewed for most of a lease (the store unreachable, this process starved), what it
  // held may be another node's by now: it makes no call and fires no timer until renewed.
  // Only where the lease thread renews: an engine whose leases a test drives by hand has
  // no such clock.
  if (o_.timerThread && std::chrono::steady_clock::now() >= heldUntil_) return std::nullopt;
  auto it = held_.find(partitionOf(runId));
  if (it == held_.end()) return std::nullopt;
  return it->second;
}

bool EngineImpl::claimCall(CallJob& job) {
  auto epoch = heldEpoch(job.runId);
  if (!epoch) return false;
  job.epoch = *epoch;
  return true;
}

Status EngineImpl::pollWork() {
  std::lock_guard poll(workPollMu_);
  callClaims_.beginRead();
  auto work = o_.store->work().pending();
  if (!work) return work.status();
  size_t picked = 0;
  for (auto& w : *work) {
    // Every call recorded but not answered may or may not have happened: do it again with
    // the same idempotency key and let the other side deduplicate.
    CallJob job;
    job.runId = w.runId;
    Command& c = job.command;
    c.kind = Command::Kind::kCallConnector;
    c.step = w.step;
    c.attempt = w.attempt;
    c.connector = w.command.value("connector", "");
    c.action = w.command.value("action", "");
    c.input = w.command.value("input", Json());
    c.idempotencyKey = w.command.value("key", "");
    c.purpose = w.command.value("purpose", "");
    if (w.command.contains("deadline")) c.deadline = TimePoint(std::chrono::milliseconds(w.command["deadline"].get<long long>()));
    if (!heldEpoch(job.runId) || !callClaims_.claim(callKey(w.runId, w.step, w.attempt))) continue;
    if (!claimCall(job)) {
      callClaims_.settle({callKey(w.runId, w.step, w.attempt)}, {});  // the lease went meanwhile
      continue;
    }
    dispatch(std::move(job));
    ++picked;
  }
  if (picked > 0) o_.log->info("picked up {} call(s) in flight in this node's partitions", picked);
  return Status::ok();
}

Status EngineImpl::keepLeases(bool starting) {
  std::lock_guard beat(beatMu_);
  LeaseTable& table = o_.store->leases();
  const TimePoint t = now();
  const TimePoint until = t + o_.leaseTtl;
  auto fail = [&](const Status& s) {
    std::lock_guard lock(leaseMu_);
    if (!leaseFailing_) o_.log->error("renewing partition leases failed: {}", s.message());
    leaseFailing_ = true;
    leaseError_ = s.message();
    return s;
  };
  const auto asked = std::chrono::steady_clock::now();
  if (Status s = table.beat(o_.node, o_.nodeAddress, t); !s) return fail(s);
  std::vector<Lease> mine;
  {
    std::lock_guard lock(leaseMu_);
    for (const auto& [p, e] : held_) mine.push_back(Lease{p, o_.node, e, {}});
  }
  // Renewed by partition and epoch, not by name: another process under this name (a
  // restart while the old one still ran, a name given to two nodes) holds other epochs.
  auto renewed = table.renew(o_.node, mine, until);
  if (!renewed) return fail(renewed.status());
  auto rows = table.leases();
  if (!rows) return fail(rows.status());
  auto beats = table.nodes();
  if (!beats) return fail(beats.status());

  std::map<int, uint64_t> now_held;
  for (const auto& l : *renewed) now_held[l.partition] = l.epoch;
  size_t taken = 0;
  Status trouble = Status::ok();
  // At start, what this node's name still holds is a previous process's: taken again with
  // a new epoch, so nothing that process left running can commit.
  if (starting) {
    for (const auto& l : *rows) {
      if (l.node != o_.node || now_held.count(l.partition) != 0) continue;
      auto got = table.take(l.partition, l.epoch, o_.node, until);
      if (!got) {
        trouble = got.status();
        break;
      }
      if (*got) now_held[l.partition] = (*got)->epoch;
    }
  }
  size_t live = 0;
  for (const auto& b : *beats) {
    if (b.node == o_.node || b.heartbeatAt + o_.leaseTtl > t) ++live;
  }
  live = std::max<size_t>(live, 1);
  const size_t share = (static_cast<size_t>(kPartitions) + live - 1) / live;
  // Beyond the share (a node joined): the highest partitions go back, for the newcomer, a
  // few at a time, so that one late heartbeat (which changes the count of live nodes for a
  // moment) does not move every partition and the calls in flight in them.
  constexpr size_t kMostGivenBackPerBeat = 4;
  std::set<int> givenBack;
  while (trouble && now_held.size() > share && givenBack.size() < kMostGivenBackPerBeat) {
    auto last = std::prev(now_held.end());
    if (Status s = table.release(last->first, last->second, o_.node); !s) {
      trouble = s;
      break;
    }
    givenBack.insert(last->first);
    now_held.erase(last);
  }
  for (const auto& l : *rows) {
    if (!trouble || now_held.size() >= share) break;
    if (now_held.count(l.partition) != 0) continue;
    // Held by anyone, this name's other process included, until it expires.
    if (!l.node.empty() && l.expiresAt > t) continue;
    auto got = table.take(l.partition, l.epoch, o_.node, until);
    if (!got) {
      trouble = got.status();
      break;
    }
    if (*got) {
      now_held[l.partition] = (*got)->epoch;
      ++taken;
    }
  }

  size_t lost = 0, gained = 0;
  {
    std::lock_guard lock(leaseMu_);
    for (const auto& [p, e] : held_) {
      auto it = now_held.find(p);
      if (givenBack.count(p) == 0 && (it == now_held.end() || it->second != e)) ++lost;
    }
    for (const auto& [p, e] : now_held) {
      auto it = held_.find(p);
      if (it == held_.end() || it->second != e) ++gained;
    }
    if (trouble && leaseFailing_) o_.log->info("partition leases renewed again");
    leaseFailing_ = !trouble;
    leaseError_ = trouble ? std::string() : trouble.message();
    held_ = std::move(now_held);
    // What another node can take from this one is measured from before it asked, less a
    // margin for the clocks: past that, this node acts for none of its partitions.
    if (trouble) renewedAt_ = asked;
    heldUntil_ = renewedAt_ + o_.leaseTtl * 4 / 5;
  }
  {
    std::lock_guard m(metricsMu_);
    metrics_.leasesTaken += taken;
    if (!starting) metrics_.leasesLost += lost;
  }
  if (lost > 0 && !starting) {
    o_.log->warn("{} partition lease(s) moved to another node (this node had not renewed in time)", lost);
  }
  if (!trouble) return fail(trouble);
  if (gained > 0) return pollWork();
  return Status::ok();
}

void EngineImpl::releaseLeases() {
  std::map<int, uint64_t> held;
  {
    std::lock_guard lock(leaseMu_);
    held.swap(held_);
  }
  for (const auto& [p, e] : held) {
    if (Status s = o_.store->leases().release(p, e, o_.node); !s) {
      o_.log->warn("giving back partition {} failed ({}); it moves when its lease expires", p, s.message());
    }
  }
  if (Status s = o_.store->leases().leave(o_.node); !s) o_.log->warn("leaving the nodes' table failed: {}", s.message());
}

Status EngineImpl::renewLeases() {
  {
    std::lock_guard lock(inMu_);
    if (!started_ || stopping_) return Status::failedPrecondition("the engine is not running");
  }
  return keepLeases(false);
}

}  // namespace vigil
