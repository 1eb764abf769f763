#!/usr/bin/env python3
"""Two `vigil serve` processes on one PostgreSQL database: runs started on one are listed,
read and decided on the other; one killed with SIGKILL loses nothing, and the other goes on
deciding; the audit trail both extended verifies on either, and its access log holds both
nodes' reads; the first node restarted on the same store sees every run as it now is. The
store's password comes from the secrets file and appears in no log."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402
from postgres import PASSWORD, PostgresServer  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]
RUNS = 12

tmp = tempfile.mkdtemp(prefix="vigil-pg-nodes-")
pg = PostgresServer()
nodes = []
try:
    pg.psql("CREATE DATABASE vigil ENCODING 'UTF8' TEMPLATE template0")
    secrets = os.path.join(tmp, "secrets.yaml")
    with open(secrets, "w") as f:
        f.write(f"STORE_PASSWORD: {PASSWORD}\n")
    os.chmod(secrets, 0o600)
    config = os.path.join(tmp, "vigil.yaml")
    with open(config, "w") as f:
        f.write(f"secrets_file: {secrets}\nstore:\n  postgres: {pg.conninfo('vigil')}\n  password_secret: STORE_PASSWORD\n"
                f"audit:\n  checkpoint_log: {os.path.join(tmp, 'checkpoints.log')}\n")

    a_tmp, b_tmp = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    os.makedirs(a_tmp)
    os.makedirs(b_tmp)
    a = Daemon(VIGIL, WORKFLOWS, a_tmp, extra_args=["--config", config])
    nodes.append(a)
    op = a.add_user("olivia", "operator", "auditor")
    sup = a.add_user("sam", "approver", "mash-supervisor")
    ids = []
    for i in range(RUNS):
        code, body = a.request("POST", "/api/v1/runs", token=op, body={
            "workflow": "triage-review",
            "inputs": {"referral": {"id": f"REF-{i:03d}", "band": "AMBER", "child": {"name": f"Synthetic Child {i}"}}}})
        check("a run starts on node A", code == 201, body)
        ids.append(body["id"])

    # Users and tokens are still each node's own (auth.db): node B gets a copy of A's.
    os.makedirs(os.path.join(b_tmp, "data"))
    with sqlite3.connect(os.path.join(a.data, "auth.db")) as src, sqlite3.connect(os.path.join(b_tmp, "data", "auth.db")) as dst:
        src.backup(dst)  # consistent while node A runs (its WAL included)
    # So are the signing keys: both nodes sign the one chain's checkpoints as the same log.
    shutil.copytree(os.path.join(a.data, "keys"), os.path.join(b_tmp, "data", "keys"))
    b = Daemon(VIGIL, WORKFLOWS, b_tmp, extra_args=["--config", config], admin=a.admin)
    nodes.append(b)
    code, body = b.request("GET", "/api/v1/runs?limit=100", token=op, headers={"X-Vigil-Purpose": "triage"})
    listed = {r["id"]: r["status"] for r in body.get("runs", body.get("items", []))} if code == 200 else {}
    check("node B lists every run node A started", set(ids) <= set(listed), (code, body))
    check("they are parked at the approval", all(listed.get(r) == "waiting" for r in ids), listed)

    def decide(node, run):
        rc, _, err = node.cli(sup, "approve", f"{run}/review", "--reason", "research supports the rating", "--yes",
                              purpose="triage")
        return rc, err

    for run in ids[: RUNS // 2]:
        rc, err = decide(b, run)
        check(f"node B decides {run}, started on node A", rc == 0, err)

    def status(node, run):
        code, body = node.request("GET", f"/api/v1/runs/{run}", token=op, headers={"X-Vigil-Purpose": "triage"})
        return body.get("status") if code == 200 else (code, body)

    check("node A reads the runs B decided as completed",
          all(status(a, r) == "completed" for r in ids[: RUNS // 2]), [status(a, r) for r in ids[: RUNS // 2]])

    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=30)
    for run in ids[RUNS // 2:]:
        rc, err = decide(b, run)
        check(f"with node A killed, node B decides {run}", rc == 0, err)
    check("every run completed", all(status(b, r) == "completed" for r in ids), [status(b, r) for r in ids])

    code, body = b.request("GET", "/api/v1/audit/verify", token=op)
    check("the audit trail both nodes wrote verifies on node B", code == 200 and body.get("ok") is True, body)
    check("it holds the records of every run", code == 200 and body.get("records", 0) > RUNS * 3, body)
    code, body = b.request("GET", "/api/v1/audit/access?limit=500", token=op, headers={"X-Vigil-Purpose": "audit"})
    check("the access log is read from the shared store", code == 200 and len(body.get("records", body.get("items", []))) > 0, body)

    a2 = Daemon(VIGIL, WORKFLOWS, a_tmp, extra_args=["--config", config], admin=a.admin)
    nodes.append(a2)
    check("node A restarted sees every run as node B left it",
          all(status(a2, r) == "completed" for r in ids), [status(a2, r) for r in ids])
    for n in nodes:
        n.stop()
    # Offline, with every node stopped: the shared store is sound, and its chain verifies
    # against the key in a node's data directory.
    p = subprocess.run([VIGIL, "store", "check", "--config", config], capture_output=True, text=True, timeout=60)
    check("vigil store check finds the shared store sound", p.returncode == 0 and p.stdout.strip().endswith(", ok"),
          (p.returncode, p.stdout, p.stderr))
    p = subprocess.run([VIGIL, "store", "migrate", "--config", config], capture_output=True, text=True, timeout=60)
    check("vigil store migrate on a current schema changes nothing and says so",
          p.returncode == 0 and "PostgreSQL database vigil on 127.0.0.1: schema version" in p.stdout, (p.stdout, p.stderr))
    p = subprocess.run([VIGIL, "audit", "verify", "--config", config, "--data", os.path.join(b_tmp, "data")],
                       capture_output=True, text=True, timeout=60)
    check("vigil audit verify --config reads the shared store's chain", p.returncode == 0 and p.stdout.startswith("OK "),
          (p.returncode, p.stdout, p.stderr))
    for text in (p.stdout + p.stderr,):
        check("and names no password", PASSWORD not in text)
    for n in nodes:
        log = open(n.log_path, errors="replace").read()
        check(f"the store's password is in no log ({n.log_path})", PASSWORD not in log)
        check(f"the log names the store ({n.log_path})", "store: PostgreSQL database vigil on 127.0.0.1" in log, log[-2000:])
finally:
    for n in nodes:
        n.stop()
    pg.stop()
    if os.environ.get("VIGIL_KEEP_TMP"):
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
