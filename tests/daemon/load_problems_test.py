#!/usr/bin/env python3
"""A workflow file refused on SIGHUP is shown over the API: GET /api/v1/workflows lists it
under load_problems with each problem's line, column and message (the same as `vigil
validate` prints), the time of the load and the version that stays active, and marks the
workflow "refused" while that older version still runs. Fixing the file and sending SIGHUP
again clears it; a deleted file drops out."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check


def validate(path):
    """`vigil validate` on one file: its `FILE:LINE:COL: error: MESSAGE` lines."""
    p = subprocess.run([VIGIL, "validate", path], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    return [l for l in (p.stdout + p.stderr).splitlines() if ": error: " in l]


def reload_until(daemon, token, done):
    """Sends SIGHUP and reads the catalogue until `done(answer)` holds (at most 10 s)."""
    daemon.proc.send_signal(signal.SIGHUP)
    body = None
    for _ in range(100):
        code, body = daemon.request("GET", "/api/v1/workflows", token)
        if code == 200 and done(body):
            return body
        time.sleep(0.1)
    return body


def problem_of(body, name):
    return next((p for p in body["load_problems"] if os.path.basename(p["file"]) == name), None)


def item_of(body, name):
    return next((w for w in body["items"] if w["name"] == name), None)


tmp = tempfile.mkdtemp(prefix="vigil-load-problems-")
flows = os.path.join(tmp, "flows")
os.makedirs(flows)
quick = os.path.join(flows, "quick.yaml")
original = open(os.path.join(SOURCE, "tests", "daemon", "workflows", "quick.yaml")).read()
open(quick, "w").write(original)
try:
    with Daemon(VIGIL, [flows], tmp) as d:
        admin = d.admin
        operator = d.add_user("olivia", "operator")
        code, body = d.request("GET", "/api/v1/workflows", admin)
        check("at start nothing is refused", code == 200 and body["load_problems"] == [], body)
        check("and quick is valid", (item_of(body, "quick") or {}).get("validation") == "valid", body)

        # quick.yaml is broken (an unknown key), a new file is broken too, a third is not YAML.
        open(quick, "w").write(original.replace("    set: {", "    sett: {"))
        open(os.path.join(flows, "fresh.yaml"), "w").write(
            "workflow: fresh\nversion: 1\nowner: operator\nsteps:\n  - id: a\n    set: { x: \"${{ steps.nowhere.output }}\" }\n")
        open(os.path.join(flows, "garbage.yaml"), "w").write("workflow: [unclosed\n")
        expected = validate(quick)
        check("vigil validate finds the broken key", len(expected) == 1, expected)
        body = reload_until(d, admin, lambda b: len(b["load_problems"]) == 3)
        check("after SIGHUP the three refused files are listed", len(body["load_problems"]) == 3, body)
        p = problem_of(body, "quick.yaml") or {}
        diags = p.get("diagnostics", [])
        check("a refused file is named as configured: the workflow folder, then its name", p.get("file") == quick, p)
        check("with its workflow and version", (p.get("workflow"), p.get("version")) == ("quick", 1), p)
        check("and the time of the load", str(p.get("loaded_at", "")).endswith("Z"), p)
        check("the version that stays active is named", p.get("active") == {"workflow": "quick", "version": 1}, p)
        shown = [f"{x['file']}:{x['line']}:{x['column']}: error: {x['message']}" for x in diags]
        check("each problem has the line, column and message vigil validate prints", shown == expected, (shown, expected))
        check("with its category", [x["category"] for x in diags] == ["schema"], diags)
        item = item_of(body, "quick") or {}
        check("the workflow is marked refused, with the count of problems",
              (item.get("validation"), item.get("problem_count"), item.get("version")) == ("refused", 1, 1), item)
        fresh = problem_of(body, "fresh.yaml") or {}
        check("a new file that never loaded names its workflow and has no active version",
              fresh.get("workflow") == "fresh" and fresh.get("active") is None and fresh.get("diagnostics"), fresh)
        check("an unreadable file is listed without a workflow name",
              (problem_of(body, "garbage.yaml") or {}).get("workflow") is None, problem_of(body, "garbage.yaml"))
        code, other = d.request("GET", "/api/v1/workflows", operator)
        check("every role that reads workflows sees the same problems",
              code == 200 and other["load_problems"] == body["load_problems"], other)
        code, _ = d.request("GET", "/api/v1/workflows")
        check("without a token nothing is shown", code == 401, code)
        code, shown_one = d.request("GET", "/api/v1/workflows/quick", admin)
        check("one workflow's page carries its validation too", code == 200 and shown_one.get("validation") == "refused", shown_one)

        # The earlier version still runs.
        code, run = d.request("POST", "/api/v1/runs?wait=20", operator, {"workflow": "quick", "inputs": {"n": 3}},
                              headers={"X-Vigil-Purpose": "load problems test"})
        check("the earlier version still runs", code in (200, 201) and run.get("status") == "completed"
              and (run.get("outputs") or {}).get("n") == 6, (code, run))

        # Other content under the version already published: refused at the version key.
        open(quick, "w").write(original.replace("inputs.n * 2", "inputs.n * 3"))
        body = reload_until(d, admin, lambda b: "already published" in str(problem_of(b, "quick.yaml")))
        diags = (problem_of(body, "quick.yaml") or {}).get("diagnostics", [])
        check("a changed file under a published version is refused at its version key",
              [(x["line"], x["column"], x["message"]) for x in diags]
              == [(3, 1, "version 1 of quick is already published with other content; publish version 2")], diags)

        # Fixed and deleted: nothing is listed any more.
        open(quick, "w").write(original)
        os.remove(os.path.join(flows, "fresh.yaml"))
        os.remove(os.path.join(flows, "garbage.yaml"))
        body = reload_until(d, admin, lambda b: b["load_problems"] == [])
        check("a fixed file's problems and deleted files are gone after SIGHUP", body["load_problems"] == [], body)
        check("and quick is valid again", (item_of(body, "quick") or {}).get("validation") == "valid", body)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
