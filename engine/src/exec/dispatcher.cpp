// Workers: call connectors outside any transaction, within each connector's limit on
// calls in flight, and hand every outcome back to the committer.
#include "engine_impl.h"

namespace vigil {

std::string EngineImpl::callKey(const std::string& runId, const std::string& step, int attempt) {
  return runId + '\n' + step + '\n' + std::to_string(attempt);
}

void EngineImpl::dispatch(CallJob job) {
  {
    std::lock_guard lock(jobMu_);
    jobs_[job.command.connector].push_back(std::move(job));
    ++queuedJobs_;
  }
  jobCv_.notify_one();
}

void EngineImpl::workerLoop() {
  while (true) {
    CallJob job;
    {
      std::unique_lock lock(jobMu_);
      bool found = false;
      bool stopping = false;
      while (!found && !stopping) {
        // The soonest a rate-limited connector with work may start its next call.
        auto wakeAt = std::chrono::steady_clock::time_point::max();
        const auto now = std::chrono::steady_clock::now();
        {
          std::lock_guard l(inMu_);
          stopping = stopping_;
        }
        for (auto& [name, q] : jobs_) {
          if (stopping || q.empty() || inFlight_[name] >= o_.connectors->maxConcurrency(name)) continue;
          const double rate = o_.connectors->maxPerSecond(name);
          auto& next = nextStart_[name];
          if (rate > 0 && next > now) {
            wakeAt = std::min(wakeAt, next);
            continue;
          }
          if (rate > 0) {
            next = std::max(next, now) + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(1.0 / rate));
          }
          job = std::move(q.front());
          q.pop_front();
          found = true;
          break;
        }
        if (found || stopping) break;
        if (wakeAt == std::chrono::steady_clock::time_point::max()) {
          jobCv_.wait(lock);
        } else {
          jobCv_.wait_until(lock, wakeAt);
        }
      }
      if (!found) return;  // stopping; unfinished calls stay in the store and are redone on start
      --queuedJobs_;
      ++runningJobs_;
      ++inFlight_[job.command.connector];
    }
    const Command& c = job.command;
    if (heldEpoch(job.runId) != job.epoch) {
      // The lease moved while the call waited: the partition's holder makes it, not this node.
      callClaims_.settle({callKey(job.runId, c.step, c.attempt)}, {});
      {
        std::lock_guard lock(jobMu_);
        --runningJobs_;
        --inFlight_[c.connector];
      }
      jobCv_.notify_all();
      continue;
    }
    CallOutcome outcome;
    auto t0 = std::chrono::steady_clock::now();
    auto connector = o_.connectors->find(c.connector);
    if (!connector) {
      outcome = CallOutcome::failure("unknown_connector", "no connector named '" + c.connector + "'", false);
    } else {
      ConnectorCall call{job.runId, c.step, c.attempt, c.action, c.input, c.idempotencyKey, c.purpose, c.deadline};
      try {
        outcome = callWithSecrets(*connector, std::move(call), o_.secrets);
      } catch (const std::exception&) {
        outcome = CallOutcome::failure("connector_exception", "connector '" + c.connector + "' failed unexpectedly", false);
      }
    }
    {
      std::lock_guard lock(metricsMu_);
      metrics_.callSeconds[c.connector].observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (!outcome.ok) ++metrics_.callErrors[{c.connector, outcome.code}];
    }
    EngineInput in;
    in.kind = EngineInput::Kind::kCallResult;
    in.runId = job.runId;
    in.step = c.step;
    in.attempt = c.attempt;
    in.outcome = std::move(outcome);
    in.epoch = job.epoch;
    push(std::move(in));
    {
      std::lock_guard lock(jobMu_);
      --runningJobs_;
      --inFlight_[c.connector];
    }
    jobCv_.notify_all();
  }
}

}  // namespace vigil
