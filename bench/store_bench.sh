#!/usr/bin/env bash
# The engine on each store, in one invocation so the ratio comes from one machine: `vigil-bench
# engine` on the SQLite file, then on a PostgreSQL 15 server started here on loopback (its data
# on the same file system, fsync and synchronous_commit on, as in production), one JSON line
# each. The server is stopped by its PID on exit.
#   bench/store_bench.sh [RUNS] [CONCURRENCY]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3000}"
conc="${2:-64}"
bench=build/bench/vigil-bench
bin=/usr/lib/postgresql/15/bin
tmp=$(mktemp -d /tmp/vigil-store-bench-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
as=()
if [ "$(id -u)" = 0 ]; then chown nobody "$tmp"; as=(runuser -u nobody --); fi
echo "bench-pw" > "$tmp/pw"; chmod 0644 "$tmp/pw"
"${as[@]}" "$bin/initdb" -D "$tmp/pg" -U vigil --auth=scram-sha-256 --pwfile="$tmp/pw" -E UTF8 > "$tmp/initdb.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as[@]}" "$bin/pg_ctl" -D "$tmp/pg" -l "$tmp/server.log" -w -o "-p $port -k $tmp -c listen_addresses=127.0.0.1" start > /dev/null
pid=$(head -1 "$tmp/pg/postmaster.pid")
PGPASSWORD=bench-pw psql -X -q "host=127.0.0.1 port=$port dbname=postgres user=vigil" -c "CREATE DATABASE bench ENCODING 'UTF8' TEMPLATE template0"
"$bench" engine --runs "$runs" --concurrency "$conc"
PGPASSWORD=bench-pw "$bench" engine --runs "$runs" --concurrency "$conc" --postgres "host=127.0.0.1 port=$port dbname=bench user=vigil"
