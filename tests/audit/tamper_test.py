#!/usr/bin/env python3
"""The audit trail against tampering, on real data directories written by the real daemon:
each of modify a payload byte, modify a header field, delete, insert a forged record, swap
two records, truncate the tail, and replace the whole database with a re-chained forgery
signed by another key makes `vigil audit verify` exit 1 naming the first bad record; an
untouched store, a store after retention erasure and an export bundle verify; a tampered
bundle does not. Also: reads are logged with user and purpose."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402
import audit_data  # noqa: E402
from audit_data import populate, rows, sql  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]


def verify(*args):
    return audit_data.verify(VIGIL, *args)


def copy_of(data, name):
    dst = os.path.join(tmp, name)
    shutil.copytree(data, dst)
    return dst


tmp = tempfile.mkdtemp(prefix="vigil-audit-")
try:
    os.makedirs(os.path.join(tmp, "a"))
    with Daemon(VIGIL, WORKFLOWS, os.path.join(tmp, "a")) as d:
        op, ids = populate(d, 20)
        code, first = d.request("GET", "/api/v1/audit/verify", token=op)  # signs a first checkpoint
        check("a first checkpoint", code == 200 and first["ok"] and first["checkpoints"] >= 1, first)
        code, run = d.request("GET", f"/api/v1/runs/{ids[0]}", token=op, headers={"X-Vigil-Purpose": "strategy meeting preparation"})
        check("a read with a purpose is served", code == 200, run)
        code, body = d.request("GET", f"/api/v1/runs/{ids[1]}", token=op)
        check("a read without a purpose is refused", code == 400 and body["error"]["code"] == "purpose_required", body)
        rc, out, err = d.cli(op, "show", ids[2], purpose="checking the outcome for the school")
        check("the CLI reads a run with a purpose", rc == 0, err)
        rc, _, err = d.cli(op, "show", ids[2])
        check("the CLI without a purpose is refused", rc == 1 and "purpose" in err, err)
        bundle = os.path.join(tmp, "bundle.json")
        rc, out, err = d.cli(op, "audit", "export", ids[0], "--out", bundle, purpose="evidence for the review board")
        check("an auditor exports a run's bundle", rc == 0 and "record(s)" in out, err)
        code, live = d.request("GET", "/api/v1/audit/verify", token=op)
        check("live verification through the API", code == 200 and live["ok"] and live["records"] > 40, live)
        old_key = open(os.path.join(d.data, "keys", "audit-ed25519.pub.pem")).read()
        code, rotated = d.request("POST", "/api/v1/audit/rotate-key", token=d.admin)
        check("an admin rotates the signing key", code == 200 and rotated["key_id"] != rotated["previous_key_id"], rotated)
        code, body = d.request("POST", "/api/v1/audit/rotate-key", token=op)
        check("rotation is for admins only", code == 403, body)
        populate_more = d.request("POST", "/api/v1/runs", token=op, body={"workflow": "triage-review", "inputs": {
            "referral": {"id": "REF-900", "band": "GREEN", "child": {"name": "Synthetic Child 900"}}}})
        check("runs go on after the rotation", populate_more[0] == 201, populate_more)
        code, live = d.request("GET", "/api/v1/audit/verify", token=op)
        check("after rotation the whole trail verifies, old checkpoints through the hand-over",
              code == 200 and live["ok"] and live["checkpoints"] >= 3 and live["key_id"] == rotated["key_id"], live)
        data = d.data
    check("the daemon stopped cleanly", d.proc.returncode == 0, d.proc.returncode)

    consult = rows(data, "SELECT actor, purpose, run_id FROM audit WHERE kind = 'consultation' AND system = 'api'")
    check("each read is an audit record with its user and purpose",
          ("olivia", "strategy meeting preparation", ids[0]) in consult and
          ("olivia", "checking the outcome for the school", ids[2]) in consult, consult)
    check("a refused read leaves no consultation record", not any(r[0] == "olivia" and r[2] == ids[1] for r in consult), consult)
    disclosed = rows(data, "SELECT actor, purpose, recipient FROM audit WHERE kind = 'disclosure'")
    check("the export is recorded as a disclosure", disclosed == [("olivia", "evidence for the review board", "olivia")], disclosed)
    decided = rows(data, "SELECT actor, purpose FROM audit WHERE kind = 'run' AND payload LIKE '%ApprovalDecided%'")
    check("every decision is an audit record naming who decided", len(decided) == 10 and all(a == "sam" for a, _ in decided), decided)
    subjects = rows(data, "SELECT DISTINCT subject FROM audit WHERE kind = 'collection'")
    check("records carry a pseudonymous subject, never the name",
          len(subjects) == 21 and all(s[0].startswith("ps:") for s in subjects) and
          not rows(data, "SELECT 1 FROM audit WHERE subject LIKE '%Synthetic%' OR actor LIKE '%Synthetic%'"), subjects[:3])

    old_pub = os.path.join(tmp, "old-key.pem")
    open(old_pub, "w").write(old_key)
    count = rows(data, "SELECT count(*) FROM audit")[0][0]
    rc, out, _ = verify("--data", data)
    check("an untouched store verifies, for internal consistency only without a trust anchor (exit 3)",
          rc == 3 and out.startswith(f"OK {count} records, head ") and "internal consistency only" in out, out)
    rc, out, err = verify(bundle)
    check("the export bundle verifies on its own key, which it says (exit 3)",
          rc == 3 and out.startswith("OK ") and "trusted the key inside the bundle" in out, (out, err))
    pub = os.path.join(data, "keys", "audit-ed25519.pub.pem")
    rc, out, _ = verify(bundle, "--public-key", old_pub)
    check("the bundle verifies against the key published when it was made", rc == 0 and "note:" not in out, out)
    rc, out, _ = verify(bundle, "--public-key", pub)
    check("and not against a later key", rc == 1 and "bad signature" in out, out)

    rc, out, _ = verify("--data", data, "--public-key", old_pub)
    check("the retired key cannot vouch for checkpoints signed after the rotation", rc == 1 and "not trusted" in out, out)
    keys = rows(data, "SELECT count(*) FROM audit_keys")[0][0]
    check("both keys are on record", keys == 2, keys)

    k = count // 2

    def tampered(name, want_code, want_text, *statements):
        copy = copy_of(data, name)
        sql(copy, *statements)
        rc, out, _ = verify("--data", copy)
        check(name, rc == 1 and out.startswith(want_text), f"want {want_text!r}, got {rc} {out!r}")

    target = rows(data, "SELECT seq FROM audit WHERE payload LIKE '%REF-%' ORDER BY seq LIMIT 1 OFFSET 3")[0][0]
    tampered("modify one byte of a payload", 1, f"BAD record {target}: modified: record {target}: its payload was modified",
             ("UPDATE audit SET payload = replace(payload, 'REF-', 'REX-') WHERE seq = ?", (target,)))
    tampered("modify a header field", 1, f"BAD record {k}: modified: record {k}: its header was modified",
             ("UPDATE audit SET actor = 'mallory' WHERE seq = ?", (k,)))
    tampered("delete a record", 1, f"BAD record {k}: missing", ("DELETE FROM audit WHERE seq = ?", (k,)))

    # A forged record with a correct hash of its own, spliced in at k.
    prev_hash = rows(data, "SELECT hash FROM audit WHERE seq = ?", k - 1)[0][0]
    payload = json.dumps({"run": ids[3], "events": []}, separators=(",", ":"))
    payload_hash = hashlib.sha256(payload.encode()).hexdigest()
    header = json.dumps([1, k, 1798000000000, "run", "mallory", ids[3], "", "", "vigil", "", "", payload_hash, prev_hash],
                        separators=(",", ":"))
    forged_hash = hashlib.sha256(b"\x00" + header.encode()).hexdigest()
    tampered("insert a forged record", 1, f"BAD record {k + 1}: inserted",
             "UPDATE audit SET seq = seq + 1000000 WHERE seq >= %d" % k,
             "UPDATE audit SET seq = seq - 999999 WHERE seq >= 1000000",
             ("INSERT INTO audit VALUES(?, 1798000000000, 'run', 'mallory', ?, '', '', 'vigil', '', '', ?, ?, ?, ?)",
              (k, ids[3], payload, payload_hash, prev_hash, forged_hash)))
    cols = "time, kind, actor, run_id, step, subject, system, purpose, recipient, payload, payload_hash, prev, hash"
    tampered("swap two records", 1, f"BAD record {k}: inserted",
             "CREATE TEMP TABLE a AS SELECT * FROM audit WHERE seq = %d" % k,
             "CREATE TEMP TABLE b AS SELECT * FROM audit WHERE seq = %d" % (k + 1),
             "DELETE FROM audit WHERE seq IN (%d, %d)" % (k, k + 1),
             "INSERT INTO audit SELECT %d, %s FROM b" % (k, cols),
             "INSERT INTO audit SELECT %d, %s FROM a" % (k + 1, cols))
    tampered("truncate the tail", 1, f"BAD record {count - 2}: truncated", "DELETE FROM audit WHERE seq > %d" % (count - 3))

    # A payload set to NULL passes for erased only where an erasure record of its run covers
    # it (retention writes one; engine:retention checks that such a store verifies).
    erased = copy_of(data, "erased")
    first = rows(data, "SELECT min(seq) FROM audit WHERE run_id = ?", ids[0])[0][0]
    sql(erased, ("UPDATE audit SET payload = NULL WHERE run_id = ?", (ids[0],)))
    rc, out, _ = verify("--data", erased)
    check("a payload nulled without an erasure record is tampering, named",
          rc == 1 and out.startswith(f"BAD record {first}: payload removed"), out)

    # One copy of history: snapshots and inbox rows are caches of the chain. Editing one is
    # named by verify, and no reader sees it: the daemon serves the fold of the chain.
    reason = "research supports the rating"
    tampered("edit a decision's reason in the run's snapshot", 1,
             f"BAD modified: run {ids[0]}: its snapshot is not the one its last audit record names",
             ("UPDATE runs SET snapshot = replace(snapshot, ?, 'no concerns at all, none found') WHERE id = ?", (reason, ids[0])))
    tampered("edit a run's status in its snapshot", 1, f"BAD modified: run {ids[-1]}: its snapshot",
             ("UPDATE runs SET snapshot = replace(snapshot, '\"status\":\"waiting\"', '\"status\":\"completed\"') WHERE id = ?", (ids[-1],)))
    tampered("hide an open task by editing its inbox row", 1,
             f"BAD modified: run {ids[-1]}: the inbox row of step 'review' is not what the run's history says",
             ("UPDATE approvals SET status = 'closed' WHERE run_id = ?", (ids[-1],)))
    tampered("delete an open task's inbox row", 1, f"BAD modified: run {ids[-1]}: the inbox row of step 'review'",
             ("DELETE FROM approvals WHERE run_id = ?", (ids[-1],)))
    tampered("edit a decision's reason in the chained event", 1, "BAD record ",
             ("UPDATE audit SET payload = replace(payload, ?, 'no concerns at all, none found') WHERE run_id = ? AND payload LIKE '%ApprovalDecided%'", (reason, ids[0])))
    served = os.path.join(tmp, "served")
    shutil.copytree(copy_of(data, "served-data"), os.path.join(served, "data"))
    sql(os.path.join(served, "data"), ("UPDATE runs SET snapshot = replace(snapshot, ?, 'no concerns at all, none found') WHERE id = ?", (reason, ids[0])))
    with Daemon(VIGIL, WORKFLOWS, served, admin=Daemon.issue_token(VIGIL, os.path.join(served, "data"))) as d:
        reader = d.add_user("rita", "auditor")
        code, body = d.request("GET", f"/api/v1/runs/{ids[0]}", token=reader, headers={"X-Vigil-Purpose": "tamper check"})
        text = json.dumps(body)
        check("a forged snapshot reaches no reader: the run shows its chained history", code == 200 and reason in text and "no concerns" not in text,
              (code, text[:300]))

    # A whole re-chained forgery: another daemon's database (its own key) in place of ours.
    os.makedirs(os.path.join(tmp, "b"))
    with Daemon(VIGIL, WORKFLOWS, os.path.join(tmp, "b")) as forger:
        populate(forger, 20)
        forged_data = forger.data
    forgery = copy_of(data, "forgery")
    shutil.copy(os.path.join(forged_data, "vigil.db"), os.path.join(forgery, "vigil.db"))
    for ext in ("-wal", "-shm"):
        if os.path.exists(os.path.join(forgery, "vigil.db" + ext)):
            os.remove(os.path.join(forgery, "vigil.db" + ext))
    rc, out, _ = verify("--data", forgery)
    check("a re-chained forgery signed by another key", rc == 1 and "bad signature" in out and "not trusted" in out, out)

    b = json.load(open(bundle))
    check("the bundle proves its checkpoint extends the earlier ones", len(b["consistency"]) >= 1 and
          all(len(c["proof"]) > 0 for c in b["consistency"] if c["size"] & (c["size"] - 1)), b.get("consistency", [])[:1])
    forked = json.loads(json.dumps(b))
    forked["consistency"][0]["root"] = "0" * 64
    forked_path = os.path.join(tmp, "forked-bundle.json")
    json.dump(forked, open(forked_path, "w"))
    rc, out, _ = verify(forked_path, "--public-key", old_pub)
    check("an earlier root the tree does not extend is refused", rc == 1 and "does not extend" in out, out)
    b["records"][1]["record"]["actor"] = "mallory"
    bad_bundle = os.path.join(tmp, "bad-bundle.json")
    json.dump(b, open(bad_bundle, "w"))
    rc, out, _ = verify(bad_bundle, "--public-key", old_pub)
    check("a tampered bundle is refused", rc == 1 and "modified" in out, out)
    rc, out, _ = verify(bundle, "--public-key", os.path.join(forged_data, "keys", "audit-ed25519.pub.pem"))
    check("a bundle checked against another key is refused", rc == 1 and "bad signature" in out, out)
    rc, out, err = verify("--data", os.path.join(tmp, "nowhere"))
    check("a missing data directory is a usage error", rc == 2, (out, err))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
