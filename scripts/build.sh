#!/usr/bin/env bash
# Configures and builds vigil into build/ with Ninja and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=ON
fi
cmake --build build -j "$(nproc)"
