#!/usr/bin/env bash
# Starts the whole demo on loopback: the synthetic force systems (PND-style person search,
# RMS, children's social care, education), an SMTP sink that keeps every e-mail, and
# `vigil serve` with the shipped workflows (and any of your own in VIGIL_DEMO_DIR/workflows),
# the example REST connectors and the Northshire area (calendars and decision timescales),
# on the embedded SQLite store. Prints the URL and the demo users' tokens; Ctrl-C (or
# SIGTERM) stops everything it started.
#
# Settings (environment):
#   VIGIL_DEMO_DIR     where the demo keeps its state (default ./vigil-demo); reused on a rerun
#   VIGIL_BUILD        the build folder (default ./build)
#   VIGIL_DEMO_PORT    vigil's port (default 8470)
#   VIGIL_DEMO_SYSTEMS first of four ports for the force systems (default 8471)
#   VIGIL_DEMO_SMTP    the SMTP sink's port (default 8025)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEMO="$(mkdir -p "${VIGIL_DEMO_DIR:-./vigil-demo}" && cd "${VIGIL_DEMO_DIR:-./vigil-demo}" && pwd)"
BUILD="$(cd "${VIGIL_BUILD:-$ROOT/build}" && pwd)"
PORT="${VIGIL_DEMO_PORT:-8470}"
SYSTEMS="${VIGIL_DEMO_SYSTEMS:-8471}"
SMTP="${VIGIL_DEMO_SMTP:-8025}"
VIGIL="$BUILD/daemon/vigil"
FORCE="$BUILD/examples/force-systems/vigil-force-systems"
for bin in "$VIGIL" "$FORCE"; do
  [[ -x "$bin" ]] || { echo "start.sh: $bin is missing; build first (bash scripts/build.sh)" >&2; exit 2; }
done

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

umask 077
mkdir -p "$DEMO/mail" "$DEMO/connectors" "$DEMO/referrals/inbox" "$DEMO/logs" "$DEMO/audit-log" "$DEMO/workflows"
# The force systems' shared token lives only in the demo's 0600 secrets file.
if [[ ! -s "$DEMO/secrets.yaml" ]]; then
  echo "FORCE_SYSTEMS_TOKEN: $(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$DEMO/secrets.yaml"
fi
chmod 600 "$DEMO/secrets.yaml"
TOKEN="$(sed -n 's/^FORCE_SYSTEMS_TOKEN: //p' "$DEMO/secrets.yaml")"

# The REST connector definitions, pointed at this demo's ports.
for name in pnd rms csc education; do
  case "$name" in pnd) p=$SYSTEMS ;; rms) p=$((SYSTEMS + 1)) ;; csc) p=$((SYSTEMS + 2)) ;; education) p=$((SYSTEMS + 3)) ;; esac
  sed -E "s#base_url: http://127\.0\.0\.1:[0-9]+#base_url: http://127.0.0.1:$p#" "$ROOT/examples/connectors/$name.yaml" > "$DEMO/connectors/$name.yaml"
done

cat > "$DEMO/vigil.yaml" <<YAML
# Written by examples/demo/start.sh; edit that script, not this file.
data: $DEMO/data
listen: 127.0.0.1:$PORT
workflows: [$ROOT/workflows, $DEMO/workflows]
secrets_file: $DEMO/secrets.yaml
area: $ROOT/examples/areas/northshire.yaml
# A demo's first records are signed within seconds; each checkpoint is also appended to a
# log outside the data directory (in production: another mount or host).
audit: { checkpoint_interval_seconds: 5, checkpoint_log: $DEMO/audit-log/checkpoints.log }
connectors:
  dirs: [$DEMO/connectors]
  email:
    host: 127.0.0.1
    port: $SMTP
    tls: none
    from: mash@northshire-police.example
    templates:
      mash-notification:
        subject: "Safeguarding referral {{referral}}: rated {{band}}"
        body: "A MASH referral about one of your pupils was rated {{band}}. Please contact the MASH for the details you need."
      mash-overdue:
        subject: "Overdue MASH decision: {{referral}}"
        body: "The decision on referral {{referral}} was due by {{due}} and has not been made. It is now with the superintendent."
      mash-referral-red:
        subject: "MASH referral {{referral}} rated {{band}}: strategy discussion needed"
        body: "The MASH rated referral {{referral}} {{band}}. The MASH will contact you to arrange a strategy discussion."
      run-failed:
        subject: "Triage of {{referral}} failed"
        body: "The automated triage of referral {{referral}} stopped: {{error}}. Triage it by hand."
      encompass:
        subject: "Operation Encompass: {{incident}}"
        body: "Police attended an incident at a pupil's home. Please be ready to support the pupil by {{notify_by}}."
