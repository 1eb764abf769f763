#!/usr/bin/env python3
"""Derive the expected band of every sample referral from the seed data and the workflow.

Applies workflows/mash-triage.yaml's `assess` rules to what vigil-force-systems would
answer for each referral's child (examples/force-systems/people.json), with every system
up (assess(..., down={"csc"}) gives the band with a system down). The rule scores and band
thresholds are read from the workflow file itself; the rule conditions are mirrored below
(one function per rule id), and a rule id the workflow has but this script does not know
is an error, so the two cannot drift apart silently.

The RMS logs every MASH referral as it arrives, so its seed data lists the sample
referrals about each child (people.json rms.referrals, written here); a referral is a
repeat when, with the earlier ones inside the Northshire area's window
(examples/areas/northshire.yaml repeat_referrals), it reaches the area's count.

    compute_expected.py            rewrite expected.json, EXPECTED.md and people.json's referral log
    compute_expected.py --check    exit 1 if any is out of date

Standard library only.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
WORKFLOW = os.path.join(ROOT, "workflows", "mash-triage.yaml")
PEOPLE = os.path.join(ROOT, "examples", "force-systems", "people.json")
AREA = os.path.join(ROOT, "examples", "areas", "northshire.yaml")
YEAR_DAYS = 365  # the workflow asks RMS for incidents since time_add(now(), '-365d')


def repeat_rule(path):
    """(count, window in seconds) of the area's mash-decision repeat_referrals."""
    m = re.search(r"repeat_referrals:\s*\{\s*count:\s*(\d+),\s*within:\s*(\d+)d\s*\}", open(path, encoding="utf-8").read())
    return int(m.group(1)), int(m.group(2)) * 86400


def referral_log(files):
    """{(lower name, dob): [{id, received_at}]} of the sample referrals, oldest first."""
    log = {}
    for f in files:
        r = json.load(open(os.path.join(HERE, f), encoding="utf-8"))["referral"]
        key = (r["child"]["name"].lower(), r["child"].get("dob"))
        log.setdefault(key, []).append({"id": r["id"], "received_at": r["received_at"]})
    for entries in log.values():
        entries.sort(key=lambda e: e["received_at"])
    return log


