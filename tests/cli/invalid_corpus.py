#!/usr/bin/python3
"""Runs `vigil validate` on every case of the invalid-workflow corpus and compares what it
prints on stderr, line for line, with the case's .expected file.

Usage: invalid_corpus.py VIGIL_BINARY SOURCE_DIR

Each case is a pair tests/workflows/invalid/NNN-name.yaml and NNN-name.expected. vigil runs
with SOURCE_DIR as its working directory and the relative path, so the expected lines
read `tests/workflows/invalid/NNN-name.yaml:LINE:COL: error: MESSAGE`. A case passes when
vigil exits with 1 (not 0, not 2 for a usage error, not killed by a signal), prints no
'ok' line for the file, and stderr is exactly the expected lines.
"""

import difflib
import os
import re
import subprocess
import sys

CORPUS = os.path.join('tests', 'workflows', 'invalid')
MIN_CASES = 40
# Only there to catch a hang: a sanitizer build on a loaded 2-core machine takes several
# seconds per case, and a timeout must never be what fails a correct case.
TIMEOUT_SECONDS = 60
CASE_NAME = re.compile(r'^\d{3}-[a-z0-9-]+\.yaml$')


def run_case(vigil, source_dir, name):
    """Returns a list of failure descriptions for one case (empty when it passes)."""
    rel = os.path.join(CORPUS, name)
    expected_path = os.path.join(source_dir, CORPUS, name[:-len('.yaml')] + '.expected')
    if not os.path.isfile(expected_path):
        return [f'no expected file {os.path.relpath(expected_path, source_dir)}']
    with open(expected_path, encoding='utf-8') as f:
        expected = f.read().splitlines()
    try:
        proc = subprocess.run([vigil, 'validate', rel], cwd=source_dir, capture_output=True,
                              timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return [f'vigil did not finish within {TIMEOUT_SECONDS} s']
    problems = []
    if proc.returncode < 0:
        problems.append(f'vigil was killed by signal {-proc.returncode} (a crash)')
    elif proc.returncode != 1:
        problems.append(f'exit code {proc.returncode}, expected 1')
    stdout = proc.stdout.decode('utf-8', errors='replace').splitlines()
    ok_lines = [l for l in stdout if l.startswith(rel + ': ok')]
    if ok_lines:
        problems.append(f'stdout reports the file as valid: {ok_lines[0]!r}')
    actual = proc.stderr.decode('utf-8', errors='replace').splitlines()
    if actual != expected:
        diff = difflib.unified_diff(expected, actual, fromfile=os.path.relpath(expected_path, source_dir),
                                    tofile='vigil stderr', lineterm='')
        problems.append('stderr differs from the expected lines:\n' + '\n'.join(diff))
    return problems

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from vigiltest import Checks  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print('usage: invalid_corpus.py VIGIL_BINARY SOURCE_DIR', file=sys.stderr)
        return 2
    vigil = os.path.abspath(sys.argv[1])
    source_dir = os.path.abspath(sys.argv[2])
    corpus_dir = os.path.join(source_dir, CORPUS)
    names = sorted(n for n in os.listdir(corpus_dir) if n.endswith('.yaml'))
    checks = Checks()

    # The corpus itself must be well formed: enough cases, every case named NNN-name and
    # paired with its expected output (and no expected file without its case).
    for name in names:
        if not CASE_NAME.match(name):
            checks.check(name, False, 'case files are named NNN-short-name.yaml')
    for name in sorted(n for n in os.listdir(corpus_dir) if n.endswith('.expected')):
        if name[:-len('.expected')] + '.yaml' not in names:
            checks.check(name, False, 'no matching .yaml case')
    if len(names) < MIN_CASES:
        checks.check('corpus', False, f'{len(names)} cases, at least {MIN_CASES} required')

    for name in names:
        checks.problems(name, run_case(vigil, source_dir, name))
    checks.finish()


if __name__ == '__main__':
    sys.exit(main())
