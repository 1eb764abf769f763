#!/usr/bin/env bash
# Builds the web workbench into OUTDIR: `npm ci` from ui/package-lock.json when ui/node_modules
# is missing or older than the lock file, then esbuild (ui/build.mjs). Called by the CMake
# build; several build folders may run it at once, so it holds a lock while installing.
set -euo pipefail
out="${1:?usage: scripts/build-ui.sh OUTDIR}"
cd "$(dirname "$0")/../ui"
command -v npm >/dev/null || { echo "build-ui.sh: npm is missing; run scripts/install-deps.sh (or build with -DVIGIL_UI=OFF)" >&2; exit 2; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(
  flock 9
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
) 9>"${TMPDIR:-/tmp}/vigil-ui-npm.lock"
rm -rf "$out.tmp"
node build.mjs "$out.tmp"
rm -rf "$out"
mv "$out.tmp" "$out"
