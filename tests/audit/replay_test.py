#!/usr/bin/env python3
"""Replay through the real daemon's data: runs decided by a person replay `identical` with
`vigil replay`; an edited history does not; and a what-if with a lowered RED threshold
reports exactly the runs whose band changes (and no others)."""
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
WORKFLOW = os.path.join(SOURCE, "tests", "daemon", "workflows", "screening.yaml")
MARKERS = [[], ["violence"], ["weapons"], ["violence", "weapons"]]


def score(i):
    markers, incidents = MARKERS[i % 4], i % 3
    return 3 * ("violence" in markers) + 2 * ("weapons" in markers) + 2 * (incidents >= 2)


def replay(*args):
    p = subprocess.run([VIGIL, "replay", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="vigil-replay-")
try:
    wfdir = os.path.join(tmp, "workflows")
    os.makedirs(wfdir)
    shutil.copy(WORKFLOW, wfdir)
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [wfdir], os.path.join(tmp, "d")) as d:
        op = d.add_user("olivia", "operator")
        sup = d.add_user("sam", "approver", "mash-supervisor")
        ids = []
        for i in range(24):
            referral = {"id": f"REF-{i}", "markers": MARKERS[i % 4], "incidents": i % 3}
            code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "screening", "inputs": {"referral": referral}})
            ids.append(body["id"])
        for i, run in enumerate(ids):
            args = ["approve", f"{run}/review", "--yes"] + (["--rating", "RED", "--reason", "school raised a new concern"] if i % 5 == 0 else [])
            rc, _, err = d.cli(sup, *args)
            assert rc == 0, err
        data = d.data

    results = [replay(run, "--data", data) for run in ids]
    check("every run replays identical", all(rc == 0 and "identical" in out for rc, out, _ in results),
          [r for r in results if r[0] != 0][:2])
    rc, out, _ = replay(ids[0], "--data", data, "--json")
    j = json.loads(out) if rc == 0 else {}
    check("replay --json names the decisions", j.get("identical") and "assess" in j.get("recorded_decisions", {}), out)

    edited = os.path.join(tmp, "edited")
    shutil.copytree(data, edited)
    db = sqlite3.connect(os.path.join(edited, "vigil.db"))
    # The one copy of the history is the chained payloads: edit one (verify says where).
    db.execute("UPDATE audit SET payload = replace(payload, '\"band\":\"GREEN\"', '\"band\":\"RED\"') WHERE run_id = ? AND payload LIKE '%DecisionRecorded%'", (ids[0],))
    db.commit()
    db.close()
    rc, out, _ = replay(ids[0], "--data", edited)
    check("an edited history does not replay identical", rc == 1 and "diverges at event" in out and "DecisionRecorded assess" in out, out)

    lowered = os.path.join(tmp, "screening-v2.yaml")
    text = open(WORKFLOW).read().replace("version: 1", "version: 2").replace("RED: 6", "RED: 5")
    open(lowered, "w").write(text)
    rc, out, err = replay("--since", "2020-01-01", "--workflow", lowered, "--data", data, "--json")
    report = json.loads(out) if rc == 0 else {}
    expected = {ids[i] for i in range(24) if score(i) == 5}
    got = {c["run"] for c in report.get("changes", [])}
    check("what-if: exactly the runs scoring 5 move from AMBER to RED",
          report.get("replayed") == 24 and got == expected and len(expected) > 0 and
          all(c["recorded"]["band"] == "AMBER" and c["replayed"]["band"] == "RED" for c in report["changes"]),
          (report.get("replayed"), sorted(got), sorted(expected), err))
    rc, out, _ = replay("--since", "2020-01-01", "--workflow", lowered, "--data", data)
    check("what-if prints a table", rc == 0 and "AMBER (5) -> RED (5)" in out and f"{len(expected)} decision(s) would change" in out, out)
    rc, _, err = replay("--data", data)
    check("replay without a run or --since is a usage error", rc == 2, err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
