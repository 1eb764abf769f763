#!/usr/bin/env python3
"""SIGHUP reloads workflows; SIGTERM while 200 runs are being started loses none that were
acknowledged; SIGTERM while 200 runs wait on timers loses none; and SIGTERM while 200 runs
have connector calls to a slow loopback server in flight or queued lets the running calls
finish and loses none: after each restart every run completes, exactly once."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402

checks = Checks()
check = checks.check


def start(data, flows, cfg):
    # The log goes to a file: a pipe nobody reads would fill and stall the daemon's logging.
    log = open(os.path.join(os.path.dirname(data), "serve.log"), "a")
    p = subprocess.Popen([VIGIL, "serve", "--config", cfg, "--data", data, "--listen", "127.0.0.1:0", "--workflows", flows],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    first = p.stdout.readline()
    token = p.stdout.readline().strip() if first.startswith("First start") else None
    line = p.stdout.readline() if token else first
    return p, token, int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))


def request(port, method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("X-Vigil-Purpose", "shutdown test")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
    except (urllib.error.URLError, ConnectionError, OSError):
        return 0, None


tmp = tempfile.mkdtemp(prefix="vigil-shutdown-")
data, flows, cfg = os.path.join(tmp, "data"), os.path.join(tmp, "flows"), os.path.join(tmp, "vigil.yaml")
shutil.copytree(os.path.join(SOURCE, "tests", "daemon", "workflows"), flows)
open(cfg, "w").write("limits:\n  requests_per_second_per_token: 100000\n")
server = None
try:
    server, admin, port = start(data, flows, cfg)
    p = subprocess.run([VIGIL, "users", "add", "op", "--role", "operator", "--data", data], capture_output=True, text=True)
    op = p.stdout.strip()

    src = open(os.path.join(flows, "quick.yaml")).read()
    open(os.path.join(flows, "quicker.yaml"), "w").write(src.replace("workflow: quick", "workflow: quicker"))
    server.send_signal(signal.SIGHUP)
    names = []
    for _ in range(50):
        code, body = request(port, "GET", "/api/v1/workflows", op)
        names = [w["name"] for w in (body or {}).get("items", [])]
        if "quicker" in names:
            break
        time.sleep(0.1)
    check("SIGHUP loads a new workflow file", "quicker" in names, names)

    acknowledged, lock = [], threading.Lock()

    def client(n):
        code, body = request(port, "POST", "/api/v1/runs", op, {"workflow": "quick", "inputs": {"n": n}})
        if code == 201:
            with lock:
                acknowledged.append(body["id"])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
    for i, t in enumerate(threads):
        t.start()
        if i == 100:
            server.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    rc = server.wait(timeout=30)
    check("SIGTERM under load exits 0", rc == 0, open(os.path.join(tmp, "serve.log")).read()[-800:])
    print(f"{len(acknowledged)} of 200 starts acknowledged before the stop")
    check("some runs were acknowledged before the stop", len(acknowledged) > 0, len(acknowledged))

    server, _, port = start(data, flows, cfg)
    lost = []
    for run in acknowledged:
        code, body = request(port, "GET", f"/api/v1/runs/{run}", op)
        completions = [e for e in (body or {}).get("events", []) if e["type"] == "RunCompleted"]
        if code != 200 or body["status"] != "completed" or len(completions) != 1:
            lost.append((run, code, body and body.get("status")))
    check(f"all {len(acknowledged)} acknowledged runs completed exactly once after the restart", not lost, lost[:5])

    # 200 runs in flight (parked on a durable timer) when SIGTERM arrives.
    parked = []
    for i in range(200):
        code, body = request(port, "POST", "/api/v1/runs", op, {"workflow": "pause", "inputs": {"n": i}})
        if code == 201:
            parked.append(body["id"])
    check("200 runs started", len(parked) == 200, len(parked))
    server.send_signal(signal.SIGTERM)
    check("SIGTERM with 200 runs in flight exits 0", server.wait(timeout=30) == 0)
    server, _, port = start(data, flows, cfg)
    deadline = time.monotonic() + 60
    pending = list(parked)
    while pending and time.monotonic() < deadline:
        still = []
        for run in pending:
            code, body = request(port, "GET", f"/api/v1/runs/{run}", op)
            if code != 200 or body["status"] != "completed":
                still.append(run)
            elif sum(1 for e in body["events"] if e["type"] == "RunCompleted") != 1:
                still.append(run)
        pending = still
        if pending:
            time.sleep(0.5)
    check("after the restart all 200 complete, each exactly once", not pending, pending[:5])

    # 200 runs each calling a loopback server that takes 800 ms to answer (8 at a time: 20 s): some calls are
    # running when SIGTERM arrives (they finish, within the 10 s bound), the rest are queued
    # (they stay in the store and run after the restart, with the same idempotency key).
    slow = subprocess.Popen(["/usr/bin/python3", os.path.join(SOURCE, "tests", "connectors", "http", "http_test_server.py"),
                             "--webhook-secret", "unused-webhook-secret"], stdout=subprocess.PIPE, text=True)
    try:
        slow_port = json.loads(slow.stdout.readline())["http"]
        calling = []
        for i in range(200):
            code, body = request(port, "POST", "/api/v1/runs", op,
                                 {"workflow": "slow-call", "inputs": {"url": f"http://127.0.0.1:{slow_port}/slow?ms=800"}})
            if code == 201:
                calling.append(body["id"])
        check("200 calling runs started", len(calling) == 200, len(calling))
        time.sleep(0.5)
        t0 = time.monotonic()
        server.send_signal(signal.SIGTERM)
        rc = server.wait(timeout=60)
        check("SIGTERM with connector calls in flight exits 0 within the bound", rc == 0 and time.monotonic() - t0 < 15,
              (rc, time.monotonic() - t0))
        server, _, port = start(data, flows, cfg)
        deadline = time.monotonic() + 90
        pending = list(calling)
        while pending and time.monotonic() < deadline:
            still = []
            for run in pending:
                code, body = request(port, "GET", f"/api/v1/runs/{run}", op)
                done = code == 200 and body["status"] == "completed"
                if not done or sum(1 for e in body["events"] if e["type"] == "RunCompleted") != 1 or \
                        sum(1 for e in body["events"] if e["type"] == "StepCompleted" and e.get("step") == "call") != 1:
                    still.append(run)
            pending = still
            if pending:
                time.sleep(0.5)
        check("after the restart all 200 calling runs complete, each call recorded once", not pending, pending[:5])
    finally:
        slow.terminate()
        slow.wait(timeout=10)
    server.send_signal(signal.SIGTERM)
    check("the last stop is clean", server.wait(timeout=30) == 0)
finally:
    if server is not None and server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(tmp, ignore_errors=True)

checks.finish()
