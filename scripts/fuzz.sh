#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run one of them.
#   scripts/fuzz.sh workflow_loader 600     # fuzz the YAML loader for 10 minutes
#   scripts/fuzz.sh expression 600          # fuzz the expression language for 10 minutes
# Crashes land in fuzz-out/TARGET/ as crash-* files; replay one with
#   build-fuzz/tests/fuzz/fuzz_TARGET fuzz-out/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh workflow_loader|expression SECONDS}"
seconds="${2:-60}"
case "$target" in
  workflow_loader) seeds=tests/fuzz/corpus/yaml; dict=tests/fuzz/yaml.dict ;;
  expression) seeds=tests/fuzz/corpus/expr; dict=tests/fuzz/expr.dict ;;
  *) echo "unknown target '$target' (workflow_loader or expression)" >&2; exit 2 ;;
esac
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVIGIL_FUZZ=ON -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF
fi
ninja -C build-fuzz "fuzz_$target"
mkdir -p "fuzz-out/$target/corpus"
cp -n "$seeds"/* "fuzz-out/$target/corpus/" 2>/dev/null || true
exec "build-fuzz/tests/fuzz/fuzz_$target" "fuzz-out/$target/corpus" -dict="$dict" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
  -artifact_prefix="fuzz-out/$target/" -print_final_stats=1
