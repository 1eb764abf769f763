// Engine: publishing, the public inputs, recovery on start, orderly stop, timers.
#include "engine_impl.h"

#include "vigil/loader.h"

namespace vigil {
namespace {

const char* timerKindName(Command::TimerKind k) {
  switch (k) {
    case Command::TimerKind::kRetry: return "retry";
    case Command::TimerKind::kTimeout: return "timeout";
    case Command::TimerKind::kWait: return "wait";
    case Command::TimerKind::kApprovalTimeout: return "approval_timeout";
    case Command::TimerKind::kEscalation: return "escalation";
  }
  return "retry";
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions options) {
  if (!options.store || !options.clock || !options.connectors) {
    return Status::invalidArgument("an engine needs a store, a clock and a connector registry");
  }
  if (options.workers < 1) options.workers = 1;
  if (!options.log) {
    options.log = std::make_shared<spdlog::logger>("engine");  // no sinks: silent
  }
  return std::unique_ptr<Engine>(new EngineImpl(std::move(options)));
}

Status EngineImpl::publish(std::shared_ptr<const Workflow> workflow, const std::string& source) {
  Status s = o_.store->workflows().put(workflow->hash, workflow->name, workflow->version, source);
  if (!s) return s;
  auto machine = std::make_shared<const RunMachine>(workflow, o_.area);
  std::lock_guard lock(wfMu_);
  byHash_[workflow->hash] = machine;
  auto& latest = latestByName_[workflow->name];
  if (!latest || latest->workflow().version <= workflow->version) latest = machine;
  return Status::ok();
}

Status EngineImpl::start() {
  {
    std::lock_guard lock(inMu_);
    if (started_) return Status::failedPrecondition("engine already started");
    started_ = true;
    stopping_ = false;
  }
  committer_ = std::thread([this] { committerLoop(); });
  for (int i = 0; i < o_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
  // The partitions this node may act for, and the calls in flight in them (leases.cpp).
  if (Status s = keepLeases(true); !s) return s;
  if (o_.timerThread) {
    timers_ = std::thread([this] { timerLoop(); });
    leaser_ = std::thread([this] { leaseLoop(); });
  }
  return Status::ok();
}

void EngineImpl::stop() {
  {
    std::lock_guard lock(inMu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  inCv_.notify_all();
  jobCv_.notify_all();
  timerCv_.notify_all();
  if (committer_.joinable()) committer_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  if (timers_.joinable()) timers_.join();
  if (leaser_.joinable()) leaser_.join();
  // Nothing of this node commits any more: its partitions go to the others now, not when
  // their leases expire.
  releaseLeases();
  std::lock_guard lock(inMu_);
  started_ = false;
}

void EngineImpl::push(EngineInput in) {
  {
    std::lock_guard lock(inMu_);
    inputs_.push_back(std::move(in));
  }
  inCv_.notify_one();
}

Status EngineImpl::submit(EngineInput in, bool wait) {
  {
    std::lock_guard lock(inMu_);
    if (!started_ || stopping_) return Status::failedPrecondition("the engine is not running");
  }
  std::future<Status> f;
  if (wait) {
    in.done = std::make_shared<std::promise<Status>>();
    f = in.done->get_future();
  }
  push(std::move(in));
  return wait ? f.get() : Status::ok();
}

Result<std::string> EngineImpl::startRun(const std::string& workflow, const Json& inputs, const std::string& startedBy,
                                         const std::string& runId) {
  auto machine = machineForName(workflow);
  if (!machine) return Status::notFound("no published workflow named '" + workflow + "'");
  auto checked = validateInputs(machine->workflow(), inputs);
  if (!checked) return checked.status();
  EngineInput in;
  in.kind = EngineInput::Kind::kStart;
  const std::string id = runId.empty() ? newRunId(now()) : runId;
  in.runId = id;
  in.workflow = workflow;
  in.payload = std::move(checked).value();
  neutralizeSecretMarkers(in.payload);
  in.startedBy = startedBy;
  Status s = submit(std::move(in), true);
  if (!s) return s;
  return id;
}

Status EngineImpl::cancelRun(const std::string& runId, const RunMachine::CancelInput& cancel) {
  EngineInput in;
  in.kind = EngineInput::Kind::kCancel;
  in.runId = runId;
  in.cancel = cancel;
  neutralizeSecretMarkers(in.cancel.reason);
  return submit(std::move(in), true);
}

Status EngineImpl::actOnApproval(const std::string& runId, const std::string& step, const ApprovalAction& action) {
  EngineInput in;
  in.kind = EngineInput::Kind::kApproval;
  in.runId = runId;
  in.step = step;
  in.approval = action;
  neutralizeSecretMarkers(in.approval.reason);
  neutralizeSecretMarkers(in.approval.form);
  neutralizeSecretMarkers(in.approval.rating);
  return submit(std::move(in), true);
}

Result<std::optional<RunState>> EngineImpl::run(const std::string& runId) { return o_.store->runs().load(runId); }

Status EngineImpl::appendAudit(std::vector<AuditEntry> entries) {
  EngineInput in;
  in.kind = EngineInput::Kind::kAudit;
  in.audit = std::move(entries);
  return submit(std::move(in), true);
}

Result<size_t> EngineImpl::fireDueTimers() {
  {
    // While the store refuses writes a fired timer cannot be committed; it stays due in
    // the store and is fired again at each retry (the probe that finds the store well),
    // instead of piling up in the queue at every poll.
    std::lock_guard lock(inMu_);
    if (storeFailing_ && std::chrono::steady_clock::now() < retryAt_) return size_t{0};
  }
  std::lock_guard poll(pollMu_);
  timerClaims_.beginRead();
  auto due = o_.store->work().dueTimers(now(), 10000);
  if (!due) return due.status();
  size_t fired = 0;
  for (auto& t : *due) {
    // Only the partitions this node holds: another node's timers are its to fire.
    auto epoch = heldEpoch(t.runId);
    if (!epoch || !timerClaims_.claim(timerKey(t))) continue;
    ++fired;
    EngineInput in;
    in.kind = EngineInput::Kind::kTimer;
    in.runId = t.runId;
    in.step = t.step;
    in.attempt = t.attempt;
    in.timer = t;
    in.epoch = *epoch;
    push(std::move(in));
  }
  return fired;
}

TimePoint EngineImpl::now() {
  long long t = o_.clock->now().time_since_epoch().count();
  long long seen = lastNow_.load();
  while (t > seen && !lastNow_.compare_exchange_weak(seen, t)) {
  }
  return TimePoint(std::chrono::milliseconds(std::max(t, seen)));
}

std::string EngineImpl::timerKey(const TimerItem& t) {
  return t.runId + '\n' + t.step + '\n' + std::to_string(t.attempt) + '\n' + t.kind;
}

void EngineImpl::timerLoop() {
  while (true) {
    {
      std::unique_lock lock(timerMu_);
      timerCv_.wait_for(lock, o_.timerPoll, [this] {
        std::lock_guard l(inMu_);
        return stopping_;
      });
    }
    {
      std::lock_guard l(inMu_);
      if (stopping_) return;
    }
    auto r = fireDueTimers();
    if (!r) o_.log->error("firing timers: {}", r.status().message());
    // Calls another node's transitions left in this node's partitions (a decision taken
    // there): the holder makes them.
    if (Status s = pollWork(); !s) o_.log->error("reading pending calls: {}", s.message());
  }
}

// On its own thread, so that a slow timer poll or store read never makes a heartbeat late.
void EngineImpl::leaseLoop() {
  while (true) {
    std::chrono::milliseconds wait = o_.leaseTtl / 3;
    {
      std::lock_guard l(leaseMu_);
      if (leaseFailing_) wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(1));  // try again soon
    }
    {
      std::unique_lock lock(timerMu_);
      timerCv_.wait_for(lock, wait, [this] {
        std::lock_guard l(inMu_);
        return stopping_;
      });
    }
    {
      std::lock_guard l(inMu_);
      if (stopping_) return;
    }
    (void)keepLeases(false);  // a failure is logged and shown by health()
  }
}

bool EngineImpl::waitIdle(std::chrono::milliseconds max) {
  auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::unique_lock lock(inMu_);
      idleCv_.wait_for(lock, std::chrono::milliseconds(5));
      if (!inputs_.empty() || processing_) continue;
    }
    std::lock_guard lock(jobMu_);
    if (queuedJobs_ == 0 && runningJobs_ == 0) {
      std::lock_guard l2(inMu_);
      if (inputs_.empty() && !processing_) return true;
    }
  }
  return false;
}

const std::vector<double>& Histogram::bounds() {
  static const std::vector<double> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBounds;
}

void Histogram::observe(double seconds) {
  if (counts.empty()) counts.assign(bounds().size() + 1, 0);
  size_t i = 0;
  while (i < bounds().size() && seconds > bounds()[i]) ++i;
  ++counts[i];
  sum += seconds;
  ++count;
}

EngineMetrics EngineImpl::metrics() {
  std::lock_guard lock(metricsMu_);
  return metrics_;
}

Json commandJson(const Command& c) {
  Json j = {{"connector", c.connector}, {"action", c.action}, {"input", c.input}, {"key", c.idempotencyKey},
            {"purpose", c.purpose}};
  if (c.deadline) j["deadline"] = c.deadline->time_since_epoch().count();
  return j;
}

std::string timerKindText(Command::TimerKind k) { return timerKindName(k); }

}  // namespace vigil
