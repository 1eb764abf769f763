#!/usr/bin/env python3
"""A data directory of schema 7 (tests/audit/fixtures/schema-7.sql, written by vigil before
the single copy of history) upgrades in place: the `events` table goes, every run's events
are read from its chained audit records and equal what the table held, the store verifies
(chain, snapshots against the fold of their events, inbox rows against their runs), every
run replays identical, and a run parked at its approval is decided and completes. A run
whose events only the table held (written before the audit trail existed) has them moved
into the chain, in a record that says so."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
FIXTURES = os.path.join(SOURCE, "tests", "audit", "fixtures")
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]
READ = {"X-Vigil-Purpose": "upgrade test"}


def fixture(where, legacy=False):
    """The frozen directory under where/data; with `legacy`, one more run whose events are
    only rows of the events table, as runs written before the audit trail were."""
    data = os.path.join(where, "data")
    os.makedirs(data)
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    db.executescript(open(os.path.join(FIXTURES, "schema-7.sql")).read())
    if legacy:
        src = db.execute("SELECT run_id FROM approvals WHERE status = 'decided' ORDER BY run_id LIMIT 1").fetchone()[0]
        row = list(db.execute("SELECT * FROM runs WHERE id = ?", (src,)).fetchone())
        cols = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
        snap = json.loads(row[cols.index("snapshot")])
        snap["id"] = "r-legacy"
        row[cols.index("id")], row[cols.index("snapshot")] = "r-legacy", json.dumps(snap, separators=(",", ":"), sort_keys=True)
        db.execute(f"INSERT INTO runs VALUES ({','.join('?' * len(row))})", row)
        db.execute("INSERT INTO events SELECT 'r-legacy', seq, type, time, step, attempt, data FROM events WHERE run_id = ?", (src,))
        acols = [c[1] for c in db.execute("PRAGMA table_info(approvals)")]
        sel = ", ".join("'r-legacy'" if c == "run_id" else c for c in acols)
        db.execute(f"INSERT INTO approvals SELECT {sel} FROM approvals WHERE run_id = ?", (src,))
    db.commit()
    db.close()
    keys = os.path.join(data, "keys")
    shutil.copytree(os.path.join(FIXTURES, "schema-7-keys"), keys)
    os.chmod(keys, 0o700)
    for f in os.listdir(keys):
        os.chmod(os.path.join(keys, f), 0o600 if not f.endswith(".pub.pem") else 0o644)
    return data


def table_events(data):
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    out = {}
    for run, seq, typ, time, step, attempt, payload in db.execute(
            "SELECT run_id, seq, type, time, step, attempt, data FROM events ORDER BY run_id, seq"):
        e = {"seq": seq, "type": typ, "time": time}
        if step:
            e["step"] = step
        if attempt:
            e["attempt"] = attempt
        if payload is not None:
            e["data"] = json.loads(payload)
        out.setdefault(run, []).append(e)
    db.close()
    return out


def verify(data):
    p = subprocess.run([VIGIL, "audit", "verify", "--data", data], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip() + p.stderr.strip()


tmp = tempfile.mkdtemp(prefix="vigil-upgrade-")
try:
    for legacy in (False, True):
        where = os.path.join(tmp, "legacy" if legacy else "plain")
        os.makedirs(where)
        data = fixture(where, legacy)
        before = table_events(data)
        # The fixture is a store without its auth.db, which serve refuses as users lost:
        # an admin is added deliberately, as docs/OPERATIONS.md says.
        added = subprocess.run([VIGIL, "users", "add", "admin", "--role", "admin", "--data", data],
                               capture_output=True, text=True, timeout=30)
        with Daemon(VIGIL, WORKFLOWS, where, admin=added.stdout.strip()) as d:
            db = sqlite3.connect(os.path.join(data, "vigil.db"))
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            moved = db.execute("SELECT count(*) FROM audit WHERE purpose LIKE 'history written before the audit trail%'").fetchone()[0]
            db.close()
            label = " (with a run written before the audit trail)" if legacy else ""
            check(f"the store upgrades to the current schema (12) and the events table is gone{label}", version == "12" and "events" not in tables,
                  (version, sorted(tables)))
            check(f"schema 12 holds one lease row per partition{label}", "leases" in tables and "nodes" in tables, sorted(tables))
            check(f"schema 11 indexes the access log{label}", {"audit_access", "audit_access_actor"} <= indexes, sorted(indexes))
            check(f"events only the table held are moved into the chain, and no others{label}", moved == (1 if legacy else 0), moved)
            auditor = d.add_user("ada", "auditor")
            wrong = []
            for run, events in before.items():
                code, body = d.request("GET", f"/api/v1/runs/{run}", token=auditor, headers=READ)
                if code != 200 or body.get("events") != events:
                    wrong.append((run, code, len(body.get("events", [])), len(events)))
            check(f"every run's events read from the chain equal what the table held{label}",
                  not wrong and len(before) == (7 if legacy else 6), (wrong[:2], len(before)))
            # Schema 10's run index is filled from the runs' snapshots: the band each list
            # shows is the band the run's history folds to.
            code, listed = d.request("GET", "/api/v1/runs?limit=1000", token=auditor, headers=READ)
            bands = {r["id"]: r["band"] for r in (listed or {}).get("items", [])} if code == 200 else {}
            folded = {run: d.request("GET", f"/api/v1/runs/{run}", token=auditor, headers=READ)[1].get("band") for run in before}
            check(f"the upgrade gives the runs from before their bands, as their histories fold{label}",
                  bands and all(bands.get(r) == b for r, b in folded.items()) and any(folded.values()), (bands, folded))
            approver = d.add_user("sam2", "approver", "mash-supervisor")
            rc, out, _ = d.cli(approver, "approvals", "--json")
            open_tasks = json.loads(out)["items"] if rc == 0 else []
            decided = []
            for t in open_tasks:
                rc, _, err = d.cli(approver, "approve", t["id"], "--reason", "reviewed after the upgrade", "--yes")
                decided.append(rc == 0 or err)
            code, body = (d.request("GET", f"/api/v1/runs/{open_tasks[0]['run']}", token=auditor, headers=READ)
                          if open_tasks else (0, {}))
            check(f"runs parked before the upgrade are decided after it and complete{label}",
                  len(open_tasks) == 3 and all(x is True for x in decided) and body.get("status") == "completed",
                  (len(open_tasks), decided, body.get("status")))
        rc, out = verify(data)
        check(f"the upgraded store verifies: chain, snapshots and inbox (internal consistency: no anchor given){label}",
              rc == 3 and out.startswith("OK "), out)
        replays = [subprocess.run([VIGIL, "replay", run, "--data", data], capture_output=True, text=True, timeout=60)
                   for run in before]
        check(f"every run replays identical after the upgrade{label}",
              all(r.returncode == 0 and " identical " in r.stdout for r in replays),
              [r.stdout + r.stderr for r in replays if r.returncode != 0][:2])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
