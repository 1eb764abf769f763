#!/usr/bin/env python3
"""Three `vigil serve` nodes on one PostgreSQL database share its 32 partitions. Runs with a
lookup, a supervisor's review and a notification are started across all three and decided
on nodes other than the one holding them. A node killed (SIGKILL) with calls in flight and
timers pending loses them to the others, which redo the calls with the same idempotency
keys and fire the timers (the time from its death to its partitions moving is printed); a
node paused (SIGSTOP) past its lease and resumed cannot commit what it had in flight (its
results are fenced) and finds it holds nothing; a node stopped (SIGTERM) gives its
partitions back as it goes, and restarted under its name takes a share again. Every run
completes, each step once and each decision once; a loopback stub counts the calls per
idempotency key: every call carries a recorded attempt's key, and no step's call was made
under two keys. The audit chain all three wrote verifies."""
import http.server
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402
from postgres import PASSWORD, PostgresServer  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows"), os.path.join(SOURCE, "tests", "daemon", "failover")]
REVIEWED = int(os.environ.get("VIGIL_FAILOVER_RUNS", "300"))  # runs with a review, started across the nodes
LEASE_SECONDS = 3
CALL_SECONDS = 2.0  # the stub's answer time: long enough for calls to be in flight at a kill
PARTITIONS = 32


class Stub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.lock = threading.Lock()
        self.calls = {}  # idempotency key -> times called

    def calls_of(self, runs):
        """Calls made for each of `runs` (their keys start with the run's id)."""
        with self.lock:
            out = {r: 0 for r in runs}
            for k, n in self.calls.items():
                run = k.split("/")[0]
                if run in out:
                    out[run] += n
            return out


class StubHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        key = self.headers.get("Idempotency-Key", "")
        with self.server.lock:
            self.server.calls[key] = self.server.calls.get(key, 0) + 1
        if self.path.startswith("/slow"):
            time.sleep(CALL_SECONDS)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the node that asked was killed meanwhile

    def log_message(self, *args):
        pass


def wait_for(what, cond, seconds):
    """Polls `cond` every 0.2 s for at most `seconds`; its last value."""
    deadline = time.monotonic() + seconds
    value = cond()
    while not value and time.monotonic() < deadline:
        time.sleep(0.2)
        value = cond()
    check(what, bool(value), value)
    return value


