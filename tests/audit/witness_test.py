#!/usr/bin/env python3
"""`vigil witness` (C2SP tlog-witness) against the real daemon, on loopback with ephemeral ports:
two witnesses co-sign the daemon's checkpoints (the log's signature and each cosignature are
checked here with Ed25519, and `vigil audit verify --witness` anchors to them); a witness killed
with SIGKILL delays no run, keeps what it co-signed, and is caught up when it returns on its
port; a store rewritten by a database writer (a read deleted, the rest re-chained, later
checkpoints dropped) is refused by both witnesses, which keep the checkpoint they held, and
`vigil audit verify --witness` exits 1 naming the rewrite. Then the protocol itself: another
key (403), a stale old size (409 with the size held), a forged extension (422, nothing kept),
an unknown origin (404), malformed bodies (400), the same checkpoint again (200)."""
import base64
import hashlib
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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402
import audit_data  # noqa: E402
from audit_data import populate, remove_record, rows  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]
ORIGIN = "test.vigil/audit"
WAIT = 30  # seconds: the bound of every poll
DASH = "\u2014 "
procs = []  # every process started, killed by PID in the finally if still running


def poll(cond, timeout=WAIT):
    """cond() until it is truthy or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def http(url, method="GET", body=None):
    req = urllib.request.Request(url, data=None if body is None else body.encode(), method=method)
    if body is not None:
        req.add_header("Content-Type", "text/plain")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def raw_public(pem):
    return serialization.load_pem_public_key(pem.encode()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name, kind, raw):
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw).digest()[:4]


def split_note(note):
    """(text, [(name, signature bytes)]) of a C2SP signed note."""
    text, sigs = note.split("\n\n", 1)
    out = []
    for line in sigs.splitlines():
        assert line.startswith(DASH), line
        name, b64 = line[len(DASH):].split(" ")
        out.append((name, base64.b64decode(b64, validate=True)))
    return text + "\n", out


def ed_ok(raw, sig, msg):
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def log_signed(note, raw):
    text, sigs = split_note(note)
    return any(n == ORIGIN and s[:4] == key_hash(ORIGIN, 0x01, raw) and ed_ok(raw, s[4:], text.encode()) for n, s in sigs)


def cosigned_at(note, name, raw):
    """The time of a valid cosignature/v1 by (name, raw), else None."""
    text, sigs = split_note(note)
    for n, s in sigs:
        if n == name and len(s) == 4 + 8 + 64 and s[:4] == key_hash(name, 0x04, raw):
            t = int.from_bytes(s[4:12], "big")
            if ed_ok(raw, s[12:], f"cosignature/v1\ntime {t}\n".encode() + text.encode()):
                return t
    return None


def checkpoint_of(note):
    origin, size, root = split_note(note)[0].splitlines()[:3]
    return origin, int(size), root


def signed_by(private, text, origin=ORIGIN):
    """A note of `text` signed as the log `origin` by an Ed25519 private key."""
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sig = key_hash(origin, 0x01, raw) + private.sign(text.encode())
    return text + "\n" + DASH + origin + " " + base64.b64encode(sig).decode() + "\n"


class Witness:
    """A `vigil witness` on loopback with its own data directory; its log goes to a file."""

    def __init__(self, tmp, letter, log_key):
        self.name = f"test.witness/{letter}"
        self.data = os.path.join(tmp, f"witness-{letter}")
        self.log_path = os.path.join(tmp, f"witness-{letter}.log")
        self.log_key = log_key
        self.proc = None

    def start(self, port=0):
        self.proc = subprocess.Popen([VIGIL, "witness", "--listen", f"127.0.0.1:{port}", "--data", self.data, "--name", self.name,
                                      "--log", f"{ORIGIN}={self.log_key}"], stdout=subprocess.PIPE,
                                     stderr=open(self.log_path, "a"), text=True)
        procs.append(self.proc)
        line = self.proc.stdout.readline()  # the one line, or "" when it exits instead
        m = re.fullmatch(r"vigil witness listening on 127\.0\.0\.1:(\d+)\n", line)
        if not m:
            raise RuntimeError(f"vigil witness did not start: {line!r} {self.log()[-500:]}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=30)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def log(self):
        return open(self.log_path).read()

    def held(self):
        """The co-signed note it holds for ORIGIN, or None."""
        code, _, body = http(self.url + "/checkpoint?origin=" + urllib.request.quote(ORIGIN, safe=""))
        return body if code == 200 else None

    def held_size(self):
        note = self.held()
        return checkpoint_of(note)[1] if note else -1

    def add(self, body):
        return http(self.url + "/add-checkpoint", "POST", body)


def latest_checkpoint(data):
    """The daemon's newest signed checkpoint note in its store (size, note)."""
    r = rows(data, "SELECT size, note FROM audit_checkpoints WHERE note IS NOT NULL ORDER BY size DESC LIMIT 1")
    return r[0] if r else (-1, "")


