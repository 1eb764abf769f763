#!/usr/bin/env python3
"""Damaged files in a data directory are refused at start, never taken for a fresh start.

A real data directory (a daemon, some completed runs, a user) is copied once per case and
damaged: pages of vigil.db overwritten with junk, vigil.db cut in half or emptied, auth.db
emptied, filled with junk or removed beside the runs, the audit signing key or the subject
key emptied. Each `vigil serve` on it must exit 1 before serving, with a message that names
the file and says what to do (restore from the backup, docs/OPERATIONS.md), print no
first-start token, and leave every file in the directory as it was, byte for byte, with no
file added. An undamaged copy starts, as a control."""
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

VIGIL, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = os.path.join(SOURCE, "tests", "daemon", "workflows")
HINT = "docs/OPERATIONS.md"


def snapshot(data):
    """Every file under `data`: relative path -> SHA-256 of its bytes."""
    files = {}
    for root, _, names in os.walk(data):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, data)] = hashlib.sha256(f.read()).hexdigest()
    return files


def serve(data, tmp, wfdir):
    """Starts `vigil serve` on `data`: (exit status, or None if it started serving; its log;
    its stdout). A daemon that starts is stopped at once, by its pid."""
    out_path, log_path = os.path.join(tmp, "stdout"), os.path.join(tmp, "serve.log")
    with open(out_path, "w") as out, open(log_path, "w") as log:
        proc = subprocess.Popen([VIGIL, "serve", "--data", data, "--listen", "127.0.0.1:0", "--workflows", wfdir],
                                stdout=out, stderr=log)
    status = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = proc.poll()
            if status is not None or "vigil serving on" in open(out_path).read():
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return status, open(log_path).read(), open(out_path).read()


def overwrite_pages(path, pages):
    """Junk over whole pages (numbered from 1, as SQLite does), the same junk every run."""
    size = sqlite_page_size(path)
    rng = random.Random(15)
    with open(path, "r+b") as f:
        for p in pages:
            f.seek((p - 1) * size)
            f.write(bytes(rng.getrandbits(8) for _ in range(size)))


def sqlite_page_size(path):
    with open(path, "rb") as f:
        header = f.read(100)
    size = int.from_bytes(header[16:18], "big")
    return 65536 if size == 1 else size


def read_only(path, query):
    """Runs `query` on a read-only connection; removes the -wal and -shm files that opening
    a WAL database read-only leaves behind, so the directory is as it was."""
    extra = [path + "-wal", path + "-shm"]
    existed = [os.path.exists(f) for f in extra]
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(query).fetchall()
        finally:
            db.close()
    finally:
        for f, was in zip(extra, existed):
            if not was and os.path.exists(f):
                os.remove(f)


