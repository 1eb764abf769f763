#!/usr/bin/env bash
# Runs started per second through the API, and p99 latency of GET /api/v1/runs/{id} while
# runs are being started, with wrk against `vigil serve` on loopback.
#   bench/api_bench.sh [SECONDS] [CONNECTIONS]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-32}"
vigil=build/daemon/vigil
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
# One token drives the whole load, so lift the per-token rate limit for the benchmark.
printf 'limits:\n  requests_per_second_per_token: 100000\n' > "$tmp/vigil.yaml"
"$vigil" serve --config "$tmp/vigil.yaml" --data "$tmp/data" --listen 127.0.0.1:0 --workflows tests/daemon/workflows > "$tmp/out" 2> "$tmp/err" &
server=$!
for _ in $(seq 50); do grep -q serving "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$tmp/out" | cut -d: -f2)
token=$("$vigil" users add bench --role operator --data "$tmp/data")
cat > "$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"workflow": "quick", "inputs": {"n": 4}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
run=$(curl -s -X POST -H "Authorization: Bearer $token" -d '{"workflow":"quick"}' "http://127.0.0.1:$port/api/v1/runs" | sed 's/.*"id":"\([^"]*\)".*/\1/')
wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$port/api/v1/runs" > "$tmp/post.txt" &
posting=$!
wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" -H "X-Vigil-Purpose: benchmark" \
  "http://127.0.0.1:$port/api/v1/runs/$run" > "$tmp/get.txt"
wait $posting
post_rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/post.txt")
post_non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/post.txt")
get_rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/get.txt")
get_p50=$(awk '/ 50%/ {print $2}' "$tmp/get.txt")
get_p99=$(awk '/ 99%/ {print $2}' "$tmp/get.txt")
printf '{"bench":"api","seconds":%s,"connections_each":%s,"runs_started_per_sec":%s,"post_non_2xx":%s,"get_run_per_sec":%s,"get_run_p50":"%s","get_run_p99":"%s"}\n' \
  "$secs" "$conns" "$post_rps" "${post_non2xx:-0}" "$get_rps" "$get_p50" "$get_p99"
