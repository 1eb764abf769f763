// The approvals inbox in SQLite: rows (and their votes) replaced whole from the run's state
// at each commit.
#include "sqlite_approvals.h"

#include "sqlite_concerns.h"
#include "store_common.h"

#include <functional>
#include <limits>

namespace vigil::sqlite {
namespace {

using store::joinList;
using store::likeItem;
using store::splitList;

void bindOptionalTime(SQLite::Statement& q, int i, const std::optional<TimePoint>& t) {
  if (t) {
    q.bind(i, static_cast<int64_t>(ms(*t)));
  } else {
    q.bind(i);
  }
}
std::optional<TimePoint> optionalTime(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return fromMs(c.getInt64());
}

constexpr const char* kColumns =
    "run_id, step, workflow, version, status, roles, users, excluded, requested_at, due, claimed_by, claim_until,"
    " decision, decided_by, decided_at, agreed, escalations, priority, summary, recommendation";

ApprovalRow readRow(SQLite::Statement& q) {
  ApprovalRow r;
  r.runId = q.getColumn(0).getString();
  r.step = q.getColumn(1).getString();
  r.workflow = q.getColumn(2).getString();
  r.version = q.getColumn(3).getInt();
  r.status = q.getColumn(4).getString();
  r.roles = splitList(q.getColumn(5).getString());
  r.users = splitList(q.getColumn(6).getString());
  r.excluded = splitList(q.getColumn(7).getString());
  r.requestedAt = fromMs(q.getColumn(8).getInt64());
  r.due = optionalTime(q.getColumn(9));
  r.claimedBy = q.getColumn(10).getString();
  r.claimUntil = optionalTime(q.getColumn(11));
  r.decision = q.getColumn(12).getString();
  r.decidedBy = q.getColumn(13).getString();
  r.decidedAt = optionalTime(q.getColumn(14));
  if (!q.getColumn(15).isNull()) r.agreed = q.getColumn(15).getInt() != 0;
  r.escalations = q.getColumn(16).getInt();
  r.priority = q.getColumn(17).getDouble();
  r.summary = q.getColumn(18).getString();
  r.recommendation = q.getColumn(19).getString();
  return r;
}

}  // namespace

void writeApproval(StatementCache& db, const ApprovalRow& r) {
  static const std::string kInsert =
      std::string("INSERT OR REPLACE INTO approvals(") + kColumns + ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto use = db(kInsert);
  SQLite::Statement& q = *use;
  q.bind(1, r.runId);
  q.bind(2, r.step);
  q.bind(3, r.workflow);
  q.bind(4, r.version);
  q.bind(5, r.status);
  q.bind(6, joinList(r.roles));
  q.bind(7, joinList(r.users));
  q.bind(8, joinList(r.excluded));
  q.bind(9, static_cast<int64_t>(ms(r.requestedAt)));
  bindOptionalTime(q, 10, r.due);
  q.bind(11, r.claimedBy);
  bindOptionalTime(q, 12, r.claimUntil);
  q.bind(13, r.decision);
  q.bind(14, r.decidedBy);
  bindOptionalTime(q, 15, r.decidedAt);
  if (r.agreed) {
    q.bind(16, *r.agreed ? 1 : 0);
  } else {
    q.bind(16);
  }
  q.bind(17, r.escalations);
  q.bind(18, r.priority);
  q.bind(19, r.summary);
  q.bind(20, r.recommendation);
  q.exec();
  // The votes are replaced with their row, so they always say what the run's state says.
  auto delUse = db("DELETE FROM approval_votes WHERE run_id = ? AND step = ?");
  SQLite::Statement& del = *delUse;
  del.bind(1, r.runId);
  del.bind(2, r.step);
  del.exec();
  for (const auto& v : r.votes) {
    auto insUse = db("INSERT INTO approval_votes(run_id, step, seq, decided_by, decision, agreed, opened_at,"
                     " seconds_from_opening, confirmed) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    SQLite::Statement& ins = *insUse;
    ins.bind(1, r.runId);
    ins.bind(2, r.step);
    ins.bind(3, v.seq);
    ins.bind(4, v.decidedBy);
    ins.bind(5, v.decision);
    if (v.agreed) {
      ins.bind(6, *v.agreed ? 1 : 0);
    } else {
      ins.bind(6);
    }
    bindOptionalTime(ins, 7, v.openedAt);
    if (v.secondsFromOpening) {
      ins.bind(8, *v.secondsFromOpening);
    } else {
      ins.bind(8);
    }
    ins.bind(9, confirmationName(v.confirmed));
    ins.exec();
  }
}

namespace {

// The due time as the inbox sorts it: a row without one lists after every row with one.
constexpr const char* kDueKey = "ifnull(due, 9223372036854775807)";

// WHERE clause and its bindings, shared by the page and its count so they always agree.
struct Where {
  std::string sql = " WHERE 1";
  std::vector<std::function<void(SQLite::Statement&, int)>> binds;
  template <typename T>
  void add(const std::string& clause, T value) {
    sql += clause;
    binds.push_back([value](SQLite::Statement& q, int i) { q.bind(i, value); });
  }
  void raw(const std::string& clause) { sql += clause; }
  int bindAll(SQLite::Statement& q) const {
    int i = 1;
    for (const auto& b : binds) b(q, i++);
    return i;
  }
};

Where whereOf(const ApprovalFilter& f) {
  Where w;
  if (!f.status.empty()) w.add(" AND status = ?", f.status);
  if (!f.workflow.empty()) w.add(" AND workflow = ?", f.workflow);
  if (!f.runId.empty()) w.add(" AND run_id = ?", f.runId);
  if (!f.recommendation.empty()) w.add(" AND recommendation = ?", f.recommendation);
  if (!f.textContains.empty()) {
    // A workflow's summary line need not name the referral; its `reference:` does.
    w.add(" AND (instr(lower(summary), lower(?)) > 0", f.textContains);
    w.add(" OR run_id IN (SELECT run_id FROM run_index WHERE instr(lower(reference), lower(?)) > 0))", f.textContains);
  }
  if (f.minPriority) w.add(" AND priority >= ?", *f.minPriority);
  if (f.overdueAsOf) w.add(" AND status = 'open' AND due IS NOT NULL AND due < ?", static_cast<int64_t>(ms(*f.overdueAsOf)));
  if (f.lateAsOf) {
    w.add(" AND due IS NOT NULL AND ((status = 'decided' AND decided_at > due) OR (status = 'open' AND due < ?))",
          static_cast<int64_t>(ms(*f.lateAsOf)));
  }
  if (f.requestedSince) w.add(" AND requested_at >= ?", static_cast<int64_t>(ms(*f.requestedSince)));
  if (!f.notExcluding.empty()) w.add(" AND excluded NOT LIKE ? ESCAPE '\\'", likeItem(f.notExcluding));
  using A = ApprovalFilter::Assigned;
  const bool byRoles = !f.roles.empty() && f.assigned != A::kMe;
  const bool byUser = !f.user.empty() && f.assigned != A::kMyRoles;
  if (byRoles || byUser) {
    w.raw(" AND (0");
    if (byRoles) {
      for (const auto& r : f.roles) w.add(" OR roles LIKE ? ESCAPE '\\'", likeItem(r));
    }
    if (byUser) {
      w.add(" OR users LIKE ? ESCAPE '\\'", likeItem(f.user));
      if (f.assigned == A::kMe) {
        w.add(" OR (claimed_by = ?", f.user);
        w.add(" AND claim_until > ?)", static_cast<int64_t>(ms(f.now)));
      }
    }
    w.raw(")");
  }
  if (f.assigned == A::kUnclaimed) w.add(" AND (claimed_by = '' OR claim_until IS NULL OR claim_until <= ?)", static_cast<int64_t>(ms(f.now)));
  return w;
}

}  // namespace

ApprovalPage listApprovals(SQLite::Database& db, const ApprovalFilter& f) {
  const Where w = whereOf(f);
  ApprovalPage page;
  {
    SQLite::Statement count(db, "SELECT count(*) FROM approvals" + w.sql);
    w.bindAll(count);
    if (count.executeStep()) page.total = count.getColumn(0).getInt64();
  }
  std::string sql = std::string("SELECT ") + kColumns + " FROM approvals" + w.sql;
  const std::string dk = kDueKey;
  if (f.after) {
    sql += " AND (priority < ?1001 OR (priority = ?1001 AND (" + dk + " > ?1002 OR (" + dk +
           " = ?1002 AND (requested_at > ?1003 OR (requested_at = ?1003 AND (run_id > ?1004 OR (run_id = ?1004 AND step > ?1005))))))))";
  }
  sql += " ORDER BY priority DESC, " + dk + ", requested_at, run_id, step LIMIT ?1000";
  SQLite::Statement q(db, sql);
  w.bindAll(q);
  if (f.after) {
    q.bind(1001, f.after->priority);
    q.bind(1002, static_cast<int64_t>(f.after->due ? ms(*f.after->due) : std::numeric_limits<int64_t>::max()));
    q.bind(1003, static_cast<int64_t>(ms(f.after->requestedAt)));
    q.bind(1004, f.after->runId);
    q.bind(1005, f.after->step);
  }
  // One row more than asked for says whether another page follows, so the last page
  // carries no cursor to an empty one.
  q.bind(1000, static_cast<int64_t>(f.limit) + 1);
  while (q.executeStep()) page.rows.push_back(readRow(q));
  if (page.rows.size() > f.limit) {
    page.rows.pop_back();
    page.more = true;
  }
  return page;
}

std::optional<ApprovalRow> findApproval(SQLite::Database& db, const std::string& runId, const std::string& step) {
  SQLite::Statement q(db, std::string("SELECT ") + kColumns + " FROM approvals WHERE run_id = ? AND step = ?");
  q.bind(1, runId);
  q.bind(2, step);
  if (!q.executeStep()) return std::nullopt;
  return readRow(q);
}

std::vector<ApprovalStats> approvalStats(SQLite::Database& db, TimePoint now) {
  SQLite::Statement q(db,
                      "SELECT workflow, step,"
                      " sum(status = 'decided'), sum(status = 'decided' AND agreed IS NOT NULL),"
                      " sum(status = 'decided' AND agreed = 0), sum(status = 'open'),"
                      " sum(status = 'open' AND due IS NOT NULL AND due < ?),"
                      " avg(CASE WHEN status = 'decided' THEN decided_at - requested_at END),"
                      " max(CASE WHEN status = 'decided' THEN decided_at - requested_at END)"
                      " FROM approvals GROUP BY workflow, step ORDER BY workflow, step");
  q.bind(1, static_cast<int64_t>(ms(now)));
  std::vector<ApprovalStats> out;
  while (q.executeStep()) {
    ApprovalStats s;
    s.workflow = q.getColumn(0).getString();
    // Inside a foreach the step key is "id[i]": report the step, not each iteration.
    s.step = q.getColumn(1).getString();
    s.decided = q.getColumn(2).getInt64();
    s.withRecommendation = q.getColumn(3).getInt64();
    s.overridden = q.getColumn(4).getInt64();
    s.open = q.getColumn(5).getInt64();
    s.overdue = q.getColumn(6).getInt64();
    s.meanSecondsToDecision = q.getColumn(7).isNull() ? 0 : q.getColumn(7).getDouble() / 1000.0;
    s.maxSecondsToDecision = q.getColumn(8).isNull() ? 0 : q.getColumn(8).getDouble() / 1000.0;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DecisionStats> decisionStats(SQLite::Database& db, DecisionStats::By by, std::chrono::milliseconds quickWithin) {
  // A rule is the step, whichever foreach iteration ("school[2]") the vote was in.
  const std::string rule = "CASE WHEN instr(a.step, '[') > 0 THEN substr(a.step, 1, instr(a.step, '[') - 1) ELSE a.step END";
  std::string keys;
  switch (by) {
    case DecisionStats::By::kApprover: keys = "v.decided_by, '', '', ''"; break;
    case DecisionStats::By::kStep: keys = "'', a.workflow, " + rule + ", ''"; break;
    case DecisionStats::By::kBand: keys = "'', a.workflow, " + rule + ", a.recommendation"; break;
  }
  SQLite::Statement q(db, "SELECT " + keys +
                              ", count(*), sum(v.agreed IS NOT NULL), sum(v.agreed = 0),"
                              " sum(v.seconds_from_opening IS NOT NULL), ifnull(sum(v.seconds_from_opening <= ?), 0),"
                              " sum(v.confirmed = 'yes_flag'), avg(v.seconds_from_opening)"
                              " FROM approval_votes v JOIN approvals a ON a.run_id = v.run_id AND a.step = v.step"
                              " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");
  q.bind(1, std::chrono::duration<double>(quickWithin).count());
  std::vector<DecisionStats> out;
  while (q.executeStep()) {
    DecisionStats s;
    s.decidedBy = q.getColumn(0).getString();
    s.workflow = q.getColumn(1).getString();
    s.step = q.getColumn(2).getString();
    s.recommendation = q.getColumn(3).getString();
    s.decisions = q.getColumn(4).getInt64();
    s.withRecommendation = q.getColumn(5).getInt64();
    s.overridden = q.getColumn(6).getInt64();
    s.timed = q.getColumn(7).getInt64();
    s.quick = q.getColumn(8).getInt64();
    s.yesFlag = q.getColumn(9).getInt64();
    s.meanSecondsFromOpening = q.getColumn(10).isNull() ? 0 : q.getColumn(10).getDouble();
    out.push_back(std::move(s));
  }
  return out;
}

TimePoint recordApprovalOpened(StatementCache& db, const std::string& runId, const std::string& step,
                               const std::string& user, TimePoint at) {
  auto use = db("INSERT OR IGNORE INTO approval_views(run_id, step, user, opened_at) VALUES(?, ?, ?, ?)");
  SQLite::Statement& ins = *use;
  ins.bind(1, runId);
  ins.bind(2, step);
  ins.bind(3, user);
  ins.bind(4, static_cast<int64_t>(ms(at)));
  ins.exec();
  return approvalOpenedAt(db, runId, step, user).value_or(at);
}

std::optional<TimePoint> approvalOpenedAt(StatementCache& db, const std::string& runId, const std::string& step,
                                          const std::string& user) {
  auto use = db("SELECT opened_at FROM approval_views WHERE run_id = ? AND step = ? AND user = ?");
  SQLite::Statement& q = *use;
  q.bind(1, runId);
  q.bind(2, step);
  q.bind(3, user);
  if (!q.executeStep()) return std::nullopt;
  return fromMs(q.getColumn(0).getInt64());
}

}  // namespace vigil::sqlite

namespace vigil::sqlite {

Result<ApprovalPage> SqliteApprovalIndex::list(const ApprovalFilter& filter) {
  return db_.locked("listing approvals", [&] { return listApprovals(db_.writer, filter); });
}
Result<std::optional<ApprovalRow>> SqliteApprovalIndex::find(const std::string& runId, const std::string& step) {
  return db_.locked("reading an approval", [&] { return findApproval(db_.writer, runId, step); });
}
Result<std::vector<ApprovalStats>> SqliteApprovalIndex::stats(TimePoint now) {
  return db_.locked("approval statistics", [&] { return approvalStats(db_.writer, now); });
}
Result<std::vector<DecisionStats>> SqliteApprovalIndex::decisionStats(DecisionStats::By by,
                                                                      std::chrono::milliseconds quickWithin) {
  return db_.locked("decision statistics", [&] { return sqlite::decisionStats(db_.writer, by, quickWithin); });
}
Result<TimePoint> SqliteApprovalIndex::recordOpened(const std::string& runId, const std::string& step,
                                                    const std::string& user, TimePoint at) {
  return db_.locked("recording an approval view", [&] { return recordApprovalOpened(db_.writes, runId, step, user, at); });
}
Result<std::optional<TimePoint>> SqliteApprovalIndex::openedAt(const std::string& runId, const std::string& step,
                                                               const std::string& user) {
  return db_.locked("reading an approval view", [&] { return approvalOpenedAt(db_.writes, runId, step, user); });
}

}  // namespace vigil::sqlite
