#!/usr/bin/env python3
"""The web workbench in a real headless Chromium (Debian's chromium, driven by
playwright-core), against the demo: the shipped workflows, the synthetic force systems and
`vigil serve` on the embedded store. Referrals are started here through the API (waiting
until each parks at its review), and a workflow file of the demo's own folder is broken and
reloaded (SIGHUP) so that it is refused; workbench.test.mjs then works the pages as officers,
supervisors, an auditor and an admin would; the bundle the auditor exported in the browser
is verified offline here afterwards.

    browser_test.py SOURCE_DIR BUILD_DIR [--screenshots DIR]
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SOURCE, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SHOTS = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else ""
sys.path.insert(0, os.path.join(SOURCE, "tests", "pylib"))
from demo import Demo  # noqa: E402
from vigiltest import Checks  # noqa: E402

checks = Checks()
check = checks.check
RDIR = os.path.join(SOURCE, "examples", "referrals")


def call(url, method, token, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=90) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def referral(name):
    return json.load(open(os.path.join(RDIR, name)))


# A workflow in the demo's own folder (VIGIL_DEMO_DIR/workflows): valid at start, then
# broken at a known line and reloaded, so the Workflows page has a refused file to show.
NOTE = ("workflow: referral-note\nversion: 1\ndescription: A note kept with a referral (browser test)\n"
        "owner: mash-supervisor\ninputs:\n  text: { type: string, default: \"\" }\nsteps:\n  - id: keep\n"
        "    set: { note: \"${{ inputs.text }}\" }\n")


def refuse_note(demo, note_file):
    """Breaks the note's step kind (line 9, column 5), sends the demo's vigil SIGHUP and waits
    (at most 10 s) until the catalogue lists the file as refused; returns what it lists."""
    open(note_file, "w").write(NOTE.replace("    set:", "    sett:"))
    os.kill(int(open(os.path.join(demo.folder, "vigil.pid")).read()), signal.SIGHUP)
    for _ in range(100):
        code, body = call(f"{demo.url}/api/v1/workflows", "GET", demo.tokens["ADMIN_TOKEN"])
        listed = [p for p in (body or {}).get("load_problems", []) if p["file"] == note_file] if code == 200 else []
        if listed:
            return listed[0]
        time.sleep(0.1)
    return {}


tmp = tempfile.mkdtemp(prefix="vigil-browser-")
try:
    note_file = os.path.join(tmp, "demo", "workflows", "referral-note.yaml")
    os.makedirs(os.path.dirname(note_file))
    open(note_file, "w").write(NOTE)
    with Demo(SOURCE, BUILD, os.path.join(tmp, "demo")) as demo:
        t = demo.tokens
        refused = refuse_note(demo, note_file)
        check("a broken workflow file is refused on SIGHUP, its version 1 kept",
              refused.get("active") == {"workflow": "referral-note", "version": 1}
              and [(d["line"], d["column"]) for d in refused.get("diagnostics", [])] == [(9, 5)], refused)
        # A second supervisor (for the conflict), and an officer who is also a supervisor
        # (four-eyes: they may not decide the referral they started).
        mo = demo.add_user("mo", "approver", "mash-supervisor")
        priya = demo.add_user("priya", "operator", "approver", "mash-supervisor")
        author = demo.add_user("alex", "author")

        def start(token, workflow, inputs):
            code, body = call(f"{demo.url}/api/v1/runs?wait=60s", "POST", token, {"workflow": workflow, "inputs": inputs})
            ok = code in (200, 201) and body.get("status") == "waiting"
            check(f"a {workflow} run parks at its review (wait=)", ok, (code, body))
            return body.get("id", "")

        runs = {
            "approve": start(t["OFFICER_TOKEN"], "mash-triage", referral("005-charlie-school-bruising.json")),
            "override": start(t["OFFICER_TOKEN"], "mash-triage", referral("004-bravo-missing-episode.json")),
            "conflict": start(t["OFFICER_TOKEN"], "mash-triage", referral("001-alpha-domestic-incident.json")),
            "foureyes": start(priya, "mash-triage", referral("008-golf-social-care.json")),
            "cancel": start(t["OFFICER_TOKEN"], "mash-triage", referral("010-beta-school-concern.json")),
            "withhold": start(t["OFFICER_TOKEN"], "record-lookup",
                              {"subject": {"name": "Synthetic Child Charlie", "dob": "2014-11-20"},
                               "purpose": "request from a partner agency about a child (synthetic)",
                               "requested_for": "Northshire Children's Services"}),
        }
        downloads = os.path.join(tmp, "downloads")
        os.makedirs(downloads)
        env = dict(os.environ, VIGIL_URL=demo.url, DOWNLOADS=downloads, SCREENSHOTS=SHOTS,
                   SUPERVISOR=t["SUPERVISOR_TOKEN"], SUPERVISOR2=mo, OFFICER=t["OFFICER_TOKEN"], STARTER_SUPERVISOR=priya,
                   AUDITOR=t["AUDITOR_TOKEN"], ADMIN=t["ADMIN_TOKEN"], AUTHOR=author, RUNS=json.dumps(runs),
                   REFUSED_FILE=note_file, LIVE_REFERRAL=json.dumps(referral("011-gamma-not-at-school.json")),
                   PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        p = subprocess.run(["node", os.path.join(SOURCE, "tests", "browser", "workbench.test.mjs")], env=env,
                           capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
        print(p.stdout)
        if p.stderr.strip():
            print(p.stderr[-4000:])
        check("every browser check passed", p.returncode == 0, p.returncode)
        public_key = os.path.join(demo.data, "keys", "audit-ed25519.pub.pem")
        bundle = os.path.join(downloads, f"vigil-bundle-{runs['approve']}.json")
    # With the demo stopped: the bundle exported in the browser verifies offline, against the
    # log's own public key, and replays.
    if os.path.exists(bundle):
        v = subprocess.run([demo.vigil, "audit", "verify", bundle, "--public-key", public_key], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        check("the bundle the auditor saved from the browser verifies offline", v.returncode == 0, (v.returncode, v.stdout, v.stderr))
        r = subprocess.run([demo.vigil, "replay", "--bundle", bundle], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        check("and its run replays identical from the bundle alone", r.returncode == 0, (r.returncode, r.stdout[-500:], r.stderr[-500:]))
    else:
        check("the auditor's export was saved", False, os.listdir(downloads) if os.path.isdir(downloads) else "no downloads")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(checks.finish())
