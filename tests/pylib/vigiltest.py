"""Shared by the Python test scripts: named checks and the closing 'N passed, M failed' line."""
import sys


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def problems(self, name, problems):
        """One check per case: passes when `problems` is empty, else lists each problem."""
        if not problems:
            self.passed += 1
            return
        self.failed += 1
        print(f"FAIL {name}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


class Daemon:
    """A real `vigil serve` on an ephemeral loopback port with its own data directory.
    Its log goes to a file (never an unread pipe). Use as a context manager."""

    def __init__(self, vigil, workflow_dirs, tmp, extra_args=(), admin=None):
        """A first start prints the new admin's token, read here; on a data directory that
        has accounts already, pass a token of its own as `admin` (`vigil tokens issue`)."""
        import os
        import re
        import subprocess
        self.vigil = vigil
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.log_path = os.path.join(tmp, "serve.log")
        args = [vigil, "serve", "--data", self.data, "--listen", "127.0.0.1:0"]
        for d in workflow_dirs:
            args += ["--workflows", d]
        self.proc = subprocess.Popen(args + list(extra_args), stdout=subprocess.PIPE,
                                     stderr=open(self.log_path, "a"), text=True)
        lines = [self.proc.stdout.readline() for _ in range(3 if admin is None else 1)]
        self.admin = lines[1].strip() if admin is None else admin
        m = re.search(r"127\.0\.0\.1:(\d+)", lines[-1])
        if not m:
            self.stop()
            raise RuntimeError("vigil serve did not start: " + "".join(lines))
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    @staticmethod
    def issue_token(vigil, data, user="admin"):
        """A new token for an existing user of a data directory (offline)."""
        import subprocess
        p = subprocess.run([vigil, "tokens", "issue", user, "--data", data], capture_output=True, text=True, timeout=20)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return p.stdout.strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is None:
            self.check_sanitizers()

    # What the sanitizer builds write when they find a fault (scripts/test.sh); a daemon that
    # wrote one fails its test even where the fault did not change an answer.
    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer", "runtime error:")

    def check_sanitizers(self):
        text = open(self.log_path, errors="replace").read()
        for mark in self.SANITIZER_MARKS:
            at = text.find(mark)
            if at >= 0:
                raise AssertionError(f"vigil serve reported a fault ({self.log_path}):\n" + text[max(0, at - 200):at + 3000])

    def stop(self):
        import subprocess
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def request(self, method, path, token=None, body=None, headers=None, timeout=20):
        import json
        import urllib.error
        import urllib.request
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def add_user(self, name, *roles):
        import subprocess
        args = [self.vigil, "users", "add", name, "--data", self.data]
        for r in roles:
            args += ["--role", r]
        p = subprocess.run(args, capture_output=True, text=True, timeout=20)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return p.stdout.strip()

    def cli_env(self, token, purpose=None):
        """The environment a client subcommand runs with against this daemon."""
        import os
        env = dict(os.environ, VIGIL_SERVER=self.url, VIGIL_TOKEN=token)
        env.pop("VIGIL_PURPOSE", None)
        if purpose:
            env["VIGIL_PURPOSE"] = purpose
        return env

    def cli(self, token, *args, purpose=None, stdin_text=None):
        """Runs a client subcommand against this daemon: (exit code, stdout, stderr).
        Standard input is not a terminal: empty, or `stdin_text`."""
        import subprocess
        p = subprocess.run([self.vigil, *args], capture_output=True, text=True, timeout=60,
                           env=self.cli_env(token, purpose), input=stdin_text if stdin_text is not None else "")
        return p.returncode, p.stdout, p.stderr
