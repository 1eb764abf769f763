#!/usr/bin/env python3
"""HTTPS: `vigil serve --tls-cert/--tls-key` with a certificate made here, driven by the
real CLI; the client verifies the certificate and refuses an unknown one."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402

VIGIL, SOURCE = sys.argv[1], sys.argv[2]
checks = Checks()
check = checks.check
tmp = tempfile.mkdtemp(prefix="vigil-tls-")
server = None
try:
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    data = os.path.join(tmp, "data")
    server = subprocess.Popen([VIGIL, "serve", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
                               "--workflows", os.path.join(SOURCE, "tests", "daemon", "workflows")],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "serve.log"), "w"), text=True)
    lines = [server.stdout.readline() for _ in range(3)]
    check("serves https", lines[2].startswith("vigil serving on https://"), lines)
    port = int(re.search(r"127\.0\.0\.1:(\d+)", lines[2]).group(1))
    op = subprocess.run([VIGIL, "users", "add", "op", "--role", "operator", "--data", data],
                        capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, VIGIL_SERVER=f"https://127.0.0.1:{port}", VIGIL_TOKEN=op, VIGIL_CA_FILE=cert)
    p = subprocess.run([VIGIL, "run", "quick", "--input", '{"n": 2}', "--wait", "--json"], capture_output=True, text=True,
                       env=env, timeout=60)
    check("the CLI runs a workflow over HTTPS", p.returncode == 0 and '"n":4' in p.stdout, p.stdout + p.stderr)
    env.pop("VIGIL_CA_FILE")
    p = subprocess.run([VIGIL, "runs", "--purpose", "tls check"], capture_output=True, text=True, env=env, timeout=60)
    check("an unknown certificate is refused", p.returncode == 1 and "certificate verify failed" in p.stderr, p.stderr)
    p = subprocess.run([VIGIL, "serve", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", cert],
                       capture_output=True, text=True, timeout=20)
    check("a certificate without a key is a usage error", p.returncode == 2 and "needs both" in p.stderr, p.stderr)
    server.send_signal(signal.SIGTERM)
    check("stops cleanly", server.wait(timeout=20) == 0)
finally:
    if server is not None and server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
