#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (what CI runs):
#   1. every test on the AddressSanitizer + UBSan build (build-asan/): a memory error, a leak
#      or undefined behaviour in any process a test starts fails that test;
#   2. the engine's tests on the ThreadSanitizer build (build-tsan/): the committer, workers
#      and timer thread under a race detector. The daemon's tests under TSan take a second
#      full build; `scripts/test.sh thread-all` runs them (README.md, "Building by hand").
set -euo pipefail
cd "$(dirname "$0")/.."
scope="${1:-ci}"
bash scripts/install-deps.sh
jobs="$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"

bash scripts/build.sh address
(cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 900)

if [ "$scope" = thread-all ]; then
  bash scripts/build.sh thread
  (cd build-tsan && ctest --output-on-failure -j "$jobs" --timeout 900 -R '^(engine|daemon|connectors|audit):')
else
  # The crash tests (SIGKILLs of a worker process) run on the ASan build; under TSan they would
  # cost minutes of CI time for what the engine's own threaded tests already cover.
  bash scripts/build.sh thread vigil_engine_tests
  (cd build-tsan && ctest --output-on-failure -j "$jobs" --timeout 900 -R '^engine:' -E '^engine:crash-recovery')
fi
