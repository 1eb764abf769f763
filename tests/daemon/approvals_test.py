#!/usr/bin/env python3
"""Approvals end to end through the real daemon and CLI: 100 runs park at a four-eyes
approval; three people in three teams decide them (agree, reject, override AMBER to RED)
with the real `vigil` client; the runs take the right branches; refusals (starter,
unassigned, no reason, stale view, decided twice) are clear; masked fields per role;
reassignment; the override report, per step and per approver; every decision, its reason and
its --yes flag is in the history."""
import json
import os
import sys
import tempfile
import shutil
from concurrent.futures import ThreadPoolExecutor

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
RUNS = 100


def band_of(i):
    return ["AMBER", "GREEN", "RED", "AMBER", "GREEN"][i % 5]


def decider_of(i):
    """sam agrees, ines rejects, leo rates RED (an override unless the band was RED)."""
    if i == 5 or i % 3 == 2:
        return "leo"
    return "sam" if i % 3 == 0 else "ines"

tmp = tempfile.mkdtemp(prefix="vigil-approvals-")
try:
    with Daemon(VIGIL, [os.path.join(SOURCE, "tests", "daemon", "workflows")], tmp) as d:
        # The starter is also a supervisor: four-eyes must stop them deciding their own runs.
        starter = d.add_user("olivia", "operator", "approver", "mash-supervisor")
        sup = d.add_user("sam", "approver", "mash-supervisor")
        insp = d.add_user("ines", "approver", "duty-inspector")
        lead = d.add_user("leo", "approver", "safeguarding-lead")
        stranger = d.add_user("pat", "approver", "youth-offending")
        auditor = d.add_user("audrey", "auditor")
        admin = d.admin

        def start(i):
            band = band_of(i)
            referral = {"id": f"REF-{i:03d}", "band": band, "child": {"name": f"Synthetic Child {i}", "dob": "2015-01-01"}}
            rc, out, err = d.cli(starter, "run", "triage-review", "--input", json.dumps({"referral": referral}), "--json")
            return json.loads(out)["id"] if rc == 0 else "error: " + err

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(start, range(RUNS)))
        check("100 runs started through the CLI", all(not i.startswith("error") for i in ids), [i for i in ids if i.startswith("error")][:3])

        rc, out, err = d.cli(sup, "approvals", "--json")
        inbox = json.loads(out)["items"] if rc == 0 else []
        check("the supervisor's inbox holds all 100 parked runs", len(inbox) == RUNS and {t["run"] for t in inbox} == set(ids),
              (rc, len(inbox), err))
        rc, out, _ = d.cli(starter, "approvals", "--json")
        check("four-eyes: the starter's inbox leaves out their own runs", rc == 0 and json.loads(out)["items"] == [], out[:200])
        rc, out, _ = d.cli(stranger, "approvals", "--json")
        check("a team not assigned sees nothing", rc == 0 and json.loads(out)["items"] == [], out[:200])

        first = f"{ids[0]}/review"
        rc, _, err = d.cli(starter, "approve", first, "--reason", "looks right to me", "--yes")
        check("four-eyes: the starter is refused", rc == 1 and "four-eyes: 'olivia' may not decide" in err and "HTTP 403" in err, err)
        rc, _, err = d.cli(stranger, "approve", first, "--reason", "looks right to me", "--yes")
        check("an unassigned approver cannot even open the task", rc == 1 and "this approval task is not assigned to you" in err and "HTTP 403" in err, err)
        rc, _, err = d.cli(sup, "approve", first, "--reason", "short", "--yes")
        check("a too-short reason is refused naming the field", rc == 1 and "reason of at least 10 characters" in err, err)
        rc, _, err = d.cli(sup, "decide", first, "maybe", "--reason", "not sure at all", "--yes")
        check("an unknown option is refused", rc == 1 and "decision must be one of: approve, reject" in err, err)

        # What each role is shown: the child's details are sensitive.
        code, task = d.request("GET", f"/api/v1/approvals/{ids[0]}/review", token=sup)
        shown = task.get("show", {}).get("inputs.referral", {})
        check("the approver sees the referral with the child masked",
              code == 200 and shown.get("child") == "***" and shown.get("id") == "REF-000", task)
        check("the recommendation is shown beside the decision", task.get("recommendation") == "AMBER", task)
        code, body = d.request("POST", f"/api/v1/approvals/{ids[0]}/review/decide", token=sup,
                               body={"decision": "approve", "reason": "research complete", "shown_digest": "0" * 64})
        check("a decision on a stale view is refused", code == 409 and body["error"]["code"] == "stale_view", body)
        code, body = d.request("POST", f"/api/v1/approvals/{ids[1]}/review/decide", token=insp,
                               body={"decision": "approve", "reason": "research complete", "shown_digest": task["shown_digest"]})
        check("deciding without opening the task is refused", code == 409 and body["error"]["code"] == "not_opened", body)
        code, run = d.request("GET", f"/api/v1/runs/{ids[0]}", token=starter, headers={"X-Vigil-Purpose": "checking my referral"})
        check("an operator reads the run with the child masked",
              code == 200 and run["inputs"]["referral"]["child"] == "***" and
              run["events"][0]["data"]["inputs"]["referral"]["child"] == "***", run.get("inputs"))
        code, run = d.request("GET", f"/api/v1/runs/{ids[0]}", token=auditor, headers={"X-Vigil-Purpose": "audit sample"})
        check("an auditor sees it unmasked", code == 200 and run["inputs"]["referral"]["child"]["name"] == "Synthetic Child 0", run.get("inputs"))

        # Claims: the supervisor claims run 3's task; the inspector is kept out.
        rc, out, err = d.cli(sup, "claim", f"{ids[3]}/review")
        check("claim", rc == 0 and "claimed until" in out, err)
        rc, _, err = d.cli(insp, "approve", f"{ids[3]}/review", "--reason", "research complete", "--yes")
        check("a task claimed by another is a conflict", rc == 1 and "claimed by 'sam'" in err and "HTTP 409" in err, err)

        # Reassignment by an admin, with a reason: run 5 goes to leo by name.
        rc, _, err = d.cli(admin, "reassign", f"{ids[5]}/review", "--to-user", "leo", "--reason", "sam is on leave this week")
        check("an admin reassigns a task", rc == 0, err)
        rc, _, err = d.cli(sup, "approve", f"{ids[5]}/review", "--reason", "research complete", "--yes")
        check("after reassignment the old team is refused", rc == 1 and "not assigned" in err, err)

        # Three people, three outcomes: i%3==0 sam agrees, 1 ines rejects, 2 leo overrides to RED.
        def decide(i):
            task = f"{ids[i]}/review"
            if decider_of(i) == "leo":
                return d.cli(lead, "approve", task, "--rating", "RED", "--reason", "new information from the school today", "--yes")
            if decider_of(i) == "sam":
                return d.cli(sup, "approve", task, "--reason", "research supports the rating", "--yes")
            return d.cli(insp, "reject", task, "--reason", "no safeguarding concern found", "--yes")

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(decide, range(RUNS)))
        bad = [(i, r[2]) for i, r in enumerate(results) if r[0] != 0]
        check("every decision through the CLI is accepted", not bad, bad[:3])
        rc, _, err = d.cli(insp, "reject", f"{ids[0]}/review", "--reason", "no safeguarding concern found", "--yes")
        check("deciding a decided task is a conflict", rc == 1 and "is not open" in err and "HTTP 409" in err, err)

        problems = []
        for i, run_id in enumerate(ids):
            code, run = d.request("GET", f"/api/v1/runs/{run_id}", token=auditor, headers={"X-Vigil-Purpose": "audit of decisions"})
            if code != 200 or run["status"] != "completed":
                problems.append(f"{run_id}: {code} {run.get('status')}")
                continue
            expect_reject = decider_of(i) == "ines"
            branch = "closed" if expect_reject else "notify"
            if run["steps"].get(branch, {}).get("status") != "completed":
                problems.append(f"{run_id}: branch {branch} not taken")
            decided = [e for e in run["events"] if e["type"] == "ApprovalDecided"]
            if len(decided) != 1 or len(decided[0]["data"]["reason"]) < 10:
                problems.append(f"{run_id}: decisions in history {decided}")
                continue
            vote = decided[0]["data"]
            want_by = decider_of(i)
            if vote["decided_by"] != want_by or len(vote["shown_digest"]) != 64 or "seconds_to_decide" not in vote:
                problems.append(f"{run_id}: vote {vote}")
            if vote.get("confirmed") != "yes_flag":
                problems.append(f"{run_id}: a --yes decision recorded as confirmed={vote.get('confirmed')}")
            overriding = want_by == "leo" and band_of(i) != "RED"
            if vote.get("agreed") == overriding:
                problems.append(f"{run_id}: agreed={vote.get('agreed')} but overriding={overriding}")
            if not expect_reject and run["outputs"]["rating"] != ("RED" if want_by == "leo" else band_of(i)):
                problems.append(f"{run_id}: rating {run['outputs']}")
        checks.problems("all 100 runs completed on the right branch with each decision, reason and evidence recorded", problems)

        rc, out, err = d.cli(admin, "approvals", "--report", "--json")
        report = json.loads(out) if rc == 0 else {}
        step = next((s for s in report.get("steps", []) if s["workflow"] == "triage-review"), {})
        overridden = sum(1 for i in range(RUNS) if decider_of(i) == "leo" and band_of(i) != "RED")
        check("the report counts decisions and overrides", step.get("decided") == RUNS and overridden > 20 and
              step.get("overridden") == overridden and step.get("open") == 0, (step, overridden))
        people = {a["user"]: a for a in report.get("approvers", [])}
        by_person = {u: sum(1 for i in range(RUNS) if decider_of(i) == u) for u in ("sam", "ines", "leo")}
        check("the report gives each approver's decisions, overrides and --yes decisions",
              set(people) == set(by_person) and all(people[u]["decisions"] == n and people[u]["yes_flag"] == n for u, n in by_person.items())
              and people["leo"]["overridden"] == overridden and people["sam"]["override_rate"] == 0
              and abs(people["leo"]["override_rate"] - overridden / by_person["leo"]) < 1e-9,
              (people, by_person))
        rc, out, err = d.cli(admin, "approvals", "--report")
        check("the report prints as a table", rc == 0 and "triage-review" in out and "OVERRIDES" in out, err)
        rc, _, err = d.cli(sup, "approvals", "--report")
        check("the report is for admins", rc == 1 and "HTTP 403" in err, err)
        import urllib.request
        req = urllib.request.Request(d.url + "/metrics", headers={"Authorization": f"Bearer {admin}"})
        metrics = urllib.request.urlopen(req, timeout=10).read().decode()
        labels = '{workflow="triage-review",step="review"}'
        check("/metrics reports decisions, overrides and waiting approvals",
              f"vigil_approvals_decided_total{labels} {RUNS}" in metrics and
              f"vigil_approvals_overridden_total{labels} {overridden}" in metrics and
              f"vigil_approvals_waiting{labels} 0" in metrics, [l for l in metrics.splitlines() if "approval" in l][:8])
    log = open(os.path.join(tmp, "serve.log")).read()
    check("no child's name in the daemon's log", "Synthetic Child" not in log, "found")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
