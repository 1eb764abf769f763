// The committer: takes every queued input, applies each to its run through the machine,
// and commits all resulting writes in one transaction (group commit). Only after the
// commit are calls dispatched and waiting callers told, so nothing acts on state that a
// crash could still take back.
#include <algorithm>
#include <functional>
#include <set>

#include "engine_impl.h"

namespace vigil {

Json commandJson(const Command& c);
std::string timerKindText(Command::TimerKind k);

namespace {

Command::TimerKind timerKindFrom(const std::string& k) {
  if (k == "timeout") return Command::TimerKind::kTimeout;
  if (k == "wait") return Command::TimerKind::kWait;
  if (k == "approval_timeout") return Command::TimerKind::kApprovalTimeout;
  if (k == "escalation") return Command::TimerKind::kEscalation;
  return Command::TimerKind::kRetry;
}

bool touchesApprovals(const RunWrite& w) {
  for (const auto& e : w.events) {
    switch (e.type) {
      case EventType::kApprovalRequested:
      case EventType::kApprovalDecided:
      case EventType::kApprovalClaimed:
      case EventType::kApprovalReassigned:
      case EventType::kApprovalEscalated:
      case EventType::kRunCompleted:
      case EventType::kRunFailed:
      case EventType::kRunCancelled:
      case EventType::kCancellationRequested:
      case EventType::kCancellationDeclined:
        return true;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

void EngineImpl::committerLoop() {
  while (true) {
    std::vector<EngineInput> batch;
    {
      std::unique_lock lock(inMu_);
      while (true) {
        // Stopping while the store refuses writes: what is queued is redone from the store
        // at the next start (pending work rows and timers are durable).
        if (stopping_ && (inputs_.empty() || storeFailing_)) {
          for (auto& in : inputs_) {
            if (in.done) in.done->set_value(Status::ioError("vigil stopped while the store refused writes: " + storeError_));
          }
          return;
        }
        if (!inputs_.empty() && (!storeFailing_ || std::chrono::steady_clock::now() >= retryAt_)) break;
        if (inputs_.empty()) {
          inCv_.wait(lock);
        } else {
          inCv_.wait_until(lock, retryAt_);
        }
      }
      while (!inputs_.empty() && batch.size() < o_.maxBatch) {
        batch.push_back(std::move(inputs_.front()));
        inputs_.pop_front();
      }
      processing_ = true;
      batchStarted_ = std::chrono::steady_clock::now();
    }
    processBatch(batch);
    {
      std::lock_guard lock(inMu_);
      processing_ = false;
      batchStarted_ = {};
    }
    idleCv_.notify_all();
  }
}

// Inputs a batch had no time for go back to the queue behind what arrived meanwhile, except
// that each run's inputs keep their order: a run that has inputs deferred has its newer
// ones queued after them.
void EngineImpl::deferInputs(std::vector<EngineInput> later) {
  std::set<std::string> deferredRuns;
  for (const auto& in : later) deferredRuns.insert(in.runId);
  std::lock_guard lock(inMu_);
  std::deque<EngineInput> others, sameRuns;
  for (auto& in : inputs_) (deferredRuns.count(in.runId) ? sameRuns : others).push_back(std::move(in));
  inputs_ = std::move(others);
  for (auto& in : later) inputs_.push_back(std::move(in));
  for (auto& in : sameRuns) inputs_.push_back(std::move(in));
  {
    std::lock_guard m(metricsMu_);
    metrics_.deferredInputs += later.size();
  }
}

EngineHealth EngineImpl::health() {
  std::lock_guard lock(inMu_);
  EngineHealth h;
  h.storeFailing = storeFailing_;
  h.storeError = storeError_;
  const auto now = std::chrono::steady_clock::now();
  if (storeFailing_ && retryAt_ > now) h.retryIn = std::chrono::duration_cast<std::chrono::milliseconds>(retryAt_ - now);
  if (processing_) h.busyFor = std::chrono::duration_cast<std::chrono::milliseconds>(now - batchStarted_);
  h.queued = inputs_.size();
  std::lock_guard l(leaseMu_);
  h.partitionsHeld = held_.size();
  h.sinceRenewal = std::chrono::duration_cast<std::chrono::milliseconds>(now - renewedAt_);
  // One failed heartbeat is not yet a problem: the leases hold until heldUntil_.
  h.leasesFailing = leaseFailing_ && (!o_.timerThread || now >= heldUntil_);
  h.leaseError = leaseError_;
  return h;
}

void EngineImpl::processBatch(std::vector<EngineInput>& batchInputs) {
  const TimePoint batchNow = now();
  std::vector<std::string> timersTaken;
  for (const auto& in : batchInputs) {
    if (in.kind == EngineInput::Kind::kTimer) timersTaken.push_back(timerKey(in.timer));
  }
  Batch batch;
  std::map<std::string, size_t> writeOf;          // run id -> index in batch.runs
  std::map<std::string, LiveRun> created;         // runs started in this batch
  std::vector<CallJob> toDispatch;
  // The calls this batch creates are out from the start: a work poll that reads them once
  // they are committed must not dispatch them beside the committer.
  std::vector<std::string> callsCreated;
  std::deque<EngineInput> work(std::make_move_iterator(batchInputs.begin()), std::make_move_iterator(batchInputs.end()));
  // Every input taken, with what it came to: answered, retried or dropped by what the commit says.
  std::vector<Applied> applied;
  applied.reserve(work.size());

  // A call result or a fired timer commits only under the lease it was handed on under.
  auto fence = [&](RunWrite& w, const EngineInput& in) {
    if (!w.fence) {
      w.fence = RunWrite::Fence{partitionOf(in.runId), o_.node, in.epoch};
    } else if (w.fence->epoch != in.epoch) {
      w.fence->epoch = 0;  // handed on under two leases: one of them is stale; no lease has epoch 0
    }
  };
  auto writeFor = [&](const std::string& runId) -> RunWrite& {
    auto [it, fresh] = writeOf.emplace(runId, batch.runs.size());
    if (fresh) batch.runs.push_back(RunWrite{});
    return batch.runs[it->second];
  };
  auto record = [&](const std::string& runId, Transition t, bool isNew) {
    if (t.events.empty() && t.commands.empty()) return;
    RunWrite& w = writeFor(runId);
    w.created = w.created || isNew;
    for (auto& e : t.events) w.events.push_back(std::move(e));
    LiveRun* lr = *live(runId, created);
    for (auto& c : t.commands) {
      switch (c.kind) {
        case Command::Kind::kCallConnector:
          w.addWork.push_back(WorkItem{runId, c.step, c.attempt, commandJson(c)});
          callsCreated.push_back(callKey(runId, c.step, c.attempt));
          callClaims_.hold(callsCreated.back());
          toDispatch.push_back(CallJob{runId, std::move(c)});
          break;
        case Command::Kind::kSetTimer:
          w.addTimers.push_back(TimerItem{runId, c.step, c.attempt, timerKindText(c.timer), c.due});
          break;
        case Command::Kind::kStartChild: {
          EngineInput child;
          child.kind = EngineInput::Kind::kStart;
          child.runId = c.childRun;
          child.workflow = c.workflow;
          child.payload = c.input;
          child.startedBy = lr->state.startedBy;
          child.parent = runId;
          child.derived = true;
          work.push_back(std::move(child));
          break;
        }
        case Command::Kind::kRunEnded:
          if (!lr->state.parentRun.empty()) {
            EngineInput up;
            up.kind = EngineInput::Kind::kChildEnded;
            up.runId = lr->state.parentRun;
            up.step = runId.substr(lr->state.parentRun.size() + 1);
            up.payload = c.input;
            up.derived = true;
            work.push_back(std::move(up));
          }
          break;
      }
    }
  };

  // The batch's own inputs are at the front of `work`, what their transitions caused
  // (children started or ended) behind them; only the former may wait for the next batch.
  const auto sliceEnd = std::chrono::steady_clock::now() + o_.batchSlice;
  size_t ownLeft = work.size();
  size_t deferred = 0;
  for (size_t guard = 0; !work.empty() && guard < 100000; ++guard) {
    if (ownLeft > 0 && ownLeft < batchInputs.size() && std::chrono::steady_clock::now() >= sliceEnd) {
      std::vector<EngineInput> later(std::make_move_iterator(work.begin()),
                                     std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(ownLeft)));
      work.erase(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(ownLeft));
      ownLeft = 0;
      deferred = later.size();
      // A deferred timer is still queued and still due: it stays firing, or the next poll
      // would queue it a second time beside the deferred copy.
      for (const auto& d : later) {
        if (d.kind != EngineInput::Kind::kTimer) continue;
        auto it = std::find(timersTaken.begin(), timersTaken.end(), timerKey(d.timer));
        if (it != timersTaken.end()) timersTaken.erase(it);
      }
      deferInputs(std::move(later));
      if (work.empty()) break;
    }
    if (ownLeft > 0) --ownLeft;
    EngineInput in = std::move(work.front());
    work.pop_front();
    Status result = Status::ok();
    if (in.kind == EngineInput::Kind::kAudit) {
      for (auto& e : in.audit) batch.audit.push_back(std::move(e));
    } else if (in.kind == EngineInput::Kind::kStart) {
      auto machine = machineForName(in.workflow);
      if (!machine) {
        result = Status::notFound("no published workflow named '" + in.workflow + "'");
        if (!in.parent.empty()) {
          EngineInput up;
          up.kind = EngineInput::Kind::kChildEnded;
          up.runId = in.parent;
          up.step = in.runId.substr(in.parent.size() + 1);
          up.payload = {{"status", "failed"}, {"error", {{"message", "workflow '" + in.workflow + "' is not published"}}}};
          up.derived = true;
          work.push_back(std::move(up));
        }
      } else if (cache_.count(in.runId) != 0 || created.count(in.runId) != 0 || runExists(in.runId)) {
        result = Status::alreadyExists("run " + in.runId + " already exists");
      } else {
        LiveRun& lr = created[in.runId];
        lr.machine = machine;
        Transition t = machine->start(lr.state, in.runId, in.payload, in.startedBy, batchNow, in.parent);
        record(in.runId, std::move(t), true);
      }
    } else {
      auto lr = live(in.runId, created);
      if (!lr) {
        result = lr.status();
      } else {
        LiveRun& r = **lr;
        // A run's history stays in time order even if this process's clock is behind the
        // one that wrote its last event (a restart after the wall clock was stepped back).
        const TimePoint now = std::max(batchNow, r.state.updatedAt);
        Transition t;
        // A second result of one call (or firing of one timer) in a batch is not applied:
        // the first consumed its row.
        auto consumed = [&](const auto& rows, auto same) { return std::any_of(rows.begin(), rows.end(), same); };
        switch (in.kind) {
          case EngineInput::Kind::kCallResult: {
            RunWrite& w = writeFor(in.runId);
            if (consumed(w.removeWork, [&](const WorkItem& x) { return x.step == in.step && x.attempt == in.attempt; })) break;
            t = r.machine->onCallResult(r.state, in.step, in.attempt, in.outcome, now);
            writeFor(in.runId).removeWork.push_back(WorkItem{in.runId, in.step, in.attempt, Json()});
            fence(writeFor(in.runId), in);
            break;
          }
          case EngineInput::Kind::kTimer: {
            RunWrite& w = writeFor(in.runId);
            if (consumed(w.removeTimers, [&](const TimerItem& x) {
                  return x.step == in.timer.step && x.attempt == in.timer.attempt && x.kind == in.timer.kind;
                })) {
              break;
            }
            t = r.machine->onTimer(r.state, in.step, in.attempt, timerKindFrom(in.timer.kind), now);
            writeFor(in.runId).removeTimers.push_back(in.timer);
            fence(writeFor(in.runId), in);
            break;
          }
          case EngineInput::Kind::kApproval:
            t = r.machine->onApproval(r.state, in.step, in.approval, now);
            if (!t.refused) result = t.refused;
            break;
          case EngineInput::Kind::kCancel:
            t = r.machine->cancel(r.state, in.cancel, now);
            if (!t.refused) result = t.refused;
            break;
          case EngineInput::Kind::kChildEnded: {
            auto st = parseRunStatus(in.payload.value("status", "failed")).value_or(RunStatus::kFailed);
            t = r.machine->onChildEnded(r.state, in.step, st, in.payload.value("outputs", Json()),
                                        in.payload.value("error", Json()), now);
            break;
          }
          case EngineInput::Kind::kStart:
          case EngineInput::Kind::kAudit:
            break;
        }
        record(in.runId, std::move(t), false);
      }
    }
    applied.push_back(Applied{std::move(in), std::move(result)});
  }

  // Snapshots are taken once per run, after all of its inputs in this batch; so are the
  // inbox rows of runs whose approvals (or whose end) changed.
  // A write with no events only consumes work or a timer: its row is not rewritten.
  std::vector<RunCommitted> committedRuns;
  for (auto& [id, idx] : writeOf) {
    RunWrite& w = batch.runs[idx];
    auto lr = live(id, created);
    w.state = &(*lr)->state;
    if (w.events.empty()) continue;
    w.snapshotText = w.state->toJson().dump();
    const bool approvals = touchesApprovals(w);
    if (approvals) w.approvals = approvalRowsOf(*w.state);
    committedRuns.push_back({id, w.state->status, w.state->lastSeq, approvals});
    appendAuditEntries(w, (*lr)->machine->workflow(), o_.subjectKey, o_.connectors.get(), batchNow, &w.audit);
  }

  auto t0 = std::chrono::steady_clock::now();
  Result<CommitReport> report = batch.empty() ? Result<CommitReport>(CommitReport{}) : o_.store->commit(batch);
  const Status committed = report.status();
  // Families another writer moved on: nothing of theirs was stored, so nothing of theirs is
  // acted on; their inputs are applied again to what the store now holds.
  // Fenced families are among them: their call results and timers were handed on under a
  // lease another node has taken since, and are dropped (that node makes them again).
  std::set<std::string> conflicted, fenced;
  if (committed) {
    for (const auto& id : report->conflicted) conflicted.insert(runFamily(id));
    for (const auto& id : report->fenced) fenced.insert(runFamily(id));
  }
  auto lost = [&](const std::string& runId) { return !conflicted.empty() && conflicted.count(runFamily(runId)) != 0; };
  auto isFenced = [&](const std::string& runId) { return !fenced.empty() && fenced.count(runFamily(runId)) != 0; };
  if (!batch.empty() && committed) {
    size_t leftOut = 0;
    for (const auto& a : applied) leftOut += (a.in.kind != EngineInput::Kind::kAudit && !a.in.derived && lost(a.in.runId)) ? 1 : 0;
    std::lock_guard lock(metricsMu_);
    metrics_.commitSeconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ++metrics_.commits;
    metrics_.committedInputs += batchInputs.size() - deferred - leftOut;
  }
  std::vector<bool> dispatching(toDispatch.size(), false);
  {
    // Committed, the timers' rows are gone; refused or left out, they are still due and the
    // poll may deliver them again (claims.h).
    std::set<std::string> timersDone;
    std::vector<std::string> callsBack;  // settled: committed, or dropped by a fence
    std::set<std::string> callsDone;
    for (const auto& a : applied) {
      if (!committed) break;
      if (a.in.kind == EngineInput::Kind::kTimer && !lost(a.in.runId)) timersDone.insert(timerKey(a.in.timer));
      if (a.in.kind != EngineInput::Kind::kCallResult) continue;
      const std::string key = callKey(a.in.runId, a.in.step, a.in.attempt);
      // Conflicted but not fenced, a result is queued again and its call stays out; one
      // whose run could not be read stays out too (its row stays, and is not called again
      // every poll).
      if (!lost(a.in.runId) && a.result.isOk()) {
        callsBack.push_back(key);
        callsDone.insert(key);
      } else if (isFenced(a.in.runId)) {
        callsBack.push_back(key);
      }
    }
    timerClaims_.settle(timersTaken, timersDone);
    callClaims_.settle(callsBack, callsDone);
    // Calls this batch created: not stored, or stored but left for the node holding their
    // partition, they are not out here; the others are settled when their result commits.
    std::vector<std::string> notOut;
    for (size_t i = 0; i < toDispatch.size(); ++i) {
      dispatching[i] = committed && !lost(toDispatch[i].runId) && claimCall(toDispatch[i]);
      if (!dispatching[i]) notOut.push_back(callsCreated[i]);
    }
    callClaims_.settle(notOut, {});
  }
  if (!committed) {
    for (auto& [id, idx] : writeOf) cache_.erase(id);  // memory ran ahead of the store
    for (auto& a : applied) {
      if (a.in.done) a.in.done->set_value(committed);  // not acknowledged: the caller hears so
    }
    std::lock_guard lock(inMu_);
    // Results and timers were acknowledged when their work was committed: they wait, in
    // order and ahead of newer inputs, until the store takes writes again.
    // Timers stay in the store and the timer poll delivers them again; only call results,
    // which nothing else holds, are queued (re-queuing timers too would pile up copies).
    size_t kept = 0;
    for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
      if (it->in.kind != EngineInput::Kind::kCallResult) continue;
      ++it->in.retries;
      it->in.done.reset();  // answered above
      inputs_.push_front(std::move(it->in));
      ++kept;
    }
    if (!storeFailing_) {
      o_.log->error("group commit of {} run(s) failed: {}; {} input(s) kept for a retry", batch.runs.size(), committed.message(),
                    kept);
    }
    storeFailing_ = true;
    storeError_ = committed.message();
    backoff_ = std::min<std::chrono::milliseconds>(std::max<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(100)),
                                                   std::chrono::seconds(5));
    retryAt_ = std::chrono::steady_clock::now() + backoff_;
    {
      std::lock_guard m(metricsMu_);
      ++metrics_.failedCommits;
    }
    return;
  }
  {
    std::lock_guard lock(inMu_);
    if (storeFailing_) o_.log->info("the store takes writes again; the inputs kept for a retry are committed");
    storeFailing_ = false;
    storeError_.clear();
    backoff_ = std::chrono::milliseconds(0);
  }
  if (!conflicted.empty()) {
    // Every run of those families leaves memory, not only the ones this batch wrote: the
    // other writer may have moved any of them on.
    std::erase_if(cache_, [&](const auto& kv) { return lost(kv.first); });
    requeueConflicted(applied, lost, isFenced);
  }
  for (auto& [id, lr] : created) {
    if (!lost(id)) cache_[id] = std::move(lr);
  }
  // Parked and finished runs leave memory; they are read back from their snapshot.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.state.status != RunStatus::kRunning) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  for (size_t i = 0; i < toDispatch.size(); ++i) {
    if (dispatching[i]) dispatch(std::move(toDispatch[i]));
  }
  for (auto& a : applied) {
    if (a.in.done) a.in.done->set_value(a.result);
  }
  if (!conflicted.empty()) {
    std::erase_if(committedRuns, [&](const RunCommitted& r) { return lost(r.runId); });
  }
  if (o_.onCommitted && !committedRuns.empty()) o_.onCommitted(committedRuns);
}

// The inputs of run families whose commit conflicted (their runs have left memory: another
// writer holds newer history): each input the batch was given (not one a transition caused,
// which the retry causes again) goes back to the front of the queue, in order, to be applied
// to the stored run. Timers are not queued: they are still in the store, still due. A
// person's input that keeps conflicting is refused (they hear so and may try again); a call
// result is always queued again, since nothing else holds it and each conflict means the
// other writer made progress.
void EngineImpl::requeueConflicted(std::vector<Applied>& applied, const std::function<bool(const std::string&)>& lost,
                                   const std::function<bool(const std::string&)>& fenced) {
  constexpr int kMaxConflictRetries = 8;
  std::vector<EngineInput> again;
  size_t dropped = 0;
  for (auto& a : applied) {
    if (a.in.kind == EngineInput::Kind::kAudit || !lost(a.in.runId)) continue;
    if (a.in.derived || a.in.kind == EngineInput::Kind::kTimer) continue;
    if (a.in.kind == EngineInput::Kind::kCallResult && fenced(a.in.runId)) {
      ++dropped;  // the partition's holder redoes the call, with the same idempotency key
      continue;
    }
    if (a.in.done && a.in.conflicts >= kMaxConflictRetries) {
      a.result = Status::failedPrecondition("run " + a.in.runId + " kept being changed by another writer; try again");
      continue;
    }
    ++a.in.conflicts;
    again.push_back(std::move(a.in));  // with its reply: answered when the retry commits
  }
  std::lock_guard lock(inMu_);
  for (auto it = again.rbegin(); it != again.rend(); ++it) inputs_.push_front(std::move(*it));
  std::lock_guard m(metricsMu_);
  metrics_.conflictedInputs += again.size();
  metrics_.fencedInputs += dropped;
  for (const auto& a : applied) metrics_.fencedInputs += (a.in.kind == EngineInput::Kind::kTimer && fenced(a.in.runId)) ? 1 : 0;
}

}  // namespace vigil