tmp = tempfile.mkdtemp(prefix="vigil-failover-")
pg = PostgresServer()
stub = Stub()
threading.Thread(target=stub.serve_forever, daemon=True).start()
base_url = f"http://127.0.0.1:{stub.server_address[1]}"
stub_url = base_url + "/slow"
procs = []
try:
    pg.psql("CREATE DATABASE vigil ENCODING 'UTF8' TEMPLATE template0")
    secrets = os.path.join(tmp, "secrets.yaml")
    with open(secrets, "w") as f:
        f.write(f"STORE_PASSWORD: {PASSWORD}\n")
    os.chmod(secrets, 0o600)

    def config(name):
        path = os.path.join(tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(f"secrets_file: {secrets}\nlimits:\n  requests_per_second_per_token: 100000\n"
                    f"store:\n  postgres: {pg.conninfo('vigil')}\n  password_secret: STORE_PASSWORD\n"
                    f"  node: {name}\n  lease_seconds: {LEASE_SECONDS}\n")
        return path

    def node_dir(name):
        path = os.path.join(tmp, name)
        os.makedirs(path, exist_ok=True)
        return path

    a = Daemon(VIGIL, WORKFLOWS, node_dir("node-a"), extra_args=["--config", config("node-a")])
    procs.append(a)
    op = a.add_user("olivia", "operator", "auditor")
    ops = a.add_user("ian", "admin")  # /api/v1/nodes and /metrics
    sup = a.add_user("sam", "approver", "mash-supervisor")

    def clone(name):
        # Users, tokens and signing keys are still each node's own: a copy of node A's.
        os.makedirs(os.path.join(tmp, name, "data"), exist_ok=True)
        with sqlite3.connect(os.path.join(a.data, "auth.db")) as src, \
                sqlite3.connect(os.path.join(tmp, name, "data", "auth.db")) as dst:
            src.backup(dst)
        shutil.copytree(os.path.join(a.data, "keys"), os.path.join(tmp, name, "data", "keys"))
        d = Daemon(VIGIL, WORKFLOWS, node_dir(name), extra_args=["--config", config(name)], admin=a.admin)
        procs.append(d)
        return d

    b = clone("node-b")
    c = clone("node-c")

    def nodes_view(node):
        code, body = node.request("GET", "/api/v1/nodes", token=ops)
        return body if code == 200 else None

    def shares(node):
        view = nodes_view(node)
        if view is None:
            return None
        return {n["node"]: len(n["partitions"]) for n in view["items"] if n["live"]}, view["unheld"]

    def balanced():
        s = shares(a)
        if s is None:
            return False
        held, unheld = s
        counts = sorted(held.get(n, 0) for n in ("node-a", "node-b", "node-c"))
        return (counts == [10, 11, 11] and not unheld) and s

    wait_for("three live nodes share the 32 partitions, 10 or 11 each, none unheld", balanced, 30)
    for n in (a, b, c):
        code, _ = n.request("GET", "/readyz", token=ops)
        check(f"/readyz: a node holding its share is ready ({n.tmp[-6:]})", code == 200, code)

    started_ok = []

    def start(node, workflow, inputs):
        code, body = node.request("POST", "/api/v1/runs", token=op, body={"workflow": workflow, "inputs": inputs})
        started_ok.append(code == 201)
        return body.get("id") if code == 201 else None

    def status(node, run):
        code, body = node.request("GET", f"/api/v1/runs/{run}", token=op, headers={"X-Vigil-Purpose": "failover test"})
        return body if code == 200 else None

    # Runs with a review, started round the nodes, each parked at its review.
    reviewed = [start((a, b, c)[i % 3], "lookup-review", {"url": base_url, "referral": {"id": f"REF-{i:04d}"}})
                for i in range(REVIEWED)]
    check(f"{REVIEWED} runs with a review start across the three nodes", all(started_ok) and all(reviewed), started_ok.count(False))
    wait_for("each has made its lookup and waits for its review",
             lambda: all((status(a, r) or {}).get("status") == "waiting" for r in reviewed), 120)
    decided_on = {}

    def decide(node, run):
        code, task = node.request("GET", f"/api/v1/approvals/{run}/review", token=sup, headers={"X-Vigil-Purpose": "failover test"})
        if code != 200:
            return code
        code, _ = node.request("POST", f"/api/v1/approvals/{run}/review/decide", token=sup,
                               headers={"X-Vigil-Purpose": "failover test"},
                               body={"decision": "approve", "reason": "checked during the failover test",
                                     "shown_digest": task.get("shown_digest", "")})
        decided_on[run] = code
        return code

    # Calls in flight on B, and timers pending there, when it is killed: no more calls than
    # the http connector makes at once (8), so that all of them are in flight together.
    calls_b = [start(b, "slow-call", {"url": stub_url}) for _ in range(8)]
    timers_b = [start(b, "pause", {"n": i}) for i in range(6)]
    wait_for("node B's calls have reached the stub", lambda: min(stub.calls_of(calls_b).values()) >= 1, 20)
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(timeout=30)

    def held_by(node, name):
        s = shares(node)
        return s is not None and s[0].get(name, 0) > 0

    killed_at = time.monotonic()
    # After its lease, B's partitions go to A and C.
    wait_for("node B's partitions are taken by the others after its lease",
             lambda: (lambda s: s and "node-b" not in s[0] and not s[1] and s)(shares(a)), 30)
    print(f"node B killed: its partitions held by the others {time.monotonic() - killed_at:.1f} s later "
          f"(lease {LEASE_SECONDS} s, heartbeat every {LEASE_SECONDS / 3:.1f} s)")
    # A third of the reviews decided on A and on C, whichever node holds each run (B's runs
    # among them, now the survivors').
    third = REVIEWED // 3
    codes = [decide((a, c)[i % 2], r) for i, r in enumerate(reviewed[:third])]
    check("with B dead, A and C take decisions on any run", all(code == 200 for code in codes),
          [x for x in codes if x != 200][:5])

    # C pauses with calls in flight; past its lease A takes C's partitions and redoes them.
    calls_c = [start(c, "slow-call", {"url": stub_url}) for _ in range(8)]
    wait_for("node C's calls have reached the stub", lambda: min(stub.calls_of(calls_c).values()) >= 1, 20)
    c.proc.send_signal(signal.SIGSTOP)
    wait_for("with C paused, node A holds every partition",
             lambda: (lambda s: s and s[0].get("node-a") == PARTITIONS and s)(shares(a)), 30)
    wait_for("node A redid C's calls", lambda: min(stub.calls_of(calls_c).values()) >= 2, 30)
    time.sleep(CALL_SECONDS + 0.5)  # A's redone calls answered and committed before C resumes
    c.proc.send_signal(signal.SIGCONT)

    def metric(node, name):
        text = ""
        req = urllib.request.Request(node.url + "/metrics")
        req.add_header("Authorization", f"Bearer {ops}")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                text = r.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    wait_for("resumed, node C's results from before its pause are fenced, not committed",
             lambda: (metric(c, "vigil_store_fenced_inputs_total") or 0) >= 1, 30)
    wait_for("node C finds it lost its partitions", lambda: (metric(c, "vigil_leases_lost_total") or 0) >= 1, 30)
    wait_for("and takes a share again", lambda: held_by(c, "node-c"), 30)

    codes = [decide((c, a)[i % 2], r) for i, r in enumerate(reviewed[third:2 * third])]
    check("after C's pause, decisions are taken on A and C", all(code == 200 for code in codes),
          [x for x in codes if x != 200][:5])

    # A stops in order: its partitions are given back as it goes, not left to expire.
    a.stop()
    rows = pg.psql("SELECT count(*) FROM leases WHERE node = 'node-a'", db="vigil").strip()
    check("node A gave its partitions back as it stopped", rows == "0", rows)
    check("it left the nodes' table", pg.psql("SELECT count(*) FROM nodes WHERE id = 'node-a'", db="vigil").strip() == "0")
    wait_for("node C holds every partition", lambda: (lambda s: s and s[0].get("node-c") == PARTITIONS and s)(shares(c)), 30)
    codes = [decide(c, r) for r in reviewed[2 * third: 2 * third + third // 2]]
    check("with A stopped, C decides", all(code == 200 for code in codes), [x for x in codes if x != 200][:5])
    a = Daemon(VIGIL, WORKFLOWS, node_dir("node-a"), extra_args=["--config", config("node-a")], admin=a.admin)
    procs.append(a)
    wait_for("node A restarted under its name takes a share again (16 and 16)",
             lambda: (lambda s: s and sorted(s[0].get(n, 0) for n in ("node-a", "node-c")) == [16, 16] and s)(shares(c)), 60)
    codes = [decide((a, c)[i % 2], r) for i, r in enumerate(reviewed[2 * third + third // 2:])]
    check("the last reviews are decided on A and C", all(code == 200 for code in codes), [x for x in codes if x != 200][:5])

    runs = [r for r in calls_b + timers_b + calls_c + reviewed if r]
    wait_for("every run completes", lambda: all((status(c, r) or {}).get("status") == "completed" for r in runs), 120)
    twice, decisions = [], []
    for r in runs:
        body = status(c, r) or {}
        completed = {}
        decided = 0
        for e in body.get("events", []):
            if e.get("type") == "StepCompleted":
                completed[e.get("step")] = completed.get(e.get("step"), 0) + 1
            if e.get("type") == "ApprovalDecided":
                decided += 1
        if any(n != 1 for n in completed.values()) or not completed:
            twice.append((r, completed))
        if r in reviewed and (decided != 1 or set(completed) != {"lookup", "review", "notify"}):
            decisions.append((r, decided, completed))
    check("each step of each run completed exactly once", not twice, twice[:5])
    check("each review was decided once, and each reviewed run made its lookup and its notification",
          not decisions, decisions[:5])

    keys = {k: n for k, n in stub.calls.items() if k}
    check("every call carried an idempotency key", "" not in stub.calls, stub.calls.get(""))
    known = set(runs)
    check("every key names a recorded attempt (RUN/STEP/ATTEMPT) of a run of the test",
          all(len(k.split("/")) == 3 and k.split("/")[0] in known for k in keys), [k for k in keys if k.split("/")[0] not in known][:5])
    calls = calls_b + calls_c
    per_step = {}
    for k in keys:
        run, step, _ = k.split("/")
        per_step.setdefault((run, step), set()).add(k)
    check("every call-making run reached the stub", all((r, "call") in per_step for r in calls if r), len(per_step))
    check("no step's call was made under two idempotency keys (no attempt beyond the first)",
          all(len(v) == 1 for v in per_step.values()), [v for v in per_step.values() if len(v) > 1][:5])
    made = stub.calls_of([r for r in calls if r])
    check("every call in flight on the killed and the paused node was made again, with its key",
          all(n >= 2 for n in made.values()), made)

    check("every run started", all(started_ok), started_ok.count(False))
    code, body = c.request("GET", "/api/v1/audit/verify", token=op)
    check("the audit chain the three nodes wrote verifies", code == 200 and body.get("ok") is True, body)
    for name in ("node-a", "node-b", "node-c"):
        with open(os.path.join(tmp, name, "serve.log"), errors="replace") as f:
            check(f"the store's password is in no log ({name})", PASSWORD not in f.read())
finally:
    for d in procs:
        try:
            if d.proc.poll() is None:
                d.proc.send_signal(signal.SIGCONT)
            d.stop()
        except Exception:  # noqa: BLE001
            pass
    stub.shutdown()
    pg.stop()
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
