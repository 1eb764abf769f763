#!/usr/bin/env python3
"""Offline commands that read a data directory (replay, audit verify, audit public-key,
users list, tokens) say so when the path holds none, exit 2 and create nothing there;
`users add` is the one that may start a new data directory.

Usage: offline_data_dir.py VIGIL_BINARY
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402

VIGIL = sys.argv[1]
checks = Checks()
check = checks.check


def run(*args):
    p = subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def tree(path):
    """Every file and folder under `path` (relative), or None when `path` does not exist."""
    if not os.path.exists(path):
        return None
    found = []
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            found.append(os.path.relpath(os.path.join(root, n), path))
    return sorted(found)


with tempfile.TemporaryDirectory() as tmp:
    key = os.path.join(tmp, "key.pem")
    with open(key, "w") as f:
        f.write("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n")
    workflow = os.path.join(tmp, "tiny.yaml")
    with open(workflow, "w") as f:
        f.write("workflow: tiny\nversion: 1\nowner: ops\nsteps:\n  - id: a\n    set: { x: 1 }\n")

    cases = [
        ("replay RUN", ["replay", "r-1", "--data"], "vigil.db"),
        ("replay --since", ["replay", "--since", "2026-01-01", "--workflow", workflow, "--data"], "vigil.db"),
        ("audit verify", ["audit", "verify", "--data"], "vigil.db"),
        ("audit verify --public-key", ["audit", "verify", "--public-key", key, "--data"], "vigil.db"),
        ("audit public-key", ["audit", "public-key", "--data"], "vigil.db"),
        ("users list", ["users", "list", "--data"], "auth.db"),
        ("users with an unknown action", ["users", "frob", "--data"], None),
        ("tokens issue", ["tokens", "issue", "alice", "--data"], "auth.db"),
        ("tokens revoke", ["tokens", "revoke", "0123456789abcdef", "--data"], "auth.db"),
    ]
    for i, (name, args, needs) in enumerate(cases):
        missing = os.path.join(tmp, f"missing-{i}", "data")
        rc, out, err = run(*args, missing)
        check(f"{name} on a path that does not exist exits 2", rc == 2, (rc, out, err))
        if needs is not None:
            check(f"{name} on a path that does not exist says so", f"no data directory at {missing}" in err, err)
        check(f"{name} on a path that does not exist creates nothing", not os.path.exists(os.path.dirname(missing)),
              tree(os.path.dirname(missing)))
        if needs is None:
            continue
        empty = os.path.join(tmp, f"empty-{i}")
        os.mkdir(empty)
        rc, out, err = run(*args, empty)
        check(f"{name} on a folder without {needs} exits 2 and names the file",
              rc == 2 and f"{empty} has no {needs}" in err, (rc, out, err))
        check(f"{name} on a folder without {needs} leaves it empty", tree(empty) == [], tree(empty))

    # `users add` may start a data directory; the other user commands then work on it.
    fresh = os.path.join(tmp, "fresh", "data")
    rc, out, err = run("users", "add", "alice", "--role", "operator", "--data", fresh)
    check("users add on a new path creates the data directory", rc == 0 and os.path.isfile(os.path.join(fresh, "auth.db")),
          (rc, out, err))
    rc, out, err = run("users", "list", "--data", fresh)
    check("users list then lists the user", rc == 0 and out.startswith("alice\toperator"), (rc, out, err))
    rc, out, err = run("tokens", "issue", "alice", "--data", fresh)
    check("tokens issue then works", rc == 0 and len(out.strip()) > 20, (rc, out, err))

    # A folder that holds a store is read as before: the run is simply not there.
    with_store = os.path.join(tmp, "with-store")
    os.mkdir(with_store)
    # An empty SQLite database (a 0-byte file is refused as a store that was lost).
    db = sqlite3.connect(os.path.join(with_store, "vigil.db"))
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    rc, out, err = run("replay", "r-1", "--data", with_store)
    check("replay on a data directory looks for the run", rc == 1 and "no run r-1 in this data directory" in err,
          (rc, out, err))

checks.finish()
