#!/usr/bin/env python3
"""A strict HTTP edge, driven with raw bytes against the real `vigil serve`: ambiguous
framing (Transfer-Encoding other than exactly `chunked`, Transfer-Encoding beside
Content-Length), chunked trailers, duplicated headers that decide who is asking or what is
read, and obs-folded header lines are each refused with 400 and the connection closed, so a
second request smuggled behind them is never answered. Then per-address limits: 600 sockets
trickling headers from 127.0.0.2 do not deny service to 127.0.0.1, and one address cannot
hold more than its share of connections. The daemon keeps its default `max_connections`
(512): the per-address limits are what keep the slow source below it."""
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

# 600 client sockets and the daemon's 600 server ends (it inherits this limit).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def connect(port, source="127.0.0.1", timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def read_until_close(s, timeout):
    """Everything the server sends until it closes (True) or `timeout` passes (False)."""
    data, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def exchange(port, payload, source="127.0.0.1", timeout=3):
    """Sends `payload` whole; returns (status codes of every response, first body, closed)."""
    s = connect(port, source, timeout)
    try:
        s.sendall(payload)
        data, closed = read_until_close(s, timeout)
    finally:
        s.close()
    codes = [int(c) for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]  # bodies are JSON: no false match
    body = None
    head, sep, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
    if sep and m:
        try:
            body = json.loads(rest[:int(m.group(1))])
        except ValueError:
            body = None
    return codes, body, closed


def refused(name, port, payload, status=400):
    """One check: exactly one answer, `status` with code bad_request, then the connection
    closed, so the smuggled request after `payload` gets nothing."""
    codes, body, closed = exchange(port, payload + SMUGGLED)
    code = ((body or {}).get("error") or {}).get("code")
    check(name, codes == [status] and closed and (status != 400 or code == "bad_request"), (codes, body, closed))


def status_of(url, token=None, timeout=5):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return repr(e)


tmp = tempfile.mkdtemp(prefix="vigil-http-edge-")
for sub in ("a", "b"):
    os.makedirs(os.path.join(tmp, sub))
