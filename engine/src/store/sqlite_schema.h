// Internal: the SQLite schema as an ordered list of migrations. Migration N takes a data
// directory from schema N-1 to N; each runs in its own transaction. Never edit a shipped
// migration: add the next one.
#pragma once

#include <vector>

namespace vigil::sqlite {

struct Migration {
  int version;
  const char* sql;
};

inline const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE workflows(
          hash TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,
          source TEXT NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));
        CREATE INDEX workflows_name ON workflows(name, version);
        CREATE TABLE runs(
          id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
          status TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '', started_by TEXT NOT NULL,
          started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL,
          snapshot TEXT NOT NULL);
        CREATE INDEX runs_status ON runs(status, id);
        CREATE TABLE events(
          run_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, time INTEGER NOT NULL,
          step TEXT NOT NULL DEFAULT '', attempt INTEGER NOT NULL DEFAULT 0, data TEXT,
          PRIMARY KEY(run_id, seq)) WITHOUT ROWID;
        CREATE TABLE work(
          run_id TEXT NOT NULL, step TEXT NOT NULL, attempt INTEGER NOT NULL, command TEXT NOT NULL,
          PRIMARY KEY(run_id, step, attempt)) WITHOUT ROWID;
        CREATE TABLE timers(
          run_id TEXT NOT NULL, step TEXT NOT NULL, attempt INTEGER NOT NULL, kind TEXT NOT NULL,
          due INTEGER NOT NULL, PRIMARY KEY(run_id, step, attempt, kind)) WITHOUT ROWID;
        CREATE INDEX timers_due ON timers(due);
      )sql"},
      {2, R"sql(
        -- Listing runs by workflow and finding a run's sub-workflow runs.
        CREATE INDEX runs_workflow ON runs(workflow, id);
        CREATE INDEX runs_parent ON runs(parent) WHERE parent <> '';
      )sql"},
      {3, R"sql(
        -- The approvals inbox: one row per approval step, kept in step with the run's
        -- events in the same transaction. roles/users/excluded are ",a,b," lists.
        CREATE TABLE approvals(
          run_id TEXT NOT NULL, step TEXT NOT NULL, workflow TEXT NOT NULL, version INTEGER NOT NULL,
          status TEXT NOT NULL, roles TEXT NOT NULL, users TEXT NOT NULL, excluded TEXT NOT NULL,
          requested_at INTEGER NOT NULL, due INTEGER, claimed_by TEXT NOT NULL DEFAULT '', claim_until INTEGER,
          decision TEXT NOT NULL DEFAULT '', decided_by TEXT NOT NULL DEFAULT '', decided_at INTEGER,
          agreed INTEGER, escalations INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY(run_id, step)) WITHOUT ROWID;
        CREATE INDEX approvals_status ON approvals(status, requested_at);
        CREATE TABLE approval_views(
          run_id TEXT NOT NULL, step TEXT NOT NULL, user TEXT NOT NULL, opened_at INTEGER NOT NULL,
          PRIMARY KEY(run_id, step, user)) WITHOUT ROWID;
      )sql"},
      {4, R"sql(
        -- The audit chain (docs/AUDIT.md): each record links to the previous by hash;
        -- payload is NULL once erased, its digest stays.
        CREATE TABLE audit(
          seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
          run_id TEXT NOT NULL, step TEXT NOT NULL, subject TEXT NOT NULL, system TEXT NOT NULL,
          purpose TEXT NOT NULL, recipient TEXT NOT NULL, payload TEXT, payload_hash TEXT NOT NULL,
          prev TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE INDEX audit_run ON audit(run_id) WHERE run_id <> '';
        CREATE TABLE audit_checkpoints(
          size INTEGER PRIMARY KEY, root TEXT NOT NULL, head TEXT NOT NULL, time INTEGER NOT NULL,
          key_id TEXT NOT NULL, signature TEXT NOT NULL, frontier TEXT NOT NULL);
        CREATE TABLE audit_keys(key_id TEXT PRIMARY KEY, public_pem TEXT NOT NULL, added_at INTEGER NOT NULL);
      )sql"},
      {5, R"sql(
        -- Retention: when a finished run's personal data was erased.
        ALTER TABLE runs ADD COLUMN erased_at INTEGER;
        CREATE INDEX runs_retention ON runs(workflow, updated_at) WHERE erased_at IS NULL;
      )sql"},
      {6, R"sql(
        -- The inbox's order and line: the step's priority and summary, and a text
        -- recommendation (a band) to filter by. Rows written before keep 0 and ''.
        ALTER TABLE approvals ADD COLUMN priority REAL NOT NULL DEFAULT 0;
        ALTER TABLE approvals ADD COLUMN summary TEXT NOT NULL DEFAULT '';
        ALTER TABLE approvals ADD COLUMN recommendation TEXT NOT NULL DEFAULT '';
        CREATE INDEX approvals_inbox ON approvals(status, priority DESC, ifnull(due, 9223372036854775807), requested_at, run_id, step);
      )sql"},
      {7, R"sql(
        -- Each person's vote on an approval step (every vote of a quorum), replaced with
        -- its approvals row: who, what, agreement with the recommendation, seconds from
        -- their first opening of the task, and how they confirmed it ('interactive',
        -- 'yes_flag' or '' when the client did not say). The decisions report reads it.
        CREATE TABLE approval_votes(
          run_id TEXT NOT NULL, step TEXT NOT NULL, seq INTEGER NOT NULL,
          decided_by TEXT NOT NULL, decision TEXT NOT NULL, agreed INTEGER,
          opened_at INTEGER, seconds_from_opening REAL, confirmed TEXT NOT NULL DEFAULT '',
          PRIMARY KEY(run_id, step, seq)) WITHOUT ROWID;
        CREATE INDEX approval_votes_by ON approval_votes(decided_by);
        -- Votes recorded before this version, from the runs' snapshots (the fold of their
        -- ApprovalDecided events); a damaged or erased snapshot contributes none.
        INSERT OR IGNORE INTO approval_votes(run_id, step, seq, decided_by, decision, agreed, opened_at,
                                             seconds_from_opening, confirmed)
          SELECT r.id, s.key, v.key, json_extract(v.value, '$.decided_by'), ifnull(json_extract(v.value, '$.decision'), ''),
                 json_extract(v.value, '$.agreed'),
                 CAST(round((julianday(json_extract(v.value, '$.opened_at')) - 2440587.5) * 86400000.0) AS INTEGER),
                 json_extract(v.value, '$.seconds_to_decide'), ''
          FROM runs r,
               json_each(CASE WHEN json_valid(r.snapshot) THEN r.snapshot ELSE '{}' END, '$.steps') s,
               json_each(s.value, '$.approval.votes') v
          WHERE json_type(v.value, '$.decided_by') = 'text' AND substr(json_extract(v.value, '$.decided_by'), 1, 7) <> 'system:'
            AND EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.step = s.key);
      )sql"},
      {8, R"sql(
        -- One copy of history: a run's events live only in its chained audit records
        -- (the store appended any the chain lacked just before this, see migrate()).
        DROP TABLE IF EXISTS events;
      )sql"},
      {9, R"sql(
        -- Checkpoints as signed notes (C2SP tlog-checkpoint), the form written to the
        -- checkpoint log and pushed to witnesses; NULL for those signed before (format 1).
        ALTER TABLE audit_checkpoints ADD COLUMN note TEXT;
      )sql"},
      {10, R"sql(
        -- What the runs list filters and searches by, beside the run's row so listing never
        -- reads a snapshot: the workflow's reference (a referral id) and the run's current
        -- band. A row only for runs with either; runs from before are filled in by migrate().
        CREATE TABLE run_index(
          run_id TEXT PRIMARY KEY, reference TEXT NOT NULL, band TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX run_index_band ON run_index(band, run_id) WHERE band <> '';
        CREATE INDEX run_index_reference ON run_index(reference COLLATE NOCASE) WHERE reference <> '';
      )sql"},
      {11, R"sql(
        -- The access log (GET /api/v1/audit/access): reads and disclosures newest first, by
        -- person or by time, without reading the run records between them. Only those two
        -- kinds are indexed, so a run transition's write costs nothing more; time is in
        -- each so a date filter is checked in the index. The query must spell the WHERE
        -- term exactly so (sqlite_audit.cpp, readAccessLog).
        CREATE INDEX audit_access ON audit(seq, time) WHERE kind IN ('consultation', 'disclosure');
        CREATE INDEX audit_access_actor ON audit(actor, seq, time) WHERE kind IN ('consultation', 'disclosure');
      )sql"},
      {12, R"sql(
        -- Partition leases (vigil/store/lease_table.h): one row per partition, 32 of them
        -- (kPartitions), and the nodes' heartbeats.
        CREATE TABLE leases(
          part INTEGER PRIMARY KEY, node TEXT NOT NULL DEFAULT '', epoch INTEGER NOT NULL DEFAULT 0,
          expires_at INTEGER NOT NULL DEFAULT 0);
        WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n < 31) INSERT INTO leases(part) SELECT n FROM p;
        CREATE TABLE nodes(id TEXT PRIMARY KEY, address TEXT NOT NULL, heartbeat_at INTEGER NOT NULL);
      )sql"},
  };
  return kMigrations;
}

}  // namespace vigil::sqlite
