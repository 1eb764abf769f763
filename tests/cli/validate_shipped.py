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

TIMEOUT_SECONDS = 10


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
    checks.finish()


if __name__ == '__main__':
    sys.exit(main())
