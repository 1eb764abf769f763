#!/usr/bin/env python3
"""The access log over real HTTP (GET /api/v1/audit/access): two people read two runs; the
auditor finds each read by person, by run and by date, pages through them newest first with
limit= and before=/next, gets a 400 naming each bad parameter and never a payload; an
operator is refused; the auditor's own reading of the log is in the audit trail, with what
was asked; and GET /api/v1/audit/verify names the last signed checkpoint."""
import json
import os
import sys
import tempfile
import shutil
import urllib.parse
from datetime import datetime, timedelta, timezone

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
HEADER_FIELDS = {"seq", "time", "kind", "actor", "run", "step", "purpose", "recipient", "subject"}
AUDIT_PURPOSE = "checking who read the test runs"

tmp = tempfile.mkdtemp(prefix="vigil-access-log-")
try:
    with Daemon(VIGIL, [os.path.join(SOURCE, "tests", "daemon", "workflows")], tmp) as d:
        olivia = d.add_user("olivia", "operator")
        ben = d.add_user("ben", "operator")
        ada = d.add_user("ada", "auditor")
        ask = {"X-Vigil-Purpose": AUDIT_PURPOSE}

        served = [0]  # the auditor's reads of the log that were answered (each is recorded)

        def access(query="", token=ada, headers=None):
            code, body = d.request("GET", "/api/v1/audit/access" + (f"?{query}" if query else ""), token=token,
                                   headers=ask if headers is None else headers)
            if code == 200 and token == ada:
                served[0] += 1
            return code, body

        def when(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        def q(**params):
            return urllib.parse.urlencode(params)

        runs = []
        for n in (1, 2):
            code, body = d.request("POST", "/api/v1/runs", token=olivia, body={"workflow": "quick", "inputs": {"n": n}})
            runs.append(body.get("id") if code in (200, 201, 202) else None)
        check("two runs are started", all(runs), runs)
        r1, r2 = runs

        # Each read states its own purpose, so each record is known by it.
        reads = [(olivia, "olivia", r1), (olivia, "olivia", r1), (ben, "ben", r2), (olivia, "olivia", r2),
                 (ben, "ben", r1), (olivia, "olivia", r1), (ben, "ben", r2)]
        expected = []  # (actor, run, purpose), oldest first
        for i, (token, who, run) in enumerate(reads):
            purpose = f"read {i} of {run} by {who}"
            code, _ = d.request("GET", f"/api/v1/runs/{run}", token=token, headers={"X-Vigil-Purpose": purpose})
            check(f"read {i} is served", code == 200, code)
            expected.append((who, run, purpose))

        def mine(items):
            """The items that are the reads above (the auditor's own reads are in the log too)."""
            return [(x["actor"], x["run"], x["purpose"]) for x in items if x["actor"] in ("olivia", "ben")]

        def newest_first(pred):
            return [e for e in reversed(expected) if pred(e)]

        code, everything = access()
        items = everything.get("items", []) if code == 200 else []
        check("the auditor reads the access log", code == 200 and "next" not in everything, (code, everything))
        check("it holds every read, newest first", mine(items) == newest_first(lambda e: True), mine(items))
        check("newest first means by descending sequence number",
              [x["seq"] for x in items] == sorted((x["seq"] for x in items), reverse=True), [x["seq"] for x in items])
        check("only consultations and disclosures", all(x["kind"] in ("consultation", "disclosure") for x in items),
              sorted({x["kind"] for x in items}))
        check("only the record headers: no payload, nothing beyond the listed fields",
              all(set(x) <= HEADER_FIELDS and {"seq", "time", "kind", "actor", "run", "purpose"} <= set(x) for x in items),
              [sorted(x) for x in items][:2])

        code, body = access(q(person="olivia"))
        check("person= gives that person's reads only", code == 200 and mine(body["items"]) == newest_first(lambda e: e[0] == "olivia")
              and all(x["actor"] == "olivia" for x in body["items"]), body)
        code, body = access(q(person="Olivia"))
        check("person= is exact", code == 200 and body["items"] == [], body)
        code, body = access(q(run=r2))
        check("run= gives the reads of that run", code == 200 and mine(body["items"]) == newest_first(lambda e: e[1] == r2), body)
        check("and of no other run", code == 200 and all(x["run"] == r2 for x in body["items"]), body)
        code, body = access(q(person="ben", run=r1))
        check("person= and run= together", code == 200 and mine(body["items"]) == newest_first(lambda e: e[:2] == ("ben", r1))
              and len(body["items"]) == 1, body)
        ben_r1_seq = body["items"][0]["seq"] if code == 200 and body["items"] else None

        day = items[0]["time"][:10]
        next_day = (datetime.strptime(day, "%Y-%m-%d") + timedelta(days=1)).strftime("%Y-%m-%d")
        prev_day = (datetime.strptime(day, "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m-%d")
        code, body = access(q(person="olivia", **{"from": day, "to": day}))
        check("from= and to= the same date take in that whole UTC day", code == 200 and len(body["items"]) == 4, body)
        code, body = access(q(person="olivia", **{"from": next_day}))
        check("from= the next day leaves nothing", code == 200 and body["items"] == [], body)
        code, body = access(q(person="olivia", to=prev_day))
        check("to= the day before leaves nothing", code == 200 and body["items"] == [], body)
        olivia_items = access(q(person="olivia"))[1]["items"]
        # A UTC time: from= includes it, to= excludes it.
        pivot = olivia_items[1]["time"]
        code, later = access(q(person="olivia", **{"from": pivot}))
        code2, earlier = access(q(person="olivia", to=pivot))
        check("from= a UTC time includes the records at it and after",
              code == 200 and [x["seq"] for x in later["items"]] == [x["seq"] for x in olivia_items if when(x["time"]) >= when(pivot)], later)
        check("to= a UTC time is exclusive",
              code2 == 200 and [x["seq"] for x in earlier["items"]] == [x["seq"] for x in olivia_items if when(x["time"]) < when(pivot)], earlier)

        # Paging: limit=3 over olivia's four reads, then one at a time to the end.
        code, first = access(q(person="olivia", limit=3))
        check("a page holds at most limit= records and says where the next begins",
              code == 200 and len(first["items"]) == 3 and first.get("next") == first["items"][-1]["seq"], first)
        code, second = access(q(person="olivia", limit=3, before=first.get("next", 1)))
        check("before=next gives the older records, and the last page has no next",
              code == 200 and [x["seq"] for x in first["items"] + second["items"]] == [x["seq"] for x in olivia_items]
              and "next" not in second, second)
        walked, before, pages = [], None, 0
        while pages < 10:
            code, page = access(q(person="olivia", limit=1, **({"before": before} if before else {})))
            if code != 200:
                break
            walked += page["items"]
            pages += 1
            before = page.get("next")
            if before is None:
                break
        check("one record a page walks every record once, newest first",
              [x["seq"] for x in walked] == [x["seq"] for x in olivia_items] and pages == 4, (pages, walked))
        code, body = access(q(person="olivia", limit=4))
        check("a page that ends exactly at the oldest record has no next", code == 200 and len(body["items"]) == 4
              and "next" not in body, body)
        code, body = access(q(before=olivia_items[0]["seq"], person="olivia"))
        check("before= gives only records with a lower sequence number",
              code == 200 and [x["seq"] for x in body["items"]] == [x["seq"] for x in olivia_items[1:]], body)

        bad = [("person", q(person="")), ("person", "person=a%01b"), ("person", q(person="x" * 201)),
               ("run", q(run="")), ("run", q(run="r 1")),
               ("from", q(**{"from": "yesterday"})), ("from", q(**{"from": "2026-02-30"})), ("to", q(to="2026-13-01")),
               ("to", q(**{"from": "2026-12-02", "to": "2026-12-01"})),
               ("limit", q(limit=0)), ("limit", q(limit=501)), ("limit", q(limit="ten")), ("limit", q(limit="10x")),
               ("limit", q(limit="-5")), ("before", q(before=0)), ("before", q(before="-1")), ("before", q(before="abc"))]
        for field, query in bad:
            code, body = access(query)
            err = (body or {}).get("error", {})
            check(f"400 naming {field} for ?{query[:40]}", code == 400 and err.get("field") == field, (code, body))
        code, body = access(q(limit=500))
        check("limit=500 is the largest page", code == 200, code)
        code, body = access(headers={})
        check("without a purpose: 400 naming purpose", code == 400 and body["error"].get("field") == "purpose", (code, body))
        code, body = access(token=olivia)
        check("an operator may not read the access log (403)", code == 403, (code, body))
        code, body = access(token=None)
        check("nor anyone without a token (401)", code == 401, code)

        # The auditor's readings of the log are consultations too, with what was asked.
        asked_so_far = served[0]
        code, body = access(q(person="ada", limit=500))
        own = body.get("items", []) if code == 200 else []
        check("each of the auditor's answered reads of the access log is in it, with the purpose stated",
              len(own) == asked_so_far and all(x["kind"] == "consultation" and x["purpose"] == AUDIT_PURPOSE for x in own), own[:3])
        check("a read of the log filtered by run is recorded against that run",
              any(x["run"] == r1 for x in own) and any(x["run"] == r2 for x in own), [x["run"] for x in own][:10])
        code, bundle = d.request("GET", f"/api/v1/audit/export?since={day}", token=ada, headers=ask)
        payloads = []
        for entry in bundle.get("records", []) if code == 200 else []:
            rec = entry["record"]
            if rec["actor"] == "ada" and rec["payload"]:
                p = json.loads(rec["payload"])
                if p.get("event") == "audit_access_log":
                    payloads.append((rec["run"], p))
        asked = [p for run, p in payloads if run == r1 and p["query"] == {"person": "ben", "run": r1, "limit": 100}]
        check("the audit record says what was asked and which records were shown",
              len(asked) == 1 and asked[0]["records"] == [ben_r1_seq], payloads[:3])
        code, body = access(q(person="ada", limit=1))
        check("an export is a disclosure and is in the log too",
              code == 200 and body["items"][0]["kind"] == "disclosure" and body["items"][0]["recipient"] == "ada", body)

        # The last signed checkpoint, with the verdict.
        code, v = d.request("GET", "/api/v1/audit/verify", token=ada)
        last = v.get("last_checkpoint") if code == 200 else None
        check("verify names the last signed checkpoint: its size, time and key",
              isinstance(last, dict) and v["ok"] and 1 <= last["size"] <= v["records"] and last["key_id"] == v["key_id"]
              and when(last["time"]) <= datetime.now(timezone.utc) + timedelta(minutes=1), v)
        check("verify signs the head first, so its last checkpoint covers every record", last and last["size"] == v["records"], v)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
