// The approvals inbox in PostgreSQL: rows (and their votes) replaced whole from the run's
// state at each commit, listed in inbox order with keyset paging, as the SQLite store does.
#include <limits>

#include "pg_concerns.h"
#include "store_common.h"

namespace vigil::pg {
namespace {

using store::joinList;
using store::likeItem;
using store::splitList;

constexpr const char* kColumns =
    "run_id, step, workflow, version, status, roles, users, excluded, requested_at, due, claimed_by, claim_until,"
    " decision, decided_by, decided_at, agreed, escalations, priority, summary, recommendation";

ApprovalRow rowAt(const Rows& q, int i) {
  ApprovalRow r;
  r.runId = q.text(i, 0);
  r.step = q.text(i, 1);
  r.workflow = q.text(i, 2);
  r.version = static_cast<int>(q.i64(i, 3));
  r.status = q.text(i, 4);
  r.roles = splitList(q.text(i, 5));
  r.users = splitList(q.text(i, 6));
  r.excluded = splitList(q.text(i, 7));
  r.requestedAt = q.time(i, 8);
  r.due = q.optTime(i, 9);
  r.claimedBy = q.text(i, 10);
  r.claimUntil = q.optTime(i, 11);
  r.decision = q.text(i, 12);
  r.decidedBy = q.text(i, 13);
  r.decidedAt = q.optTime(i, 14);
  if (!q.null(i, 15)) r.agreed = q.i64(i, 15) != 0;
  r.escalations = static_cast<int>(q.i64(i, 16));
  r.priority = q.f64(i, 17);
  r.summary = q.text(i, 18);
  r.recommendation = q.text(i, 19);
  return r;
}

// The due time as the inbox sorts it: a row without one lists after every row with one.
constexpr const char* kDueKey = "coalesce(due, 9223372036854775807)";

// The WHERE clause and its parameters, shared by the page and its count so they agree.
struct Where {
  std::string sql = " WHERE true";
  Params params;
  std::string next() const { return "$" + std::to_string(params.size()); }
  void text(const std::string& before, const std::string& v, const std::string& after = "") {
    params.text(v);
    sql += before + next() + after;
  }
  void i64(const std::string& before, long long v, const std::string& after = "") {
    params.i64(v);
    sql += before + next() + after;
  }
};

Where whereOf(const ApprovalFilter& f) {
  Where w;
  if (!f.status.empty()) w.text(" AND status = ", f.status);
  if (!f.workflow.empty()) w.text(" AND workflow = ", f.workflow);
  if (!f.runId.empty()) w.text(" AND run_id = ", f.runId);
  if (!f.recommendation.empty()) w.text(" AND recommendation = ", f.recommendation);
  if (!f.textContains.empty()) {
    // A workflow's summary line need not name the referral; its `reference:` does.
    w.text(" AND (strpos(lower(summary), lower(", f.textContains, ")) > 0");
    w.text(" OR run_id IN (SELECT run_id FROM run_index WHERE strpos(lower(reference), lower(", f.textContains, ")) > 0))");
  }
  if (f.minPriority) {
    w.params.f64(*f.minPriority);
    w.sql += " AND priority >= " + w.next();
  }
  if (f.overdueAsOf) w.i64(" AND status = 'open' AND due IS NOT NULL AND due < ", ms(*f.overdueAsOf));
  if (f.lateAsOf) {
    w.i64(" AND due IS NOT NULL AND ((status = 'decided' AND decided_at > due) OR (status = 'open' AND due < ", ms(*f.lateAsOf), "))");
  }
  if (f.requestedSince) w.i64(" AND requested_at >= ", ms(*f.requestedSince));
  if (!f.notExcluding.empty()) w.text(" AND excluded NOT LIKE ", likeItem(f.notExcluding));
  using A = ApprovalFilter::Assigned;
  const bool byRoles = !f.roles.empty() && f.assigned != A::kMe;
  const bool byUser = !f.user.empty() && f.assigned != A::kMyRoles;
  if (byRoles || byUser) {
    w.sql += " AND (false";
    if (byRoles) {
      for (const auto& r : f.roles) w.text(" OR roles LIKE ", likeItem(r));
    }
    if (byUser) {
      w.text(" OR users LIKE ", likeItem(f.user));
      if (f.assigned == A::kMe) {
        w.text(" OR (claimed_by = ", f.user);
        w.i64(" AND claim_until > ", ms(f.now), ")");
      }
    }
    w.sql += ")";
  }
  if (f.assigned == A::kUnclaimed) w.i64(" AND (claimed_by = '' OR claim_until IS NULL OR claim_until <= ", ms(f.now), ")");
  return w;
}

}  // namespace

void writeApproval(Writes& out, const ApprovalRow& r) {
  static const std::string kUpsert =
      std::string("INSERT INTO approvals(") + kColumns +
      ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
      " ON CONFLICT(run_id, step) DO UPDATE SET workflow = excluded.workflow, version = excluded.version,"
      " status = excluded.status, roles = excluded.roles, users = excluded.users, excluded = excluded.excluded,"
      " requested_at = excluded.requested_at, due = excluded.due, claimed_by = excluded.claimed_by,"
      " claim_until = excluded.claim_until, decision = excluded.decision, decided_by = excluded.decided_by,"
      " decided_at = excluded.decided_at, agreed = excluded.agreed, escalations = excluded.escalations,"
      " priority = excluded.priority, summary = excluded.summary, recommendation = excluded.recommendation";
  Params p;
  p.text(r.runId).text(r.step).text(r.workflow).i64(r.version).text(r.status);
  p.text(joinList(r.roles)).text(joinList(r.users)).text(joinList(r.excluded));
  p.time(r.requestedAt).optTime(r.due).text(r.claimedBy).optTime(r.claimUntil);
  p.text(r.decision).text(r.decidedBy).optTime(r.decidedAt).optBool(r.agreed).i64(r.escalations);
  p.f64(r.priority).text(r.summary).text(r.recommendation);
  out.add(kUpsert, p);
  // The votes are replaced with their row, so they always say what the run's state says.
  out.add("DELETE FROM approval_votes WHERE run_id = $1 AND step = $2", Params().text(r.runId).text(r.step));
  for (const auto& v : r.votes) {
    Params q;
    q.text(r.runId).text(r.step).i64(v.seq).text(v.decidedBy).text(v.decision).optBool(v.agreed).optTime(v.openedAt);
    if (v.secondsFromOpening) {
      q.f64(*v.secondsFromOpening);
    } else {
      q.null();
    }
    q.text(confirmationName(v.confirmed));
    out.add("INSERT INTO approval_votes(run_id, step, seq, decided_by, decision, agreed, opened_at, seconds_from_opening,"
           " confirmed) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
           q);
  }
}

Result<ApprovalPage> PgApprovalIndex::list(const ApprovalFilter& f) {
  return db_.reading("listing approvals", [&] {
    Where w = whereOf(f);
    ApprovalPage page;
    {
      Rows count = db_.reader->exec("SELECT count(*) FROM approvals" + w.sql, w.params);
      if (count.size() > 0) page.total = count.i64(0, 0);
    }
    std::string sql = std::string("SELECT ") + kColumns + " FROM approvals" + w.sql;
    const std::string dk = kDueKey;
    if (f.after) {
      w.params.f64(f.after->priority);
      const std::string p = w.next();
      w.params.i64(f.after->due ? ms(*f.after->due) : std::numeric_limits<int64_t>::max());
      const std::string d = w.next();
      w.params.time(f.after->requestedAt);
      const std::string t = w.next();
      w.params.text(f.after->runId);
      const std::string r = w.next();
      w.params.text(f.after->step);
      const std::string s = w.next();
      sql += " AND (priority < " + p + " OR (priority = " + p + " AND (" + dk + " > " + d + " OR (" + dk + " = " + d +
             " AND (requested_at > " + t + " OR (requested_at = " + t + " AND (run_id > " + r + " OR (run_id = " + r +
             " AND step > " + s + "))))))))";
    }
    // One row more than asked for says whether another page follows, so the last page
    // carries no cursor to an empty one.
    w.params.i64(static_cast<long long>(f.limit) + 1);
    sql += " ORDER BY priority DESC, " + dk + ", requested_at, run_id, step LIMIT " + w.next();
    Rows q = db_.reader->exec(sql, w.params);
    for (int i = 0; i < q.size(); ++i) page.rows.push_back(rowAt(q, i));
    if (page.rows.size() > f.limit) {
      page.rows.pop_back();
      page.more = true;
    }
    return page;
  });
}

Result<std::optional<ApprovalRow>> PgApprovalIndex::find(const std::string& runId, const std::string& step) {
  return db_.reading("reading an approval", [&]() -> std::optional<ApprovalRow> {
    Rows q = db_.reader->exec(std::string("SELECT ") + kColumns + " FROM approvals WHERE run_id = $1 AND step = $2",
                              Params().text(runId).text(step));
    if (q.size() == 0) return std::nullopt;
    return rowAt(q, 0);
  });
}

Result<std::vector<ApprovalStats>> PgApprovalIndex::stats(TimePoint now) {
  return db_.reading("approval statistics", [&] {
    Rows q = db_.reader->exec(
        "SELECT workflow, step,"
        " count(*) FILTER (WHERE status = 'decided'), count(*) FILTER (WHERE status = 'decided' AND agreed IS NOT NULL),"
        " count(*) FILTER (WHERE status = 'decided' AND agreed = 0), count(*) FILTER (WHERE status = 'open'),"
        " count(*) FILTER (WHERE status = 'open' AND due IS NOT NULL AND due < $1),"
        " avg(decided_at - requested_at) FILTER (WHERE status = 'decided'),"
        " max(decided_at - requested_at) FILTER (WHERE status = 'decided')"
        " FROM approvals GROUP BY workflow, step ORDER BY workflow, step",
        Params().time(now));
    std::vector<ApprovalStats> out;
    for (int i = 0; i < q.size(); ++i) {
      ApprovalStats s;
      s.workflow = q.text(i, 0);
      s.step = q.text(i, 1);
      s.decided = q.i64(i, 2);
      s.withRecommendation = q.i64(i, 3);
      s.overridden = q.i64(i, 4);
      s.open = q.i64(i, 5);
      s.overdue = q.i64(i, 6);
      s.meanSecondsToDecision = q.f64(i, 7) / 1000.0;
      s.maxSecondsToDecision = q.f64(i, 8) / 1000.0;
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::vector<DecisionStats>> PgApprovalIndex::decisionStats(DecisionStats::By by, std::chrono::milliseconds quickWithin) {
  return db_.reading("decision statistics", [&] {
    // A rule is the step, whichever foreach iteration ("school[2]") the vote was in.
    const std::string rule = "split_part(a.step, '[', 1)";
    std::string keys;
    switch (by) {
      case DecisionStats::By::kApprover: keys = "v.decided_by, ''::text, ''::text, ''::text"; break;
      case DecisionStats::By::kStep: keys = "''::text, a.workflow, " + rule + ", ''::text"; break;
      case DecisionStats::By::kBand: keys = "''::text, a.workflow, " + rule + ", a.recommendation"; break;
    }
    Rows q = db_.reader->exec(
        "SELECT " + keys +
            ", count(*), count(v.agreed), count(*) FILTER (WHERE v.agreed = 0), count(v.seconds_from_opening),"
            " count(*) FILTER (WHERE v.seconds_from_opening <= $1), count(*) FILTER (WHERE v.confirmed = 'yes_flag'),"
            " avg(v.seconds_from_opening)"
            " FROM approval_votes v JOIN approvals a ON a.run_id = v.run_id AND a.step = v.step"
            " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        Params().f64(std::chrono::duration<double>(quickWithin).count()));
    std::vector<DecisionStats> out;
    for (int i = 0; i < q.size(); ++i) {
      DecisionStats s;
      s.decidedBy = q.text(i, 0);
      s.workflow = q.text(i, 1);
      s.step = q.text(i, 2);
      s.recommendation = q.text(i, 3);
      s.decisions = q.i64(i, 4);
      s.withRecommendation = q.i64(i, 5);
      s.overridden = q.i64(i, 6);
      s.timed = q.i64(i, 7);
      s.quick = q.i64(i, 8);
      s.yesFlag = q.i64(i, 9);
      s.meanSecondsFromOpening = q.f64(i, 10);
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<TimePoint> PgApprovalIndex::recordOpened(const std::string& runId, const std::string& step, const std::string& user,
                                                TimePoint at) {
  return db_.locked("recording an approval view", [&] {
    // The first opening is kept: a later one changes nothing and reads back the first. The
    // update that keeps the value is what makes RETURNING give the row either way, also when
    // another node inserted it concurrently (DO NOTHING then returns nothing, and a second
    // SELECT would read a snapshot from before that insert).
    Rows q = db_.writer->exec(
        "INSERT INTO approval_views(run_id, step, username, opened_at) VALUES($1, $2, $3, $4)"
        " ON CONFLICT(run_id, step, username) DO UPDATE SET opened_at = approval_views.opened_at RETURNING opened_at",
        Params().text(runId).text(step).text(user).time(at));
    return q.size() > 0 ? q.time(0, 0) : at;
  });
}

Result<std::optional<TimePoint>> PgApprovalIndex::openedAt(const std::string& runId, const std::string& step,
                                                           const std::string& user) {
  return db_.reading("reading an approval view", [&] {
    Rows q = db_.reader->exec("SELECT opened_at FROM approval_views WHERE run_id = $1 AND step = $2 AND username = $3",
                              Params().text(runId).text(step).text(user));
    return q.size() > 0 ? q.optTime(0, 0) : std::nullopt;
  });
}

}  // namespace vigil::pg