YAML

# Demo users; tokens are shown once by `users add`, so they are kept in a 0600 file.
if [[ ! -s "$DEMO/tokens.env" ]]; then
  rm -rf "$DEMO/data"
  {
    echo "export OFFICER_TOKEN=$("$VIGIL" users add olivia --role operator --data "$DEMO/data")"
    echo "export SUPERVISOR_TOKEN=$("$VIGIL" users add sam --role approver --role mash-supervisor --role records-manager --role encompass-coordinator --data "$DEMO/data")"
    echo "export INSPECTOR_TOKEN=$("$VIGIL" users add ines --role approver --role duty-inspector --data "$DEMO/data")"
    echo "export AUDITOR_TOKEN=$("$VIGIL" users add aziz --role auditor --data "$DEMO/data")"
    echo "export ADMIN_TOKEN=$("$VIGIL" users add ada --role admin --data "$DEMO/data")"
  } > "$DEMO/tokens.env.tmp"
  mv "$DEMO/tokens.env.tmp" "$DEMO/tokens.env"
fi

"$FORCE" --port-base "$SYSTEMS" --token "$TOKEN" --data "$ROOT/examples/force-systems/people.json" \
  --outcomes "$DEMO/outcomes.jsonl" > "$DEMO/logs/force-systems.out" 2> "$DEMO/logs/force-systems.log" &
pids+=($!)
/usr/bin/python3 "$ROOT/examples/smtp-sink/smtp_sink.py" --dir "$DEMO/mail" --port "$SMTP" \
  > "$DEMO/logs/smtp-sink.out" 2> "$DEMO/logs/smtp-sink.log" &
pids+=($!)
# The daemon runs in the demo folder, so the workflow's watched folder ./referrals/inbox
# is $DEMO/referrals/inbox.
(cd "$DEMO" && exec "$VIGIL" serve --config "$DEMO/vigil.yaml") > "$DEMO/logs/vigil.out" 2> "$DEMO/logs/vigil.log" &
pids+=($!)
# Its process id, for `kill -HUP` after editing a workflow file (a reload).
echo "${pids[2]}" > "$DEMO/vigil.pid"

# Ready when our daemon says it is listening (not merely when something answers on the
# port) and the other two have written their first line.
for _ in $(seq 1 150); do
  if grep -q "listening on" "$DEMO/logs/vigil.log" 2>/dev/null && [[ -s "$DEMO/logs/force-systems.out" ]] \
     && grep -q PORT "$DEMO/logs/smtp-sink.out" 2>/dev/null; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "start.sh: a demo process stopped; see $DEMO/logs:" >&2; tail -n 3 "$DEMO"/logs/*.log >&2; exit 1; }
  done
  sleep 0.1
done
grep -q "listening on" "$DEMO/logs/vigil.log" || { echo "start.sh: vigil did not come up; see $DEMO/logs/vigil.log" >&2; exit 1; }

cat <<TEXT

vigil is running: http://127.0.0.1:$PORT   (API under /api/v1; docs/API.md)
  workbench      open http://127.0.0.1:$PORT/ in a browser and sign in with a token below
  force systems  pnd :$SYSTEMS  rms :$((SYSTEMS + 1))  csc :$((SYSTEMS + 2))  education :$((SYSTEMS + 3))
  SMTP sink      127.0.0.1:$SMTP, messages in $DEMO/mail
  drop referrals into $DEMO/referrals/inbox
  your workflows $DEMO/workflows; after editing one: kill -HUP \$(cat $DEMO/vigil.pid)
                 (the workbench's Workflows page shows a file that was refused, and why)

Tokens (also in $DEMO/tokens.env):
$(sed 's/^export /  /' "$DEMO/tokens.env")

In another terminal:
  source $DEMO/tokens.env
  export VIGIL_SERVER=http://127.0.0.1:$PORT
  cp examples/referrals/005-charlie-school-bruising.json $DEMO/referrals/inbox/
  VIGIL_TOKEN=\$SUPERVISOR_TOKEN $VIGIL approvals
Walkthrough: examples/demo-walkthrough.md.   Stop with Ctrl-C.
READY
TEXT
wait "${pids[2]}"
