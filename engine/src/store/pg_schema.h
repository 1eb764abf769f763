// Internal: the PostgreSQL schema as an ordered list of migrations, numbered on their own
// (the SQLite file's history is not this database's). Migration N takes the database from
// N-1 to N in one transaction, under an advisory lock so two nodes starting together do
// not both apply it. Never edit a shipped migration: add the next one.
//
// Times are milliseconds since the epoch (BIGINT), as the SQLite store keeps them; JSON is
// TEXT, because an audit payload must come back byte for byte as it was digested. Ids,
// steps and names compare bytewise (COLLATE "C"), as SQLite's do, whatever the database's
// locale: paging by `id > after` and ordering by id must agree, and a prefix LIKE uses the
// primary key's index.
#pragma once

#include <vector>

namespace vigil::pg {

struct Migration {
  int version;
  const char* sql;
};

inline const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE workflows(
          hash TEXT PRIMARY KEY, name TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL,
          created_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now()) * 1000)::bigint);
        CREATE INDEX workflows_name ON workflows(name, version);
        CREATE TABLE runs(
          id TEXT COLLATE "C" PRIMARY KEY, workflow TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
          status TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '', started_by TEXT NOT NULL,
          started_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_seq BIGINT NOT NULL,
          snapshot TEXT NOT NULL, erased_at BIGINT);
        CREATE INDEX runs_status ON runs(status, id);
        CREATE INDEX runs_workflow ON runs(workflow, id);
        CREATE INDEX runs_retention ON runs(workflow, updated_at) WHERE erased_at IS NULL;
        CREATE TABLE run_index(run_id TEXT COLLATE "C" PRIMARY KEY, reference TEXT NOT NULL, band TEXT NOT NULL);
        CREATE INDEX run_index_band ON run_index(band, run_id) WHERE band <> '';
        CREATE TABLE work(
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, attempt INTEGER NOT NULL, command TEXT NOT NULL,
          PRIMARY KEY(run_id, step, attempt));
        CREATE TABLE timers(
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, attempt INTEGER NOT NULL, kind TEXT NOT NULL,
          due BIGINT NOT NULL, PRIMARY KEY(run_id, step, attempt, kind));
        CREATE INDEX timers_due ON timers(due);
        -- roles/users/excluded are ",a,b," lists, as in the SQLite store.
        CREATE TABLE approvals(
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, workflow TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL,
          status TEXT NOT NULL, roles TEXT NOT NULL, users TEXT NOT NULL, excluded TEXT NOT NULL,
          requested_at BIGINT NOT NULL, due BIGINT, claimed_by TEXT NOT NULL DEFAULT '', claim_until BIGINT,
          decision TEXT NOT NULL DEFAULT '', decided_by TEXT NOT NULL DEFAULT '', decided_at BIGINT,
          agreed SMALLINT, escalations INTEGER NOT NULL DEFAULT 0, priority DOUBLE PRECISION NOT NULL DEFAULT 0,
          summary TEXT NOT NULL DEFAULT '', recommendation TEXT COLLATE "C" NOT NULL DEFAULT '',
          PRIMARY KEY(run_id, step));
        CREATE INDEX approvals_inbox ON approvals(status, priority DESC, coalesce(due, 9223372036854775807), requested_at, run_id, step);
        CREATE TABLE approval_views(
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, username TEXT NOT NULL, opened_at BIGINT NOT NULL,
          PRIMARY KEY(run_id, step, username));
        CREATE TABLE approval_votes(
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, seq INTEGER NOT NULL,
          decided_by TEXT COLLATE "C" NOT NULL, decision TEXT NOT NULL, agreed SMALLINT,
          opened_at BIGINT, seconds_from_opening DOUBLE PRECISION, confirmed TEXT NOT NULL DEFAULT '',
          PRIMARY KEY(run_id, step, seq));
        CREATE INDEX approval_votes_by ON approval_votes(decided_by);
        -- The audit chain (docs/AUDIT.md). audit_head is its one row: every transaction that
        -- appends locks it first, so writers on every node extend one chain, in turn.
        CREATE TABLE audit(
          seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
          run_id TEXT COLLATE "C" NOT NULL, step TEXT COLLATE "C" NOT NULL, subject TEXT NOT NULL, system TEXT NOT NULL,
          purpose TEXT NOT NULL, recipient TEXT NOT NULL, payload TEXT, payload_hash TEXT NOT NULL,
          prev TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE INDEX audit_run ON audit(run_id, seq) WHERE run_id <> '';
        CREATE INDEX audit_access ON audit(seq, time) WHERE kind IN ('consultation', 'disclosure');
        CREATE INDEX audit_access_actor ON audit(actor, seq, time) WHERE kind IN ('consultation', 'disclosure');
        CREATE TABLE audit_head(id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL, head TEXT NOT NULL);
        INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
        CREATE TABLE audit_checkpoints(
          size BIGINT PRIMARY KEY, root TEXT NOT NULL, head TEXT NOT NULL, time BIGINT NOT NULL,
          key_id TEXT NOT NULL, signature TEXT NOT NULL, frontier TEXT NOT NULL, note TEXT);
        CREATE TABLE audit_keys(key_id TEXT PRIMARY KEY, public_pem TEXT NOT NULL, added_at BIGINT NOT NULL);
      )sql"},
      {2, R"sql(
        -- Partition leases (vigil/store/lease_table.h): one row per partition, 32 of them
        -- (kPartitions), and the nodes' heartbeats.
        CREATE TABLE leases(
          part INTEGER PRIMARY KEY, node TEXT COLLATE "C" NOT NULL DEFAULT '', epoch BIGINT NOT NULL DEFAULT 0,
          expires_at BIGINT NOT NULL DEFAULT 0);
        INSERT INTO leases(part) SELECT g FROM generate_series(0, 31) g;
        CREATE TABLE nodes(id TEXT COLLATE "C" PRIMARY KEY, address TEXT NOT NULL, heartbeat_at BIGINT NOT NULL);
      )sql"},
  };
  return kMigrations;
}

}  // namespace vigil::pg
