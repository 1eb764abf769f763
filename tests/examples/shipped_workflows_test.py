#!/usr/bin/env python3
"""The shipped MASH triage workflow end to end, on the synthetic force systems: the real
daemon reaches PND, RMS, children's social care and education through the REST
connectors in examples/connectors (token from a secret), a supervisor agrees with each
recommendation through the CLI, schools are e-mailed through a real SMTP sink, outcomes
are written back to the RMS; each band matches examples/referrals/expected.json; then,
offline, every run replays identical and the audit trail verifies."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

VIGIL, FORCE_SYSTEMS, SOURCE = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
sys.path.insert(0, os.path.join(SOURCE, "tests", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
TOKEN = "force-systems-token-5c1e"
REFERRALS = sorted(glob.glob(os.path.join(SOURCE, "examples", "referrals", "[0-9]*.json")))[::5]  # 14 of 66
EXPECTED = json.load(open(os.path.join(SOURCE, "examples", "referrals", "expected.json")))

tmp = tempfile.mkdtemp(prefix="vigil-shipped-")
procs = []
try:
    systems = subprocess.Popen([FORCE_SYSTEMS, "--port-base", "0", "--token", TOKEN, "--quiet",
                                "--data", os.path.join(SOURCE, "examples", "force-systems", "people.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(systems)
    ports = json.loads(systems.stdout.readline())
    mail = os.path.join(tmp, "mail")
    sink = subprocess.Popen(["/usr/bin/python3", os.path.join(SOURCE, "tests", "pylib", "smtp_sink.py"), "--dir", mail, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    procs.append(sink)
    smtp_port = int(sink.stdout.readline().split()[1])

    connectors = os.path.join(tmp, "connectors")
    os.makedirs(connectors)
    for f in glob.glob(os.path.join(SOURCE, "examples", "connectors", "*.yaml")):
        name = os.path.basename(f)[:-5]
        text = re.sub(r"base_url: http://127\.0\.0\.1:\d+", f"base_url: http://127.0.0.1:{ports[name]}", open(f).read())
        open(os.path.join(connectors, os.path.basename(f)), "w").write(text)
    secrets = os.path.join(tmp, "secrets.yaml")
    open(secrets, "w").write(f"FORCE_SYSTEMS_TOKEN: {TOKEN}\n")
    os.chmod(secrets, 0o600)
    config = os.path.join(tmp, "vigil.yaml")
    open(config, "w").write(f"""secrets_file: {secrets}
limits: {{ requests_per_second_per_token: 100000 }}
connectors:
  dirs: [{connectors}]
  email:
    host: 127.0.0.1
    port: {smtp_port}
    tls: none
    from: mash@force.example
    templates:
      mash-notification: {{ subject: "Safeguarding referral {{{{referral}}}}: rated {{{{band}}}}", body: "A MASH referral about a pupil was rated {{{{band}}}}." }}
      run-failed: {{ subject: "Triage of {{{{referral}}}} failed", body: "{{{{error}}}}" }}
      encompass: {{ subject: "Operation Encompass: {{{{incident}}}}", body: "Please be ready by {{{{notify_by}}}}." }}
