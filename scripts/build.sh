#!/usr/bin/env bash
# Configures and builds vigil with Ninja and ccache.
#   scripts/build.sh                  # build/: optimised (RelWithDebInfo), tests and benchmarks
#   scripts/build.sh address [TARGET...]  # build-asan/: AddressSanitizer + UBSan, tests, -O0
#   scripts/build.sh thread [TARGET...]   # build-tsan/: ThreadSanitizer, tests, -O1
# The sanitizer builds keep assertions on and take line tables only (-g1): enough for
# symbolised reports, and a third less compile time than full debug information.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
shift || true
case "$flavour" in
  release) dir=build
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=ON) ;;
  address) dir=build-asan
    args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O0 -g1"
          -DVIGIL_SANITIZE=address -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=OFF) ;;
  thread) dir=build-tsan
    args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1"
          -DVIGIL_SANITIZE=thread -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=OFF) ;;
  *) echo "usage: scripts/build.sh [release|address|thread] [TARGET...]" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}"
fi
if [ "$#" -gt 0 ]; then
  cmake --build "$dir" -j "$(nproc)" --target "$@"
else
  cmake --build "$dir" -j "$(nproc)"
fi
