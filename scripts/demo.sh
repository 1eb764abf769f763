#!/usr/bin/env bash
# The first five minutes: install, build, show the shipped workflows validated and
# described, then start the daemon with them on the embedded SQLite store (./vigil-data).
# Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "== vigil validate workflows/*.yaml examples/workflows/*.yaml"
shopt -s globstar nullglob
./build/daemon/vigil validate workflows/*.yaml examples/workflows/*.yaml
echo
echo "== vigil describe workflows/*.yaml"
./build/daemon/vigil describe workflows/*.yaml
echo "== try an expression:  ./build/daemon/vigil eval --context '{\"inputs\":{\"age\":15}}' \"inputs.age < 18 ? 'child' : 'adult'\""
./build/daemon/vigil eval --context '{"inputs":{"age":15}}' "inputs.age < 18 ? 'child' : 'adult'"
echo
echo "== vigil serve --data ./vigil-data --listen 127.0.0.1:8470"
echo "On first start it prints the admin token once. Then, in another terminal:"
echo "  ./build/daemon/vigil users add olivia --role operator --data ./vigil-data   # prints olivia's token"
echo "  export VIGIL_TOKEN=<that token>"
echo "  ./build/daemon/vigil run record-lookup --input '{\"subject\": {\"name\": \"Test Person\"}, \"purpose\": \"demo\"}'"
echo "  ./build/daemon/vigil runs --purpose demo"
echo "Docs: docs/API.md, docs/WORKFLOW-LANGUAGE.md, 'vigil --help'."
echo
exec ./build/daemon/vigil serve --data ./vigil-data --listen 127.0.0.1:8470 --workflows workflows