""")
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [os.path.join(SOURCE, "workflows")], os.path.join(tmp, "d"), extra_args=["--config", config]) as d:
        officer = d.add_user("olivia", "operator")
        supervisor = d.add_user("sam", "approver", "mash-supervisor")
        runs = {}
        for f in REFERRALS:
            code, body = d.request("POST", "/api/v1/runs", token=officer,
                                   body={"workflow": "mash-triage", "inputs": json.load(open(f))})
            runs[body.get("id")] = os.path.basename(f)
        check(f"{len(REFERRALS)} referrals started", len(runs) == len(REFERRALS) and None not in runs, runs)

        decided, problems = set(), []
        deadline = time.monotonic() + 120
        while len(decided) < len(runs) and time.monotonic() < deadline:
            rc, out, _ = d.cli(supervisor, "approvals", "--json")
            for task in json.loads(out)["items"] if rc == 0 else []:
                rc, _, err = d.cli(supervisor, "decide", task["id"], "agree", "--reason", "research supports the recommended band")
                if rc != 0:
                    problems.append(err)
                decided.add(task["run"])
            time.sleep(0.2)
        check("every referral reached the supervisor and was decided", len(decided) == len(runs) and not problems,
              (len(decided), problems[:2]))

        results = {}
        for run, name in runs.items():
            for _ in range(100):
                code, body = d.request("GET", f"/api/v1/runs/{run}", token=officer, headers={"X-Vigil-Purpose": "demo check"})
                if body.get("status") in ("completed", "failed"):
                    break
                time.sleep(0.1)
            results[run] = body
        wrong = [f"{runs[r]}: {b.get('status')} {b.get('outputs')} want {EXPECTED[runs[r]]} {b.get('error')}"
                 for r, b in results.items() if b.get("status") != "completed" or b["outputs"]["band"] != EXPECTED[runs[r]]]
        checks.problems("each run completed with the band examples/referrals/expected.json gives", wrong)

        notified = sum(1 for b in results.values() if b["steps"].get("notify", {}).get("status") == "completed")
        mails = sum(1 for m in glob.glob(os.path.join(mail, "*.json"))
                    if not any("mash-duty" in r for r in json.load(open(m))["rcpt_tos"]))
        check("a school was e-mailed for every non-GREEN referral with a known school", notified > 0 and mails == notified,
              (notified, mails))
        req = urllib.request.Request(f"http://127.0.0.1:{ports['rms']}/outcomes", headers={"Authorization": f"Bearer {TOKEN}"})
        outcomes = json.loads(urllib.request.urlopen(req, timeout=10).read())
        written = outcomes.get("outcomes", outcomes) if isinstance(outcomes, dict) else outcomes
        check("every outcome was written back to the RMS", len(written) == len(runs), len(written))
        # The other shipped workflows: record lookups (one disclosed after approval) and
        # Operation Encompass incidents (they park on the school's acknowledgement).
        manager = d.add_user("rita", "approver", "records-manager")
        for i, (name, dob) in enumerate([("Synthetic Child Alpha", "2015-03-14"), ("Nobody Known", "2016-01-01")]):
            code, body = d.request("POST", "/api/v1/runs", token=officer, body={"workflow": "record-lookup", "inputs": {
                "subject": {"name": name, "dob": dob}, "purpose": "strategy discussion",
                "requested_for": "children's social care" if i == 0 else ""}})
            runs[body.get("id")] = "record-lookup"
        for i in range(2):
            code, body = d.request("POST", "/api/v1/runs", token=officer, body={"workflow": "operation-encompass", "inputs": {
                "incident": {"id": f"INC-{i}", "occurred_at": "2026-11-27T23:40:00Z",
                             "children": [{"name": "Synthetic Child Alpha", "dob": "2015-03-14"}]}}})
            runs[body.get("id")] = "operation-encompass"
        check("record lookups and encompass incidents started", None not in runs, runs)
        for _ in range(100):
            rc, out, _ = d.cli(manager, "approvals", "--json")
            tasks = json.loads(out)["items"] if rc == 0 else []
            if tasks:
                rc, _, err = d.cli(manager, "decide", tasks[0]["id"], "disclose", "--reason", "needed for the strategy meeting")
                check("the records manager approves the disclosure", rc == 0, err)
                break
            time.sleep(0.1)
        time.sleep(1)
        data = d.data

    replays = [subprocess.run([VIGIL, "replay", run, "--data", data], capture_output=True, text=True) for run in runs]
    check(f"every run of every shipped workflow replays identical ({len(runs)} runs)", all(r.returncode == 0 and "identical" in r.stdout for r in replays),
          [r.stdout for r in replays if r.returncode != 0][:2])
    p = subprocess.run([VIGIL, "audit", "verify", "--data", data], capture_output=True, text=True)
    check("the audit trail verifies", p.returncode == 0 and p.stdout.startswith("OK "), p.stdout)
finally:
    for p in procs:
        p.terminate()
        p.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
