#!/usr/bin/env python3
"""Deliveries that must start exactly one run each, against the real `vigil serve` on an
ephemeral loopback port: an Idempotency-Key is the caller's own and bound to the request it
came with (webhooks and POST /api/v1/runs alike), and a signed webhook delivery covers its
time and key, so a captured one cannot be replayed under a new key or after its window,
before or after a restart. After every refusal, each original referral's run is intact."""
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
SECRET = b"intake-secret-of-some-length"
HOOK = "/api/v1/hooks/referrals/intake"
WORKFLOWS = os.path.join(SOURCE, "tests", "daemon", "workflows")


def post(url, path, body, token=None, headers=None):
    """POSTs `body` (bytes, sent as they are, or JSON) and returns (status, parsed JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def signed(body, key, stamp=None):
    """The headers of a delivery signed as docs/API.md says: timestamp, key and body."""
    stamp = str(int(time.time()) if stamp is None else stamp)
    mac = hmac.new(SECRET, f"{stamp}\n{key}\n".encode() + body, hashlib.sha256).hexdigest()
    return {"Idempotency-Key": key, "X-Vigil-Timestamp": stamp, "X-Vigil-Signature": "sha256=" + mac}


tmp = tempfile.mkdtemp(prefix="vigil-deliveries-")
secret_file = os.path.join(tmp, "intake.secret")
open(secret_file, "w").write(SECRET.decode() + "\n")
config = os.path.join(tmp, "vigil.yaml")
open(config, "w").write(f"webhooks:\n  /referrals/intake: {{ secret_file: {secret_file} }}\n")
restarted = None
try:
    with Daemon(VIGIL, [WORKFLOWS], tmp, extra_args=["--config", config]) as d:
        olivia = d.add_user("olivia", "operator")
        oscar = d.add_user("oscar", "operator")
        auditor = d.add_user("audrey", "auditor")

        def inputs_of(run_id):
            code, body = d.request("GET", f"/api/v1/runs/{run_id}", token=auditor, headers={"X-Vigil-Purpose": "dedupe check"})
            return body.get("inputs") if code == 200 else (code, body)

        def run_count():
            code, body = d.request("GET", "/api/v1/runs?workflow=intake&limit=1000", token=auditor,
                                   headers={"X-Vigil-Purpose": "dedupe check"})
            return len(body["items"]) if code == 200 else None

        def intact(originals):
            """Each original run still holds the inputs of the body that started it."""
            return {rid: inputs_of(rid) for rid in originals} == originals

        # --- A webhook key reused with another body ---------------------------------------
        code, first = post(d.url, HOOK, {"referral_id": "R-100"}, olivia, {"Idempotency-Key": "referral-R-100"})
        check("a webhook delivery with a new key starts a run", code == 201 and first["duplicate"] is False, first)
        hook_run = first.get("id")
        originals = {hook_run: {"referral_id": "R-100"}}
        code, again = post(d.url, HOOK, {"referral_id": "R-100"}, olivia, {"Idempotency-Key": "referral-R-100"})
        check("the same body again with the same key is the same run (200, duplicate)",
              code == 200 and again["duplicate"] is True and again["id"] == hook_run, again)
        before = run_count()
        code, body = post(d.url, HOOK, {"referral_id": "R-101"}, olivia, {"Idempotency-Key": "referral-R-100"})
        check("a webhook key reused with another body is refused with 422 idempotency_key_reused",
              code == 422 and body["error"]["code"] == "idempotency_key_reused" and body["error"]["field"] == "Idempotency-Key"
              and "id" not in body and run_count() == before, (code, body, before, run_count()))
        check("... and the first referral's run is intact", intact(originals), inputs_of(hook_run))
        log = open(d.log_path).read()
        check("the reuse is logged, without either body", "Idempotency-Key reused" in log and "R-101" not in log, log[-600:])

        # --- A webhook key reused by another caller ---------------------------------------
        code, theirs = post(d.url, HOOK, {"referral_id": "R-200"}, oscar, {"Idempotency-Key": "referral-R-100"})
        check("a webhook key reused by another caller starts their own run, never the first caller's",
              code == 201 and theirs["duplicate"] is False and theirs["id"] != hook_run, (theirs, hook_run))
        originals[theirs.get("id")] = {"referral_id": "R-200"}
        check("... and both referrals' runs are intact", intact(originals), originals)

        # --- POST /api/v1/runs with an Idempotency-Key: the same rules ----------------------
        start = {"workflow": "intake", "inputs": {"referral_id": "R-400"}}
        code, api_first = post(d.url, "/api/v1/runs", start, olivia, {"Idempotency-Key": "api-start-R-400"})
        check("POST /runs with an Idempotency-Key starts a run", code == 201 and api_first.get("duplicate") is False, api_first)
        api_run = api_first.get("id")
        originals[api_run] = {"referral_id": "R-400"}
        code, body = post(d.url, "/api/v1/runs", start, olivia, {"Idempotency-Key": "api-start-R-400"})
        check("POST /runs: the same body again with the same key is the same run",
              code == 200 and body.get("duplicate") is True and body.get("id") == api_run, body)
        before = run_count()
        code, body = post(d.url, "/api/v1/runs", {"workflow": "intake", "inputs": {"referral_id": "R-401"}}, olivia,
                          {"Idempotency-Key": "api-start-R-400"})
        check("POST /runs: a key reused with another body is refused with 422 idempotency_key_reused",
              code == 422 and body["error"]["code"] == "idempotency_key_reused" and run_count() == before, body)
        code, body = post(d.url, "/api/v1/runs", {"workflow": "park", "inputs": {"referral_id": "R-400"}}, olivia,
                          {"Idempotency-Key": "api-start-R-400"})
        check("POST /runs: a key reused for another workflow is refused with 422",
              code == 422 and body["error"]["code"] == "idempotency_key_reused", body)
        code, body = post(d.url, "/api/v1/runs", start, oscar, {"Idempotency-Key": "api-start-R-400"})
        check("POST /runs: a key reused by another caller starts their own run, never the first caller's",
              code == 201 and body.get("id") not in (None, api_run), (body, api_run))
        originals[body.get("id")] = {"referral_id": "R-400"}
        code, body = post(d.url, "/api/v1/runs", start, olivia, {"Idempotency-Key": "short"})
        check("POST /runs: a malformed key is refused, naming the header",
              code == 400 and body["error"]["field"] == "Idempotency-Key", body)
        code, body = post(d.url, "/api/v1/runs", start, olivia)
        check("POST /runs without a key starts a new run each time, as before", code == 201 and body["id"].startswith("r-"), body)
        originals[body.get("id")] = {"referral_id": "R-400"}
        check("... and every referral's run is intact", intact(originals), originals)

        # --- A signed delivery replayed with a new key ------------------------------------
        payload = json.dumps({"referral_id": "R-300"}).encode()
        captured = signed(payload, "delivery-R-300")
        code, body = post(d.url, HOOK, payload, headers=captured)
        check("a signed delivery starts a run without a token", code == 201, body)
        signed_run = body.get("id")
        originals[signed_run] = {"referral_id": "R-300"}
        before = run_count()
        replay = dict(captured, **{"Idempotency-Key": "delivery-R-300-again"})
        code, body = post(d.url, HOOK, payload, headers=replay)
        check("a signed delivery replayed with a new key is refused",
              signed_run and code == 401 and body["error"]["code"] == "signature_invalid" and run_count() == before,
              (code, body, before, run_count()))
        code, body = post(d.url, HOOK, payload, headers=captured)
        check("the same signed delivery again under its own key starts nothing: it names the first run",
              code == 200 and body["duplicate"] is True and body["id"] == signed_run and run_count() == before, body)
        check("... and the signed referral's run is intact", intact(originals), inputs_of(signed_run))

        # --- Stale and future timestamps --------------------------------------------------
        fresh = json.dumps({"referral_id": "R-310"}).encode()
        before = run_count()
        for name, stamp in (("a timestamp from 2001", 978307200), ("a timestamp 6 minutes old", int(time.time()) - 360),
                            ("a timestamp 6 minutes ahead", int(time.time()) + 360)):
            code, body = post(d.url, HOOK, fresh, headers=signed(fresh, "delivery-R-310", stamp))
            err = body.get("error", {}) if isinstance(body, dict) else {}
            check(f"a signed delivery with {name} is refused, naming X-Vigil-Timestamp",
                  code == 401 and err.get("code") == "timestamp_outside_window" and err.get("field") == "X-Vigil-Timestamp"
                  and SECRET.decode() not in json.dumps(body) and run_count() == before, (code, body))
        code, body = post(d.url, HOOK, fresh, headers={k: v for k, v in signed(fresh, "delivery-R-310").items()
                                                       if k != "X-Vigil-Timestamp"})
        check("a signed delivery without X-Vigil-Timestamp is refused, naming it",
              code == 401 and body["error"]["field"] == "X-Vigil-Timestamp" and run_count() == before, body)
        check("... and no refused delivery touched the original referrals' runs", intact(originals), originals)
        code, body = post(d.url, HOOK, fresh, headers=signed(fresh, "delivery-R-310", int(time.time()) - 240))
        check("a signed delivery 4 minutes old is inside the default 5-minute window", code == 201, body)
        originals[body.get("id")] = {"referral_id": "R-310"}
        # A sender that retries signs again: new time, same key, same body: the same run.
        code, body = post(d.url, HOOK, fresh, headers=signed(fresh, "delivery-R-310"))
        check("a retry signed again with the same key is the same run", code == 200 and body["duplicate"] is True, body)

    # --- After a restart, with a configured window -----------------------------------------
    open(config, "w").write(f"webhooks:\n  signature_window_seconds: 60\n  /referrals/intake: {{ secret_file: {secret_file} }}\n")
    restarted = subprocess.Popen([VIGIL, "serve", "--config", config, "--data", os.path.join(tmp, "data"),
                                  "--listen", "127.0.0.1:0", "--workflows", WORKFLOWS],
                                 stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "serve2.log"), "w"), text=True)
    url = "http://127.0.0.1:" + re.search(r"127\.0\.0\.1:(\d+)", restarted.stdout.readline()).group(1)
    code, body = post(url, HOOK, payload, headers=replay)
    check("after a restart, the captured delivery under a new key is still refused", code == 401, body)
    code, body = post(url, HOOK, payload, headers=captured)
    check("after a restart, the captured delivery under its own key names the first run and starts nothing",
          code == 200 and body.get("id") == signed_run, body)
    late = json.dumps({"referral_id": "R-320"}).encode()
    code, body = post(url, HOOK, late, headers=signed(late, "delivery-R-320", int(time.time()) - 120))
    check("webhooks.signature_window_seconds narrows the window (2 minutes old refused at 60 s)",
          code == 401 and body["error"]["code"] == "timestamp_outside_window" and "60 seconds" in body["error"]["message"], body)
    code, body = post(url, HOOK, late, headers=signed(late, "delivery-R-320", int(time.time()) - 30))
    check("... and accepts a delivery inside it", code == 201, body)
    restarted.terminate()
    check("the restarted daemon stops cleanly", restarted.wait(timeout=30) == 0)

    # --- The setting is validated with a located error ------------------------------------
    bad = os.path.join(tmp, "bad.yaml")
    for text, want in (
            ("webhooks:\n  signature_window_seconds: 5\n",
             f"{bad}:2:29: error: 'webhooks.signature_window_seconds' must be between 10 and 3600"),
            ("webhooks:\n  signature_window: 300\n", f"{bad}:2:3: error: unknown key 'webhooks.signature_window'")):
        open(bad, "w").write(text)
        p = subprocess.run([VIGIL, "serve", "--config", bad, "--data", os.path.join(tmp, "bad-data")],
                           capture_output=True, text=True, timeout=20)
        check(f"config: {want.split('error: ')[1]}", p.returncode == 2 and want in p.stderr, p.stderr)
finally:
    if restarted is not None and restarted.poll() is None:
        restarted.kill()
        restarted.wait()
    shutil.rmtree(tmp, ignore_errors=True)

checks.finish()
