#!/usr/bin/python3
"""Runs `vigil validate` on every shipped workflow (workflows/*.yaml), every example
(examples/workflows/**/*.yaml), every REST connector definition (examples/connectors/*.yaml)
and every area file (examples/areas/*.yaml), and checks each is valid: exit code 0, nothing
on stderr, and one 'FILE: ok (...)' line on stdout.

Usage: validate_shipped.py VIGIL_BINARY SOURCE_DIR

vigil runs with SOURCE_DIR as its working directory and paths relative to it. A folder with
no workflows is skipped, not failed.
"""

import glob
import os
import subprocess
import sys

TIMEOUT_SECONDS = 60  # catches a hang; sanitizer builds under load take seconds per start


def shipped_files(source_dir):
    files = sorted(glob.glob('workflows/*.yaml', root_dir=source_dir))
    files += sorted(glob.glob('examples/workflows/**/*.yaml', root_dir=source_dir, recursive=True))
    files += sorted(glob.glob('examples/connectors/*.yaml', root_dir=source_dir))
    files += sorted(glob.glob('examples/areas/*.yaml', root_dir=source_dir))
    return files


def check(vigil, source_dir, rel):
    """Returns a list of failure descriptions for one file (empty when it is valid)."""
    try:
        proc = subprocess.run([vigil, 'validate', rel], cwd=source_dir, capture_output=True,
                              timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return [f'vigil did not finish within {TIMEOUT_SECONDS} s']
    problems = []
    if proc.returncode < 0:
        problems.append(f'vigil was killed by signal {-proc.returncode} (a crash)')
    elif proc.returncode != 0:
        problems.append(f'exit code {proc.returncode}, expected 0')
    stderr = proc.stderr.decode('utf-8', errors='replace')
    if stderr:
        problems.append('stderr is not empty:\n' + stderr.rstrip('\n'))
    stdout = proc.stdout.decode('utf-8', errors='replace').splitlines()
    ok_lines = [l for l in stdout if l.startswith(rel + ': ok')]
    if len(ok_lines) != 1:
        problems.append(f'expected one "{rel}: ok" line on stdout, got {len(ok_lines)}: {stdout!r}')
    return problems

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print('usage: validate_shipped.py VIGIL_BINARY SOURCE_DIR', file=sys.stderr)
        return 2
    vigil = os.path.abspath(sys.argv[1])
    source_dir = os.path.abspath(sys.argv[2])
    files = shipped_files(source_dir)
    if not files:
        print('no shipped workflows or examples found; skipped')
    checks = Checks()
    for rel in files:
        checks.problems(rel, check(vigil, source_dir, rel))
    # A broken area file and connector definition: located errors, text and JSON.
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        area = os.path.join(tmp, 'area.yaml')
        open(area, 'w').write("area: x\ntimescales:\n  t: { targets: { RED: { within: soon } } }\n")
        conn = os.path.join(tmp, 'conn.yaml')
        open(conn, 'w').write("connector: x\nbase_url: http://127.0.0.1:1\n")
        p = subprocess.run([vigil, 'validate', area, conn], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        checks.check('bad area and connector files: exit 1, FILE:LINE:COL errors', p.returncode == 1
                     and f"{area}:3:34: error: 'within' must be a positive duration" in p.stderr
                     and f"{conn}:1:1: error:" in p.stderr, p.stderr)
        p = subprocess.run([vigil, 'validate', '--format', 'json', area], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        d = json.loads(p.stdout)['files'][0]['diagnostics'][0] if p.stdout else {}
        checks.check('the same in JSON: line, column and message', p.returncode == 1 and d.get('line') == 3
                     and d.get('column') == 34 and d.get('message', '').startswith("'within'"), p.stdout)
    checks.finish()


if __name__ == '__main__':
    sys.exit(main())
