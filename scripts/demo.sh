#!/usr/bin/env bash
# The first five minutes: install, build, and show the shipped workflows validated and
# described. (Later releases start `vigil serve` with them here.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "== vigil validate workflows/*.yaml examples/**/*.yaml"
shopt -s globstar nullglob
./build/daemon/vigil validate workflows/*.yaml examples/**/*.yaml
echo
echo "== vigil describe workflows/*.yaml"
./build/daemon/vigil describe workflows/*.yaml
echo "== try an expression:  ./build/daemon/vigil eval --context '{\"inputs\":{\"age\":15}}' \"inputs.age < 18 ? 'child' : 'adult'\""
./build/daemon/vigil eval --context '{"inputs":{"age":15}}' "inputs.age < 18 ? 'child' : 'adult'"
echo
echo "Next: docs/WORKFLOW-LANGUAGE.md (write your own workflow) and 'vigil --help'."