def pages_of_runs(path):
    """The leaf pages of the `runs` table, in file order: a start reads none of them, so
    junk there goes unseen unless the whole file is checked. The middle of the file when
    this SQLite has no dbstat."""
    try:
        pages = [r[0] for r in read_only(
            path, "SELECT pageno FROM dbstat WHERE name = 'runs' AND pagetype = 'leaf' ORDER BY pageno")]
    except sqlite3.Error:
        count = read_only(path, "PRAGMA page_count")[0][0]
        pages = list(range(count // 2, count // 2 + 3))
    middle = len(pages) // 2
    return pages[max(0, middle - 1):middle + 2]


def sqlite_sees_damage(path):
    try:
        return read_only(path, "PRAGMA quick_check") != [("ok",)]
    except sqlite3.DatabaseError:
        return True


tmp = tempfile.mkdtemp(prefix="vigil-corrupt-")
try:
    wfdir = os.path.join(tmp, "workflows")
    os.makedirs(wfdir)
    shutil.copy(os.path.join(WORKFLOWS, "quick.yaml"), wfdir)

    # The original: a daemon that ran 60 runs to completion, then stopped cleanly.
    os.makedirs(os.path.join(tmp, "original"))
    with Daemon(VIGIL, [wfdir], os.path.join(tmp, "original")) as d:
        op = d.add_user("olivia", "operator")
        ids = []
        for i in range(60):
            code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "quick", "inputs": {"n": i}})
            ids.append(body.get("id"))
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            code, body = d.request("GET", "/api/v1/runs?workflow=quick&status=completed&limit=100", token=op,
                                   headers={"X-Vigil-Purpose": "corrupt files test"})
            done = len(body.get("items", [])) if code == 200 else 0
            if done == len(ids):
                break
            time.sleep(0.2)
        check("the original's runs completed", done == len(ids), f"{done} of {len(ids)}")
    original = os.path.join(tmp, "original", "data")

    def case(name, damage, names, expect_in_message, whole_hint=True):
        """Copies the original, damages it, starts the daemon on it and checks the refusal."""
        base = os.path.join(tmp, name.replace(" ", "-"))
        data = os.path.join(base, "data")
        shutil.copytree(original, data)
        damaged = damage(data)
        before = snapshot(data)
        status, log, out = serve(data, base, wfdir)
        after = snapshot(data)
        problems = []
        if status is None:
            problems.append("it started serving")
        elif status != 1:
            problems.append(f"exit status {status}, want 1")
        path = os.path.join(data, *names.split("/"))
        if path not in log:
            problems.append(f"the log does not name {path}")
        for words in expect_in_message:
            if words.lower() not in log.lower():
                problems.append(f"the log does not say '{words}'")
        if whole_hint and HINT not in log:
            problems.append(f"the log does not point at {HINT}")
        if "token" in out.lower() or "First start" in out:
            problems.append("it printed a first-start token: " + out.strip())
        for f in sorted(set(before) | set(after)):
            if f not in after:
                problems.append(f"{f} was removed")
            elif f not in before:
                problems.append(f"{f} was created")
            elif before[f] != after[f]:
                problems.append(f"{f} was changed")
        if problems:
            problems.append("log: " + log.strip()[-1500:])
        checks.problems(f"{name}: refused, the file named, nothing written", problems)
        return damaged

    def pages(data):
        db = os.path.join(data, "vigil.db")
        hit = pages_of_runs(db)
        overwrite_pages(db, hit)
        check("the overwritten pages are damage SQLite can see", sqlite_sees_damage(db), hit)
        return hit

    def truncate(data):
        db = os.path.join(data, "vigil.db")
        with open(db, "r+b") as f:
            f.truncate(os.path.getsize(db) // 2)

    def empty(rel):
        def damage(data):
            with open(os.path.join(data, *rel.split("/")), "r+b") as f:
                f.truncate(0)
        return damage

    def junk_auth(data):
        with open(os.path.join(data, "auth.db"), "wb") as f:
            f.write(bytes(random.Random(7).getrandbits(8) for _ in range(8192)))

    def remove_auth(data):
        os.remove(os.path.join(data, "auth.db"))

    case("vigil.db with pages overwritten", pages, "vigil.db", ["quick_check", "restore"])
    case("vigil.db cut in half", truncate, "vigil.db", ["restore"])
    case("vigil.db empty", empty("vigil.db"), "vigil.db", ["empty", "restore"])
    case("auth.db empty", empty("auth.db"), "auth.db", ["empty", "restore", "vigil users add"])
    case("auth.db junk", junk_auth, "auth.db", ["not a SQLite database", "restore"])
    case("auth.db missing beside runs", remove_auth, "auth.db", ["missing", "restore", "vigil users add"])
    case("signing key empty", empty("keys/audit-ed25519.pem"), "keys/audit-ed25519.pem", ["empty", "restore"])
    # The subject key's message is audit_service.cpp's: it names the file, not the remedy.
    case("subject key empty", empty("keys/subject.key"), "keys/subject.key", [], whole_hint=False)

    # The control: the same directory, undamaged, starts (and the check passes on it).
    control = os.path.join(tmp, "control")
    shutil.copytree(original, os.path.join(control, "data"))
    status, log, out = serve(os.path.join(control, "data"), control, wfdir)
    check("an undamaged copy starts and serves", status is None and "vigil serving on" in out, log[-1500:])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
