#!/usr/bin/env python3
"""A full disk loses nothing: 500 runs parked on durable timers, the disk "fills" (the store's
fault-injecting VFS makes every write fail with SQLITE_FULL while a flag file exists) while
their timers fire and new runs arrive, then frees. Every acknowledged run completes exactly
once without a restart, /readyz says so while the store refuses writes and recovers after,
and the audit trail verifies."""
import os
import subprocess
import sys
import tempfile
import shutil
import time
import urllib.error
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check


def readyz(d):
    req = urllib.request.Request(d.url + "/readyz", headers={"Authorization": f"Bearer {d.admin}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


tmp = tempfile.mkdtemp(prefix="vigil-diskfull-")
try:
    flag = os.path.join(tmp, "disk-is-full")
    os.environ["VIGIL_FAULT_DISK_FULL_WHILE"] = flag
    cfg = os.path.join(tmp, "vigil.yaml")
    open(cfg, "w").write("limits:\n  requests_per_second_per_token: 100000\n")
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [os.path.join(SOURCE, "tests", "daemon", "workflows")], os.path.join(tmp, "d"),
                extra_args=["--config", cfg]) as d:
        op = d.add_user("olivia", "operator", "auditor")
        acknowledged, refused = [], 0
        full_seen = None
        for i in range(503):
            if i == 500:
                open(flag, "w").close()  # the disk fills while the timers of all 500 fall due
            code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "pause", "inputs": {"n": i}})
            if code == 201:
                acknowledged.append(body["id"])
            else:
                refused += 1
        check("runs are acknowledged before the disk fills, and refused (not acknowledged) while it is full",
              len(acknowledged) == 500 and refused == 3, (len(acknowledged), refused))
        for _ in range(100):  # up to 10 s: timers of the first runs come due (2 s) and cannot be committed
            code, text = readyz(d)
            if code == 503:
                full_seen = text
                break
            time.sleep(0.1)
        check("/readyz says the store refuses writes while the disk is full", full_seen is not None and "store_failing" in full_seen,
              full_seen)
        time.sleep(3)  # more timers fall due while nothing can be written
        os.remove(flag)
        pending = list(acknowledged)
        for _ in range(180):  # up to 90 s, no restart
            still = []
            for run in pending:
                code, body = d.request("GET", f"/api/v1/runs/{run}", token=op, headers={"X-Vigil-Purpose": "disk full test"})
                if code != 200 or body.get("status") != "completed" or \
                        sum(1 for e in body.get("events", []) if e["type"] == "RunCompleted") != 1:
                    still.append(run)
            pending = still
            if not pending:
                break
            time.sleep(0.5)
        check(f"after the disk frees, all {len(acknowledged)} acknowledged runs complete exactly once, without a restart",
              not pending, pending[:5])
        code, text = readyz(d)
        check("/readyz is ready again", code == 200, text)
        data = d.data
    check("the daemon stopped cleanly", d.proc.returncode == 0, d.proc.returncode)
    p = subprocess.run([VIGIL, "audit", "verify", "--data", data], capture_output=True, text=True, timeout=120)
    check("the audit trail verifies after the full disk", p.returncode == 3 and p.stdout.startswith("OK "), p.stdout + p.stderr)
    log = open(os.path.join(tmp, "d", "serve.log")).read()
    check("the failure is logged once with what is kept, and the recovery", "kept for a retry" in log and "takes writes again" in log,
          log[-500:])
finally:
    os.environ.pop("VIGIL_FAULT_DISK_FULL_WHILE", None)
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
