#!/usr/bin/env python3
"""The vigil binary's help, version and usage errors: what a new user meets first."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402

VIGIL = sys.argv[1]
checks = Checks()
check = checks.check


def run(*args):
    p = subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


rc, out, err = run("--help")
check("--help exits 0", rc == 0, err)
for cmd in ("validate", "describe", "eval", "help"):
    check(f"--help lists {cmd}", f"  {cmd}" in out, out)
check("--help mentions log format", "--log-format text|json" in out, out)

rc, out, err = run("--version")
check("--version", rc == 0 and out.startswith("vigil ") and "commit " in out and "build " in out, out)

for cmd in ("validate", "describe", "eval"):
    rc, out, err = run("help", cmd)
    check(f"help {cmd}", rc == 0 and out.startswith(f"Usage: vigil {cmd}"), out + err)

rc, out, err = run("help", "nosuch")
check("help of unknown command", rc == 2 and "unknown command 'nosuch'" in err, err)

rc, out, err = run("nosuch")
check("unknown command", rc == 2 and "unknown command 'nosuch'" in err, err)

rc, out, err = run()
check("no command prints the overview and exits 2", rc == 2 and "Commands:" in out, out)

rc, out, err = run("validate")
check("validate without files", rc == 2 and "name at least one workflow file" in err, err)

rc, out, err = run("validate", "--bogus", "x.yaml")
check("validate with unknown option", rc == 2 and "vigil validate:" in err and "vigil help validate" in err, err)

rc, out, err = run("validate", "--format", "xml", "x.yaml")
check("validate with bad format", rc == 2 and "--format must be 'text' or 'json'" in err, err)

rc, out, err = run("validate", "/nonexistent/file.yaml")
check("validate a missing file", rc == 1 and err.strip() == "/nonexistent/file.yaml:1:1: error: cannot open file", err)

rc, out, err = run("--log-format", "xml", "validate", "x")
check("bad log format", rc == 2 and "--log-format must be 'text' or 'json'" in err, err)

rc, out, err = run("--log-format", "json", "--log-level", "debug", "validate", "/nonexistent.yaml")
check("json log lines are JSON", rc == 1 and '"level":"debug"' in err and '"msg":"validated 1 file(s)"' in err, err)

rc, out, err = run("eval", "1 + 2 * 3")
check("eval arithmetic", rc == 0 and out.strip() == "7", out + err)

rc, out, err = run("eval", "--context", '{"inputs": {"age": 15}}', "inputs.age < 18 ? 'child' : 'adult'")
check("eval with context", rc == 0 and out.strip() == '"child"', out + err)

rc, out, err = run("eval", "--now", "2026-11-26T09:00:00Z", "now()")
check("eval with --now", rc == 0 and out.strip() == '"2026-11-26T09:00:00Z"', out + err)

rc, out, err = run("eval", "1 +")
check("eval parse error with caret", rc == 1 and "unexpected end of expression at col 4" in err and "^" in err, err)

rc, out, err = run("eval", "--context", "[1]", "1")
check("eval bad context", rc == 2 and "--context must be a JSON object" in err, err)

rc, out, err = run("eval", "--holiday", "2026-02-30", "1")
check("eval bad holiday", rc == 2 and "holiday '2026-02-30' is not a YYYY-MM-DD date" in err, err)

# Every subcommand's own --help and -h print its usage and exit 0 (they used to exit 2).
rc, out, err = run("--help")
commands = [line.split()[0] for line in out.split("Commands:\n")[1].split("\n\n")[0].splitlines() if line.strip()]
commands = [c for c in commands if c != "help"]
check("the overview lists the subcommands", len(commands) >= 15, commands)
for cmd in commands:
    for flag in ("--help", "-h"):
        rc, out, err = run(cmd, flag)
        check(f"vigil {cmd} {flag} prints its usage and exits 0", rc == 0 and out.startswith(f"Usage: vigil {cmd}"), (rc, out[:80], err))

# Global options are accepted after the subcommand as well as before it.
rc, out, err = run("eval", "--log-level", "warn", "1 + 1")
check("a global option after the subcommand", rc == 0 and out.strip() == "2", out + err)
rc, out, err = run("--log-level", "warn", "eval", "1 + 1")
check("a global option before the subcommand", rc == 0 and out.strip() == "2", out + err)
rc, out, err = run("eval", "--log-level", "loud", "1")
check("a bad global option after the subcommand is a usage error", rc == 2 and "--log-level must be one of" in err, err)
rc, out, err = run("eval", "--", "-1")
check("after --, everything is the command's", rc == 0 and out.strip() == "-1", out + err)

checks.finish()
