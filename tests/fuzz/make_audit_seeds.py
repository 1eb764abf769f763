#!/usr/bin/env python3
"""Makes the audit seeds of fuzz_audit_bundle (tests/fuzz/corpus/audit_bundle/) with the real
daemon and witness, signed by the test fixture key (tests/audit/fixtures/schema-7-keys), the
key the fuzz target trusts:

  bundle-run.json      `vigil audit export RUN` of a finished run (with its area file)
  bundle-since.json    `vigil audit export --since` of the whole trail
  checkpoint-log       the daemon's append-only checkpoint log (audit.checkpoint_log)
  cosigned-note        a checkpoint as a witness holds it: the log's signature and its cosignature
  add-checkpoint       a witness add-checkpoint request body for that checkpoint
  selection            the signed selection note inside bundle-run.json

The witness signs with the same fixture key, so the target checks its cosignatures too.
Usage: tests/fuzz/make_audit_seeds.py BUILD/daemon/vigil"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

VIGIL = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "pylib"))
from vigiltest import Daemon  # noqa: E402

ORIGIN = "test.vigil/audit"
KEYS = os.path.join(SOURCE, "tests", "audit", "fixtures", "schema-7-keys")
OUT = os.path.join(SOURCE, "tests", "fuzz", "corpus", "audit_bundle")


def poll(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode()
    except OSError:
        return None


tmp = tempfile.mkdtemp(prefix="vigil-audit-seeds-")
witness = None
try:
    home = os.path.join(tmp, "daemon")
    keys = os.path.join(home, "data", "keys")
    shutil.copytree(KEYS, keys)
    os.chmod(keys, 0o700)
    for f in os.listdir(keys):
        os.chmod(os.path.join(keys, f), 0o644 if f.endswith(".pub.pem") else 0o600)

    wdata = os.path.join(tmp, "witness")
    os.makedirs(wdata, mode=0o700)
    shutil.copy(os.path.join(KEYS, "audit-ed25519.pem"), os.path.join(wdata, "witness-ed25519.pem"))
    os.chmod(os.path.join(wdata, "witness-ed25519.pem"), 0o600)
    witness = subprocess.Popen([VIGIL, "witness", "--listen", "127.0.0.1:0", "--data", wdata, "--name", "test.witness/a",
                                "--log", f"{ORIGIN}={os.path.join(keys, 'audit-ed25519.pub.pem')}"],
                               stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "witness.log"), "a"), text=True)
    m = re.search(r"127\.0\.0\.1:(\d+)", witness.stdout.readline())
    wurl = f"http://127.0.0.1:{m.group(1)}"

    log = os.path.join(tmp, "checkpoints.log")
    config = os.path.join(tmp, "vigil.yaml")
    with open(config, "w") as f:
        f.write(f"area: {os.path.join(SOURCE, 'examples', 'areas', 'northshire.yaml')}\n"
                f"audit:\n  origin: {ORIGIN}\n  checkpoint_interval_seconds: 1\n  checkpoint_log: {log}\n"
                f"  witnesses: [{wurl}]\n")
    with Daemon(VIGIL, [os.path.join(SOURCE, "tests", "daemon", "workflows")], home, extra_args=["--config", config]) as d:
        operator = d.add_user("olivia", "operator")
        auditor = d.add_user("ada", "auditor")
        code, started = d.request("POST", "/api/v1/runs", token=operator, body={"workflow": "quick", "inputs": {"n": 3}})
        assert code == 201, (code, started)
        run = started["id"]
        assert poll(lambda: d.request("GET", f"/api/v1/runs/{run}", token=operator,
                                      headers={"X-Vigil-Purpose": "seed corpus"})[1].get("status") == "completed")
        held = f"{wurl}/checkpoint?origin={urllib.parse.quote(ORIGIN, safe='')}"
        assert poll(lambda: get(held)), "the witness co-signed nothing"
        os.makedirs(OUT, exist_ok=True)
        for name, args in (("bundle-run.json", [run]), ("bundle-since.json", ["--since", "2000-01-01"])):
            rc, out, err = d.cli(auditor, "audit", "export", *args, "--out", os.path.join(OUT, name), purpose="fuzz seed corpus")
            assert rc == 0, err
        note = get(held)
    open(os.path.join(OUT, "cosigned-note"), "w").write(note)
    # A checkpoint as the daemon sends it to a witness: no proof from size 0.
    logged = open(log).read()
    open(os.path.join(OUT, "checkpoint-log"), "w").write(logged)
    first = logged.split("\n\n")[0] + "\n\n" + logged.split("\n\n")[1].split("\n")[0] + "\n"
    open(os.path.join(OUT, "add-checkpoint"), "w").write("old 0\n\n" + first)
    bundle = json.load(open(os.path.join(OUT, "bundle-run.json")))
    open(os.path.join(OUT, "selection"), "w").write(bundle["selection"])
finally:
    if witness is not None and witness.poll() is None:
        witness.terminate()
        witness.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
