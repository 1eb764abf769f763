#!/usr/bin/env python3
"""Secrets through the real daemon: a workflow sends `secrets.API_TOKEN` as a bearer token
with the http connector to a real loopback server, which receives it; afterwards the
secret's value is in none of the data directory's files, the daemon's log, the audit
export, or any API response. A secrets file others may read stops the daemon."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
SECRET = "tok-7f3c9a1e5b2d4c68-secret"
WORKFLOW = """workflow: with-secret
version: 1
owner: operator
inputs: { ref: string }
steps:
  - id: send
    uses: http.post
    purpose: share the referral outcome with the partner agency
    with:
      url: "http://127.0.0.1:{port}/echo"
      headers: { Authorization: "Bearer ${{ secrets.API_TOKEN }}" }
      json: { ref: "${{ inputs.ref }}" }
outputs:
  status: "${{ steps.send.output.status }}"
"""

tmp = tempfile.mkdtemp(prefix="vigil-secrets-")
server = subprocess.Popen(["/usr/bin/python3", os.path.join(SOURCE, "tests", "connectors", "http", "http_test_server.py"),
                           "--webhook-secret", "unused-webhook-secret"], stdout=subprocess.PIPE, text=True)
try:
    port = json.loads(server.stdout.readline())["http"]
    wfdir = os.path.join(tmp, "workflows")
    os.makedirs(wfdir)
    open(os.path.join(wfdir, "with-secret.yaml"), "w").write(WORKFLOW.replace("{port}", str(port)))
    secrets = os.path.join(tmp, "secrets.yaml")
    open(secrets, "w").write(f"API_TOKEN: {SECRET}\n")
    config = os.path.join(tmp, "vigil.yaml")
    open(config, "w").write(f"secrets_file: {secrets}\nconnectors:\n  outbound: [127.0.0.1]\n")

    os.chmod(secrets, 0o644)
    d0 = os.path.join(tmp, "d0")
    os.makedirs(d0)
    p = subprocess.run([VIGIL, "serve", "--config", config, "--data", os.path.join(d0, "data"), "--listen", "127.0.0.1:0",
                        "--workflows", wfdir], capture_output=True, text=True, timeout=30)
    check("a secrets file others may read stops the daemon",
          p.returncode == 1 and "readable by group or others" in p.stderr and SECRET not in p.stderr, p.stderr[-300:])
    os.chmod(secrets, stat.S_IRUSR | stat.S_IWUSR)

    # A name written twice is refused at the second, naming it, and no value is printed;
    # a value YAML reads as a tag (`!...`) is refused without quoting it.
    twice = os.path.join(tmp, "twice.yaml")
    for text, expected in ((f"API_TOKEN: {SECRET}\nAPI_TOKEN: other-{SECRET}\n",
                            f"{twice}:2:1: error: duplicate key 'API_TOKEN' (first at line 1)"),
                           (f"API_TOKEN: !{SECRET}\n", f"{twice}:1:12: error: not valid YAML")):
        open(twice, "w").write(text)
        os.chmod(twice, stat.S_IRUSR | stat.S_IWUSR)
        twice_config = os.path.join(tmp, "twice-config.yaml")
        open(twice_config, "w").write(f"secrets_file: {twice}\nconnectors:\n  outbound: [127.0.0.1]\n")
        d1 = tempfile.mkdtemp(dir=tmp)
        p = subprocess.run([VIGIL, "serve", "--config", twice_config, "--data", os.path.join(d1, "data"), "--listen",
                            "127.0.0.1:0", "--workflows", wfdir], capture_output=True, text=True, timeout=30)
        check(f"a secrets file refused by the hardened reader stops the daemon: {expected.split(': error: ')[1]}",
              p.returncode == 1 and expected in p.stderr and SECRET not in p.stderr, p.stderr[-300:])

    responses = []
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [wfdir], os.path.join(tmp, "d"), extra_args=["--config", config]) as d:
        op = d.add_user("olivia", "operator", "auditor")
        code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "with-secret", "inputs": {"ref": "REF-1"}})
        responses.append(json.dumps(body))
        run = body["id"]
        for _ in range(200):
            code, body = d.request("GET", f"/api/v1/runs/{run}", token=op, headers={"X-Vigil-Purpose": "check delivery"})
            if body.get("status") in ("completed", "failed"):
                break
            time.sleep(0.05)
        responses.append(json.dumps(body))
        check("the run completed", body.get("status") == "completed", body.get("error"))
        # The echo server returns the headers it received: *** in their place means the real
        # value went out (a marker would come back as itself) and was scrubbed on return.
        check("the other system received the secret; what the run kept shows ***",
              body["steps"]["send"]["output"]["json"]["headers"].get("authorization") == "Bearer ***", body["steps"].get("send"))
        for path in ["/api/v1/runs", "/api/v1/workflows", "/api/v1/workflows/with-secret", "/api/v1/connectors",
                     f"/api/v1/audit/export?run={run}", "/api/v1/audit/verify"]:
            code, body = d.request("GET", path, token=op, headers={"X-Vigil-Purpose": "secrets test"})
            responses.append(json.dumps(body))
        req = urllib.request.Request(d.url + "/metrics", headers={"Authorization": f"Bearer {d.admin}"})
        responses.append(urllib.request.urlopen(req, timeout=10).read().decode())
        rc, out, err = d.cli(op, "audit", "export", run, "--out", os.path.join(tmp, "bundle.json"), purpose="secrets test")
        check("the audit export is written", rc == 0, err)
        data = d.data

    leaks = []
    for root, _, files in os.walk(data):
        for f in files:
            if f.endswith(".pem") or f == "subject.key":
                continue
            if SECRET.encode() in open(os.path.join(root, f), "rb").read():
                leaks.append(os.path.relpath(os.path.join(root, f), data))
    for name in ["serve.log", "bundle.json"]:
        if SECRET in open(os.path.join(tmp, "d", name) if name == "serve.log" else os.path.join(tmp, name)).read():
            leaks.append(name)
    leaks += [f"API response {i}" for i, r in enumerate(responses) if SECRET in r]
    check("the secret's value is in no file, log, export or API response", not leaks, leaks)
finally:
    server.terminate()
    server.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
