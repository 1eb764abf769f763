#!/usr/bin/env python3
"""End-to-end benchmark: the "triage-lite" workload on vigil and on Node-RED, in one invocation.

    flock /tmp/vigil-build.lock python3 bench/e2e/run.py --runs 2000     (from the repository root)

Prints one JSON object: vigil's and Node-RED's figures side by side, the ratios, the machine and
the date. Run it on a quiet machine (the lock keeps builds out while it runs); a small check:
`python3 bench/e2e/run.py --runs 100 --runs-1 50 --parked 20 --warmup 20`.

The workload (the same in both):
  triage-lite      a referral comes in over HTTP; the child is looked up in three force systems
                   one after the other (GET to bench/e2e/stub.mjs: records, national computer,
                   pupil roll); explicit rules score the answers into a band (RED/AMBER/GREEN);
                   the outcome is the answer. vigil: bench/e2e/triage-lite.yaml, started with
                   POST /api/v1/runs?wait=30s (each run durable: SQLite, audit trail); Node-RED:
                   the `triage-lite` tab of bench/e2e/node-red-flow.json, POST /triage (http in,
                   three http request nodes, a function node, http response; nothing stored).
  parked           --parked referrals wait for a supervisor; then all are decided over HTTP by
                   16 clients, and each decision makes one more call (GET /csc) and completes
                   the run. Timed from the first decision sent to the last run completed.
                   vigil: bench/e2e/triage-approval.yaml (open the task, decide with its digest;
                   completion seen by polling /metrics); Node-RED: the `triage-approval` tab
                   (POST /start keeps the referral in flow context, POST /decide/:id answers
                   once the call is made).

Steps: start the stub; start `vigil serve` (--vigil, default build/daemon/vigil) on a fresh
scratch data directory with a configuration that lifts the per-token rate limit and allows
outbound calls to the stub only; an operator and an approver token; warm up; measure at 1
client (--runs-1) and at --clients (--runs); then the parked pass; stop vigil. Then the same for
Node-RED, installed on first use with npm into $BENCH_CACHE (default
~/.cache/vigil-bench/node-red; never in the repository), started with a generated settings file
(flow file and userDir in scratch, editor and admin API off, logging at warn). For each phase:
runs/s, p50/p99 latency, CPU per run of the server process (utime+stime from /proc/PID/stat,
after minus before, divided by the runs), its peak RSS during the phase (VmHWM, reset through
/proc/PID/clear_refs), the stub's CPU per run, and how many TCP connections the stub saw per
request (keep-alive reuse). Both targets get the same refs, and each triage phase's band
checksum must agree between them (`bands_agree`).

Every address is 127.0.0.1; every wait and loop is bounded in count and time; every process
started is stopped by its PID, and the scratch directory removed, whatever happens. Only the
Python standard library and Node.js (no npm packages but Node-RED itself) are used.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STUB_PLACEHOLDER = "http://127.0.0.1:8099"  # in the workflow and flow files; replaced by the stub's address
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vigil", default=os.path.join(ROOT, "build", "daemon", "vigil"), help="the vigil binary")
    p.add_argument("--node", default="node", help="the Node.js binary")
    p.add_argument("--runs", type=int, default=2000, help="runs measured at --clients (default 2000)")
    p.add_argument("--runs-1", type=int, default=500, help="runs measured at 1 client (default 500)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients of the second phase (default 16)")
    p.add_argument("--parked", type=int, default=1000, help="runs parked at an approval, then decided (default 1000; 0 skips)")
    p.add_argument("--warmup", type=int, default=200, help="runs before measuring, per target (default 200)")
    p.add_argument("--max-seconds", type=float, default=300, help="bound on each phase (default 300)")
    p.add_argument("--cache", default=os.environ.get("BENCH_CACHE", os.path.expanduser("~/.cache/vigil-bench/node-red")),
                   help="where Node-RED is installed (default $BENCH_CACHE or ~/.cache/vigil-bench/node-red)")
    p.add_argument("--node-red-version", default="4", help="npm version range installed when absent (default 4)")
    p.add_argument("--skip-node-red", action="store_true", help="measure vigil only")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed to stderr)")
    a = p.parse_args()
    for name in ("runs", "runs_1", "clients", "warmup", "parked"):
        if getattr(a, name) < (0 if name in ("warmup", "parked") else 1):
            p.error(f"--{name.replace('_', '-')} is too small")
    return a


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- processes -------------------------------------------------------------------------------

class Processes:
    """Every process this script starts; stop_all() ends each by its PID (TERM, then KILL)."""

    def __init__(self):
        self.procs = []

    def start(self, name, args, log_path, cwd=None, env=None):
        out = open(log_path, "ab")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        out.close()
        self.procs.append((name, p))
        return p

    def stop(self, p, timeout=30):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    def stop_all(self):
        for _, p in reversed(self.procs):
            try:
                self.stop(p)
            except Exception as e:  # keep stopping the others
                log(f"could not stop pid {p.pid}: {e}")


def wait_for_file_match(path, pattern, proc, seconds):
    """The first match of `pattern` in the file `path` (a process's output), within `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            break
        try:
            with open(path, errors="replace") as f:
                m = re.search(pattern, f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    tail = open(path, errors="replace").read()[-2000:] if os.path.exists(path) else ""
    raise RuntimeError(f"{os.path.basename(path)}: no {pattern!r} within {seconds}s (exit {proc.poll()}):\n{tail}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, method="GET", body=None, token=None, timeout=10):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


# ---- measurements ----------------------------------------------------------------------------

def cpu_ticks(pid):
    """utime + stime of the process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5), counted after "(comm)"


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux 4.0+); False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def vigil_metrics(url, token):
    """The few /metrics figures that say where a run's time goes: group commits, the inputs they
    applied, and the http connector's calls (sums in seconds)."""
    req = urllib.request.Request(url + "/metrics")
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    want = {"vigil_store_commit_seconds_sum": "commit_s", "vigil_store_commit_seconds_count": "commits",
            "vigil_store_committed_inputs_total": "inputs",
            'vigil_connector_call_seconds_sum{connector="http"}': "http_s",
            'vigil_connector_call_seconds_count{connector="http"}': "http_calls"}
    out = dict.fromkeys(want.values(), 0.0)
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name in want:
            out[want[name]] = float(value)
    return out


class Phase:
    """CPU of the server and the stub, the server's peak RSS, the load generator's CPU and the
    stub's request and connection counts across one measured phase; for vigil also its commits
    and connector calls (from /metrics)."""

    def __init__(self, server_pid, stub, metrics=None):
        self.server_pid, self.stub, self.metrics = server_pid, stub, metrics

    def __enter__(self):
        self.metrics0 = self.metrics() if self.metrics else None
        self.rss_reset = reset_peak_rss(self.server_pid)
        self.stub_stats = self.stub.stats()
        self.server0, self.stub0 = cpu_ticks(self.server_pid), cpu_ticks(self.stub.proc.pid)
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc):
        self.server_ticks = cpu_ticks(self.server_pid) - self.server0
        self.stub_ticks = cpu_ticks(self.stub.proc.pid) - self.stub0
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.load_seconds = (c.ru_utime + c.ru_stime) - (self.children0.ru_utime + self.children0.ru_stime)
        self.peak_rss_mb = round((status_kb(self.server_pid, "VmHWM") or 0) / 1024, 1)
        after = self.stub.stats()
        self.stub_requests = after["requests"] - self.stub_stats["requests"]
        self.stub_connections = after["connections"] - self.stub_stats["connections"] - 1  # less our own /stats
        if self.metrics:
            m1 = self.metrics()
            self.metrics_delta = {k: m1[k] - self.metrics0[k] for k in m1}
        return False

    def figures(self, result):
        runs = max(1, result["runs"])
        ms = 1000.0 / TICKS
        return {
            "cpu_ms_per_run": round(self.server_ticks * ms / runs, 3),
            "peak_rss_mb": self.peak_rss_mb,
            "peak_rss_is_since_start": not self.rss_reset,
            "stub_cpu_ms_per_run": round(self.stub_ticks * ms / runs, 3),
            "load_generator_cpu_ms_per_run": round(self.load_seconds * 1000 / runs, 3),
            "stub_requests": self.stub_requests,
            "stub_connections": self.stub_connections,
            **(self.vigil_figures(runs) if self.metrics else {}),
        }

    def vigil_figures(self, runs):
        d = self.metrics_delta
        return {"vigil_commits_per_run": round(d["commits"] / runs, 2),
                "vigil_inputs_per_commit": round(d["inputs"] / d["commits"], 2) if d["commits"] else None,
                "vigil_commit_ms_mean": round(d["commit_s"] * 1000 / d["commits"], 3) if d["commits"] else None,
                "vigil_http_call_ms_mean": round(d["http_s"] * 1000 / d["http_calls"], 3) if d["http_calls"] else None}


class Stub:
    def __init__(self, procs, node, tmp):
        log_path = os.path.join(tmp, "stub.log")
        self.proc = procs.start("stub", [node, os.path.join(HERE, "stub.mjs"), "--max-seconds", "7200"], log_path)
        port = int(wait_for_file_match(log_path, r'\{"port":(\d+)\}', self.proc, 20).group(1))
        self.url = f"http://127.0.0.1:{port}"

    def stats(self):
        code, body = http_json(self.url + "/stats")
        if code != 200:
            raise RuntimeError(f"stub /stats answered {code}")
        return body


def load(args, url, target, scenario, clients, runs, start, extra=()):
    """Runs bench/e2e/load.mjs once; its JSON result."""
    cmd = [args.node, os.path.join(HERE, "load.mjs"), "--target", target, "--url", url, "--scenario", scenario,
           "--clients", str(clients), "--runs", str(runs), "--start", str(start), "--max-seconds", str(args.max_seconds)]
    p = subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=args.max_seconds * 2 + 120)
    if p.returncode != 0:
        raise RuntimeError(f"load.mjs {target} {scenario} failed ({p.returncode}): {p.stderr[-2000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if r["errors"]:
        log(f"{target} {scenario}: {r['errors']} errors, e.g. {r['error_samples'][:1]}")
    return r


# Refs of each phase: the same in both targets, so their bands can be compared.
START_C1, START_CN, START_PARKED, START_WARMUP = 0, 100000, 200000, 900000


def measure(args, url, target, server_pid, stub, auth, tmp):
    """Warm-up, the two triage phases and the parked pass against one target."""
    tok = ["--token", auth["operator"]] if auth else []
    metrics = (lambda: vigil_metrics(url, auth["admin"])) if auth else None
    out = {}
    if args.warmup:
        load(args, url, target, "triage", args.clients, args.warmup, START_WARMUP, tok)
        load(args, url, target, "triage", 1, max(1, args.warmup // 4), START_WARMUP + args.warmup, tok)
    for key, clients, runs, start in (("c1", 1, args.runs_1, START_C1), (f"c{args.clients}", args.clients, args.runs, START_CN)):
        log(f"{target}: triage-lite, {runs} runs at {clients} client(s)")
        with Phase(server_pid, stub, metrics) as ph:
            r = load(args, url, target, "triage", clients, runs, start, tok)
        r.update(ph.figures(r))
        out[key] = r
    if args.parked:
        ids = os.path.join(tmp, f"{target}-parked.ids")
        extra = ["--ids-in", ids]
        if auth:
            extra += ["--approver-token", auth["approver"], "--admin-token", auth["admin"]]
        if args.warmup:  # the approval paths warm too (Node-RED's decide flow and its connections)
            warm = max(1, min(args.warmup, 100))
            load(args, url, target, "park", args.clients, warm, START_WARMUP - warm, tok + ["--ids-out", ids])
            load(args, url, target, "decide", args.clients, warm, 0, extra)
        log(f"{target}: parking {args.parked} runs at {args.clients} clients")
        with Phase(server_pid, stub, metrics) as ph:
            parked = load(args, url, target, "park", args.clients, args.parked, START_PARKED, tok + ["--ids-out", ids])
        parked.update(ph.figures(parked))
        log(f"{target}: deciding them at {args.clients} clients")
        with Phase(server_pid, stub, metrics) as ph:
            decided = load(args, url, target, "decide", args.clients, args.parked, 0, extra)
        decided.update(ph.figures(decided))
        decided["rss_mb_after"] = round((status_kb(server_pid, "VmRSS") or 0) / 1024, 1)
        out["parked"] = {"start": parked, "decide": decided}
    return out


def deploy(src, dest, stub_url):
    with open(src) as f:
        text = f.read()
    if STUB_PLACEHOLDER not in text:
        raise RuntimeError(f"{src} does not name {STUB_PLACEHOLDER}")
    with open(dest, "w") as f:
        f.write(text.replace(STUB_PLACEHOLDER, stub_url))


def filesystem_of(path):
    """The type of the file system holding `path` (the daemon's data directory), from /proc/mounts."""
    best, kind = "", "?"
    path = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1].replace("\\040", " ")
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, kind = mnt, parts[2]
    return kind


# ---- vigil -----------------------------------------------------------------------------------

def run_vigil(args, procs, stub, tmp):
    base = os.path.join(tmp, "vigil")
    flows, data = os.path.join(base, "workflows"), os.path.join(base, "data")
    os.makedirs(flows)
    for name in ("triage-lite.yaml", "triage-approval.yaml"):
        deploy(os.path.join(HERE, name), os.path.join(flows, name), stub.url)
    stub_host_port = stub.url.split("//", 1)[1]
    config = os.path.join(base, "vigil.yaml")
    with open(config, "w") as f:
        # One token drives each load, so the per-token rate limit is lifted (as bench/api_bench.sh
        # does); outbound calls may reach the stub and nothing else.
        f.write("limits:\n  requests_per_second_per_token: 100000\n"
                f"connectors:\n  outbound: [\"{stub_host_port}\"]\n")
    check = subprocess.run([args.vigil, "validate", "--config", config] + [os.path.join(flows, n) for n in sorted(os.listdir(flows))],
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        raise RuntimeError("the benchmark workflows do not validate:\n" + check.stdout + check.stderr)
    version = subprocess.run([args.vigil, "--version"], capture_output=True, text=True, timeout=10).stdout.split("\n")

    def user(name, *roles):
        cmd = [args.vigil, "users", "add", name, "--data", data]
        for r in roles:
            cmd += ["--role", r]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(f"vigil users add {name}: {p.stderr}")
        return p.stdout.strip()

    # The accounts exist before the daemon starts, so the workflows' roles are held when they
    # load (no warnings, no task escalated for want of an approver). `metrics` reads /metrics.
    auth = {"operator": user("bench", "operator"), "approver": user("sam", "approver", "mash-supervisor"),
            "admin": user("metrics", "admin")}
    out_path = os.path.join(base, "serve.out")
    proc = procs.start("vigil", [args.vigil, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0",
                                 "--workflows", flows], out_path)
    m = wait_for_file_match(out_path, r"serving on http://127\.0\.0\.1:(\d+)", proc, 60)
    url = f"http://127.0.0.1:{m.group(1)}"
    try:
        result = measure(args, url, "vigil", proc.pid, stub, auth, tmp)
    finally:
        procs.stop(proc)
    result["version"] = " / ".join(v.strip() for v in version if v.strip())
    result["data_dir_fs"] = filesystem_of(data)
    result["process"] = "vigil serve (one process, all threads; log level info, the default)"
    return result


# ---- Node-RED --------------------------------------------------------------------------------

def install_node_red(args):
    red = os.path.join(args.cache, "node_modules", "node-red", "red.js")
    if not os.path.exists(red):
        os.makedirs(args.cache, exist_ok=True)
        pkg = os.path.join(args.cache, "package.json")
        if not os.path.exists(pkg):
            with open(pkg, "w") as f:
                json.dump({"name": "vigil-bench-node-red", "private": True, "description": "benchmark peer, not a dependency"}, f)
        log(f"installing node-red@{args.node_red_version} into {args.cache}")
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", f"node-red@{args.node_red_version}"],
                           cwd=args.cache, capture_output=True, text=True, timeout=900)
        if p.returncode != 0 or not os.path.exists(red):
            raise RuntimeError("npm install node-red failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    with open(os.path.join(args.cache, "node_modules", "node-red", "package.json")) as f:
        return red, json.load(f)["version"]


NODE_RED_SETTINGS = """// Generated by bench/e2e/run.py for one benchmark run.
module.exports = {
    flowFile: %(flow)s,
    flowFilePretty: false,
    userDir: %(user)s,
    credentialSecret: false,
    uiHost: "127.0.0.1",
    uiPort: %(port)d,
    httpAdminRoot: false,
    httpNodeRoot: "/",
    disableEditor: true,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: "warn", metrics: false, audit: false } },
    contextStorage: { default: { module: "memory" } },
    functionExternalModules: false,
};
"""


def run_node_red(args, procs, stub, tmp):
    red, version = install_node_red(args)
    base = os.path.join(tmp, "node-red")
    user = os.path.join(base, "user")
    os.makedirs(user)
    flow = os.path.join(base, "flows.json")
    deploy(os.path.join(HERE, "node-red-flow.json"), flow, stub.url)
    port = free_port()
    settings = os.path.join(base, "settings.js")
    with open(settings, "w") as f:
        f.write(NODE_RED_SETTINGS % {"flow": json.dumps(flow), "user": json.dumps(user), "port": port})
    log_path = os.path.join(base, "node-red.log")
    env = dict(os.environ, NODE_ENV="production")
    for k in [k for k in env if k.lower().endswith("_proxy")]:
        del env[k]  # calls go to the stub on loopback, never through a proxy
    proc = procs.start("node-red", [args.node, red, "--settings", settings, "--userDir", user], log_path, cwd=base, env=env)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 90
    while True:
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("Node-RED did not start:\n" + open(log_path, errors="replace").read()[-3000:])
        try:
            if http_json(url + "/healthz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    try:
        result = measure(args, url, "node-red", proc.pid, stub, None, tmp)
    finally:
        procs.stop(proc)
    result["version"] = f"node-red {version}"
    result["process"] = "node (Node-RED runtime, one process)"
    return result


# ---- the report ------------------------------------------------------------------------------

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            model = m.group(1).strip() if m else model
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(), "node": node,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def ratios(v, n, clients):
    cn = f"c{clients}"
    r = {
        "runs_per_sec_c1": ratio(v["c1"]["runs_per_sec"], n["c1"]["runs_per_sec"]),
        f"runs_per_sec_{cn}": ratio(v[cn]["runs_per_sec"], n[cn]["runs_per_sec"]),
        "p50_c1": ratio(v["c1"]["p50_ms"], n["c1"]["p50_ms"]),
        "cpu_per_run_c1": ratio(v["c1"]["cpu_ms_per_run"], n["c1"]["cpu_ms_per_run"]),
        f"cpu_per_run_{cn}": ratio(v[cn]["cpu_ms_per_run"], n[cn]["cpu_ms_per_run"]),
        f"peak_rss_{cn}": ratio(v[cn]["peak_rss_mb"], n[cn]["peak_rss_mb"]),
        "note": "vigil / node-red: above 1 means vigil is faster (runs/s) or costs more (p50, CPU, time)",
    }
    if "parked" in v and "parked" in n:
        r["parked_decide_seconds"] = ratio(v["parked"]["decide"]["seconds"], n["parked"]["decide"]["seconds"])
    return r


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below stops what was started
    if not os.access(args.vigil, os.X_OK):
        sys.exit(f"no vigil binary at {args.vigil} (build first, or pass --vigil PATH)")
    started = datetime.datetime.now(datetime.timezone.utc)
    report = {"bench": "e2e-triage-lite", "date": started.isoformat(timespec="seconds"), "machine": machine(),
              "settings": {"runs_c1": args.runs_1, f"runs_c{args.clients}": args.runs, "clients": args.clients,
                           "parked": args.parked, "warmup": args.warmup}}
    tmp = tempfile.mkdtemp(prefix="vigil-e2e-")
    procs = Processes()
    try:
        stub = Stub(procs, args.node, tmp)
        log(f"stub on {stub.url}; scratch {tmp}")
        report["vigil"] = run_vigil(args, procs, stub, tmp)
        if not args.skip_node_red:
            report["node_red"] = run_node_red(args, procs, stub, tmp)
            report["ratios"] = ratios(report["vigil"], report["node_red"], args.clients)
            report["bands_agree"] = all(report["vigil"][k]["band_checksum"] == report["node_red"][k]["band_checksum"]
                                        for k in ("c1", f"c{args.clients}"))
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        report["seconds"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1)
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=1))
    phases = [(f"{t}.{k}", r) for t in ("vigil", "node_red") if t in report for k, r in report[t].items() if isinstance(r, dict)]
    phases += [(f"{name}.{k}", r) for name, p in list(phases) if "start" in p for k, r in p.items()]
    failed = [name for name, r in phases if r.get("errors")]
    if failed:
        log("errors in: " + ", ".join(failed))
    sys.exit(1 if failed or report.get("bands_agree") is False else 0)


if __name__ == "__main__":
    main()
