// ApprovalIndex: the approvals inbox, a cache of what the runs say their tasks are (rows
// written through Store::commit, checked by `vigil audit verify`), and when each person
// first opened a task.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vigil/approval.h"
#include "vigil/status.h"

namespace vigil {

class ApprovalIndex {
 public:
  virtual ~ApprovalIndex() = default;
  // A page of the inbox, in inbox order (ApprovalFilter), and the total.
  virtual Result<ApprovalPage> list(const ApprovalFilter& filter) = 0;
  virtual Result<std::optional<ApprovalRow>> find(const std::string& runId, const std::string& step) = 0;
  // Per workflow step; `now` decides which open approvals are overdue.
  virtual Result<std::vector<ApprovalStats>> stats(TimePoint now) = 0;
  // People's votes grouped `by` approver, step or step and band, in that key's order; a
  // vote is quick when it came at most `quickWithin` after its person opened the task.
  virtual Result<std::vector<DecisionStats>> decisionStats(DecisionStats::By by, std::chrono::milliseconds quickWithin) = 0;
  // When `user` first opened an approval task: evidence of how long they looked before
  // deciding. Recording again keeps the first time; returns the time kept.
  virtual Result<TimePoint> recordOpened(const std::string& runId, const std::string& step, const std::string& user,
                                         TimePoint at) = 0;
  virtual Result<std::optional<TimePoint>> openedAt(const std::string& runId, const std::string& step,
                                                    const std::string& user) = 0;
};

}  // namespace vigil