def verify(*args):
    return audit_data.verify(VIGIL, *args)


tmp = tempfile.mkdtemp(prefix="vigil-witness-")
try:
    home = os.path.join(tmp, "daemon")
    os.makedirs(home)
    config = os.path.join(tmp, "vigil.yaml")
    verify_config = os.path.join(tmp, "verify.yaml")  # where `audit verify` learns the origin
    with open(verify_config, "w") as f:
        f.write(f"audit:\n  origin: {ORIGIN}\n")

    def configure(witnesses):
        with open(config, "w") as f:
            f.write(f"audit:\n  origin: {ORIGIN}\n  checkpoint_interval_seconds: 1\n  witnesses: [{', '.join(witnesses)}]\n")

    def start_daemon():
        # The first start prints the admin's token; later ones are given a new one.
        data_dir = os.path.join(home, "data")
        admin = Daemon.issue_token(VIGIL, data_dir) if os.path.exists(os.path.join(data_dir, "auth.db")) else None
        d = Daemon(VIGIL, WORKFLOWS, home, extra_args=["--config", config], admin=admin)
        procs.append(d.proc)
        return d

    # The log's key exists only once the daemon has started: start it once, without witnesses.
    configure([])
    d = start_daemon()
    data = d.data
    check("the daemon's first start stops cleanly", d.stop() == 0, d.proc.returncode)
    log_pub = os.path.join(data, "keys", "audit-ed25519.pub.pem")
    log_raw = raw_public(open(log_pub).read())

    wa, wb = Witness(tmp, "a", log_pub), Witness(tmp, "b", log_pub)
    wa.start()
    wb.start()
    keys = {}
    for w in (wa, wb):
        code, _, body = http(w.url + "/public-key")
        k = json.loads(body) if code == 200 else {}
        check(f"witness {w.name} serves its public key", code == 200 and k.get("name") == w.name and
              k.get("public_key", "").startswith("-----BEGIN PUBLIC KEY-----"), body)
        keys[w.name] = raw_public(k["public_key"])
        w.key_file = os.path.join(tmp, f"{w.name.replace('/', '-')}.pub.pem")
        open(w.key_file, "w").write(k["public_key"])
        check(f"witness {w.name} holds nothing of a log it has not seen", w.held() is None)
        check(f"witness {w.name} keeps its key 0600", oct(os.stat(os.path.join(w.data, "witness-ed25519.pem")).st_mode & 0o777) == "0o600")

    # 1-2. The daemon pushes every new checkpoint to both.
    configure([wa.url, wb.url])
    d = start_daemon()
    op, ids = populate(d, 6)

    def both_at_latest():
        size, note = latest_checkpoint(data)
        return size > 0 and wa.held_size() == size and wb.held_size() == size and (size, note)

    reached = poll(both_at_latest)
    check("both witnesses reach the daemon's newest checkpoint", bool(reached),
          (latest_checkpoint(data)[0], wa.held_size(), wb.held_size()))
    for w in (wa, wb):
        # The daemon may sign a newer checkpoint meanwhile (the decided runs finish after the
        # CLI returns): compare the witness's note with the daemon's at one moment.
        def same_checkpoint(w=w):
            held, (_, latest) = w.held() or "", latest_checkpoint(data)
            return held and latest and split_note(held)[0] == split_note(latest)[0] and (held, latest)

        note, daemon_note = poll(same_checkpoint) or (w.held() or "", latest_checkpoint(data)[1])
        t = cosigned_at(note, w.name, keys[w.name]) if note else None
        check(f"{w.name} holds the daemon's checkpoint text, signed by the log's key", note and
              split_note(note)[0] == split_note(daemon_note)[0] and log_signed(note, log_raw), (note, daemon_note))
        check(f"{w.name}'s cosignature verifies, timestamped now", t is not None and abs(t - time.time()) < 600, (t, note))
        check(f"{w.name}'s note carries no cosignature by the other witness",
              all(cosigned_at(note, o.name, keys[o.name]) is None for o in (wa, wb) if o is not w))
        rc, out, err = verify("--data", data, "--config", verify_config, "--witness", w.url, "--witness-key", w.key_file)
        check(f"vigil audit verify --witness {w.name}: the store extends its checkpoint (exit 0)",
              rc == 0 and out.startswith("OK ") and "extending 1 trusted checkpoint" in out, (rc, out, err))
    state = os.path.join(wa.data, "logs", hashlib.sha256(ORIGIN.encode()).hexdigest() + ".note")
    check("the witness keeps its state as the co-signed note, in logs/<sha256 of origin>.note",
          os.path.exists(state) and open(state).read() == wa.held(), state)

    # 4. Witness B down: nothing waits for it; A keeps up; B, back on its port, is caught up.
    b_port = wb.port
    wb.kill()
    b_held = open(os.path.join(wb.data, "logs", hashlib.sha256(ORIGIN.encode()).hexdigest() + ".note")).read()
    a_before = wa.held_size()
    started = time.monotonic()
    runs = []
    for i in range(12):
        code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "quick", "inputs": {"n": i}})
        check("a run starts while witness B is down", code == 201, body)
        runs.append(body.get("id"))

    def completed():
        code, body = d.request("GET", "/api/v1/runs?workflow=quick&status=completed&limit=1000", token=op,
                               headers={"X-Vigil-Purpose": "witness test: counting finished runs"})
        return code == 200 and len(body["items"]) == len(runs) and body

    done = poll(completed)
    check(f"all {len(runs)} runs finish with witness B down", bool(done) and sorted(r["id"] for r in done["items"]) == sorted(runs),
          done)
    check("...and promptly (no run waits for a witness)", time.monotonic() - started < 15, time.monotonic() - started)
    a_kept_up = poll(lambda: wa.held_size() == latest_checkpoint(data)[0] and wa.held_size() > a_before)
    check("witness A keeps advancing while B is down", a_kept_up, (a_before, wa.held_size(), latest_checkpoint(data)[0]))
    check("B is behind", checkpoint_of(b_held)[1] < latest_checkpoint(data)[0], (b_held, latest_checkpoint(data)[0]))
    wb.start(port=b_port)
    check("B returns on the same port", wb.port == b_port, (wb.port, b_port))
    check("B killed with SIGKILL kept what it had co-signed", wb.log().count(f"witness holds {ORIGIN} at {checkpoint_of(b_held)[1]} records") == 1,
          wb.log()[-600:])
    caught_up = poll(lambda: wb.held_size() == latest_checkpoint(data)[0])
    check("B is caught up to the daemon's newest checkpoint", caught_up, (wb.held_size(), latest_checkpoint(data)[0]))
    check("B's caught-up note carries its cosignature", cosigned_at(wb.held() or "", wb.name, keys[wb.name]) is not None)

    # 3. A database writer rewrites the store: delete a read record, re-chain the rest, drop the
    # checkpoints that covered it. Consistent in itself; the witnesses refuse it.
    check("the daemon stops cleanly", d.stop() == 0, d.proc.returncode)
    before = {w.name: w.held() for w in (wa, wb)}
    held_sizes = {w.name: checkpoint_of(before[w.name])[1] for w in (wa, wb)}
    read = rows(data, "SELECT max(seq) FROM audit WHERE kind = 'consultation' AND seq <= ?", min(held_sizes.values()))[0][0]
    check("there is a read to hide, under both witnesses' checkpoints", read is not None, held_sizes)
    remove_record(data, read)
    rc, out, _ = verify("--data", data)
    check("the rewritten store is consistent in itself (exit 3: nothing inside it shows the rewrite)", rc == 3, out)
    d = start_daemon()
    op = Daemon.issue_token(VIGIL, data, "olivia")  # populate() added her
    for i in range(8):  # new records, so the rewritten log grows past what the witnesses hold
        code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "quick", "inputs": {"n": i}})
        check("a run starts on the rewritten store", code == 201, body)
    refusal = re.compile(r"refused \(422\): " + re.escape(ORIGIN) + r": checkpoint at (\d+) records, the witness holds (\d+)")

    def refused(w):
        return [(int(a), int(b)) for a, b in refusal.findall(w.log()) if int(b) == held_sizes[w.name] and int(a) > int(b)]

    grown = poll(lambda: latest_checkpoint(data)[0] > max(held_sizes.values()) and refused(wa) and refused(wb))
    for w in (wa, wb):
        check(f"{w.name} refuses the rewritten log's checkpoint (422), larger than the one it holds", refused(w),
              (held_sizes[w.name], latest_checkpoint(data)[0], w.log()[-800:]))
        check(f"{w.name} still holds the old checkpoint, size and root unchanged", w.held() == before[w.name], (w.held(), before[w.name]))
        rc, out, err = verify("--data", data, "--config", verify_config, "--witness", w.url)
        check(f"vigil audit verify --witness {w.name} finds the rewrite (exit 1)", rc == 1 and out.startswith("BAD record ") and
              f"witness {w.url}" in out and "rewritten" in out, (rc, out, err))
    serve_log = open(os.path.join(home, "serve.log")).read()
    check("the daemon logs the refusals", "refused" in serve_log and "422" in serve_log, serve_log[-800:])
    check("the daemon on the rewritten store stops cleanly", d.stop() == 0, d.proc.returncode)

    # The protocol, against witness A (nothing else writes to it now).
    held = wa.held()
    _, s, root = checkpoint_of(held)
    code, ctype, body = wa.add(f"old {s - 1}\n\n" + held)
    check("a stale old size: 409, text/x.tlog.size, the size it holds", code == 409 and ctype == "text/x.tlog.size" and body == f"{s}\n",
          (code, ctype, body))
    code, _, body = wa.add("old 0\n\n" + held)
    check("old size 0 when it holds a checkpoint: 409 with its size", code == 409 and body == f"{s}\n", (code, body))
    other = ed25519.Ed25519PrivateKey.generate()
    code, _, body = wa.add(f"old {s}\n\n" + signed_by(other, f"{ORIGIN}\n{s + 3}\n{root}\n"))
    check("a checkpoint signed by another key: 403", code == 403, (code, body))
    log_key = serialization.load_pem_private_key(open(os.path.join(data, "keys", "audit-ed25519.pem"), "rb").read(), None)
    fake_root = base64.b64encode(hashlib.sha256(b"a tree that does not extend it").digest()).decode()
    forged = signed_by(log_key, f"{ORIGIN}\n{s + 5}\n{fake_root}\n")
    proof = "".join(base64.b64encode(hashlib.sha256(bytes([i])).digest()).decode() + "\n" for i in range(4))
    code, _, body = wa.add(f"old {s}\n{proof}\n" + forged)
    check("a forged extension (the log's key, a larger tree, a wrong proof): 422", code == 422, (code, body))
    code, _, body = wa.add(f"old {s}\n\n" + forged)
    check("a forged extension without a proof: 422", code == 422, (code, body))
    code, _, body = wa.add(f"old {s}\n\n" + signed_by(log_key, f"{ORIGIN}\n{s}\n{fake_root}\n"))
    check("the same size with another root (a fork): 422", code == 422, (code, body))
    check("after the forgeries the witness holds what it held", wa.held() == held, wa.held())
    code, _, body = wa.add("old 0\n\n" + signed_by(other, f"elsewhere/audit\n3\n{root}\n", "elsewhere/audit"))
    check("an origin it does not witness: 404", code == 404, (code, body))
    for name, bad in [("not a request", "hello"), ("old size with a leading zero", f"old 0{s}\n\n" + held),
                      ("a proof line that is not base64", f"old {s}\n!!!!\n\n" + held),
                      ("no checkpoint", f"old {s}\n\n"), ("old above the new size", f"old {s + 1}\n\n" + held),
                      ("a body over 1 MB", f"old {s}\n" + "A" * (1 << 20) + "\n\n" + held)]:
        code, _, body = wa.add(bad)
        check(f"a malformed request ({name}): 400", code == 400, (code, body[:200]))
    code, _, _ = http(wa.url + "/add-checkpoint")
    check("GET /add-checkpoint: 405", code == 405, code)
    code, ctype, body = http(wa.url + "/nothing-here")
    check("an unknown path: 404 in the API's error shape", code == 404 and json.loads(body)["error"]["code"] == "not_found", body)
    code, ctype, body = wa.add(f"old {s}\n\n" + held)
    check("the checkpoint it holds, again: 200 and one cosignature line", code == 200 and ctype.startswith("text/plain") and
          body.startswith(DASH + wa.name + " ") and body.count("\n") == 1, (code, ctype, body))
    check("...which verifies on the checkpoint", cosigned_at(split_note(held)[0] + "\n" + body, wa.name, keys[wa.name]) is not None, body)
    check("...and it still holds that size", checkpoint_of(wa.held())[1] == s, wa.held())
    for w in (wa, wb):
        check(f"{w.name} stops cleanly on SIGTERM", w.stop() == 0, w.proc.returncode)
        check(f"{w.name} never logs a key", open(w.key_file).read().splitlines()[1] not in w.log() and
              base64.b64encode(log_raw).decode() not in w.log())
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
