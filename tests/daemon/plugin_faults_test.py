#!/usr/bin/env python3
"""Out-of-process plugin faults through the real daemon: runs whose plugin call segfaults,
hangs past its deadline, floods 100 MB of garbage or exits mid-call each fail that step
with a clear error, while runs calling the same plugin's well-behaved action and runs of
another workflow keep completing, and the daemon stays up and stops cleanly."""
import os
import shutil
import sys
import tempfile
import time

VIGIL, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
FAULT = os.path.join(SOURCE, "tests", "connectors", "plugin", "fault_plugin.py")
WORKFLOW = """workflow: plugin-{action}
version: 1
owner: operator
steps:
  - id: call
    uses: {plugin}.{action}
    with: {{ value: 1 }}
    timeout: 5s
"""

tmp = tempfile.mkdtemp(prefix="vigil-plugin-faults-")
try:
    wfdir = os.path.join(tmp, "workflows")
    os.makedirs(wfdir)
    for action in ["echo", "segv", "hang", "flood", "exit"]:
        plugin = "good" if action == "echo" else "fault"
        open(os.path.join(wfdir, f"plugin-{action}.yaml"), "w").write(WORKFLOW.format(plugin=plugin, action=action))
    open(os.path.join(wfdir, "plugin-after.yaml"), "w").write(
        WORKFLOW.format(plugin="fault", action="echo").replace("plugin-echo", "plugin-after"))
    shutil.copy(os.path.join(SOURCE, "tests", "daemon", "workflows", "quick.yaml"), wfdir)
    config = os.path.join(tmp, "vigil.yaml")
    # `fault` runs four processes (one per misbehaving call); `good` is a second plugin,
    # the same program behaving, that other runs use meanwhile.
    open(config, "w").write(f"connectors:\n  plugins:\n"
                            f"    - {{ name: fault, argv: [/usr/bin/python3, {FAULT}, concurrent], working_dir: {os.path.dirname(FAULT)} }}\n"
                            f"    - {{ name: good, argv: [/usr/bin/python3, {FAULT}, ok], working_dir: {os.path.dirname(FAULT)} }}\n"
                            "limits:\n  requests_per_second_per_token: 100000\n")
    os.makedirs(os.path.join(tmp, "d"))
    with Daemon(VIGIL, [wfdir], os.path.join(tmp, "d"), extra_args=["--config", config]) as d:
        op = d.add_user("olivia", "operator")
        started = {}
        for action in ["segv", "hang", "flood", "exit"]:
            code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": f"plugin-{action}"})
            started[body["id"]] = action
            for _ in range(3):
                code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "plugin-echo"})
                started[body["id"]] = "echo"
                code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "quick", "inputs": {}})
                started[body["id"]] = "quick"
        check("all runs started", len(started) == 28, len(started))
        final = {}
        deadline = time.monotonic() + 120
        while len(final) < len(started) and time.monotonic() < deadline:
            for run, kind in started.items():
                if run in final:
                    continue
                code, body = d.request("GET", f"/api/v1/runs/{run}", token=op, headers={"X-Vigil-Purpose": "plugin fault test"})
                if code == 200 and body["status"] in ("completed", "failed"):
                    final[run] = (kind, body["status"], (body["steps"].get("call", {}).get("error") or {}).get("code"))
            time.sleep(0.2)
        want = {"segv": "plugin_crashed", "exit": "plugin_crashed", "hang": "timeout", "flood": "plugin_protocol"}
        problems = []
        for run, (kind, status, code) in final.items():
            if kind in ("echo", "quick") and status != "completed":
                problems.append(f"{kind} run {run} {status} {code}")
            if kind in want and (status != "failed" or code != want[kind]):
                problems.append(f"{kind} run {run}: {status} {code}, want failed {want[kind]}")
        checks.problems("each fault fails its own step with its code; every other run completes", problems +
                        ([f"{len(started) - len(final)} runs never ended"] if len(final) < len(started) else []))
        code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "plugin-after"})
        after = body.get("id")
        status = None
        for _ in range(100):
            code, body = d.request("GET", f"/api/v1/runs/{after}", token=op, headers={"X-Vigil-Purpose": "plugin fault test"})
            status = body.get("status")
            if status in ("completed", "failed"):
                break
            time.sleep(0.1)
        check("after its faults the same plugin answers again (restarted)", status == "completed", body.get("steps"))
        code, body = d.request("GET", "/healthz")
        check("the daemon is still up", code == 200, body)
    check("and stops cleanly", d.proc.returncode == 0, d.proc.returncode)
except RuntimeError:
    print(open(os.path.join(tmp, "d", "serve.log")).read()[-1500:])
    raise
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
