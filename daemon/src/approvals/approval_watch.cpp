#include "approvals/approval_watch.h"

#include <algorithm>

#include "auth/assignees.h"

namespace vigil::daemon {

ApprovalWatch::ApprovalWatch(Engine& engine, Store& store, UserStore& users,
                             std::function<std::string(const std::string&, int)> ownerOf, std::shared_ptr<spdlog::logger> log)
    : engine_(engine), store_(store), users_(users), ownerOf_(std::move(ownerOf)), log_(std::move(log)) {}

ApprovalWatch::~ApprovalWatch() { stop(); }

Result<long long> ApprovalWatch::sweep() {
  auto people = Assignees::load(users_);
  if (!people) return people.status();
  ApprovalFilter f;
  f.limit = 500;
  long long stuck = 0;
  for (int page = 0; page < 1000; ++page) {  // bounded: 500,000 open tasks
    auto rows = store_.approvals().list(f);
    if (!rows) return rows.status();
    for (const auto& row : rows->rows) {
      if (people->actionable(row)) continue;
      const std::string owner = ownerOf_(row.workflow, row.version);
      const bool hasOwner = owner.empty() || std::find(row.roles.begin(), row.roles.end(), owner) != row.roles.end();
      if (!hasOwner && row.step != kCancellationTask) {
        ApprovalAction a;
        a.kind = ApprovalAction::Kind::kReassign;
        a.actor = {"vigil", {}};
        a.toRoles = row.roles;
        a.toRoles.push_back(owner);
        a.toUsers = row.users;
        a.reason = "nobody assigned can act on this task; escalated to the workflow's owner role";
        Status s = engine_.actOnApproval(row.runId, row.step, a);
        if (s.isOk()) {
          log_->warn("approval {}/{}: nobody assigned can act on it; escalated to role {}", row.runId, row.step, owner);
          ApprovalRow widened = row;
          widened.roles = a.toRoles;
          if (people->actionable(widened)) continue;
        } else if (s.code() != Status::Code::kFailedPrecondition) {
          log_->error("approval {}/{}: could not escalate a task nobody can act on: {}", row.runId, row.step, s.message());
        }
      }
      ++stuck;
      log_->error("approval {}/{}: nobody can act on it, not even its workflow's owner role '{}'", row.runId, row.step, owner);
    }
    if (!rows->more) break;
    const auto& last = rows->rows.back();
    f.after = ApprovalFilter::Position{last.priority, last.due, last.requestedAt, last.runId, last.step};
  }
  unactionable_ = stuck;
  return stuck;
}

void ApprovalWatch::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      if (auto r = sweep(); !r) log_->error("approval watch: {}", r.status().message());
      lock.lock();
      cv_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void ApprovalWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::daemon
