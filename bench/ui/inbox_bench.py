#!/usr/bin/env python3
"""How long the web workbench's inbox takes to show its first page with 1,000 (and more)
open tasks, measured in Debian's headless Chromium (bench/ui/inbox_render.mjs).

Starts `vigil serve` on 127.0.0.1 with tests/daemon/workflows on a scratch data directory
(the per-token rate limit raised in a --config file, so the starts are not throttled), adds
an operator who starts the runs and an approver in the role the runs wait for, then for each
task count in --tasks (ascending; each level adds runs to the same daemon) starts
triage-review runs through POST /api/v1/runs?wait=10s, each checked to have parked at its
review, checks the approver's inbox total, times the inbox page's two API calls made alone
from here, and runs inbox_render.mjs, which prints one JSON object; this script prints it
with the set-up and direct figures added, one line per level.
Measures only: asserts nothing about time. Every loop is bounded in count and time.

    python3 bench/ui/inbox_bench.py BUILD_DIR [--tasks 1000,10000] [--reps 10] [--clients 8]

The default levels take three to four minutes on a busy two-core machine, nearly all of it
starting the 9,000 runs after the first 1,000: starts slow down as parked runs accumulate
(docs/PERFORMANCE.md, "Web workbench").
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "pylib"))
from vigiltest import Daemon  # noqa: E402

BANDS = ["AMBER", "GREEN", "RED", "AMBER", "GREEN"]
SETUP_LIMIT_S = 600   # no level's starts may take longer than this
MAX_TASKS = 100000


def post_run(url, token, i, timeout=30):
    """Starts one triage-review run and waits (up to 10 s) for it to park: (ok, detail)."""
    referral = {"id": f"BENCH-{i:06d}", "band": BANDS[i % len(BANDS)],
                "child": {"name": f"Synthetic Child {i}", "dob": "2015-01-01"}}
    body = json.dumps({"workflow": "triage-review", "inputs": {"referral": referral}}).encode()
    req = urllib.request.Request(f"{url}/api/v1/runs?wait=10s", data=body, method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            answer = json.loads(r.read() or b"null")
            code = r.status
    except urllib.error.HTTPError as e:
        code, answer = e.code, e.read()[:300]
    except OSError as e:
        return False, f"run {i}: {e}"
    if code in (200, 201) and isinstance(answer, dict) and answer.get("status") == "waiting":
        return True, answer.get("id", "")
    return False, f"run {i}: HTTP {code} {answer if not isinstance(answer, dict) else answer.get('status')}"


def start_runs(d, token, first, count, clients):
    """Starts runs first..first+count-1 with `clients` at a time; stops at the first failure
    or at SETUP_LIMIT_S. Returns (parked, seconds, first problem or '')."""
    stop = threading.Event()
    problems = []
    deadline = time.monotonic() + SETUP_LIMIT_S

    def one(i):
        if stop.is_set() or time.monotonic() > deadline:
            stop.set()
            return False
        ok, detail = post_run(d.url, token, i)
        if not ok:
            problems.append(detail)
            stop.set()
        return ok

    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        parked = sum(pool.map(one, range(first, first + count)))
    seconds = time.monotonic() - t0
    if not problems and parked < count:
        problems.append(f"only {parked} of {count} runs started within {SETUP_LIMIT_S} s")
    return parked, seconds, problems[0] if problems else ""


def direct_api(d, token, reps=20):
    """The inbox page's calls made alone, one at a time, from here (no browser): p50 and max
    of `reps` each, in milliseconds."""
    out = {}
    for name, path in (("approvals", "/api/v1/approvals?status=open&assigned=any&limit=50"),
                       ("workload", "/api/v1/approvals/workload")):
        times = []
        for _ in range(reps):
            t0 = time.monotonic()
            code, _ = d.request("GET", path, token=token)
            times.append((time.monotonic() - t0) * 1000)
            if code != 200:
                break
        if code != 200:
            out[name] = {"http": code}  # e.g. a build without this route
            continue
        times.sort()
        out[name] = {"p50": round(times[len(times) // 2], 1), "max": round(times[-1], 1)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", help="the build directory (holds daemon/vigil)")
    ap.add_argument("--tasks", default="1000,10000", help="open-task counts to measure, ascending, comma-separated (default 1000,10000)")
    ap.add_argument("--reps", type=int, default=10, help="measured loads per level, after one warm-up (default 10)")
    ap.add_argument("--clients", type=int, default=8, help="runs started at once (default 8)")
    args = ap.parse_args()
    vigil = os.path.join(os.path.abspath(args.build), "daemon", "vigil")
    if not os.access(vigil, os.X_OK):
        sys.exit(f"no vigil binary at {vigil}")
    levels = [int(x) for x in args.tasks.split(",") if x.strip()]
    if not levels or levels != sorted(set(levels)) or levels[0] < 1 or levels[-1] > MAX_TASKS:
        sys.exit(f"--tasks must be ascending counts from 1 to {MAX_TASKS}")
    reps = max(1, min(args.reps, 100))
    clients = max(1, min(args.clients, 64))

    tmp = tempfile.mkdtemp(prefix="vigil-inbox-bench-")
    failed = False
    try:
        config = os.path.join(tmp, "vigil.yaml")
        with open(config, "w") as f:
            f.write("limits:\n  requests_per_second_per_token: 100000\n")
        with Daemon(vigil, [os.path.join(SOURCE, "tests", "daemon", "workflows")], tmp, extra_args=["--config", config]) as d:
            # Four-eyes: the approver may not decide runs they started, so another user starts them.
            operator = d.add_user("olivia", "operator")
            approver = d.add_user("sam", "approver", "mash-supervisor")
            have = 0
            for tasks in levels:
                parked, seconds, problem = start_runs(d, operator, have, tasks - have, clients)
                if problem:
                    print(f"inbox_bench: {problem}", file=sys.stderr)
                    failed = True
                    break
                started_now = tasks - have
                have = tasks
                code, inbox = d.request("GET", "/api/v1/approvals?status=open&assigned=any&limit=1", token=approver)
                if code != 200 or inbox.get("total") != tasks:
                    print(f"inbox_bench: the approver's inbox holds {inbox.get('total') if code == 200 else code}, not {tasks}",
                          file=sys.stderr)
                    failed = True
                    break
                direct = direct_api(d, approver)
                env = dict(os.environ, VIGIL_URL=d.url, TOKEN=approver, TASKS=str(tasks), RUNS=str(have), REPS=str(reps),
                           PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
                p = subprocess.run(["node", os.path.join(HERE, "inbox_render.mjs")], env=env, capture_output=True, text=True,
                                   timeout=900, stdin=subprocess.DEVNULL)
                if p.returncode != 0:
                    print(f"inbox_bench: inbox_render.mjs failed ({p.returncode}):\n{p.stderr[-3000:]}", file=sys.stderr)
                    failed = True
                    break
                if os.environ.get("INBOX_BENCH_DEBUG"):
                    sys.stderr.write(p.stderr)
                result = json.loads(p.stdout.strip().splitlines()[-1])
                result["setup"] = {"runs_started": started_now, "seconds": round(seconds, 1),
                                   "runs_per_s": round(started_now / seconds, 1) if seconds > 0 else None, "clients": clients}
                result["direct_api_ms"] = direct
                print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
