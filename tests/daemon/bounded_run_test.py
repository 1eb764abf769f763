#!/usr/bin/env python3
"""One author's workflow cannot stall the daemon: nested loops over input (300 x 300 items,
90,000 leaves) fail their run with a limit error while 20 other runs, started after it,
complete, and /readyz stays truthful throughout."""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check

NESTED = """workflow: nested-loops
version: 1
owner: operator
inputs:
  s: { type: string }
steps:
  - id: outer
    foreach: "${{ split(inputs.s, ',') }}"
    as: a
    steps:
      - id: inner
        foreach: "${{ split(inputs.s, ',') }}"
        as: b
        steps:
          - id: leaf
            set: { v: "${{ a }}" }
"""

tmp = tempfile.mkdtemp(prefix="vigil-bounded-")
try:
    wf = os.path.join(tmp, "workflows")
    os.makedirs(wf)
    shutil.copy(os.path.join(SOURCE, "tests", "daemon", "workflows", "quick.yaml"), wf)
    open(os.path.join(wf, "nested-loops.yaml"), "w").write(NESTED)
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [wf], os.path.join(tmp, "d")) as d:
        op = d.add_user("olivia", "operator", "auditor")
        s = ",".join(str(i) for i in range(300))
        t0 = time.monotonic()
        # Its start is one transition up to the step limit: bounded, though slow on the
        # sanitizer build, so the answer may take longer than an ordinary request's.
        code, big = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "nested-loops", "inputs": {"s": s}},
                              timeout=120)
        check("the nested-loop run is accepted", code == 201, big)
        others = []
        for i in range(20):
            code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "quick", "inputs": {"n": i}})
            others.append(body.get("id") if code == 201 else (code, body))
        check("20 other runs are accepted while it runs", all(isinstance(r, str) for r in others), others)
        ready = urllib.request.urlopen(urllib.request.Request(d.url + "/readyz", headers={"Authorization": f"Bearer {d.admin}"}),
                                       timeout=20)
        check("/readyz answers while it runs", ready.status == 200, ready.status)
        done = set()
        for _ in range(300):  # at most 60 s
            for r in others:
                if r not in done:
                    code, body = d.request("GET", f"/api/v1/runs/{r}?events=0", token=op, headers={"X-Vigil-Purpose": "test"})
                    if body.get("status") == "completed":
                        done.add(r)
            if len(done) == 20:
                break
            time.sleep(0.2)
        # Its state alone (20,000 steps) is megabytes: read once, without its history.
        final = {}
        for _ in range(60):  # at most 60 reads
            code, final = d.request("GET", f"/api/v1/runs/{big['id']}?events=0", token=op,
                                    headers={"X-Vigil-Purpose": "test"}, timeout=120)
            if final.get("status") in ("failed", "completed"):
                break
            time.sleep(1)
        check("all 20 other runs complete", len(done) == 20, len(done))
        err = json.dumps(final.get("error"))
        check("the nested-loop run fails with a limit error naming the step and the bound",
              final.get("status") == "failed" and "past 20000 steps" in err and "inner" in err, (final.get("status"), err[:300]))
        print(f"info: the nested-loop run ended after {time.monotonic() - t0:.1f} s")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
