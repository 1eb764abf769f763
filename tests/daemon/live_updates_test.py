#!/usr/bin/env python3
"""Live updates and waiting starts over real HTTP on a loopback `vigil serve`: a start with
?wait= (or a webhook whose trigger says `wait:`) answers with the finished run's outputs (a recorded read) or the approval it parked
at, 202 when it is still running at the deadline, 400 for a bad wait; server-sent events
follow a run to its decision and tell an approver's inbox that a task opened, and refuse
what the caller may not follow."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import shutil
import time

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
FLOWS = os.path.join(SOURCE, "tests", "daemon", "workflows")


def referral(i):
    return {"referral": {"id": f"R{i}", "band": "AMBER", "child": {"name": "A B", "dob": "2015-01-01"}}}


class EventStream:
    """GET /api/v1/events on a raw socket: the status line and headers, then the body's
    chunks decoded as they come. Every read is bounded by a deadline."""

    def __init__(self, port, query, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall((f"GET /api/v1/events?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.raw = b""     # received, not yet decoded
        self.text = ""     # the decoded body so far
        self.closed = False
        head = self._until(lambda: b"\r\n\r\n" in self.raw, time.monotonic() + 10)
        if not head:
            raise RuntimeError(f"no answer to GET /api/v1/events?{query}: {self.raw[:300]!r}")
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split(" ")[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(min(left, 1.0))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except (ConnectionResetError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        self.raw += data
        return True

    def _until(self, done, deadline):
        while not done():
            if not self._recv(deadline):
                return done()
        return True

    def _decode(self):
        # Chunked framing: SIZE-IN-HEX CRLF DATA CRLF, ending with a zero-size chunk.
        while True:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0] or b"0", 16)
            if size == 0:
                self.closed = True
                return
            if len(self.raw) < line_end + 2 + size + 2:
                return
            self.text += self.raw[line_end + 2:line_end + 2 + size].decode(errors="replace")
            self.raw = self.raw[line_end + 2 + size + 2:]

    def events(self):
        """The complete events so far, as (event name, data text)."""
        out = []
        for block in self.text.split("\n\n")[:-1]:
            name, data = "message", []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
            if data:
                out.append((name, "\n".join(data)))
        return out

    def wait_for(self, match, seconds):
        """The first event from now on for which match(name, data) holds, within `seconds`."""
        seen = len(self.events())
        deadline = time.monotonic() + seconds
        while True:
            self._decode()
            for name, data in self.events()[seen:]:
                if match(name, data):
                    return name, data
            if not self._recv(deadline):
                self._decode()
                for name, data in self.events()[seen:]:
                    if match(name, data):
                        return name, data
                return None

    def drain(self, seconds):
        """Reads whatever comes within `seconds`; later waits look only at what comes after."""
        deadline = time.monotonic() + seconds
        while self._recv(deadline):
            pass
        self._decode()

    def body_text(self, seconds):
        """For a refused stream: the whole (Content-Length) body."""
        want = int(self.headers.get("content-length", "0"))
        self._until(lambda: len(self.raw) >= want, time.monotonic() + seconds)
        return self.raw[:want].decode(errors="replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def change_of(run):
    def match(name, data):
        if name != "change":
            return False
        try:
            return json.loads(data).get("run") == run
        except ValueError:
            return False
    return match


def inbox_change(name, data):
    if name != "change":
        return False
    try:
        return json.loads(data).get("inbox") is True
    except ValueError:
        return False


tmp = tempfile.mkdtemp(prefix="vigil-live-")
slow = None
try:
    with Daemon(VIGIL, [FLOWS], tmp) as d:
        operator = d.add_user("olivia", "operator")
        sup = d.add_user("sam", "approver", "mash-supervisor")
        auditor = d.add_user("audrey", "auditor")
        purpose = {"X-Vigil-Purpose": "live updates test"}

        # A start that waits for its run to end answers with the outputs, and that read is recorded.
        t0 = time.monotonic()
        code, body = d.request("POST", "/api/v1/runs?wait=10s", token=operator, body={"workflow": "quick", "inputs": {"n": 2}})
        quick = (body or {}).get("id", "")
        check("wait=10s on quick: 201, completed, outputs.n == 4",
              code == 201 and body.get("status") == "completed" and body.get("outputs", {}).get("n") == 4 and
              body.get("duplicate") is False, (code, body))
        check("a quick run is answered at once, not at the deadline", time.monotonic() - t0 < 5, time.monotonic() - t0)
        code, bundle = d.request("GET", f"/api/v1/audit/export?run={quick}", token=auditor, headers=purpose)
        records = [r["record"] for r in (bundle or {}).get("records", [])] if code == 200 else []
        waited = [r for r in records if r["kind"] == "consultation" and r["run"] == quick and "waited" in r["purpose"]]
        check("the outputs handed back are a recorded consultation whose purpose says the caller waited",
              len(waited) == 1 and waited[0]["actor"] == "olivia",
              (code, [(r["kind"], r["actor"], r["purpose"]) for r in records]))

        # A start that parks at an approval answers with the step it waits on.
        t0 = time.monotonic()
        code, body = d.request("POST", "/api/v1/runs?wait=10", token=operator, body={"workflow": "triage-review", "inputs": referral(1)})
        parked = (body or {}).get("id", "")
        check("wait=10 on triage-review: 201, waiting on review",
              code == 201 and body.get("status") == "waiting" and body.get("waiting_on") == ["review"], (code, body))
        check("a parked run is answered at once, not at the deadline", time.monotonic() - t0 < 5, time.monotonic() - t0)

        # A bad wait is refused before anything starts.
        code, before = d.request("GET", "/api/v1/runs?workflow=quick", token=operator, headers=purpose)
        for value in ("0", "121", "abc", "0s", "-5", "10m", ""):
            code, body = d.request("POST", f"/api/v1/runs?wait={value}", token=operator, body={"workflow": "quick"})
            check(f"wait={value!r}: 400 naming wait", code == 400 and body["error"]["field"] == "wait", (code, body))
        code, after = d.request("GET", "/api/v1/runs?workflow=quick", token=operator, headers=purpose)
        check("a refused wait started no run", code == 200 and len(after["items"]) == len(before["items"]) == 1,
              (len(before["items"]), len(after["items"])))
        code, body = d.request("POST", "/api/v1/runs?wait=120", token=operator, body={"workflow": "quick"})
        check("wait=120, the largest, is accepted", code == 201 and body.get("status") == "completed", (code, body))

        # A webhook whose trigger opts in with `wait:` answers with the finished run's outputs;
        # its repeat (the same key) is answered the same way; another path of the same
        # workflow without `wait:` answers at the start.
        hook_key = {"Idempotency-Key": "live-updates-answer-1"}
        for attempt in ("the delivery", "its repeat"):
            code, body = d.request("POST", "/api/v1/hooks/answer/when-done", token=operator, body={"n": 5}, headers=hook_key)
            check(f"webhook with wait:, {attempt}: {201 if attempt == 'the delivery' else 200}, completed, outputs.n == 15",
                  code == (201 if attempt == "the delivery" else 200) and (body or {}).get("status") == "completed" and
                  body.get("outputs", {}).get("n") == 15 and body.get("duplicate") is (attempt != "the delivery"), (code, body))
        code, body = d.request("POST", "/api/v1/hooks/answer/at-start", token=operator, body={"n": 5},
                               headers={"Idempotency-Key": "live-updates-answer-2"})
        check("webhook without wait: answered at the start, with no outputs",
              code == 201 and (body or {}).get("status") == "started" and "outputs" not in body, (code, body))

        # A run still going at the deadline: 202, running. pause.yaml parks on a durable timer
        # (its run is "waiting", so it is answered at once, like an approval, and checked below);
        # slow-call.yaml runs as long as its HTTP call does: here 20 s against a loopback server.
        # These come first, while no other run commits anything: the deadline must be kept
        # even when nothing else happens in the daemon meanwhile.
        slow = subprocess.Popen(["/usr/bin/python3", os.path.join(SOURCE, "tests", "connectors", "http", "http_test_server.py"),
                                 "--webhook-secret", "unused-webhook-secret"], stdout=subprocess.PIPE, text=True)
        slow_port = json.loads(slow.stdout.readline())["http"]
        slow_body = {"workflow": "slow-call", "inputs": {"url": f"http://127.0.0.1:{slow_port}/slow?ms=20000"}}
        key = {"Idempotency-Key": "live-updates-slow-call-1"}
        # The first start, and then the same start again (the same key names the same run, still
        # in its call, so nothing is committed while the repeat waits).
        for attempt in ("the start", "a repeat of the start", "a second repeat"):
            t0 = time.monotonic()
            code, body = d.request("POST", "/api/v1/runs?wait=1", token=operator, body=slow_body, headers=key, timeout=40)
            took = time.monotonic() - t0
            check(f"wait=1 on a 20 s call, {attempt}: 202 running", code == 202 and (body or {}).get("status") == "running" and
                  body.get("duplicate") is (attempt != "the start"), (code, body, f"answered after {took:.1f} s"))
            check(f"wait=1 on a 20 s call, {attempt}: answered a second later, not at a heartbeat or the run's end",
                  0.8 <= took < 3.0, f"{took:.1f} s; answered {code} {(body or {}).get('status')}")
        code, body = d.request("POST", "/api/v1/runs?wait=5", token=operator, body={"workflow": "pause"})
        check("wait on pause: it parks on its timer and is answered as waiting on hold",
              code == 201 and body.get("status") == "waiting" and body.get("waiting_on") == ["hold"], (code, body))

        # A run's stream: headers, then a change when the approval is decided.
        stream = EventStream(d.port, f"run={parked}", operator)
        try:
            check("run stream: 200, text/event-stream, chunked",
                  stream.status == 200 and stream.headers.get("content-type", "").startswith("text/event-stream") and
                  stream.headers.get("transfer-encoding", "").lower() == "chunked", (stream.status_line, stream.headers))
            check("run stream carries the security headers",
                  "frame-ancestors 'none'" in stream.headers.get("content-security-policy", ""), stream.headers)
            stream.drain(0.5)
            check("run stream opens with its retry hint", "retry:" in stream.text, stream.text[:200])
            code, task = d.request("GET", f"/api/v1/approvals/{parked}/review", token=sup, headers=purpose)
            form = (task or {}).get("decision_form") or {}
            options = form.get("options") or ["approve"]
            decision = "approve" if "approve" in options else options[0]
            reason = "checked the referral against the records"
            reason += "." * max(0, int((form.get("reason") or {}).get("min_length") or 0) - len(reason))
            check("the supervisor opens the task", code == 200 and len(task.get("shown_digest", "")) == 64, (code, task))
            code, body = d.request("POST", f"/api/v1/approvals/{parked}/review/decide", token=sup,
                                   body={"decision": decision, "reason": reason, "shown_digest": task.get("shown_digest", "")})
            check("the supervisor decides", code == 200 and body.get("status") == "decided", (code, body))
            got = stream.wait_for(change_of(parked), 10)
            check("a change event for the run arrives within 10 s of the decision", got is not None,
                  (stream.text[-500:], stream.closed))
            if got:
                data = json.loads(got[1])
                check("the change names the run, its status and seq and no run data",
                      set(data) == {"run", "status", "seq"} and data["run"] == parked, data)
        finally:
            stream.close()

        # The inbox stream: only for those who decide; says that tasks changed.
        refused = EventStream(d.port, "inbox=1", operator)
        try:
            text = refused.body_text(5)
            check("inbox stream for an operator (no decide): 403", refused.status == 403 and '"forbidden"' in text,
                  (refused.status_line, text))
        finally:
            refused.close()
        inbox = EventStream(d.port, "inbox=1", sup)
        try:
            check("inbox stream for an approver: 200 text/event-stream",
                  inbox.status == 200 and inbox.headers.get("content-type", "").startswith("text/event-stream"),
                  (inbox.status_line, inbox.headers))
            inbox.drain(0.5)
            code, body = d.request("POST", "/api/v1/runs", token=operator, body={"workflow": "triage-review", "inputs": referral(2)})
            check("a second triage-review run starts", code == 201, (code, body))
            got = inbox.wait_for(inbox_change, 10)
            check("an inbox change arrives within 10 s when its approval opens", got is not None, (inbox.text[-500:], inbox.closed))
            if got:
                check("the inbox change says only that tasks changed", json.loads(got[1]) == {"inbox": True}, got)
        finally:
            inbox.close()

        # Follow exactly one thing.
        for query in ("", "?run=", f"?run={parked}&inbox=1", "?inbox=0"):
            code, body = d.request("GET", f"/api/v1/events{query}", token=operator)
            check(f"events{query or ' with neither'}: 400", code == 400 and body["error"]["code"] == "invalid_request" and
                  body["error"].get("field") == "run", (code, body))
        code, body = d.request("GET", f"/api/v1/events?run={parked}")
        check("events without a token: 401", code == 401, (code, body))
finally:
    if slow is not None:
        slow.terminate()
        slow.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
