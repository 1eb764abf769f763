#!/usr/bin/env python3
"""Kill the engine with SIGKILL at 20 random moments while it runs 1,000 five-step runs,
restart it each time, then check from the store and the side-effect log that every run
completed, every step completed exactly once, every side effect carries the key of a
recorded attempt, and the database is sound. With --postgres, the same on the PostgreSQL
store, on a server this script starts (tests/pylib/postgres.py)."""
import collections
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

POSTGRES = "--postgres" in sys.argv
args = [a for a in sys.argv[1:] if a != "--postgres"]
WORKER = args[0]
RUNS = int(args[1]) if len(args) > 1 else 1000
KILLS = int(args[2]) if len(args) > 2 else 20
SEED = int(os.environ.get("VIGIL_CRASH_SEED", str(int(time.time()))))
rng = random.Random(SEED)
print(f"seed {SEED}: {RUNS} runs, {KILLS} kills")

tmp = tempfile.mkdtemp(prefix="vigil-crash-")
data, log = os.path.join(tmp, "data"), os.path.join(tmp, "effects.log")
failures = []
pg = None
if POSTGRES:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
    from postgres import PASSWORD, PostgresServer  # noqa: E402
    pg = PostgresServer()
    pg.psql("CREATE DATABASE crash ENCODING 'UTF8' TEMPLATE template0")
    data = "postgres:" + pg.conninfo("crash")
    os.environ["PGPASSWORD"] = PASSWORD


def query(sql, *params):
    """Rows of `sql` from the store (qmark parameters), as tuples of text or numbers."""
    if not POSTGRES:
        with sqlite3.connect(os.path.join(data, "vigil.db")) as db:
            return db.execute(sql, params).fetchall()
    for p in params:  # only our own constants are passed; quoted for psql all the same
        sql = sql.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
    out = pg.psql(sql, db="crash")
    return [tuple(line.split("|")) for line in out.splitlines() if line]


# The events of the runs' chained records, by type: (run, step, attempt).
EVENTS = ("SELECT a.run_id, json_extract(e.value, '$.step'), ifnull(json_extract(e.value, '$.attempt'), 0)"
          " FROM audit a, json_each(a.payload, '$.events') e WHERE a.kind IN ('collection', 'run')"
          " AND json_extract(e.value, '$.type') = ?")
PG_EVENTS = ("SELECT a.run_id, e->>'step', coalesce(e->>'attempt', '0') FROM audit a,"
             " jsonb_array_elements(a.payload::jsonb -> 'events') e WHERE a.kind IN ('collection', 'run')"
             " AND e->>'type' = ?")
# The store is sound: SQLite's own check, or for PostgreSQL the chain numbered without gaps
# and its head row at its last record (what the store's integrityCheck() checks).
INTEGRITY = "PRAGMA integrity_check"
PG_INTEGRITY = ("SELECT CASE WHEN (SELECT count(*) FROM audit) = (SELECT coalesce(max(seq), 0) FROM audit)"
                " AND h.size = (SELECT coalesce(max(seq), 0) FROM audit) THEN 'ok' ELSE 'chain or head damaged' END"
                " FROM audit_head h")


class NothingToCheck(Exception):
    pass