def is_repeat(referral, person, rule):
    """Whether the earlier referrals the RMS holds within the window make this one a repeat."""
    from datetime import datetime, timedelta
    count, window = rule
    at = referral["received_at"]
    since = (datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ") - timedelta(seconds=window)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = [e for e in (((person or {}).get("rms") or {}).get("referrals") or []) if since <= e["received_at"] < at]
    return len(earlier) + 1 >= count


def workflow_rules(path):
    """[(rule id, score, reason)] and {band: threshold} from the assess step."""
    text = open(path, encoding="utf-8").read()
    assess = text[text.index("- id: assess"):text.index("- id: review")]
    rules = []
    for block in re.split(r"\n\s*- id: ", assess)[1:]:
        rid = block.split("\n", 1)[0].strip()
        score = re.search(r"\n\s*score:\s*(\d+)", block)
        reason = re.search(r"\n\s*reason:\s*\"?([^\"\n]+)\"?", block)
        if score:
            rules.append((rid, int(score.group(1)), reason.group(1).strip() if reason else rid))
    bands = dict((b, int(n)) for b, n in re.findall(r"(RED|AMBER|GREEN):\s*(\d+)", re.search(r"bands:\s*\{([^}]*)\}", assess).group(1)))
    return rules, bands


def load_people(path):
    people = {}
    for p in json.load(open(path, encoding="utf-8"))["people"]:
        people[(p["name"].lower(), p["dob"])] = p
    return people


def answers(person, down=()):
    """What the four systems answer for this person (None: not in the seed data); a system
    in `down` answers nothing (its step fails and the workflow carries on without it)."""
    pnd = (person or {}).get("pnd") or {}
    rms = (person or {}).get("rms") or {} if "rms" not in down else {}
    csc = (person or {}).get("csc") or {} if "csc" not in down else {}
    edu = (person or {}).get("education") or {}
    recent = [i for i in rms.get("incidents", []) if i.get("days_ago", 0) <= YEAR_DAYS]
    return {
        "markers": pnd.get("markers", []),
        "incidents": recent,
        "open_case": bool(csc.get("open_case", False)),
        "on_roll": False if "education" in down else bool(edu.get("on_roll", False)),
    }


def soundex(word):
    codes = dict(zip("abcdefghijklmnopqrstuvwxyz", "01230120022455012623010202"))
    letters = [c for c in word.lower() if c in codes]
    if not letters:
        return ""
    out, last = letters[0].upper(), codes[letters[0]]
    for c in letters[1:]:
        if c in "hw":
            continue
        if codes[c] != "0" and codes[c] != last:
            out += codes[c]
        last = codes[c]
    return (out + "000")[:4]


def near_dob(a, b):
    """Day and month swapped, or one digit different (the variants vigil searches with)."""
    if a == b:
        return True
    if a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return True
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def identify(child, people):
    """(person or None, verified) as the workflow's identify/matching steps find the child: the
    exact record when there is one; else the one person whose surname sounds the same and
    whose date of birth is near (the sample data has no closer calls); else nobody."""
    exact = people.get((child["name"].lower(), child["dob"]))
    if exact is not None:
        return exact, True
    surname = child["name"].split()[-1]
    near = [p for (name, dob), p in people.items()
            if soundex(name.split()[-1]) == soundex(surname) and near_dob(dob, child["dob"])]
    return (near[0], False) if len(near) == 1 else (None, False)


# One function per rule id in the workflow, each the same condition as its `when:`.
CONDITIONS = {
    "identity-unverified": lambda a, r: a.get("verified", True) is False,
    "violence-marker": lambda a, r: "violence" in a["markers"],
    "repeat-incidents": lambda a, r: len(a["incidents"]) >= 2,
    "open-case": lambda a, r: a["open_case"],
    "domestic-abuse": lambda a, r: bool(r.get("domestic_abuse", False)),
    "not-in-school": lambda a, r: a["on_roll"] is False,
}


def assess(referral, people, rules, bands, down=()):
    child = referral["child"]
    person, verified = identify(child, people)
    a = answers(person, down)
    a["verified"] = verified
    score, reasons = 0, []
    for rid, points, reason in rules:
        if rid not in CONDITIONS:
            raise SystemExit(f"compute_expected.py: the workflow has a rule '{rid}' this script does not mirror")
        if CONDITIONS[rid](a, referral):
            score += points
            reasons.append(f"{reason} (+{points})")
    band = max((b for b, t in bands.items() if score >= t), key=lambda b: bands[b])
    return band, score, reasons, person is not None


def main():
    rules, bands = workflow_rules(WORKFLOW)
    rule = repeat_rule(AREA)
    files = sorted(f for f in os.listdir(HERE) if re.match(r"^\d{3}-.*\.json$", f))
    # The RMS's referral log: the sample referrals about each child it knows.
    seed = json.load(open(PEOPLE, encoding="utf-8"))
    log = referral_log(files)
    for p in seed["people"]:
        if p.get("rms") is not None:
            p["rms"]["referrals"] = log.get((p["name"].lower(), p["dob"]), [])
    people_json = "{\n" + f'  "_comment": {json.dumps(seed["_comment"], ensure_ascii=False)},\n  "people": [\n' + ",\n".join(
        "    " + json.dumps(p, ensure_ascii=False) for p in seed["people"]) + "\n  ]\n}\n"
    people = {(p["name"].lower(), p["dob"]): p for p in seed["people"]}
    expected, rows = {}, []
    for f in files:
        referral = json.load(open(os.path.join(HERE, f), encoding="utf-8"))["referral"]
        band, score, reasons, known = assess(referral, people, rules, bands)
        child = referral["child"]
        repeat = is_repeat(referral, identify(child, people)[0], rule)
        expected[f] = {"band": band, "score": score, "repeat": repeat}
        why = "; ".join(reasons) if reasons else "no rule fires"
        if not known:
            why = "child unknown to every system: " + why
        elif not identify(child, people)[1]:
            why = "identified only by a near match: " + why
        rows.append(f"| `{f}` | {band} | {score} | {'yes' if repeat else ''} | {why} |")
    counts = {b: [e["band"] for e in expected.values()].count(b) for b in bands}
    expected_json = json.dumps(expected, indent=2) + "\n"
    md = "\n".join([
        "# Expected bands of the sample referrals",
        "",
        "Generated by `compute_expected.py` from `examples/force-systems/people.json` and the",
        "`assess` rules of `workflows/mash-triage.yaml`, with all four systems up (a system that is",
        "down changes the score: the school lookup failing adds 1, RMS or CSC failing removes",
        "their points). Do not edit by hand: run `python3 examples/referrals/compute_expected.py`.",
        "",
        "Thresholds: " + ", ".join(f"{b} >= {t}" for b, t in sorted(bands.items(), key=lambda x: -x[1]))
        + ". Totals: " + ", ".join(f"{b} {counts[b]}" for b in sorted(bands, key=lambda b: -bands[b])) + ".",
        f"A repeat referral ({rule[0]} or more about the same child within {rule[1] // 86400} days, from the",
        "RMS's referral log) escalates the supervisor's approval to the duty inspector at once.",
        "",
        "| file | band | score | repeat | why |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])
    targets = {os.path.join(HERE, "expected.json"): expected_json, os.path.join(HERE, "EXPECTED.md"): md,
               PEOPLE: people_json}
    if "--check" in sys.argv[1:]:
        stale = [p for p, text in targets.items() if not os.path.exists(p) or open(p, encoding="utf-8").read() != text]
        for p in stale:
            print(f"out of date: {os.path.relpath(p, ROOT)} (run compute_expected.py)")
        return 1 if stale else 0
    for p, text in targets.items():
        with open(p, "w", encoding="utf-8") as out:
            out.write(text)
    print(f"{len(files)} referrals: " + ", ".join(f"{b} {counts[b]}" for b in sorted(bands, key=lambda b: -bands[b])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
