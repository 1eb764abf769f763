// Internal: the Engine implementation. The committer thread is the only writer of run
// state; workers only call connectors and hand results back through the input queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "claims.h"
#include "vigil/engine.h"
#include "vigil/machine.h"

namespace vigil {

struct EngineInput {
  enum class Kind { kStart, kCallResult, kTimer, kApproval, kCancel, kChildEnded, kAudit };
  Kind kind = Kind::kStart;
  std::string runId;
  std::string step;
  int attempt = 0;
  CallOutcome outcome;
  TimerItem timer;
  Json payload;             // start inputs, child outcome, cancel reason
  ApprovalAction approval;  // kApproval
  RunMachine::CancelInput cancel;  // kCancel
  std::vector<AuditEntry> audit;  // kAudit
  std::string workflow;     // kStart: by name; empty with `hash` for a pinned definition
  std::string startedBy;
  std::string parent;
  std::shared_ptr<std::promise<Status>> done;  // resolved once the effects are durable
  int retries = 0;    // commits that failed while it was queued
  int conflicts = 0;  // commits that left its run out (another writer had moved it on)
  bool derived = false;  // caused by another input's transition in the same batch (a child's start or end)
  uint64_t epoch = 0;    // kCallResult, kTimer: the lease epoch of the run's partition it was handed on under
};

// An input the committer took, and what applying it came to (sent once the commit decides).
struct Applied {
  EngineInput in;
  Status result;
};

// audit_entries.cpp: the audit records of one committed run transition.
void appendAuditEntries(const RunWrite& w, const Workflow& wf, const std::string& subjectKey,
                        const ConnectorRegistry* connectors, TimePoint now, std::vector<AuditEntry>* out);

// secrets.cpp: calls that fill in `secrets.NAME` markers and scrub the answer; text from
// outside has the marker byte replaced (U+FFFD), so it can never name a secret.
CallOutcome callWithSecrets(Connector& connector, ConnectorCall call, const SecretLookup& lookup);
void neutralizeSecretMarkers(Json& j);
void neutralizeSecretMarkers(std::string& s);

struct CallJob {
  std::string runId;
  Command command;
  uint64_t epoch = 0;  // the lease it is dispatched under, carried back with its result
};

class EngineImpl final : public Engine {
 public:
  explicit EngineImpl(EngineOptions o) : o_(std::move(o)) {}
  ~EngineImpl() override { stop(); }

  Status publish(std::shared_ptr<const Workflow> workflow, const std::string& source) override;
  Status start() override;
  void stop() override;
  Result<std::string> startRun(const std::string& workflow, const Json& inputs, const std::string& startedBy,
                               const std::string& runId) override;
  Status cancelRun(const std::string& runId, const RunMachine::CancelInput& cancel) override;
  Status actOnApproval(const std::string& runId, const std::string& step, const ApprovalAction& action) override;
  Result<std::optional<RunState>> run(const std::string& runId) override;
  Status appendAudit(std::vector<AuditEntry> entries) override;
  Result<size_t> fireDueTimers() override;
  bool waitIdle(std::chrono::milliseconds max) override;
  EngineMetrics metrics() override;
  EngineHealth health() override;
  Status renewLeases() override;

 private:
  struct LiveRun {
    RunState state;
    std::shared_ptr<const RunMachine> machine;
  };

  // committer.cpp
  void committerLoop();
  void processBatch(std::vector<EngineInput>& inputs);
  void deferInputs(std::vector<EngineInput> later);
  void requeueConflicted(std::vector<Applied>& applied, const std::function<bool(const std::string&)>& lost,
                         const std::function<bool(const std::string&)>& fenced);
  bool runExists(const std::string& runId);
  Result<LiveRun*> live(const std::string& runId, std::map<std::string, LiveRun>& created);
  Result<std::shared_ptr<const RunMachine>> machineForHash(const std::string& hash, const std::string& areaHash);
  Result<std::shared_ptr<const RunMachine>> machineForOldArea(const std::string& hash, const std::string& areaHash);
  Result<std::shared_ptr<const RunMachine>> machineForCurrentArea(const std::string& hash);
  std::shared_ptr<const RunMachine> machineForName(const std::string& name);

  // dispatcher.cpp
  void dispatch(CallJob job);
  void workerLoop();
  static std::string callKey(const std::string& runId, const std::string& step, int attempt);

  // leases.cpp
  Status keepLeases(bool starting);
  void releaseLeases();
  std::optional<uint64_t> heldEpoch(const std::string& runId);
  // Whether this node holds the call's partition: if so the job carries the lease's epoch
  // and may be dispatched; otherwise it stays a work row for the holder.
  bool claimCall(CallJob& job);
  // Dispatches the pending calls of held partitions that are not out already.
  Status pollWork();
  std::string newRunId(TimePoint now);

  Status submit(EngineInput in, bool wait);
  void push(EngineInput in);
  void timerLoop();
  void leaseLoop();
  // The clock as the engine uses it: never earlier than a reading it has already acted on,
  // so a wall clock stepped back (NTP, a restored VM) cannot put history out of order.
  TimePoint now();
  static std::string timerKey(const TimerItem& t);

  EngineOptions o_;

  std::mutex wfMu_;
  std::map<std::string, std::shared_ptr<const RunMachine>> byHash_;
  std::map<std::string, std::shared_ptr<const RunMachine>> byHashAndArea_;  // "workflow/area" hashes
  std::map<std::string, std::shared_ptr<const RunMachine>> latestByName_;

  std::mutex inMu_;
  std::condition_variable inCv_;
  std::condition_variable idleCv_;
  std::deque<EngineInput> inputs_;
  bool processing_ = false;
  bool stopping_ = false;
  // A failed group commit: its external inputs wait for retryAt_, the wait doubling to 5 s.
  bool storeFailing_ = false;
  std::string storeError_;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point retryAt_{};
  std::chrono::steady_clock::time_point batchStarted_{};
  bool started_ = false;
  // Timers handed to the committer and calls to the workers, not yet committed: a poll
  // while the committer is slow (or the store refuses writes) must not hand them on again.
  Claims timerClaims_;
  Claims callClaims_;
  std::mutex pollMu_;  // one timer poll at a time (the timer thread, or a test's own call)
  std::mutex workPollMu_;

  // leases.cpp: the partitions this node holds (partition -> epoch), renewed by heartbeat.
  // Only these partitions' calls are dispatched and timers fired here.
  std::mutex beatMu_;  // one heartbeat at a time
  std::mutex leaseMu_;
  std::map<int, uint64_t> held_;
  bool leaseFailing_ = false;
  std::string leaseError_;
  std::chrono::steady_clock::time_point heldUntil_{};
  std::chrono::steady_clock::time_point renewedAt_{};
  std::thread leaser_;  // renews the leases every third of leaseTtl (with timerThread)

  std::atomic<long long> lastNow_{0};

  // Owned by the committer thread only.
  std::map<std::string, LiveRun> cache_;

  std::mutex jobMu_;
  std::condition_variable jobCv_;
  std::map<std::string, std::deque<CallJob>> jobs_;  // by connector
  std::map<std::string, int> inFlight_;              // by connector
  std::map<std::string, std::chrono::steady_clock::time_point> nextStart_;  // rate-limited connectors
  size_t queuedJobs_ = 0;
  size_t runningJobs_ = 0;

  std::mutex metricsMu_;
  EngineMetrics metrics_;

  std::thread committer_;
  std::thread timers_;
  std::vector<std::thread> workers_;
  std::mutex timerMu_;
  std::condition_variable timerCv_;
};

}  // namespace vigil