try:
    # How long a worker takes to start moving runs (its first side effect), measured once,
    # so that under a sanitizer (several times slower to start) the kills still land while
    # runs are moving; every fourth kill stays early, to land in start-up and recovery as
    # well. Only the side-effect log is watched: opening the store from here could create
    # the file, or lock it while the worker sets it up.
    def has_effects():
        try:
            return os.path.getsize(log) > 0
        except OSError:
            return False
    p = subprocess.Popen([WORKER, data, log, str(RUNS)], stderr=subprocess.PIPE, text=True)
    began = time.monotonic()
    while time.monotonic() - began < 30 and p.poll() is None and not has_effects():
        time.sleep(0.005)
    startup = time.monotonic() - began
    print(f"a worker makes its first side effect after {startup * 1000:.0f} ms")
    kills = 0
    while kills < KILLS:
        if kills > 0:
            p = subprocess.Popen([WORKER, data, log, str(RUNS)], stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.01, 0.08) + (0 if kills % 4 == 3 else startup))
        if p.poll() is not None:
            if p.returncode != 0:
                failures.append(f"a worker exited {p.returncode} before it was killed: {p.stderr.read()[-2000:]}")
            break  # finished before we could kill it: fine, but count what we did
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    print(f"killed {kills} times")
    if POSTGRES or os.path.exists(os.path.join(data, "vigil.db")):
        # Under a sanitizer every kill can land before the first schema transaction commits;
        # the file then exists without tables, which the final worker must cope with too.
        try:
            done = query("SELECT count(*) FROM runs WHERE status = 'completed'")[0][0]
            print(f"{done} of {RUNS} runs completed when the last kill landed")
        except (sqlite3.OperationalError, RuntimeError):
            print("no schema yet when the last kill landed")
    p = subprocess.run([WORKER, data, log, str(RUNS)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        failures.append(f"final worker exited {p.returncode}: {p.stderr[-2000:]}")
        raise NothingToCheck()  # in a store the worker could not finish

    integrity = query(PG_INTEGRITY if POSTGRES else INTEGRITY)[0][0]
    if integrity != "ok":
        failures.append(f"integrity_check: {integrity}")
    statuses = dict(query("SELECT id, status FROM runs WHERE id LIKE 'crash-%'"))
    missing = [f"crash-{i:04d}" for i in range(RUNS) if statuses.get(f"crash-{i:04d}") != "completed"]
    if missing:
        failures.append(f"{len(missing)} runs not completed, e.g. {missing[:5]}")

    completions = collections.Counter()
    completed_attempt = {}
    # Events are stored once, in the payloads of the runs' chained audit records.
    events = PG_EVENTS if POSTGRES else EVENTS
    for run, step, attempt in query(events, "StepCompleted"):
        completions[(run, step)] += 1
        completed_attempt[(run, step)] = int(attempt)
    twice = [k for k, n in completions.items() if n != 1]
    if twice:
        failures.append(f"{len(twice)} steps completed more than once, e.g. {twice[:3]}")
    expected_steps = {"one", "two", "three", "both", "rate", "four", "five"}
    for i in range(RUNS):
        run = f"crash-{i:04d}"
        absent = [s for s in expected_steps if (run, s) not in completions]
        if absent:
            failures.append(f"{run}: no completion for {absent}")
            break

    started = {f"{run}/{step}/{attempt}" for run, step, attempt in query(events, "StepStarted")}
    effects = collections.defaultdict(set)
    tokens = open(log).read().split()
    # A record torn by SIGKILL in the middle of its write is a fragment on its own line; it
    # can only come from a crash, and its call is redone with the same key afterwards.
    lines = [t for t in tokens if re.fullmatch(r"crash-\d{4}/[a-z]+/\d+", t)]
    torn = len(tokens) - len(lines)
    if torn > KILLS:
        failures.append(f"{torn} malformed side-effect records, more than the {KILLS} crashes explain")
    for key in lines:
        if key not in started:
            failures.append(f"side effect with key {key} has no recorded attempt")
            break
        run, step, attempt = key.rsplit("/", 2)
        effects[(run, step)].add(int(attempt))
    for (run, step), attempts in effects.items():
        if attempts != {completed_attempt.get((run, step))}:
            failures.append(f"{run}/{step}: side effects from attempts {sorted(attempts)}, completed attempt {completed_attempt.get((run, step))}")
            break
    repeats = len(lines) - len(effects)
    print(f"{len(lines)} side effects for {len(effects)} steps ({repeats} repeated with the same key after a crash, {torn} torn by a kill)")
except NothingToCheck:
    pass
finally:
    if pg is not None:
        pg.stop()
    shutil.rmtree(tmp, ignore_errors=True)

for f in failures:
    print("FAIL", f)
print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
