#!/usr/bin/env python3
"""Evidence of human involvement, through the real daemon and CLI: `vigil approve` without a
terminal and without --yes refuses and neither opens nor decides the task; at a terminal it
shows the task and asks, deciding only on "y"; --yes decisions are flagged in the vote; the
approvals report gives per approver and per rule (and recommended band) the override rate and
the share of decisions taken within approvals.quick_decision_seconds of the person opening
the task, measured from the opening, not from the request."""
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
QUICK = 3  # seconds: approvals.quick_decision_seconds in this daemon's configuration
LOOK = QUICK + 1.5  # how long the slow deciders look at a task before deciding
BANDS = ["AMBER", "AMBER", "GREEN", "AMBER", "GREEN", "GREEN"]


def at_terminal(d, token, answer, *args):
    """Runs a client subcommand with a terminal on standard input, typing `answer` and Enter."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([VIGIL, *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=d.cli_env(token))
        os.close(slave)
        slave = None
        os.write(master, (answer + "\n").encode())
        out, err = p.communicate(timeout=60)
        return p.returncode, out, err
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


tmp = tempfile.mkdtemp(prefix="vigil-evidence-")
try:
    config = os.path.join(tmp, "vigil.yaml")
    with open(config, "w") as f:
        f.write(f"approvals: {{ quick_decision_seconds: {QUICK} }}\n")
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("approvals: { quick_decision_seconds: 0 }\n")
    p = subprocess.run([VIGIL, "serve", "--config", bad, "--data", os.path.join(tmp, "bad-data"), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    check("the quick threshold is checked in the configuration, with its line and column",
          p.returncode == 2 and "bad.yaml:1:38: error: 'approvals.quick_decision_seconds' must be between 1 and 3600" in p.stderr,
          (p.returncode, p.stderr))
    with Daemon(VIGIL, [os.path.join(SOURCE, "tests", "daemon", "workflows")], tmp, ["--config", config]) as d:
        starter = d.add_user("olivia", "operator")
        sam = d.add_user("sam", "approver", "mash-supervisor")
        ines = d.add_user("ines", "approver", "duty-inspector")
        auditor = d.add_user("audrey", "auditor")
        admin = d.admin
        read = {"X-Vigil-Purpose": "checking the decision evidence"}

        ids = []
        for i, band in enumerate(BANDS):
            referral = {"id": f"REF-{i}", "band": band, "child": {"name": f"Synthetic Child {i}", "dob": "2015-01-01"}}
            rc, out, err = d.cli(starter, "run", "triage-review", "--input", json.dumps({"referral": referral}), "--json")
            ids.append(json.loads(out)["id"] if rc == 0 else None)
        check("six runs park at the review", all(ids), ids)
        task = [f"{r}/review" for r in ids]

        def decided_votes(run):
            code, body = d.request("GET", f"/api/v1/runs/{run}", token=auditor, headers=read)
            return [e["data"] for e in body.get("events", []) if e["type"] == "ApprovalDecided"] if code == 200 else None

        # No terminal, no --yes: a usage error naming --yes, and the task is neither decided nor opened.
        rc, out, err = d.cli(sam, "approve", task[0], "--reason", "research supports the rating")
        check("without a terminal and without --yes the CLI refuses with a usage error",
              rc == 2 and "--yes" in err and "not a terminal" in err, (rc, err))
        check("... and nothing is decided", decided_votes(ids[0]) == [], decided_votes(ids[0]))
        code, body = d.request("POST", f"/api/v1/approvals/{ids[0]}/review/decide", token=sam,
                               body={"decision": "approve", "reason": "research supports the rating", "shown_digest": "0" * 64})
        check("... nor even opened", code == 409 and body["error"]["code"] == "not_opened", body)

        # At a terminal: the task is shown and a question asked; anything but y decides nothing.
        rc, out, err = at_terminal(d, sam, "n", "approve", task[0], "--reason", "research supports the rating")
        check("at a terminal the task is shown and the question asked",
              "task " + task[0] in out and "options: approve reject" in out and "recommendation: \"AMBER\"" in out
              and "Decide approve on this task? [y/N]" in out, out)
        check("answering n decides nothing", rc == 1 and "nothing was decided" in err and decided_votes(ids[0]) == [],
              (rc, err, decided_votes(ids[0])))

        # Three tasks are opened now and decided after a look longer than the threshold.
        rc, out, err = d.cli(sam, "approvals", task[1])
        check("sam opens a task to read it", rc == 0 and "options:" in out, err)
        code, _ = d.request("GET", f"/api/v1/approvals/{ids[2]}/review", token=ines)
        check("ines opens a task to read it", code == 200, code)
        time.sleep(LOOK)
        # Every request is now older than the threshold: a measure from the request would see
        # no quick decision at all.
        rc, out, err = at_terminal(d, sam, "y", "approve", task[0], "--reason", "research supports the rating")
        check("answering y decides", rc == 0 and "(decided)" in out, (rc, out, err))
        rc, _, err = d.cli(sam, "approve", task[1], "--rating", "RED", "--reason", "new information from the school", "--yes")
        check("sam overrides a task he read with --yes", rc == 0, err)
        rc, _, err = d.cli(ines, "approve", task[2], "--reason", "research supports the rating", "--yes")
        check("ines decides a task she read with --yes", rc == 0, err)
        # Three decided at once, each with --yes and no look at all.
        rc, _, err = d.cli(sam, "approve", task[3], "--reason", "research supports the rating", "--yes")
        check("sam approves at once with --yes", rc == 0, err)
        rc, _, err = d.cli(ines, "approve", task[4], "--reason", "research supports the rating", "--yes")
        check("ines approves at once with --yes", rc == 0, err)
        rc, out, err = d.cli(ines, "approve", task[5], "--rating", "RED", "--reason", "new information from the school",
                             "--yes", "--json")
        check("ines overrides at once with --yes", rc == 0 and json.loads(out or "{}").get("confirmed") == "yes_flag", (out, err))

        votes = [decided_votes(r) for r in ids]
        check("each run has one decision", all(v is not None and len(v) == 1 for v in votes), votes)
        votes = [v[0] if v else {} for v in votes]
        check("the decision at the prompt is recorded as interactive, after the look",
              votes[0].get("confirmed") == "interactive" and votes[0].get("seconds_to_decide", 0) >= LOOK, votes[0])
        check("--yes decisions are flagged in the vote", all(votes[i].get("confirmed") == "yes_flag" for i in range(1, 6)),
              [v.get("confirmed") for v in votes])
        check("the time is from the person's opening",
              all(votes[i]["seconds_to_decide"] >= LOOK for i in (1, 2)) and all(votes[i]["seconds_to_decide"] < QUICK for i in (3, 4, 5)),
              [v.get("seconds_to_decide") for v in votes])

        code, body = d.request("GET", f"/api/v1/approvals/{ids[0]}/review", token=sam)
        code, body = d.request("POST", f"/api/v1/approvals/{ids[0]}/review/decide", token=sam,
                               body={"decision": "approve", "reason": "research supports the rating",
                                     "shown_digest": body.get("shown_digest", ""), "confirmed": "maybe"})
        check("the API refuses an unknown confirmation, naming the field",
              code == 400 and body["error"].get("field") == "confirmed", body)

        rc, out, err = d.cli(admin, "approvals", "--report", "--json")
        report = json.loads(out) if rc == 0 else {}
        check("the report says its quick threshold", report.get("quick_decision_seconds") == QUICK, report.get("quick_decision_seconds"))
        people = {a["user"]: a for a in report.get("approvers", [])}
        want = {"sam": {"decisions": 3, "overridden": 1, "with_recommendation": 3, "timed": 3, "quick": 1, "yes_flag": 2},
                "ines": {"decisions": 3, "overridden": 1, "with_recommendation": 3, "timed": 3, "quick": 2, "yes_flag": 3}}
        problems = []
        for user, fields in want.items():
            got = people.get(user, {})
            problems += [f"{user}.{k}: {got.get(k)}, want {v}" for k, v in fields.items() if got.get(k) != v]
        if abs(people.get("ines", {}).get("quick_share", 0) - 2 / 3) > 1e-9 or abs(people.get("sam", {}).get("override_rate", 0) - 1 / 3) > 1e-9:
            problems.append(f"shares {people}")
        checks.problems("per approver: override rate and decisions within the threshold of opening", problems)

        rule = next((r for r in report.get("rules", []) if r["workflow"] == "triage-review" and r["step"] == "review"), {})
        check("per rule: override rate and quick share from opening",
              rule.get("decisions") == 6 and rule.get("overridden") == 2 and rule.get("quick") == 3
              and rule.get("quick_share") == 0.5 and rule.get("yes_flag") == 5, rule)
        bands = {b["recommendation"]: b for b in rule.get("by_recommendation", [])}
        check("per rule and recommended band",
              set(bands) == {"AMBER", "GREEN"} and bands["AMBER"]["decisions"] == 3 and bands["AMBER"]["quick"] == 1
              and bands["AMBER"]["overridden"] == 1 and bands["GREEN"]["quick"] == 2 and bands["GREEN"]["overridden"] == 1,
              bands)
        rc, out, err = d.cli(admin, "approvals", "--report")
        check("the report prints the approvers and rules",
              rc == 0 and "APPROVER" in out and f"QUICK (<={QUICK} s)" in out and "triage-review/review" in out
              and any(l.startswith("ines") and "2 (67%)" in l for l in out.splitlines()), out)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
