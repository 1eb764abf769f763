#!/usr/bin/env python3
"""The runs list and a run's page over real HTTP on a loopback `vigil serve`: the search by
the workflow's reference (case-insensitive, part of it, or a run id's start; '%' and '_' are
plain text), the band filter (a decided band, a waiting approval's recommendation), 400s
naming a bad filter; a run's page lists each connector call with its purpose, what it was
sent and what came back, masked for a reader without a need to know and whole for an
auditor, and the replay verdict."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
FLOWS = os.path.join(SOURCE, "tests", "daemon", "workflows")
READ = {"X-Vigil-Purpose": "runs list and run page test"}

tmp = tempfile.mkdtemp(prefix="vigil-runs-view-")
server = None
try:
    server = subprocess.Popen(["/usr/bin/python3", os.path.join(SOURCE, "tests", "connectors", "http", "http_test_server.py"),
                               "--webhook-secret", "unused-webhook-secret"], stdout=subprocess.PIPE, text=True)
    records = f"http://127.0.0.1:{json.loads(server.stdout.readline())['http']}"
    with Daemon(VIGIL, [FLOWS], tmp) as d:
        operator = d.add_user("olivia", "operator")
        auditor = d.add_user("audrey", "auditor")

        lookups = {}
        for ref, name in (("REF-A1", "Synthetic Child A"), ("REF-B2", "Synthetic Child B"), ("ref_c3", "Synthetic Child C")):
            code, body = d.request("POST", "/api/v1/runs?wait=20", token=operator,
                                   body={"workflow": "lookup-call", "inputs": {"ref": ref, "url": records, "child": {"name": name}}})
            check(f"lookup-call {ref} completes", code == 201 and (body or {}).get("status") == "completed", (code, body))
            lookups[ref] = (body or {}).get("id")
        parked = {}
        for i, band in enumerate(("AMBER", "GREEN")):
            referral = {"id": f"TR-{i}", "band": band, "child": {"name": "A B"}}
            code, body = d.request("POST", "/api/v1/runs?wait=20", token=operator,
                                   body={"workflow": "triage-review", "inputs": {"referral": referral}})
            check(f"triage-review {band} parks at the review", code == 201 and (body or {}).get("status") == "waiting", (code, body))
            parked[band] = (body or {}).get("id")

        def listed(query):
            code, body = d.request("GET", f"/api/v1/runs?{query}", token=operator, headers=READ)
            return code, sorted(r["id"] for r in (body or {}).get("items", [])) if code == 200 else body

        code, ids = listed("q=ref-a")
        check("q= finds the reference case-insensitively", code == 200 and ids == [lookups["REF-A1"]], (code, ids))
        code, ids = listed("q=B2")
        check("q= finds part of a reference", code == 200 and ids == [lookups["REF-B2"]], (code, ids))
        code, ids = listed("q=ref")
        check("q= finds every run whose reference holds it", code == 200 and ids == sorted(lookups.values()), (code, ids))
        code, ids = listed("q=f_c")
        check("'_' in q= is a plain character", code == 200 and ids == [lookups["ref_c3"]], (code, ids))
        code, ids = listed("q=%25")
        check("'%' in q= is a plain character and matches nothing here", code == 200 and ids == [], (code, ids))
        code, ids = listed(f"q={lookups['REF-A1'][:12]}")
        check("q= also finds a run by the start of its id", code == 200 and lookups["REF-A1"] in ids, (code, ids))
        code, body = d.request("GET", "/api/v1/runs?q=REF-A1", token=operator, headers=READ)
        item = (body or {}).get("items", [{}])[0] if code == 200 and body.get("items") else {}
        check("a listed run carries its reference and band", item.get("reference") == "REF-A1" and item.get("band") == "AMBER", item)

        code, ids = listed("band=AMBER")
        check("band=AMBER: the runs rated AMBER and the one whose waiting approval recommends AMBER",
              code == 200 and ids == sorted(list(lookups.values()) + [parked["AMBER"]]), (code, ids))
        code, ids = listed("band=GREEN")
        check("band=GREEN: only the run whose approval recommends GREEN", code == 200 and ids == [parked["GREEN"]], (code, ids))
        code, ids = listed("band=GREEN&workflow=lookup-call")
        check("band and workflow filters combine", code == 200 and ids == [], (code, ids))
        for query, field in (("band=", "band"), ("band=" + "X" * 41, "band"), ("q=", "q"), ("q=" + "x" * 101, "q")):
            code, body = d.request("GET", f"/api/v1/runs?{query}", token=operator, headers=READ)
            check(f"{query[:12]}...: 400 naming {field}", code == 400 and body["error"]["field"] == field, (code, body))

        # The run page: each call, masked for an operator, whole for an auditor.
        run = lookups["REF-A1"]
        code, page = d.request("GET", f"/api/v1/runs/{run}?calls=1", token=operator, headers=READ)
        calls = (page or {}).get("calls", []) if code == 200 else []
        call = calls[0] if calls else {}
        check("the run page lists the one call with its action, purpose, access and outcome",
              len(calls) == 1 and call.get("action") == "http.get" and call.get("purpose") == "look the child up in the test records system"
              and call.get("access") == "consultation" and call.get("outcome") == "ok" and call.get("step") == "lookup", calls)
        check("an operator sees what the call was sent with the child's name masked",
              call.get("input", {}).get("url") == records + "/echo" and call.get("input", {}).get("query") == "***", call.get("input"))
        check("... and what came back with the echoed name masked",
              call.get("output", {}).get("json", {}).get("query") == "***" and
              call.get("output", {}).get("json", {}).get("method") == "GET", call.get("output"))
        check("nothing in the operator's page holds the child's name", "Synthetic Child A" not in json.dumps(page), "name leaked")
        check("the replay of the run is identical", (page or {}).get("replay", {}).get("identical") is True, (page or {}).get("replay"))
        check("the page carries the run's reference and band", page.get("reference") == "REF-A1" and page.get("band") == "AMBER",
              (page.get("reference"), page.get("band")))
        code, page = d.request("GET", f"/api/v1/runs/{run}?calls=1", token=auditor, headers=READ)
        call = ((page or {}).get("calls") or [{}])[0]
        check("an auditor sees what the call was sent and what came back, whole",
              call.get("input", {}).get("query") == {"name": "Synthetic Child A"} and
              call.get("output", {}).get("json", {}).get("query") == {"name": ["Synthetic Child A"]}, call)
        code, plain = d.request("GET", f"/api/v1/runs/{parked['AMBER']}", token=operator, headers=READ)
        check("a plain read of a run does not replay it", code == 200 and "calls" not in plain and "replay" not in plain
              and plain.get("band") == "AMBER", sorted(plain or {}))
        check("... and carries every event", code == 200 and [e.get("type") for e in plain.get("events", [])][:1] == ["RunStarted"],
              [e.get("type") for e in plain.get("events", [])])
        code, light = d.request("GET", f"/api/v1/runs/{parked['AMBER']}?events=0", token=operator, headers=READ)
        check("events=0 leaves the history out and keeps the rest", code == 200 and "events" not in light
              and {k: v for k, v in plain.items() if k != "events"} == light, (code, sorted(light or {})))
        code, page = d.request("GET", f"/api/v1/runs/{run}?calls=1&events=0", token=operator, headers=READ)
        check("calls=1&events=0 still replays the history", code == 200 and "events" not in page and len(page.get("calls", [])) == 1
              and page.get("replay", {}).get("identical") is True, (code, sorted(page or {})))
        code, body = d.request("GET", f"/api/v1/runs/{parked['AMBER']}?events=no", token=operator, headers=READ)
        check("events=no: 400 naming events", code == 400 and body["error"]["field"] == "events", (code, body))
        code, body = d.request("GET", f"/api/v1/runs/{parked['AMBER']}?calls=yes", token=operator, headers=READ)
        check("calls=yes: 400 naming calls", code == 400 and body["error"]["field"] == "calls", (code, body))
        code, page = d.request("GET", f"/api/v1/runs/{parked['AMBER']}?calls=1", token=operator, headers=READ)
        check("a run parked at an approval replays identical so far, with no calls",
              code == 200 and page.get("calls") == [] and page.get("replay", {}).get("identical") is True and page.get("band") == "AMBER",
              (code, page.get("calls"), page.get("replay"), page.get("band")))
finally:
    if server is not None:
        server.terminate()
        server.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
