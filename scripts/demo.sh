#!/usr/bin/env bash
# The first five minutes: install (Debian 12, as root), build, check the shipped workflows,
# connectors and area files, then start everything on loopback: the synthetic force
# systems, an SMTP sink and `vigil serve` with the shipped workflows on the embedded SQLite
# store (./vigil-demo). Prints the URL and the demo users' tokens; Ctrl-C stops it all.
# examples/demo-walkthrough.md follows one referral through it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "== vigil validate workflows/*.yaml examples/connectors/*.yaml examples/areas/*.yaml"
./build/daemon/vigil validate workflows/*.yaml examples/connectors/*.yaml examples/areas/*.yaml
echo
exec bash examples/demo/start.sh