sockets = []
try:
    with Daemon(VIGIL, WORKFLOWS, os.path.join(tmp, "a")) as d:
        port, admin = d.port, d.admin.encode()
        operator = d.add_user("olivia", "operator").encode()
        run = b'{"workflow": "park", "inputs": {"referral_id": "E1"}}'

        # Controls: the strict edge still serves what is well formed.
        codes, _, _ = exchange(port, SMUGGLED + SMUGGLED.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        check("control: two pipelined requests on one connection are both answered", codes == [200, 200], codes)
        body = b'{"workflow": "park", "inputs": {"referral_id": "C1"}}'
        codes, answer, _ = exchange(port, b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + operator +
                                    b"\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" +
                                    b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        check("control: a chunked POST (any case of 'chunked') is served", codes == [201], (codes, answer))

        # Transfer-Encoding other than exactly `chunked`, or beside Content-Length.
        post = b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + operator + b"\r\nContent-Type: application/json\r\n"
        by_length = b"Content-Length: %d\r\n\r\n" % len(run) + run
        for te in (b"chunked, chunked", b"gzip", b"identity"):
            refused(f"Transfer-Encoding: {te.decode()} before Content-Length: 400 and closed", port,
                    post + b"Transfer-Encoding: " + te + b"\r\n" + by_length)
        refused("Transfer-Encoding: gzip with no Content-Length: 400 and closed", port,
                post + b"Transfer-Encoding: gzip\r\n\r\n")
        chunked_run = b"%x\r\n" % len(run) + run + b"\r\n0\r\n\r\n"
        for te in (b"chunked, chunked", b"gzip, chunked", b"chunked;q=1"):
            refused(f"Transfer-Encoding: {te.decode()} alone: 400 and closed", port,
                    post + b"Transfer-Encoding: " + te + b"\r\n\r\n" + chunked_run)
        # Beast already refuses these two; kept so that stays true.
        refused("Content-Length before Transfer-Encoding: chunked: 400 and closed", port,
                post + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        refused("Transfer-Encoding: chunked before Content-Length: 400 and closed", port,
                post + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")
        refused("two Transfer-Encoding headers: 400 and closed", port,
                post + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")

        # An Authorization that arrives only in a chunked trailer is never seen.
        user = b'{"name": "trudy", "roles": ["admin"]}'
        codes, body, closed = exchange(port, b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                       b"Transfer-Encoding: chunked\r\nTrailer: Authorization\r\n\r\n" +
                                       b"%x\r\n" % len(user) + user + b"\r\n0\r\nAuthorization: Bearer " + admin + b"\r\n\r\n" + SMUGGLED)
        check("Authorization only in a chunked trailer: refused, never served as the admin, and closed",
              len(codes) == 1 and codes[0] in (400, 401) and closed, (codes, body, closed))
        code, listing = d.request("GET", "/api/v1/users", token=admin.decode())
        check("... and no account was made", code == 200 and "trudy" not in [u["name"] for u in listing.get("items", [])],
              (code, listing))
        refused("a harmless trailer on an authenticated chunked POST: 400 and closed", port,
                post + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(run) + run + b"\r\n0\r\nX-Checksum: 1\r\n\r\n")

        # Headers that decide who asks, how much is read, or why: given once or refused.
        users = b"GET /api/v1/users HTTP/1.1\r\nHost: x\r\n"
        refused("two Authorization headers (admin first): 400", port,
                users + b"Authorization: Bearer " + admin + b"\r\nAuthorization: Bearer vgl_junk\r\n\r\n")
        refused("two Authorization headers (admin last): 400", port,
                users + b"Authorization: Bearer vgl_junk\r\nAuthorization: Bearer " + admin + b"\r\n\r\n")
        refused("two equal Content-Length headers: 400", port,
                post + b"Content-Length: %d\r\n" % len(run) + by_length)
        refused("Content-Length given as a list: 400", port,
                post + b"Content-Length: %d, %d\r\n\r\n" % (len(run), len(run)) + run)
        refused("two Host headers: 400", port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
        hook = b'{"referral_id": "H1"}'
        refused("two Idempotency-Key headers: 400", port,
                b"POST /api/v1/hooks/referrals/intake HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + operator +
                b"\r\nContent-Type: application/json\r\nIdempotency-Key: delivery-0001\r\nIdempotency-Key: delivery-0002\r\n" +
                b"Content-Length: %d\r\n\r\n" % len(hook) + hook)
        refused("two Content-Type headers: 400", port,
                post.replace(b"Content-Type: application/json\r\n", b"Content-Type: application/json\r\nContent-Type: text/plain\r\n") +
                by_length)
        refused("two X-Vigil-Purpose headers: 400", port,
                b"GET /api/v1/runs?status=waiting HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + operator +
                b"\r\nX-Vigil-Purpose: triage review\r\nX-Vigil-Purpose: audit sample\r\n\r\n")

        # obs-fold: a header line continued on the next line.
        refused("an obs-folded Authorization (space): 400", port, users + b"Authorization: Bearer\r\n " + admin + b"\r\n\r\n")
        refused("an obs-folded Authorization (tab): 400", port, users + b"Authorization:\r\n\tBearer " + admin + b"\r\n\r\n")
        refused("an obs-folded harmless header: 400", port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n b\r\n\r\n")
        check("still serving after the refusals", status_of(d.url + "/healthz") == 200)

        # 600 sockets from 127.0.0.2 trickle their request lines; 127.0.0.1 is served meanwhile.
        for _ in range(600):
            s = connect(port, "127.0.0.2")
            sockets.append(s)
            try:
                s.sendall(b"GET /heal")
            except OSError:
                pass  # refused at once: the server already closed it
        stop = threading.Event()

        def trickle():
            while not stop.wait(0.3):
                for s in list(sockets):
                    try:
                        s.send(b"t", socket.MSG_DONTWAIT)
                    except OSError:
                        pass

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            good = [status_of(d.url + "/healthz") if i % 2 else status_of(d.url + "/api/v1/workflows", admin.decode())
                    for i in range(20)]
            check("20 requests from 127.0.0.1 beside 600 trickling sockets from 127.0.0.2: 20 answered 200",
                  good == [200] * 20, good)
            held = 0
            for s in sockets:
                s.setblocking(False)  # with a timeout set, recv would wait for data first
                try:
                    first = s.recv(64)
                    if first and not first.startswith(b"HTTP/1.1 503"):
                        held += 1
                except BlockingIOError:
                    held += 1  # open and unanswered: the server is still waiting for its headers
                except OSError:
                    pass
            check("127.0.0.2 holds at most 16 connections still sending headers; the rest refused at once", held <= 16, held)
        finally:
            stop.set()
            trickler.join(5)
            for s in sockets:
                s.close()
            sockets.clear()

        # Concurrent connections per address: 64 idle keep-alive connections from 127.0.0.3, the 65th refused.
        for i in range(64):
            s = connect(port, "127.0.0.3")
            sockets.append(s)
            s.sendall(SMUGGLED)
            got = b""
            while b"\r\n\r\n" not in got and len(got) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            if not got.startswith(b"HTTP/1.1 200"):
                check(f"keep-alive connection {i + 1} from 127.0.0.3 is served", False, got[:100])
                break
        codes, body, closed = exchange(port, SMUGGLED, source="127.0.0.3")
        check("a 65th connection from one address: 503 and closed", codes == [503] and closed, (codes, body, closed))
        check("... while another address is served", status_of(d.url + "/healthz") == 200)
        for s in sockets:
            s.close()
        sockets.clear()

    # The limits come from the configuration file.
    config = os.path.join(tmp, "limits.yaml")
    open(config, "w").write("limits:\n  max_connections_per_address: 3\n  max_pending_headers_per_address: 2\n")
    try:
        with Daemon(VIGIL, WORKFLOWS, os.path.join(tmp, "b"), ["--config", config]) as d:
            for _ in range(2):
                sockets.append(connect(d.port, "127.0.0.4"))
            codes, _, closed = exchange(d.port, SMUGGLED, source="127.0.0.4")
            check("config: a third connection still sending headers from one address is refused with 503",
                  codes == [503] and closed, (codes, closed))
            sockets[0].sendall(SMUGGLED)
            first = sockets[0].recv(4096)
            check("... a held connection that finishes its request is served", first.startswith(b"HTTP/1.1 200"), first[:60])
            third = connect(d.port, "127.0.0.4")
            sockets.append(third)
            third.sendall(SMUGGLED)
            first = third.recv(4096)
            check("... which makes room for one more still sending headers", first.startswith(b"HTTP/1.1 200"), first[:60])
            codes, _, closed = exchange(d.port, SMUGGLED, source="127.0.0.4")
            check("config: a fourth connection from one address is refused with 503", codes == [503] and closed, (codes, closed))
    except RuntimeError as e:
        check("config: max_connections_per_address and max_pending_headers_per_address are read", False, e)
    for s in sockets:
        s.close()
    sockets.clear()
    open(config, "w").write("limits:\n  max_pending_headers_per_address: 0\n")
    p = subprocess.run([VIGIL, "serve", "--config", config, "--data", os.path.join(tmp, "c"), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    check("config: an out-of-range per-address limit stops the daemon",
          p.returncode == 2 and "'limits.max_pending_headers_per_address' must be between" in p.stderr, p.stderr[-300:])
finally:
    for s in sockets:
        s.close()
    shutil.rmtree(tmp, ignore_errors=True)

checks.finish()
