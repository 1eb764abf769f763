// Internal: the approvals inbox in SQLite. Free functions over a database the caller has
// locked (the store's mutex), so the store's class stays about runs.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include "sqlite_statements.h"
#include "vigil/approval.h"
#include "vigil/status.h"

namespace vigil::sqlite {

void writeApproval(StatementCache& db, const ApprovalRow& row);
ApprovalPage listApprovals(SQLite::Database& db, const ApprovalFilter& filter);
std::optional<ApprovalRow> findApproval(SQLite::Database& db, const std::string& runId, const std::string& step);
std::vector<ApprovalStats> approvalStats(SQLite::Database& db, TimePoint now);
std::vector<DecisionStats> decisionStats(SQLite::Database& db, DecisionStats::By by, std::chrono::milliseconds quickWithin);
TimePoint recordApprovalOpened(StatementCache& db, const std::string& runId, const std::string& step,
                               const std::string& user, TimePoint at);
std::optional<TimePoint> approvalOpenedAt(StatementCache& db, const std::string& runId, const std::string& step,
                                          const std::string& user);

}  // namespace vigil::sqlite
