#!/usr/bin/env python3
"""Kill the engine with SIGKILL at 20 random moments while it runs 1,000 five-step runs,
restart it each time, then check from the store and the side-effect log that every run
completed, every step completed exactly once, every side effect carries the key of a
recorded attempt, and the database is sound."""
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

WORKER = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
SEED = int(os.environ.get("VIGIL_CRASH_SEED", str(int(time.time()))))
rng = random.Random(SEED)
print(f"seed {SEED}: {RUNS} runs, {KILLS} kills")

tmp = tempfile.mkdtemp(prefix="vigil-crash-")
data, log = os.path.join(tmp, "data"), os.path.join(tmp, "effects.log")
failures = []


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
    if os.path.exists(os.path.join(data, "vigil.db")):
        # Under a sanitizer every kill can land before the first schema transaction commits;
        # the file then exists without tables, which the final worker must cope with too.
        with sqlite3.connect(os.path.join(data, "vigil.db")) as before:
            try:
                done = before.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()[0]
                print(f"{done} of {RUNS} runs completed when the last kill landed")
            except sqlite3.OperationalError:
                print("no schema yet when the last kill landed")
    p = subprocess.run([WORKER, data, log, str(RUNS)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        failures.append(f"final worker exited {p.returncode}: {p.stderr[-2000:]}")
        raise NothingToCheck()  # in a store the worker could not finish

    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        failures.append(f"integrity_check: {integrity}")
    statuses = dict(db.execute("SELECT id, status FROM runs WHERE id LIKE 'crash-%'").fetchall())
    missing = [f"crash-{i:04d}" for i in range(RUNS) if statuses.get(f"crash-{i:04d}") != "completed"]
    if missing:
        failures.append(f"{len(missing)} runs not completed, e.g. {missing[:5]}")

    completions = collections.Counter()
    completed_attempt = {}
    # Events are stored once, in the payloads of the runs' chained audit records.
    EVENTS = ("SELECT a.run_id, json_extract(e.value, '$.step'), ifnull(json_extract(e.value, '$.attempt'), 0)"
              " FROM audit a, json_each(a.payload, '$.events') e WHERE a.kind IN ('collection', 'run')"
              " AND json_extract(e.value, '$.type') = ?")
    for run, step, attempt in db.execute(EVENTS, ("StepCompleted",)):
        completions[(run, step)] += 1
        completed_attempt[(run, step)] = attempt
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

    started = {f"{run}/{step}/{attempt}" for run, step, attempt in db.execute(EVENTS, ("StepStarted",))}
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
    shutil.rmtree(tmp, ignore_errors=True)

for f in failures:
    print("FAIL", f)
print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
