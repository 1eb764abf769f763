"""Helpers for the audit tests: real data directories written by the real daemon, edited the
way someone with write access to the database (but not the signing key) could edit them."""
import hashlib
import json
import os
import sqlite3
import subprocess


def verify(vigil, *args):
    p = subprocess.run([vigil, "audit", "verify", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout.strip(), p.stderr


def populate(d, runs):
    """Runs of triage-review parked at a four-eyes approval, half decided."""
    op = d.add_user("olivia", "operator", "auditor")
    sup = d.add_user("sam", "approver", "mash-supervisor")
    ids = []
    for i in range(runs):
        referral = {"id": f"REF-{i:03d}", "band": "AMBER", "child": {"name": f"Synthetic Child {i}"}}
        code, body = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "triage-review", "inputs": {"referral": referral}})
        assert code == 201, body
        ids.append(body["id"])
    for run in ids[: runs // 2]:
        rc, _, err = d.cli(sup, "approve", f"{run}/review", "--reason", "research supports the rating", "--yes")
        assert rc == 0, err
    return op, ids


def sql(data, *statements):
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    for s in statements:
        if isinstance(s, tuple):
            db.execute(*s)
        else:
            db.execute(s)
    db.commit()
    db.close()


def rows(data, query, *params):
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    out = db.execute(query, params).fetchall()
    db.close()
    return out


def record_hash(seq, time, kind, actor, run, step, subject, system, purpose, recipient, payload_hash, prev):
    """The leaf hash of a record header (engine/src/audit/record.cpp, header format 1)."""
    header = json.dumps([1, seq, time, kind, actor, run, step, subject, system, purpose, recipient, payload_hash, prev],
                        separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"\x00" + header.encode()).hexdigest()


def rechain(data, from_seq):
    """Recomputes every digest, link and hash from record `from_seq` on, as a writer of the
    database can without the signing key: the chain is then consistent in itself."""
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    prev = db.execute("SELECT hash FROM audit WHERE seq = ?", (from_seq - 1,)).fetchone()
    prev = prev[0] if prev else "0" * 64
    cur = db.execute("SELECT seq, time, kind, actor, run_id, step, subject, system, purpose, recipient, payload, payload_hash "
                     "FROM audit WHERE seq >= ? ORDER BY seq", (from_seq,))
    for seq, time, kind, actor, run, step, subject, system, purpose, recipient, payload, payload_hash in cur.fetchall():
        if payload is not None:
            payload_hash = hashlib.sha256(payload.encode()).hexdigest()
        h = record_hash(seq, time, kind, actor, run, step, subject, system, purpose, recipient, payload_hash, prev)
        db.execute("UPDATE audit SET payload_hash = ?, prev = ?, hash = ? WHERE seq = ?", (payload_hash, prev, h, seq))
        prev = h
    db.commit()
    db.close()


def remove_record(data, seq):
    """Deletes record `seq`, closes the gap, re-chains everything after it and drops the
    checkpoints that would give it away: what a database writer can do to hide a record."""
    sql(data, ("DELETE FROM audit WHERE seq = ?", (seq,)),
        "UPDATE audit SET seq = seq + 1000000000 WHERE seq > %d" % seq,
        "UPDATE audit SET seq = seq - 1000000001 WHERE seq > 1000000000",
        ("DELETE FROM audit_checkpoints WHERE size >= ?", (seq,)))
    rechain(data, seq)
