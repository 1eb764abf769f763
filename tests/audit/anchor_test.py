#!/usr/bin/env python3
"""The audit trail against someone who can write the database but not read the signing key,
beside tamper_test.py: the checkpoint log outside the data directory holds the store to
account (delete later checkpoints and re-chain; wipe every record; delete the database; the
daemon refuses to start on a rewritten store), and export bundles prove they are complete
(drop, reorder, cut or empty a bundle; edit its workflow source, its area copy or its signed
selection; pass it off as format 1). `vigil replay --bundle` replays a verified bundle's run.
Exit statuses: 0 verified against a trust anchor, 1 tampering, 2 unusable input, 3 internal
consistency only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks, Daemon  # noqa: E402
import audit_data  # noqa: E402
from audit_data import populate, remove_record, rows, sql  # noqa: E402

checks = Checks()
check = checks.check
WORKFLOWS = [os.path.join(SOURCE, "tests", "daemon", "workflows")]
AREA = os.path.join(SOURCE, "examples", "areas", "northshire.yaml")


def verify(*args):
    return audit_data.verify(VIGIL, *args)


tmp = tempfile.mkdtemp(prefix="vigil-anchor-")
try:
    outside = os.path.join(tmp, "another-mount")
    os.makedirs(outside)
    log = os.path.join(outside, "checkpoints.log")
    config = os.path.join(tmp, "vigil.yaml")
    with open(config, "w") as f:
        f.write(f"area: {AREA}\naudit:\n  checkpoint_log: {log}\n  checkpoint_interval_seconds: 1\n")
    inside = os.path.join(tmp, "inside.yaml")
    with open(inside, "w") as f:
        f.write(f"data: {tmp}/a/data\naudit:\n  checkpoint_log: {tmp}/a/data/checkpoints.log\n")
    p = subprocess.run([VIGIL, "validate", "--config", inside, os.path.join(WORKFLOWS[0], "quick.yaml")],
                       capture_output=True, text=True, timeout=60)
    check("a checkpoint log inside the data directory is refused, with where and why",
          p.returncode != 0 and "inside.yaml:" in p.stdout + p.stderr and "inside the data directory" in p.stdout + p.stderr,
          (p.stdout, p.stderr))

    os.makedirs(os.path.join(tmp, "a"))
    with Daemon(VIGIL, WORKFLOWS, os.path.join(tmp, "a"), extra_args=["--config", config]) as d:
        op, ids = populate(d, 12)
        code, live = d.request("GET", "/api/v1/audit/verify", token=op)  # a checkpoint before the read
        check("verification signs a checkpoint", code == 200 and live["ok"], live)
        code, run = d.request("GET", f"/api/v1/runs/{ids[0]}", token=op, headers={"X-Vigil-Purpose": "strategy meeting preparation"})
        check("a read with a purpose is served", code == 200, run)
        code, live = d.request("GET", "/api/v1/audit/verify", token=op)
        check("live verification holds the store to the checkpoint log", code == 200 and live["ok"] and live["anchors"] == 1 and
              live["caveat"] == "", live)
        req = urllib.request.Request(d.url + "/metrics", headers={"Authorization": f"Bearer {d.admin}"})
        metrics = urllib.request.urlopen(req, timeout=20).read().decode()
        check("/metrics counts checkpoints the log could not take (none)",
              "vigil_audit_checkpoint_log_failures_total 0\n" in metrics, metrics[-300:])
        bundle = os.path.join(tmp, "bundle.json")
        rc, out, err = d.cli(op, "audit", "export", ids[0], "--out", bundle, purpose="evidence for the review board")
        check("an auditor exports a run's bundle", rc == 0, err)
        data = d.data
    check("the daemon stopped cleanly", d.proc.returncode == 0, d.proc.returncode)
    pub = os.path.join(data, "keys", "audit-ed25519.pub.pem")
    notes = open(log).read()
    check("every checkpoint is in the log as a C2SP signed note", notes.count("\n\n\u2014 vigil/audit/") >= 2 and notes.endswith("\n\n"),
          notes[:300])
    count = rows(data, "SELECT count(*) FROM audit")[0][0]

    rc, out, _ = verify("--data", data, "--checkpoint", log)
    check("an untouched store extends every checkpoint in the log (exit 0)", rc == 0 and out.startswith(f"OK {count} records") and
          "trusted checkpoint" in out, out)
    rc, out, _ = verify("--config", config, "--data", data)
    check("--config finds the log the daemon writes", rc == 0 and "extending" in out, out)

    def copy_of(name):
        dst = os.path.join(tmp, name)
        shutil.copytree(data, dst)
        return dst

    # Hide a read: delete its consultation record, re-chain everything after it, delete the
    # checkpoints that covered it. Consistent in itself; not with the log.
    read = rows(data, "SELECT seq FROM audit WHERE kind = 'consultation' AND run_id = ? AND purpose = 'strategy meeting preparation'", ids[0])[0][0]
    hidden = copy_of("hidden-read")
    remove_record(hidden, read)
    rc, out, _ = verify("--data", hidden)
    check("a re-chained store with its later checkpoints deleted is consistent in itself, and verify says that is all (exit 3)",
          rc == 3 and "internal consistency only" in out, out)
    rc, out, _ = verify("--data", hidden, "--checkpoint", log)
    check("against the checkpoint log the hidden read is found, with the first record that differs (exit 1)",
          rc == 1 and out.startswith("BAD record ") and ("do not match the trusted checkpoint" in out or "truncated" in out), out)

    wiped = copy_of("wiped")
    sql(wiped, "DELETE FROM audit", "DELETE FROM audit_checkpoints", "DELETE FROM approvals", "DELETE FROM approval_votes", "DELETE FROM runs")
    rc, out, _ = verify("--data", wiped)
    check("a wiped store alone is only 'consistent' (exit 3, never 0)", rc == 3 and out.startswith("OK 0 records"), out)
    rc, out, _ = verify("--data", wiped, "--checkpoint", log)
    check("a wiped store against the log: truncated, with what the log says (exit 1)",
          rc == 1 and "BAD record 1: truncated: the store holds 0 records" in out and f"covers {count}" in out, out)

    gone = copy_of("gone")
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(os.path.join(gone, "vigil.db" + ext)):
            os.remove(os.path.join(gone, "vigil.db" + ext))
    rc, out, _ = verify("--data", gone, "--checkpoint", log)
    check("a deleted database is unusable input, named (exit 2)", rc == 2 and "no vigil.db" in out, out)
    rc, out, _ = verify("--data", data, "--checkpoint", os.path.join(tmp, "no-such.log"))
    check("a missing checkpoint file is unusable input (exit 2)", rc == 2 and "cannot read the checkpoint file" in out, out)
    torn = os.path.join(tmp, "torn.log")
    open(torn, "w").write(notes + "vigil/audit/x\n12")
    rc, out, err = verify("--data", data, "--checkpoint", torn)
    check("a log torn mid-append still anchors with the notes before the tear, and says so",
          rc == 0 and "cut mid-write" in err, (out, err))

    # Someone holding another key (a witness's, say) cannot make a checkpoint that holds the
    # store to more than the log key signed.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    import base64
    import hashlib
    last_text = notes.rstrip("\n").split("\n\n")[-2] + "\n"
    origin = last_text.split("\n")[0]
    other = Ed25519PrivateKey.generate()
    raw = other.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    bigger = f"{origin}\n{count + 50}\n{last_text.split(chr(10))[2]}\n"
    key_hash = hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
    forged = bigger + "\n\u2014 " + origin + " " + base64.b64encode(key_hash + other.sign(bigger.encode())).decode() + "\n"
    forged_path = os.path.join(tmp, "forged-checkpoint.txt")
    open(forged_path, "w").write(forged)
    rc, out, _ = verify("--data", data, "--checkpoint", forged_path)
    check("a checkpoint signed by a key other than the log's is no anchor: unusable, not 'truncated' (exit 2)",
          rc == 2 and "bad anchor" in out and "not signed by the trusted key" in out, out)

    # The daemon itself will not sign over a store that no longer matches its log.
    restart = os.path.join(tmp, "restart")
    shutil.copytree(hidden, os.path.join(restart, "data"))
    try:
        Daemon(VIGIL, WORKFLOWS, restart, extra_args=["--config", config],
               admin=Daemon.issue_token(VIGIL, os.path.join(restart, "data"))).stop()
        refused = False
    except RuntimeError:
        refused = True
    serve_log = open(os.path.join(restart, "serve.log")).read()
    check("vigil serve refuses a store rewritten since the checkpoint log, naming the log",
          refused and "the checkpoint log" in serve_log and "vigil will not sign over it" in serve_log, serve_log[-400:])

    # Bundles: complete, and their sources intact.
    rc, out, _ = verify(bundle, "--public-key", pub)
    check("the bundle verifies against the published key (exit 0)", rc == 0 and out.startswith("OK "), out)
    b = json.load(open(bundle))
    run_records = rows(data, "SELECT seq FROM audit WHERE run_id = ? AND seq <= ? ORDER BY seq", ids[0], b["checkpoint"]["size"])
    check("the bundle holds the run's reads and disclosures as well as its transitions",
          [r["record"]["seq"] for r in b["records"]] == [s for (s,) in run_records] and
          any(r["record"]["kind"] == "consultation" for r in b["records"]), [r["record"]["kind"] for r in b["records"]])
    check("the bundle keeps the definition and the area file the run started with",
          len(b["workflows"]) == 1 and len(b["areas"]) == 1, (list(b["workflows"]), list(b["areas"])))

    def edited(name, change, want_rc, want):
        e = json.loads(json.dumps(b))
        change(e)
        path = os.path.join(tmp, name + ".json")
        json.dump(e, open(path, "w"))
        rc, out, _ = verify(path, "--public-key", pub)
        check(name, rc == want_rc and want in out, f"want {want_rc} {want!r}, got {rc} {out!r}")

    mid = b["records"][2]["record"]["seq"]
    edited("drop a record from a bundle", lambda e: e["records"].pop(2), 1, f"BAD record {mid}: missing: record {mid} of run {ids[0]}")
    second, third = b["records"][1]["record"]["seq"], b["records"][2]["record"]["seq"]
    edited("reorder a bundle's records", lambda e: e["records"].insert(1, e["records"].pop(2)), 1,
           f"BAD record {second}: reordered: record {second} comes after record {third}")
    last = b["records"][-1]["record"]["seq"]
    edited("cut a bundle's tail", lambda e: e["records"].pop(), 1, f"BAD record {last}: truncated")
    edited("empty a bundle", lambda e: e.update(records=[]), 1, "the bundle holds none of the")
    wf_hash = next(iter(b["workflows"]))
    edited("edit the workflow source a bundle keeps",
           lambda e: e["workflows"].update({wf_hash: e["workflows"][wf_hash].replace("owner: mash-supervisor", "owner: ops")}), 1,
           f"modified: the workflow definition kept under {wf_hash[:16]}")
    edited("edit only a comment in the workflow source a bundle keeps",
           lambda e: e["workflows"].update({wf_hash: "# edited\n" + e["workflows"][wf_hash]}), 1,
           f"modified: the workflow definition kept under {wf_hash[:16]}... is not the text exported")
    area_hash = next(iter(b["areas"]))
    edited("edit the area file a bundle keeps",
           lambda e: e["areas"].update({area_hash: e["areas"][area_hash] + "\n# edited\n"}), 1,
           f"modified: the area file kept under {area_hash[:16]}")
    edited("remove the area file a bundle must keep", lambda e: e["areas"].clear(), 1, "missing: the area file")

    def shorter_selection(e):
        text, sig = e["selection"].split("\n\n", 1)
        lines = text.split("\n")
        lines[5] = "records %d" % (int(lines[5].split()[1]) - 1)
        last_seqs = max(i for i, line in enumerate(lines) if line[:1].isdigit())
        lines[last_seqs] = " ".join(lines[last_seqs].split()[:-1])
        e["selection"] = "\n".join(lines) + "\n\n" + sig
        e["records"].pop()
    edited("shorten the signed selection to match a cut bundle", shorter_selection, 1, "bad signature")
    edited("remove a bundle's signed selection", lambda e: e.pop("selection"), 1, "signed selection (which records it must hold) is missing")
    edited("pass a cut bundle off as format 1 (no selection)",
           lambda e: (e.update(format="vigil-audit-bundle/1"), e.pop("selection"), e["records"].pop()), 1,
           "the selection was removed")

    rp = subprocess.run([VIGIL, "replay", "--bundle", bundle, "--public-key", pub], capture_output=True, text=True, timeout=120)
    check("vigil replay replays the bundle's run from the bundle alone: identical", rp.returncode == 0 and
          rp.stdout.startswith(f"{ids[0]} identical"), (rp.stdout, rp.stderr))
    dropped = json.loads(json.dumps(b))
    dropped["records"].pop(2)
    dropped_path = os.path.join(tmp, "dropped-replay.json")
    json.dump(dropped, open(dropped_path, "w"))
    rp = subprocess.run([VIGIL, "replay", "--bundle", dropped_path, "--public-key", pub], capture_output=True, text=True, timeout=120)
    check("vigil replay refuses a bundle that does not verify", rp.returncode == 1 and "does not verify" in rp.stderr, (rp.stdout, rp.stderr))

    # What no signature covers (the key inside, the query) may be any JSON: read as absent,
    # never an internal error (found by fuzz_audit_bundle).
    odd = json.loads(json.dumps(b))
    odd["public_key"], odd["query"] = 7, [1]
    odd_path = os.path.join(tmp, "odd-types.json")
    json.dump(odd, open(odd_path, "w"))
    rc, out, err = verify(odd_path)
    check("audit verify: a bundle whose public_key is not text has no key to trust (exit 2, no internal error)",
          rc == 2 and "bad key" in out and "internal error" not in err, (rc, out, err))
    rp = subprocess.run([VIGIL, "replay", "--bundle", odd_path, "--public-key", pub], capture_output=True, text=True, timeout=120)
    check("replay: a bundle whose query is not an object needs the RUN given (exit 2, no internal error)",
          rp.returncode == 2 and "give the RUN" in rp.stderr and "internal error" not in rp.stderr, (rp.stdout, rp.stderr))
    rp = subprocess.run([VIGIL, "replay", ids[0], "--bundle", odd_path, "--public-key", pub], capture_output=True, text=True,
                        timeout=120)
    check("replay: ... and with it, replays identical", rp.returncode == 0 and rp.stdout.startswith(f"{ids[0]} identical"),
          (rp.stdout, rp.stderr))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
