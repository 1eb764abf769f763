#!/usr/bin/env python3
"""The real `vigil serve` on an ephemeral loopback port, driven over real HTTP: tokens and
roles, runs, purpose-stated reads, cancellation, malformed and hostile requests, and a
clean stop on SIGTERM."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402

checks = Checks()
check = checks.check


def request(method, path, token=None, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def fetch(path, headers=None):
    """GET with its answer's status, headers (lower-case names) and bytes."""
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method="GET")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def raw(payload, timeout=5):
    """Sends bytes as they are and returns the status line (or '' if the server closed)."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as s:
        s.sendall(payload)
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return ""
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def users(*args):
    p = subprocess.run([VIGIL, *args, "--data", DATA], capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout.strip(), p.stderr


tmp = tempfile.mkdtemp(prefix="vigil-serve-")
DATA = os.path.join(tmp, "data")
# The shipped workflows name the area's timescales and calendars: they load only under an area.
CONFIG = os.path.join(tmp, "vigil.yaml")
with open(CONFIG, "w") as f:
    f.write(f"area: {os.path.join(SOURCE, 'examples', 'areas', 'northshire.yaml')}\n")
server = subprocess.Popen([VIGIL, "serve", "--config", CONFIG, "--data", DATA, "--listen", "127.0.0.1:0",
                           "--workflows", os.path.join(SOURCE, "workflows"),
                           "--workflows", os.path.join(SOURCE, "tests", "daemon", "workflows")],
                          stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "serve.log"), "w"), text=True)
try:
    lines = [server.stdout.readline() for _ in range(3)]
    admin = lines[1].strip()
    PORT = int(re.search(r"127\.0\.0\.1:(\d+)", lines[2]).group(1))
    check("first start prints an admin token", admin.startswith("vgl_") and len(admin) == 52, lines)

    rc, operator, _ = users("users", "add", "olivia", "--role", "operator")
    check("users add prints the token alone", rc == 0 and re.fullmatch(r"vgl_[0-9a-f]{48}", operator), operator)
    rc, auditor, _ = users("users", "add", "audrey", "--role", "auditor")
    rc, _, err = users("users", "add", "bob", "--role", "superuser")
    check("a user with only a team role refused", rc == 2 and "needs at least one system role" in err, err)
    rc, _, err = users("users", "add", "bob", "--role", "approver", "--role", "Bad Role")
    check("an invalid role name refused", rc == 2 and "role 'Bad Role' is not a valid name" in err, err)
    rc, _, err = users("users", "add", "olivia", "--role", "operator")
    check("duplicate user refused", rc == 1 and "already exists" in err, err)

    check("healthz needs no token", request("GET", "/healthz") == (200, {"status": "ok"}))

    # The workbench: its page revalidated on every load, its files addressed by the build's
    # digest and cached for a year, each with an ETag answered by 304; API answers never stored.
    code, h, page = fetch("/")
    if code == 404 and b"ui_not_built" in page:
        check("a vigil built without the workbench says so at /", True)
    else:
        check("the workbench page: 200 HTML, no-cache, with an ETag and the CSP",
              code == 200 and h.get("content-type", "").startswith("text/html") and h.get("cache-control") == "no-cache"
              and h.get("etag", "").startswith('"') and "script-src 'self'" in h.get("content-security-policy", "")
              and "frame-ancestors 'none'" in h.get("content-security-policy", ""), (code, h))
        code2, h2, body2 = fetch("/ui/inbox", {"If-None-Match": h.get("etag", "")})
        check("the page again with its ETag: 304 and no body", code2 == 304 and body2 == b"", (code2, h2))
        assets = re.findall(r'"(/assets/[0-9a-f]{16}/[^"]+)"', page.decode())
        check("the page names its files by the build's digest", len(assets) >= 2, assets)
        if assets:
            code3, h3, body3 = fetch(assets[0])
            check("a file: 200, cached for a year as immutable, with an ETag",
                  code3 == 200 and len(body3) > 0 and h3.get("cache-control") == "public, max-age=31536000, immutable"
                  and h3.get("etag", "").startswith('"'), (code3, h3))
            code4, _, body4 = fetch(assets[0], {"If-None-Match": h3.get("etag", "")})
            check("the file again with its ETag: 304 and no body", code4 == 304 and body4 == b"", code4)
            stale = re.sub(r"/assets/[0-9a-f]{16}/", "/assets/0123456789abcdef/", assets[0])
            code5, h5, _ = fetch(stale)
            check("a file of another build: 404, not stored", code5 == 404 and h5.get("cache-control") == "no-store", (code5, h5))
    code, h, _ = fetch("/api/v1/workflows", {"Authorization": f"Bearer {admin}"})
    check("API answers are not stored (no-store)", code == 200 and h.get("cache-control") == "no-store", (code, h))
    code, body = request("GET", "/api/v1/workflows")
    check("no token: 401", code == 401 and body["error"]["code"] == "unauthenticated", body)
    code, body = request("GET", "/api/v1/workflows", token="vgl_" + "0" * 48)
    check("unknown token: 401", code == 401, body)
    code, body = request("GET", "/api/v1/workflows", token=admin)
    names = [w["name"] for w in body.get("items", [])]
    check("workflows listed", code == 200 and "mash-triage" in names and "park" in names, body)
    code, body = request("POST", "/api/v1/runs", token=admin, body={"workflow": "park", "inputs": {"referral_id": "R1"}})
    check("admin may not start runs: 403", code == 403 and body["error"]["code"] == "forbidden", body)

    code, body = request("POST", "/api/v1/runs", token=operator, body={"workflow": "park", "inputs": {"referral_id": "R1"}})
    check("operator starts a run: 201", code == 201 and body["id"].startswith("r-"), body)
    run = body.get("id", "")
    code, body = request("POST", "/api/v1/runs", token=operator, body={"workflow": "park", "inputs": {}})
    check("bad inputs: 400 naming the input", code == 400 and body["error"]["message"] == "inputs.referral_id: required input is missing", body)
    code, body = request("POST", "/api/v1/runs", token=operator, body={"workflow": "nope"})
    check("unknown workflow: 404", code == 404 and body["error"]["field"] == "workflow", body)

    code, body = request("GET", f"/api/v1/runs/{run}", token=auditor)
    check("reading a run without a purpose: 400", code == 400 and body["error"]["code"] == "purpose_required", body)
    code, body = request("GET", f"/api/v1/runs/{run}", token=auditor, headers={"X-Vigil-Purpose": "audit sample"})
    check("auditor reads the run with a purpose", code == 200 and body["status"] == "waiting" and
          [e["type"] for e in body["events"]][:3] == ["RunStarted", "StepStarted", "ApprovalRequested"], body)
    code, body = request("GET", "/api/v1/runs?status=waiting&purpose=triage+review", token=operator)
    check("list runs by status", code == 200 and [r["id"] for r in body["items"]] == [run], body)
    code, body = request("POST", f"/api/v1/runs/{run}/cancel", token=auditor, body={"reason": "duplicate referral"})
    check("auditor may not cancel: 403", code == 403, body)
    code, body = request("POST", f"/api/v1/runs/{run}/cancel", token=operator, body={"reason": "x"})
    check("cancel needs a reason", code == 400 and body["error"]["field"] == "reason", body)
    code, body = request("POST", f"/api/v1/runs/{run}/cancel", token=operator, body={"reason": "duplicate referral"})
    check("operator cancels", code == 200, body)
    code, body = request("POST", f"/api/v1/runs/{run}/cancel", token=operator, body={"reason": "duplicate referral"})
    check("cancelling twice: 409", code == 409, body)

    # Hostile and malformed requests: clear 4xx, and the daemon keeps serving.
    code, body = request("POST", "/api/v1/runs", token=operator, body=b"[" * 10000 + b"]" * 10000)
    check("10,000-deep JSON: 400", code == 400 and body["error"]["code"] == "json_too_deep", body)
    code, body = request("POST", "/api/v1/runs", token=operator, body=b'{"workflow": "park\xff"}')
    check("invalid UTF-8: 400", code == 400 and body["error"]["code"] == "invalid_json", body)
    code, body = request("POST", "/api/v1/runs", token=operator, body=b'{"workflow": "park", "workflow": "quick"}')
    check("a key given twice: 400 naming where, and no run of either", code == 400 and body["error"]["code"] == "duplicate_key" and
          "/workflow" in body["error"]["message"], body)
    code, body = request("POST", "/api/v1/runs", token=operator,
                         body=b'{"workflow": "park", "inputs": {"referral": {"a": [1, {"b": 2, "b": 3}]}}}')
    check("a nested duplicate key: 400 with its JSON pointer", code == 400 and
          "/inputs/referral/a/1/b" in body["error"]["message"], body)
    code, body = request("POST", "/api/v1/runs", token=operator, body=b'{"workflow": "park", "inputs": {"n": 1e999}}')
    check("a number beyond a double: 400 naming where, not 500", code == 400 and body["error"]["code"] == "number_out_of_range" and
          "/inputs/n" in body["error"]["message"], body)
    code, body = request("POST", "/api/v1/runs", token=operator, body=b'{"workflow": "park", "inputs": {"s": "\\ud800"}}')
    check("a lone surrogate: 400", code == 400 and body["error"]["code"] == "invalid_json", body)
    status = raw(b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n{" + b" " * 1000)
    check("2 MB declared body: 413", status.startswith("HTTP/1.1 413"), status)
    status = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
    check("40 KB header line: 431", status.startswith("HTTP/1.1 431"), status)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(100000))
    status = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    check("100,000 headers: 431", status.startswith("HTTP/1.1 431"), status)
    chunk = b"100000\r\n" + b"a" * 0x100000 + b"\r\n"
    status = raw(b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n")
    check("2 MB chunked body: 413", status.startswith("HTTP/1.1 413"), status)
    status = raw(b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check("Content-Length with Transfer-Encoding: 400", status.startswith("HTTP/1.1 400"), status)
    status = raw(b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
    check("duplicated Content-Length: 400", status.startswith("HTTP/1.1 400"), status)
    status = raw(b"GET /healthz HTTP/1.1\nHost: x\n\n")
    check("bare LF line endings: 400", status.startswith("HTTP/1.1 400"), status)
    status = raw(b"GET /api/v1/workflows HTTP/1.1\r\nHost: x\r\nREMOTE_ADDR: 10.0.0.1\r\n\r\n")
    check("a REMOTE_ADDR header grants nothing", status.startswith("HTTP/1.1 401"), status)
    check("still serving after abuse", request("GET", "/healthz") == (200, {"status": "ok"}))

    # 500 slow clients (from another address: each address is limited on its own) hold
    # connections with half-sent headers while a well-behaved client works.
    slow = []
    for _ in range(500):
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5, source_address=("127.0.0.2", 0))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
    t0 = time.monotonic()
    good = [request("GET", "/healthz")[0] for _ in range(20)]
    code, body = request("POST", "/api/v1/runs", token=operator, body={"workflow": "park", "inputs": {"referral_id": "R9"}})
    check("a well-behaved client is served beside 500 slow ones", good == [200] * 20 and code == 201, (good, code, body))
    check("... promptly", time.monotonic() - t0 < 10, time.monotonic() - t0)
    for s in slow:
        s.close()
    check("still serving after the slow clients", request("GET", "/healthz") == (200, {"status": "ok"}))

    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/metrics", headers={"Authorization": f"Bearer {auditor}"})
    text = urllib.request.urlopen(req, timeout=10).read().decode()
    check("metrics in Prometheus text", 'vigil_runs{status="cancelled"} 1' in text and "vigil_store_commit_seconds_count" in text, text[:400])
    code, _ = request("GET", "/metrics", token=operator)
    check("operator may not read metrics", code == 403)

    hook = "/api/v1/hooks/referrals/intake"
    code, first = request("POST", hook, token=operator, body={"referral_id": "R-77"}, headers={"Idempotency-Key": "delivery-0001"})
    code2, again = request("POST", hook, token=operator, body={"referral_id": "R-77"}, headers={"Idempotency-Key": "delivery-0001"})
    check("webhook starts a run", code == 201 and first["duplicate"] is False, first)
    check("a redelivery with the same key starts no second run", code2 == 200 and again["id"] == first["id"] and again["duplicate"], again)
    code, body = request("GET", "/api/v1/runs?workflow=intake&purpose=dedupe+check", token=operator)
    check("exactly one run for the delivery", code == 200 and len(body["items"]) == 1, body)
    code, body = request("POST", hook, token=operator, body={"referral_id": "R-78"})
    check("webhook without Idempotency-Key: 400", code == 400 and body["error"]["code"] == "idempotency_key_required", body)
    code, body = request("POST", "/api/v1/hooks/nowhere", token=operator, body={}, headers={"Idempotency-Key": "delivery-0002"})
    check("unknown webhook path: 404", code == 404, body)

    # The CLI client against the same server.
    def cli(*args, token=operator, extra_env=None):
        e = dict(os.environ, VIGIL_SERVER=f"http://127.0.0.1:{PORT}", VIGIL_TOKEN=token or "")
        e.pop("VIGIL_PURPOSE", None)
        e.update(extra_env or {})
        if not token:
            e.pop("VIGIL_TOKEN")
        p = subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=60, env=e)
        return p.returncode, p.stdout, p.stderr

    rc, out, err = cli("run", "park", "--input", '{"referral_id": "R2"}')
    cli_run = out.strip()
    check("vigil run prints the id", rc == 0 and cli_run.startswith("r-"), out + err)
    rc, out, err = cli("runs", "--status", "waiting", "--purpose", "queue check")
    check("vigil runs shows a table", rc == 0 and out.startswith("ID") and cli_run in out, out + err)
    rc, out, err = cli("runs", "--status", "waiting")
    check("vigil runs without a purpose is refused", rc == 1 and "state why" in err, err)
    rc, out, err = cli("show", cli_run, "--json", "--purpose", "case review")
    check("vigil show --json", rc == 0 and json.loads(out)["status"] == "waiting", out + err)
    rc, out, err = cli("cancel", cli_run, "--reason", "entered twice")
    check("vigil cancel", rc == 0 and out.strip() == f"{cli_run} cancelled", out + err)
    rc, out, err = cli("run", "quick", "--input", '{"n": 21}', "--wait", "--json")
    check("vigil run --wait follows the run to the end", rc == 0 and json.loads(out)["outputs"] == {"n": 42}, out + err)
    rc, out, err = cli("run", "quick", token=None)
    check("no token: exit 2 with advice", rc == 2 and "set VIGIL_TOKEN" in err, err)
    rc, out, err = cli("run", "quick", token=auditor)
    check("auditor cannot start runs: exit 1", rc == 1 and "HTTP 403" in err, err)

    rc, author, _ = users("users", "add", "ali", "--role", "author")
    wf = os.path.join(tmp, "quick.yaml")
    src = open(os.path.join(SOURCE, "tests", "daemon", "workflows", "quick.yaml")).read()
    open(wf, "w").write(src.replace("version: 1", "version: 2").replace("inputs.n * 2", "inputs.n * 3"))
    rc, out, err = cli("publish", wf, token=author)
    check("vigil publish a new version", rc == 0 and "published quick version 2" in out, out + err)
    rc, out, err = cli("publish", wf, token=author)
    check("publishing the same again is not an error", rc == 0 and "already published quick version 2" in out, out + err)
    rc, out, err = cli("run", "quick", "--input", '{"n": 5}', "--wait", "--json")
    check("new runs use the new version", rc == 0 and json.loads(out)["outputs"] == {"n": 15}, out + err)
    # A workflow published while the daemon runs watches its folder at once.
    inbox = os.path.join(tmp, "dropped-inbox")
    dropped = os.path.join(tmp, "dropped.yaml")
    open(dropped, "w").write(f"workflow: dropped\nversion: 1\nowner: o\ninputs: {{ note: string }}\n"
                             f"triggers:\n  - watch: {inbox}\nsteps:\n  - {{ id: s, set: {{ n: \"${{{{ inputs.note }}}}\" }} }}\n")
    rc, out, err = cli("publish", dropped, token=author)
    check("publish a workflow with a watched folder", rc == 0, out + err)
    os.makedirs(inbox, exist_ok=True)
    open(os.path.join(inbox, "one.json"), "w").write('{"note": "dropped in"}')
    found = []
    for _ in range(60):
        code, body = request("GET", "/api/v1/runs?workflow=dropped", token=operator, headers={"X-Vigil-Purpose": "test"})
        found = body.get("items", []) if code == 200 else []
        if found:
            break
        time.sleep(0.1)
    check("its watched folder starts a run without a restart", len(found) == 1, found)
    open(wf, "w").write(src.replace("version: 1", "version: 2").replace("inputs.n * 2", "inputs.n * 4"))
    rc, out, err = cli("publish", wf, token=author)
    check("same version, other content: refused", rc == 1 and "publish version 3" in err, err)
    open(wf, "w").write(src.replace("version: 1", "version: 3").replace("steps.double", "steps.dubble"))
    rc, out, err = cli("publish", wf, token=author)
    check("invalid workflow: FILE:LINE:COL diagnostics", rc == 1 and f"{wf}:11:17: error:" in err and "unknown step 'dubble'" in err, err)
    code, body = request("POST", "/api/v1/workflows/validate", token=author, body={"source": open(wf).read(), "file": "q.yaml"})
    check("validate endpoint returns the diagnostics", code == 422 and body["diagnostics"][0]["line"] == 11, body)
    code, body = request("POST", "/api/v1/workflows/validate", token=author, body={"source": src, "file": "q.yaml"})
    check("validate endpoint accepts a valid workflow", code == 200 and body["valid"] is True, body)
    rc, out, err = cli("publish", wf, token=operator)
    check("operator may not publish", rc == 1 and "HTTP 403" in err, err)

    # vigil show lists steps in the order they ran (not by name), with their times, and
    # prints the error of a step that failed and was handled.
    order = os.path.join(tmp, "show-order.yaml")
    open(order, "w").write("workflow: show-order\nversion: 1\nowner: operator\n"
                           "inputs:\n  text: { type: string, default: \"not a number\" }\nsteps:\n"
                           "  - { id: zeta, set: { a: 1 } }\n"
                           "  - { id: parse, set: { n: \"${{ number(inputs.text) }}\" }, on_error: continue }\n"
                           "  - { id: alpha, set: { b: 2 } }\n")
    rc, out, err = cli("publish", order, token=author)
    check("publish the step-order workflow", rc == 0, out + err)
    rc, out, err = cli("run", "show-order", "--wait", "--json")
    order_run = json.loads(out)["id"] if rc == 0 else ""
    check("the step-order run completes past its handled failure", rc == 0, out + err)
    rc, out, err = cli("show", order_run, "--purpose", "case review")
    lines = out.splitlines()
    step_rows = [l.split() for l in lines[lines.index("steps, in the order they ran:") + 2:lines.index("events:")]
                 if not l.startswith("      ")] if "events:" in lines and "steps, in the order they ran:" in lines else []
    check("vigil show lists the steps in the order they ran", [r[0] for r in step_rows] == ["zeta", "parse", "alpha"],
          out + err)
    stamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z"
    check("... each with its start and finish time",
          len(step_rows) == 3 and all(re.fullmatch(stamp, r[2]) and re.fullmatch(stamp, r[3]) for r in step_rows), out)
    error_lines = [l.strip() for l in lines if l.startswith("      ")]
    check("... and the handled step's error under it",
          len(error_lines) == 1 and error_lines[0].startswith("error (handled by on_error): expression: ")
          and "number(): argument 1 is not a number" in error_lines[0]
          and lines.index("      " + error_lines[0]) == lines.index(next(l for l in lines if l.startswith("  parse "))) + 1,
          out)

    # An account that decides needs a second admin: the first admin's request waits.
    code, body = request("POST", "/api/v1/users", token=admin, body={"name": "pat", "roles": ["approver"]})
    check("granting a role that decides waits for a second admin", code == 202 and body.get("status") == "pending", body)
    grant = body.get("grant")
    code, body = request("POST", f"/api/v1/users/grants/{grant}/confirm", token=admin)
    check("the admin who asked cannot confirm their own grant", code == 403, body)
    code, body = request("POST", "/api/v1/users", token=admin, body={"name": "ada2", "roles": ["admin"]})
    check("an admin account needs no second admin", code == 201 and body["token"].startswith("vgl_"), body)
    admin2 = body.get("token", "")
    code, body = request("POST", f"/api/v1/users/grants/{grant}/confirm", token=admin2)
    check("a second admin confirms: the account exists and its token is returned once", code == 201 and body["token"].startswith("vgl_"), body)
    pat = body.get("token", "")
    code, body = request("GET", "/api/v1/users/grants", token=admin)
    report = [g for g in body.get("items", []) if g["grant"] == grant]
    check("the role-change report names who asked and who confirmed",
          report and report[0]["status"] == "confirmed" and report[0]["decided_by"] == "ada2" and report[0]["roles"] == ["approver"], body)
    code, body = request("POST", "/api/v1/users", token=admin, body={"name": "pat", "roles": ["approver"]})
    check("adding the same user again: 409", code == 409, body)
    code, body = request("POST", "/api/v1/users", token=operator, body={"name": "eve", "roles": ["admin"]})
    check("an operator cannot add users", code == 403, body)
    code, body = request("GET", "/api/v1/users", token=admin)
    pat_tokens = [u["tokens"] for u in body.get("items", []) if u["name"] == "pat"]
    check("admin lists users", code == 200 and pat_tokens and len(pat_tokens[0]) == 1, body)
    # Used once before, so the daemon knows it from memory when it is revoked.
    check("the new token works", request("GET", "/api/v1/workflows", token=pat)[0] == 200)
    code, body = request("POST", f"/api/v1/tokens/{pat_tokens[0][0]}/revoke", token=admin)
    check("admin revokes a token", code == 200, body)
    check("the revoked token stops working", request("GET", "/api/v1/workflows", token=pat)[0] == 401)

    rc, listing, _ = users("users", "list")
    token_id = [l for l in listing.splitlines() if l.startswith("olivia")][0].split("tokens: ")[1].split()[0]
    rc, out, err = users("tokens", "revoke", token_id)
    check("tokens revoke", rc == 0, err)
    code, body = request("GET", "/api/v1/workflows", token=operator)
    check("a token revoked by another process: 401 at once", code == 401, body)

    server.send_signal(signal.SIGTERM)
    rc = server.wait(timeout=20)
    err = open(os.path.join(tmp, "serve.log")).read()
    check("SIGTERM stops cleanly with exit 0", rc == 0 and "stopped" in err, err[-500:])
    check("no token in the log", admin not in err and operator not in err, "token found in log")

    # Restarted on the same data, the version published through the API is offered again.
    server = subprocess.Popen([VIGIL, "serve", "--data", DATA, "--listen", "127.0.0.1:0",
                               "--workflows", os.path.join(SOURCE, "tests", "daemon", "workflows")],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "serve2.log"), "w"), text=True)
    PORT = int(re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline()).group(1))
    code, body = request("GET", "/api/v1/workflows", token=auditor)
    quick = [w for w in body.get("items", body if isinstance(body, list) else []) if w.get("name") == "quick"]
    check("a workflow published with vigil publish is still offered after a restart",
          code == 200 and quick and max(w.get("version", 0) for w in quick) == 2, body)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(tmp, ignore_errors=True)

# Configuration file: errors name file, line and key; limits apply.
tmp2 = tempfile.mkdtemp(prefix="vigil-config-")
try:
    bad = os.path.join(tmp2, "bad.yaml")
    open(bad, "w").write("data: " + os.path.join(tmp2, "d") + "\nlistn: 127.0.0.1:0\n")
    p = subprocess.run([VIGIL, "serve", "--config", bad], capture_output=True, text=True, timeout=20)
    check("config: unknown key named with file and line", p.returncode == 2 and f"{bad}:2:1: error: unknown key 'listn'" in p.stderr, p.stderr)
    open(bad, "w").write("limits:\n  max_connections: 0\n")
    p = subprocess.run([VIGIL, "serve", "--config", bad], capture_output=True, text=True, timeout=20)
    check("config: out-of-range limit", p.returncode == 2 and f"{bad}:2:20: error: 'limits.max_connections' must be between 1 and 100000" in p.stderr, p.stderr)
    # yaml-cpp alone keeps one of two duplicate keys without a word; the hardened reader refuses.
    open(bad, "w").write("limits:\n  max_connections: 10\nlisten: 127.0.0.1:0\nlimits:\n  max_connections: 20\n")
    p = subprocess.run([VIGIL, "serve", "--config", bad], capture_output=True, text=True, timeout=20)
    check("config: a key written twice is refused at the second",
          p.returncode == 2 and f"{bad}:4:1: error: duplicate key 'limits' (first at line 1)" in p.stderr, p.stderr)
    open(bad, "w").write("limits:\n  max_connections: 10\n  max_connections: 20\n")
    p = subprocess.run([VIGIL, "serve", "--config", bad], capture_output=True, text=True, timeout=20)
    check("config: a nested key written twice is refused",
          p.returncode == 2 and f"{bad}:3:3: error: duplicate key 'max_connections' (first at line 2)" in p.stderr, p.stderr)
    good = os.path.join(tmp2, "vigil.yaml")
    secret_file = os.path.join(tmp2, "intake.secret")
    open(secret_file, "w").write("a-shared-secret-of-some-length\n")
    open(good, "w").write(f"data: {os.path.join(tmp2, 'd')}\nlisten: 127.0.0.1:0\nworkflows: [{os.path.join(SOURCE, 'tests', 'daemon', 'workflows')}]\n"
                          "limits:\n  requests_per_second_per_token: 5\n  read_timeout_seconds: 1\n"
                          f"webhooks:\n  /referrals/intake: {{ secret_file: {secret_file} }}\n")
    server = subprocess.Popen([VIGIL, "serve", "--config", good], stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp2, "serve.log"), "w"), text=True)
    lines = [server.stdout.readline() for _ in range(3)]
    PORT = int(re.search(r"127\.0\.0\.1:(\d+)", lines[2]).group(1))
    slowloris = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    slowloris.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    closed = slowloris.recv(100) == b""  # blocks until the server gives up on the request
    check("a client that never finishes its request is cut off after read_timeout_seconds",
          closed and 0.5 < time.monotonic() - t0 < 5, time.monotonic() - t0)
    slowloris.close()
    import hashlib
    import hmac
    payload = json.dumps({"referral_id": "R-90"}).encode()
    stamp = str(int(time.time()))
    signed = f"{stamp}\nsigned-0001\n".encode() + payload
    signature = "sha256=" + hmac.new(b"a-shared-secret-of-some-length", signed, hashlib.sha256).hexdigest()
    code, body = request("POST", "/api/v1/hooks/referrals/intake", body=payload,
                         headers={"Idempotency-Key": "signed-0001", "X-Vigil-Signature": signature, "X-Vigil-Timestamp": stamp})
    check("a signed webhook delivery needs no token", code == 201, body)
    code, body = request("POST", "/api/v1/hooks/referrals/intake", body=payload,
                         headers={"Idempotency-Key": "signed-0002", "X-Vigil-Signature": "sha256=" + "0" * 64,
                                  "X-Vigil-Timestamp": stamp})
    check("a wrongly signed delivery: 401", code == 401 and body["error"]["code"] == "signature_invalid", body)
    code, body = request("POST", "/api/v1/hooks/referrals/intake", body=payload + b" ",
                         headers={"Idempotency-Key": "signed-0001", "X-Vigil-Signature": signature, "X-Vigil-Timestamp": stamp})
    check("a body changed after signing: 401", code == 401 and body["error"]["code"] == "signature_invalid", body)
    code, body = request("POST", "/api/v1/hooks/referrals/intake", body=payload,
                         headers={"Idempotency-Key": "signed-0001", "X-Vigil-Signature": signature})
    check("a signed delivery without X-Vigil-Timestamp: 401 naming the header",
          code == 401 and body["error"]["field"] == "X-Vigil-Timestamp", body)
    check("... and the secret is never echoed", "a-shared-secret" not in json.dumps(body), body)
    codes = [request("GET", "/api/v1/workflows", token=lines[1].strip())[0] for _ in range(30)]
    check("per-token rate limit answers 429", codes[:5] == [200] * 5 and 429 in codes, codes)
    server.send_signal(signal.SIGTERM)
    check("stops cleanly", server.wait(timeout=20) == 0)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(tmp2, ignore_errors=True)

checks.finish()
