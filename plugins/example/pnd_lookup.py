#!/usr/bin/python3
"""pnd_lookup: an example vigil plugin (plugins/PROTOCOL.md), standard library only.

A synthetic PND-style person search. Every record below is invented: the names, dates and
reference numbers belong to nobody. Run it with /usr/bin/python3; vigil talks to it over
stdin/stdout, one JSON object per line.
"""
import json
import sys

PROTOCOL = 1

# Synthetic people only. "SYNTH-" references make any leak of test data obvious.
RECORDS = [
    {"ref": "SYNTH-0001", "name": "Alex Example", "dob": "1980-01-01", "markers": ["none"]},
    {"ref": "SYNTH-0002", "name": "Sam Sample", "dob": "1975-06-15", "markers": ["address_history"]},
    {"ref": "SYNTH-0003", "name": "Alex Example", "dob": "1992-03-30", "markers": ["none"]},
    {"ref": "SYNTH-0004", "name": "Jordan Placeholder", "dob": "2001-11-11", "markers": ["contact_only"]},
]

HELLO = {
    "type": "hello",
    "protocol": PROTOCOL,
    "name": "pnd_lookup",
    "actions": [
        {
            "name": "person_search",
            "description": "Search synthetic person records by name, optionally narrowed by date of birth",
            "access": "consultation",
            "params": [
                {"name": "name", "type": "string", "required": True},
                {"name": "dob", "type": "string", "required": False},
            ],
            "outputs": [
                {"name": "matches", "type": "array"},
                {"name": "count", "type": "integer"},
                {"name": "synthetic", "type": "boolean"},
            ],
        },
        {
            "name": "health",
            "description": "Liveness check",
            "access": "consultation",
            "params": [],
            "outputs": [{"name": "status", "type": "string"}],
        },
    ],
}


def send(message):
    # One line per message, flushed at once: vigil waits for the newline.
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(call_id, code, message, retryable=False):
    send({"type": "result", "id": call_id, "ok": False, "code": code, "message": message, "retryable": retryable})


def person_search(call_id, params):
    name = params.get("name")
    dob = params.get("dob")
    if not isinstance(name, str) or not name.strip():
        # The message names the parameter, never its value (it is personal data).
        return fail(call_id, "invalid_request", "parameter 'name' must be a non-empty string")
    if dob is not None and not isinstance(dob, str):
        return fail(call_id, "invalid_request", "parameter 'dob' must be a string (YYYY-MM-DD)")
    wanted = name.strip().casefold()
    matches = [r for r in RECORDS if r["name"].casefold() == wanted and (dob is None or r["dob"] == dob)]
    send({"type": "result", "id": call_id, "ok": True,
          "output": {"matches": matches, "count": len(matches), "synthetic": True}})


def main():
    first = sys.stdin.readline()
    try:
        hello = json.loads(first)
    except ValueError:
        return 2
    if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL:
        return 2
    send(HELLO)
    for line in sys.stdin:  # EOF on stdin: vigil asks us to exit
        call = json.loads(line)
        call_id = call.get("id")
        action = call.get("action")
        if action == "person_search":
            person_search(call_id, call.get("input") or {})
        elif action == "health":
            send({"type": "result", "id": call_id, "ok": True, "output": {"status": "ok"}})
        else:
            fail(call_id, "unknown_action", "no such action")
    return 0


if __name__ == "__main__":
    sys.exit(main())
