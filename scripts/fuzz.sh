#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run one of them, or all of them in turn.
#   scripts/fuzz.sh workflow_loader 600     # fuzz the YAML loader for 10 minutes
#   scripts/fuzz.sh all 120                 # every target for 2 minutes each, one after another
#   scripts/fuzz.sh list                    # the targets
# Each run ends with a summary line per target: executions, coverage, corpus size, and what
# it found. The exit status is non-zero when any target found a crash, leak, timeout or
# out-of-memory input (or did not run). Findings land in fuzz-out/TARGET/ as crash-*, leak-*,
# timeout-* or oom-* files, and the run's output in fuzz-out/TARGET/fuzz-PID.log; replay one with
#   build-fuzz/tests/fuzz/fuzz_TARGET fuzz-out/TARGET/crash-...
# VIGIL_BUILD_LOCK=FILE builds under `flock FILE` (when other builds share the machine);
# VIGIL_FUZZ_JOBS sets ninja's -j.
set -euo pipefail
cd "$(dirname "$0")/.."

# target  seeds (tests/fuzz/corpus/...)  dictionary (tests/fuzz/...)
targets=(
  "workflow_loader yaml yaml.dict"
  "expression expr expr.dict"
  "api_body api_body api_body.dict"
  "http_request http_request http_request.dict"
  "plugin_protocol plugin_protocol plugin_protocol.dict"
  "audit_bundle audit_bundle audit_bundle.dict"
  "connector_file connector_file connector_file.dict"
  "area_file area_file area_file.dict"
  "config_file config_file config_file.dict"
)
names() { for t in "${targets[@]}"; do echo "${t%% *}"; done; }
usage="usage: scripts/fuzz.sh TARGET|all|list SECONDS (targets: $(names | tr '\n' ' '))"
target="${1:?$usage}"
seconds="${2:-60}"
if [ "$target" = list ]; then names; exit 0; fi
case "$seconds" in ''|*[!0-9]*) echo "$usage" >&2; exit 2 ;; esac

selected=()
for t in "${targets[@]}"; do
  if [ "$target" = all ] || [ "$target" = "${t%% *}" ]; then selected+=("$t"); fi
done
if [ ${#selected[@]} -eq 0 ]; then echo "unknown target '$target'; $usage" >&2; exit 2; fi

if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVIGIL_FUZZ=ON -DVIGIL_UI=OFF -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF
fi
build=(ninja -C build-fuzz ${VIGIL_FUZZ_JOBS:+-j "$VIGIL_FUZZ_JOBS"})
for t in "${selected[@]}"; do build+=("fuzz_${t%% *}"); done
if [ -n "${VIGIL_BUILD_LOCK:-}" ]; then build=(flock "$VIGIL_BUILD_LOCK" "${build[@]}"); fi
"${build[@]}"

# Runs one target for $seconds; prints its summary line; returns 1 when it found anything.
run() {
  local name="$1" seeds="tests/fuzz/corpus/$2" dict="tests/fuzz/$3"
  # Files of this run carry its process id: two runs of one target may share fuzz-out/TARGET.
  local out="fuzz-out/$name" log="fuzz-out/$name/fuzz-$$.log" status=0
  mkdir -p "$out/corpus"
  cp -n "$seeds"/* "$out/corpus/" 2>/dev/null || true
  local marker
  marker="$(mktemp)"
  # libFuzzer stops itself after -max_total_time; the outer bound covers a hang outside an
  # input (where -timeout cannot reach), and SIGINT still lets it print its statistics.
  { if timeout --signal=INT --kill-after=30 "$((seconds + 120))" \
      "build-fuzz/tests/fuzz/fuzz_$name" "$out/corpus" -dict="$dict" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -artifact_prefix="$out/" -print_final_stats=1 2>&1; then
      echo 0 > "$out/exit-status-$$"
    else
      echo "$?" > "$out/exit-status-$$"
    fi; } |
    tee "$log" | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|ERROR|SUMMARY|Test unit written' || true
  status="$(cat "$out/exit-status-$$")"
  rm -f "$out/exit-status-$$"
  local found
  found="$(find "$out" -maxdepth 1 -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -printf '%f ' | sed 's/ $//')"
  rm -f "$marker"
  local execs cov files bytes
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  files="$(find "$out/corpus" -type f | wc -l)"
  bytes="$(find "$out/corpus" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')"
  local verdict="nothing found"
  if [ -n "$found" ]; then
    verdict="FOUND $found"
  elif [ "$status" -ne 0 ]; then
    verdict="FAILED (exit $status, see $log)"
  fi
  printf '%-16s %4ss  executions %-10s %-22s corpus %5s files %9s bytes  %s\n' \
    "$name" "$seconds" "${execs:-?}" "${cov:-cov: ?}" "$files" "$bytes" "$verdict" > "$out/summary-line-$$"
  cat "$out/summary-line-$$" >> fuzz-out/summary.txt
  [ -z "$found" ] && [ "$status" -eq 0 ]
}

mkdir -p fuzz-out
echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) scripts/fuzz.sh $target $seconds" >> fuzz-out/summary.txt
failed=0
summary=()
for t in "${selected[@]}"; do
  read -r name seeds dict <<<"$t"
  echo "== fuzz_$name for ${seconds}s"
  run "$name" "$seeds" "$dict" || failed=1
  summary+=("$(cat "fuzz-out/$name/summary-line-$$")")
  rm -f "fuzz-out/$name/summary-line-$$"
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
