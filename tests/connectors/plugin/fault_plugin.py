#!/usr/bin/python3
"""A misbehaving plugin for the plugin connector's tests.

argv[1] picks how the hello goes: ok, bad_hello (not JSON), wrong_protocol, silent (never
answers), concurrent (declares max_concurrency 4). Once running, each action misbehaves in
one way; `echo` behaves, so a test can check that the next call works again. `escape`
leaves a grandchild that tries to outlive the plugin (see escape() below).
"""
import json
import os
import signal
import subprocess
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


ACTIONS = ["echo", "segv", "hang", "garbage", "wrong_id", "wrong_type", "flood", "long_line",
           "exit", "close_stdout", "noisy", "fail", "slow", "close_stdin", "escape"]


def escape(spec):
    """Starts `sleep 300` in a session of its own and writes its pid to spec["pidfile"].
    how: "setsid" runs it with setsid(1) as the plugin's child; "daemonize" double-forks
    the way daemon(3) does, so the sleep is orphaned at once while the plugin lives on.
    stdio: "inherit" keeps the plugin's pipes open in the grandchild; "null" does not."""
    pidfile = spec["pidfile"]
    null = subprocess.DEVNULL if spec.get("stdio") == "null" else None
    if spec.get("how") == "daemonize":
        middle = os.fork()
        if middle == 0:
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                if null is not None:
                    devnull = os.open(os.devnull, os.O_RDWR)
                    for fd in (0, 1, 2):
                        os.dup2(devnull, fd)
                os.execvp("sleep", ["sleep", "300"])
            with open(pidfile + ".tmp", "w") as f:
                f.write(str(grandchild))
            os.rename(pidfile + ".tmp", pidfile)
            os._exit(0)
        os.waitpid(middle, 0)
        return
    # sh writes its own pid, then becomes the sleep: the pid written is the sleep's.
    subprocess.Popen(["setsid", "sh", "-c", 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 300', pidfile],
                     stdin=null, stdout=null, stderr=null)
    deadline = time.monotonic() + 5
    while not os.path.exists(pidfile) and time.monotonic() < deadline:
        time.sleep(0.01)

sys.stdin.readline()
if mode == "bad_hello":
    sys.stdout.write("this is not json\n")
    sys.stdout.flush()
    time.sleep(60)
elif mode == "wrong_protocol":
    send({"type": "hello", "protocol": 2, "name": "fault", "actions": [{"name": "echo"}]})
    time.sleep(60)
elif mode == "silent":
    time.sleep(60)
hello = {"type": "hello", "protocol": 1, "name": "fault",
         "actions": [{"name": a, "params": [{"name": "value", "type": "any"}]} for a in ACTIONS]}
if mode == "concurrent":
    hello["max_concurrency"] = 4
send(hello)

for line in sys.stdin:
    call = json.loads(line)
    cid, action, value = call["id"], call["action"], call["input"].get("value")
    if action == "echo":
        send({"type": "result", "id": cid, "ok": True,
              "output": {"value": value, "pid": os.getpid(), "cwd": os.getcwd(),
                         "env": sorted(os.environ.keys()), "deadline_ms": call["deadline_ms"],
                         "idempotency_key": call["idempotency_key"], "purpose": call["purpose"]}})
    elif action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "hang":
        time.sleep(3600)
    elif action == "slow":
        time.sleep(float(value))
        send({"type": "result", "id": cid, "ok": True, "output": {"pid": os.getpid()}})
    elif action == "garbage":
        sys.stdout.write("%%% not json at all %%%\n")
        sys.stdout.flush()
    elif action == "wrong_id":
        send({"type": "result", "id": cid + 1000, "ok": True, "output": {}})
    elif action == "wrong_type":
        send({"type": "hello", "id": cid, "ok": True})
    elif action == "flood":
        chunk = "x" * (1024 * 1024)
        try:
            for _ in range(100):  # 100 MB, no newline
                sys.stdout.write(chunk)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        time.sleep(3600)
    elif action == "long_line":
        send({"type": "result", "id": cid, "ok": True, "output": {"blob": "y" * (2 * 1024 * 1024)}})
    elif action == "exit":
        os._exit(3)
    elif action == "close_stdout":
        os.close(1)
        time.sleep(3600)
    elif action == "noisy":
        # 2 MB to stderr before answering: blocks forever unless vigil drains it.
        for _ in range(32):
            sys.stderr.write("e" * 65536)
        sys.stderr.flush()
        send({"type": "result", "id": cid, "ok": True, "output": {"noisy": True}})
    elif action == "close_stdin":
        # Answers, then stops reading: vigil's next write meets a closed pipe (EPIPE, SIGPIPE).
        os.close(0)
        send({"type": "result", "id": cid, "ok": True, "output": {}})
        time.sleep(3600)
    elif action == "escape":
        escape(value)
        if value.get("then") == "exit":
            os._exit(3)
        elif value.get("then") == "hang":
            time.sleep(3600)
        send({"type": "result", "id": cid, "ok": True, "output": {"pid": os.getpid()}})
    elif action == "fail":
        send({"type": "result", "id": cid, "ok": False, "code": "not_found", "message": "no such record",
              "retryable": False})
