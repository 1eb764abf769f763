"""A throwaway PostgreSQL 15 server for the daemon's tests: initdb in a temporary folder with
a SCRAM password for user "vigil", started on a free loopback port, stopped by its PID (from
postmaster.pid) on exit. As root it runs as "nobody", since postgres refuses to run as root."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = "/usr/lib/postgresql/15/bin/"
PASSWORD = "store-SECRET-pw-7"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-pg-")
        self.port = 0
        self.pid = None
        self.as_owner = []
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            os.chown(pwfile, nobody.pw_uid, nobody.pw_gid)
            self.as_owner = ["runuser", "-u", "nobody", "--"]
        data = os.path.join(self.dir, "data")
        subprocess.run(self.as_owner + [BIN + "initdb", "-D", data, "-U", "vigil", "--auth=scram-sha-256",
                                        "--pwfile=" + pwfile, "-N", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        for _ in range(3):
            self.port = free_port()
            p = subprocess.run(self.as_owner + [BIN + "pg_ctl", "-D", data, "-l", os.path.join(self.dir, "server.log"), "-w",
                                                "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                                                "start"], capture_output=True, timeout=120)
            if p.returncode == 0:
                with open(os.path.join(data, "postmaster.pid")) as f:
                    self.pid = int(f.readline())
                return
        raise RuntimeError("pg_ctl start failed; see " + os.path.join(self.dir, "server.log"))

    def conninfo(self, db="postgres"):
        """libpq conninfo without the password."""
        return f"host=127.0.0.1 port={self.port} dbname={db} user=vigil"

    def psql(self, sql, db="postgres"):
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        p = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.conninfo(db), "-c", sql],
                           capture_output=True, text=True, timeout=60, env=env)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return p.stdout.strip()

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGQUIT)  # immediate shutdown
                for _ in range(100):
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
