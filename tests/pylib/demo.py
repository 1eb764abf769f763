"""The demo (examples/demo/start.sh) started for a test on free loopback ports, in its own
folder: the synthetic force systems, the SMTP sink and `vigil serve` with the shipped
workflows. Use as a context manager; everything it started is stopped by process group."""
import os
import random
import signal
import socket
import subprocess
import time


def free_ports():
    """A vigil port, an SMTP port and four consecutive ports for the force systems."""
    for _ in range(200):
        base = random.randrange(20000, 60000)
        ports = list(range(base, base + 6))
        socks = []
        try:
            for p in ports:
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return ports[0], ports[1], ports[2]
    raise RuntimeError("no free ports")


class Demo:
    def __init__(self, source, build, folder, ready_seconds=90):
        self.source, self.build, self.folder = source, build, folder
        self.port, self.smtp, self.systems = free_ports()
        self.url = f"http://127.0.0.1:{self.port}"
        self.vigil = os.path.join(build, "daemon", "vigil")
        env = dict(os.environ, VIGIL_DEMO_DIR=folder, VIGIL_BUILD=build, VIGIL_DEMO_PORT=str(self.port),
                   VIGIL_DEMO_SYSTEMS=str(self.systems), VIGIL_DEMO_SMTP=str(self.smtp))
        self.proc = subprocess.Popen(["bash", os.path.join(source, "examples", "demo", "start.sh")], env=env,
                                     cwd=os.path.dirname(folder), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        banner, deadline = [], time.monotonic() + ready_seconds
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            banner.append(line)
            if line.strip() == "READY":
                break
        self.banner = "".join(banner)
        if "READY" not in self.banner:
            self.stop()
            raise RuntimeError("the demo did not start:\n" + self.banner[-3000:])
        self.tokens = dict(l.replace("export ", "").strip().split("=", 1)
                           for l in open(os.path.join(folder, "tokens.env")) if "=" in l)
        self.data = os.path.join(folder, "data")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def add_user(self, name, *roles):
        """A user added while the demo runs (auth.db is shared); returns the token."""
        args = [self.vigil, "users", "add", name, "--data", self.data]
        for r in roles:
            args += ["--role", r]
        p = subprocess.run(args, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return p.stdout.strip()
