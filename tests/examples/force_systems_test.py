#!/usr/bin/env python3
"""The demo's synthetic force systems and the examples built on them.

Starts vigil-force-systems on free ports with a token and checks every endpoint (401
without the token, 503 when switched down, unknown people, outcomes written back), that
its request log carries nothing personal, that examples/connectors/*.yaml match the JSON
Schema and the workflows' calls, that every sample referral matches mash-triage's inputs,
and that the expected bands hold against the live service.

    force_systems_test.py VIGIL_FORCE_SYSTEMS SOURCE_DIR
"""
import datetime
import glob
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import jsonschema
import yaml

BINARY, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SOURCE, "tests", "pylib"))
sys.path.insert(0, os.path.join(SOURCE, "examples", "referrals"))
from vigiltest import Checks  # noqa: E402
import compute_expected  # noqa: E402

checks = Checks()
check = checks.check
TOKEN = "T-demo-token-5d1e"
OUR_CONNECTORS = {"pnd", "rms", "csc", "education"}


def call(port, method, path, query=None, body=None, token=TOKEN, headers=None):
    """(status, JSON body or None)."""
    url = f"http://127.0.0.1:{port}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except ValueError:
            return e.code, None


# ---------------------------------------------------------------- the service itself

def check_service(ports, outcomes_file):
    pnd, rms, csc, edu = ports["pnd"], ports["rms"], ports["csc"], ports["education"]
    alpha = {"name": "Synthetic Child Alpha", "dob": "2015-03-14"}
    nobody = {"name": "Synthetic Child Nobody", "dob": "2016-01-01"}
    for name, port in ports.items():
        status, body = call(port, "GET", "/health")
        check(f"{name} health", status == 200 and body == {"status": "ok", "system": name}, f"{status} {body}")
        status, _ = call(port, "GET", "/health", token=None)
        check(f"{name} 401 without a token", status == 401, str(status))
        status, _ = call(port, "GET", "/health", token="wrong")
        check(f"{name} 401 with a wrong token", status == 401, str(status))
    status, _ = call(pnd, "GET", "/people", alpha, token=None)
    check("pnd lookup 401 without a token", status == 401, str(status))

    # PND
    status, body = call(pnd, "GET", "/people", alpha)
    check("pnd finds a person", status == 200 and body["found"] is True and "violence" in body["markers"], f"{status} {body}")
    check("pnd gives warnings and records", isinstance(body.get("warnings"), list) and len(body.get("records", [])) >= 1, str(body))
    status, body = call(pnd, "GET", "/people", {"name": "SYNTHETIC child alpha", "dob": "2015-03-14"})
    check("pnd names are case-insensitive", status == 200 and body["found"] is True, str(body))
    status, body = call(pnd, "GET", "/people", {"name": "Synthetic Child Alpha", "dob": "2015-03-15"})
    check("pnd needs the exact dob", status == 200 and body["found"] is False and body["markers"] == [], str(body))
    status, body = call(pnd, "GET", "/people", nobody)
    check("pnd unknown person", status == 200 and body == {"found": False, "markers": [], "warnings": [], "records": []}, str(body))
    status, body = call(pnd, "GET", "/people", dict(alpha, fields=json.dumps(["markers", "warnings"])))
    check("pnd fields as a JSON array (as the connector sends them)", status == 200 and set(body) == {"found", "markers", "warnings"}, str(body))
    status, body = call(pnd, "GET", "/people", dict(alpha, fields="markers"))
    check("pnd fields as a list", status == 200 and set(body) == {"found", "markers"}, str(body))
    status, body = call(pnd, "GET", "/people", {"dob": "2015-03-14"})
    check("pnd 400 without a name", status == 400 and "error" in body, f"{status} {body}")
    status, _ = call(pnd, "GET", "/people", {"name": "Synthetic Child Sierra"})
    _, s1 = call(pnd, "GET", "/people", {"name": "Synthetic Child Sierra", "dob": "2016-06-06"})
    _, s2 = call(pnd, "GET", "/people", {"name": "Synthetic Child Sierra", "dob": "2019-12-12"})
    check("same name, different dob: different people", s1["markers"] == [] and "violence" in s2["markers"], f"{s1} {s2}")
    _, s0 = call(pnd, "GET", "/people", {"name": "Synthetic Child Sierra"})
    check("no dob and an ambiguous name: unknown", s0["found"] is False, str(s0))
    _, a0 = call(pnd, "GET", "/people", {"name": "Synthetic Child Alpha"})
    check("no dob and a unique name: found", a0["found"] is True, str(a0))

    # RMS
    today = datetime.date.today()
    year_ago = (datetime.datetime.utcnow() - datetime.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = call(rms, "GET", "/people/records", dict(alpha, since=year_ago))
    check("rms incidents in the last year", status == 200 and len(body["incidents"]) == 3, f"{status} {body}")
    check("rms incidents have date, type, summary",
          all(set(i) >= {"date", "type", "summary"} and re.match(r"^\d{4}-\d{2}-\d{2}$", i["date"]) for i in body["incidents"]), str(body))
    status, body = call(rms, "GET", "/people/records", dict(alpha, since=(today - datetime.timedelta(days=30)).isoformat()))
    check("rms since filters", status == 200 and len(body["incidents"]) == 1, str(body))
    whiskey = {"name": "Synthetic Child Whiskey", "dob": "2014-12-24"}
    _, old_all = call(rms, "GET", "/people/records", whiskey)
    _, old_recent = call(rms, "GET", "/people/records", dict(whiskey, since=year_ago))
    check("rms without since: every incident", len(old_all["incidents"]) == 2 and old_recent["incidents"] == [], f"{old_all} {old_recent}")
    status, body = call(rms, "GET", "/people/records", dict(alpha, since="last tuesday"))
    check("rms 400 on a bad since", status == 400, str(status))
    status, body = call(rms, "GET", "/people/records", nobody)
    check("rms unknown person", status == 200 and body["found"] is False and body["incidents"] == [], str(body))

    # Outcomes written back
    status, body = call(rms, "POST", "/outcomes", body={"referral": "SYN-REF-9001", "band": "RED", "reason": "agreed at the MASH meeting"},
                        headers={"Idempotency-Key": "run-1/record-outcome/1"})
    check("rms records an outcome", status in (200, 201) and body.get("recorded") is True and body.get("id"), f"{status} {body}")
    first_id = (body or {}).get("id")
    status, body = call(rms, "POST", "/outcomes", body={"referral": "SYN-REF-9001", "band": "RED", "reason": "agreed at the MASH meeting"},
                        headers={"Idempotency-Key": "run-1/record-outcome/1"})
    check("a repeated call (same Idempotency-Key) records nothing new", body.get("id") == first_id, str(body))
    status, body = call(rms, "POST", "/outcomes", body={"referral": "SYN-REF-9002", "band": "GREEN"})
    check("rms records a second outcome", status in (200, 201) and body.get("id") not in (None, first_id), str(body))
    status, _ = call(rms, "POST", "/outcomes", body={"band": "GREEN"})
    check("rms 400 on an outcome without a referral", status == 400, str(status))
    status, body = call(rms, "GET", "/outcomes")
    listed = (body or {}).get("outcomes", [])
    check("rms lists the outcomes", status == 200 and [o["referral"] for o in listed] == ["SYN-REF-9001", "SYN-REF-9002"], str(body))
    check("an outcome keeps what was sent", listed and listed[0].get("band") == "RED" and listed[0].get("reason") == "agreed at the MASH meeting", str(listed))
    lines = [json.loads(x) for x in open(outcomes_file, encoding="utf-8").read().splitlines() if x.strip()]
    check("outcomes appended to --outcomes as JSON lines", [o["referral"] for o in lines] == ["SYN-REF-9001", "SYN-REF-9002"], str(lines))

    # CSC
    status, body = call(csc, "GET", "/cases", alpha)
    check("csc open case", status == 200 and body["open_case"] is True and body["plan"] == "child protection" and body["case_worker"], str(body))
    _, body = call(csc, "GET", "/cases", {"name": "Synthetic Child Quebec", "dob": "2017-11-11"})
    check("csc closed case", body["found"] is True and body["open_case"] is False and body["plan"] is None, str(body))
    _, body = call(csc, "GET", "/cases", nobody)
    check("csc unknown person", body == {"found": False, "open_case": False, "case_worker": None, "plan": None, "records": []}, str(body))

    # Education
    status, body = call(edu, "GET", "/pupils", alpha)
    check("education on roll", status == 200 and body["on_roll"] is True and body["school"].startswith("Synthetic")
          and body["key_adult_email"].endswith(".example"), str(body))
    _, body = call(edu, "GET", "/pupils", {"name": "Synthetic Child Yankee", "dob": "2018-01-15"})
    check("education known but not on roll", body["found"] is True and body["on_roll"] is False and body["school"] is None, str(body))
    _, body = call(edu, "GET", "/pupils", nobody)
    check("education unknown person", body == {"found": False, "on_roll": False, "school": None, "key_adult_email": None}, str(body))
    _, body = call(edu, "GET", "/pupils", dict(alpha, fields=json.dumps(["school", "key_adult_email"])))
    check("education fields", set(body) == {"found", "school", "key_adult_email"}, str(body))

    # A system being down
    status, body = call(csc, "POST", "/admin/down", body={"down": True})
    check("csc switched down", status == 200 and body == {"system": "csc", "down": True}, f"{status} {body}")
    status, _ = call(csc, "GET", "/cases", alpha)
    check("csc answers 503 when down", status == 503, str(status))
    status, _ = call(csc, "GET", "/health")
    check("csc health 503 when down", status == 503, str(status))
    status, _ = call(csc, "POST", "/admin/down", body={"down": True}, token=None)
    check("the down switch needs the token too", status == 401, str(status))
    status, _ = call(pnd, "GET", "/people", alpha)
    check("other systems stay up", status == 200, str(status))
    status, _ = call(csc, "POST", "/admin/down", body={"down": "yes"})
    check("the down switch needs a boolean", status == 400, str(status))
    status, body = call(csc, "POST", "/admin/down", body={"down": False})
    status2, _ = call(csc, "GET", "/cases", alpha)
    check("csc back up", status == 200 and status2 == 200, f"{status} {status2}")


# ---------------------------------------------------------------- seed data

def check_people():
    doc = json.load(open(os.path.join(SOURCE, "examples", "force-systems", "people.json"), encoding="utf-8"))
    people = doc["people"]
    check("at least 40 synthetic people", len(people) >= 40, str(len(people)))
    problems = []
    for p in people:
        if not p["name"].startswith("Synthetic "):
            problems.append(f"name not clearly synthetic: {p['name']}")
        if not ("2014-01-01" <= p["dob"] <= "2020-12-31"):
            problems.append(f"dob outside 2014-2020: {p['name']}")
        edu = p.get("education") or {}
        if edu.get("key_adult_email") and not edu["key_adult_email"].endswith(".example"):
            problems.append(f"email not at *.example: {p['name']}")
        if edu.get("school") and not edu["school"].startswith("Synthetic"):
            problems.append(f"school not synthetic: {p['name']}")
    checks.problems("seed data is clearly synthetic", problems)
    rules, bands = compute_expected.workflow_rules(os.path.join(SOURCE, "workflows", "mash-triage.yaml"))
    seen = {}
    for p in people:
        band, score, _, _ = compute_expected.assess({"child": p}, compute_expected.load_people(
            os.path.join(SOURCE, "examples", "force-systems", "people.json")), rules, bands)
        seen.setdefault(band, []).append(score)
    check("seed covers RED, AMBER and GREEN without referral data", set(seen) == {"RED", "AMBER", "GREEN"}, str(seen))
    a = [compute_expected.answers(p) for p in people]
    check("seed has a violence marker + 2 incidents + open CP case",
          any("violence" in x["markers"] and len(x["incidents"]) >= 2 and x["open_case"] and (p.get("csc") or {}).get("plan") == "child protection"
              for x, p in zip(a, people)))
    check("seed has children not on a school roll", sum(1 for x in a if not x["on_roll"]) >= 5)


# ---------------------------------------------------------------- connector definitions

def walk_steps(steps, out):
    for s in steps or []:
        if "uses" in s:
            out[s["id"]] = s
        walk_steps(s.get("parallel"), out)
        walk_steps(s.get("steps"), out)


def check_connectors():
    schema = json.load(open(os.path.join(SOURCE, "connectors", "rest", "connector.schema.json"), encoding="utf-8"))
    files = sorted(glob.glob(os.path.join(SOURCE, "examples", "connectors", "*.yaml")))
    defs = {}
    for f in files:
        d = yaml.safe_load(open(f, encoding="utf-8"))
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(d)]
        checks.problems(f"{os.path.basename(f)} matches connector.schema.json", errors)
        defs[d["connector"]] = d
        check(f"{os.path.basename(f)} is named after its connector", os.path.basename(f) == d["connector"] + ".yaml")
        check(f"{d['connector']} uses the FORCE_SYSTEMS_TOKEN secret", d.get("auth") == {"bearer_secret": "FORCE_SYSTEMS_TOKEN"})
        for a in d["actions"].values():
            bad = [o for o in a.get("outputs", {}).values() if not (o.startswith("json") or o == "status" or o.startswith("headers."))]
            check(f"{d['connector']} outputs read json, status or headers.", not bad, str(bad))
    check("four connectors", set(defs) == OUR_CONNECTORS, str(sorted(defs)))
    ports = {"pnd": 8471, "rms": 8472, "csc": 8473, "education": 8474}
    for name, port in ports.items():
        check(f"{name} base_url on the default port", defs.get(name, {}).get("base_url") == f"http://127.0.0.1:{port}")
    check("pnd is rate limited to 5 a second", defs.get("pnd", {}).get("max_per_second") == 5)

    problems = []
    for wf_file in sorted(glob.glob(os.path.join(SOURCE, "workflows", "*.yaml"))):
        wf = yaml.safe_load(open(wf_file, encoding="utf-8"))
        text = open(wf_file, encoding="utf-8").read()
        calls = {}
        walk_steps(wf.get("steps"), calls)
        wname = os.path.basename(wf_file)
        for sid, s in calls.items():
            conn, _, action = s["uses"].partition(".")
            if conn not in OUR_CONNECTORS:
                continue
            a = defs.get(conn, {}).get("actions", {}).get(action)
            if a is None:
                problems.append(f"{wname}: step {sid} uses {s['uses']}, which is not declared")
                continue
            params = a.get("params", {})
            given = set((s.get("with") or {}).keys())
            problems += [f"{wname}: step {sid} gives '{p}', not a param of {s['uses']}" for p in given - set(params)]
            problems += [f"{wname}: step {sid} lacks required '{p}' of {s['uses']}" for p, spec in params.items()
                         if spec.get("required") and p not in given]
            for p, v in (s.get("with") or {}).items():
                if isinstance(v, list) and params.get(p, {}).get("type") != "array":
                    problems.append(f"{wname}: step {sid} sends a list as '{p}', declared {params.get(p, {}).get('type', 'string')}")
            outputs = set(a.get("outputs", {})) | ({"match"} if a.get("match") else set())  # `match:` adds match
            for field in set(re.findall(r"steps(?:\." + re.escape(sid) + r"|\['" + re.escape(sid) + r"'\])\.output\.([a-z_]+)", text)):
                if field not in outputs:
                    problems.append(f"{wname}: reads steps.{sid}.output.{field}, which {s['uses']} does not output")
    checks.problems("connector actions match the workflows' calls and reads", problems)
    return defs


# ---------------------------------------------------------------- referrals

def input_problems(value, spec, path):
    """Checks a value against vigil's input declaration shorthand (type name or map)."""
    if isinstance(spec, str):
        spec = {"type": spec}
    t = spec.get("type", "string")
    kinds = {"string": str, "object": dict, "array": list, "boolean": bool, "integer": int, "number": (int, float)}
    if not isinstance(value, kinds[t]) or (t in ("integer", "number") and isinstance(value, bool)):
        return [f"{path}: must be {t}"]
    out = []
    if "enum" in spec and value not in spec["enum"]:
        out.append(f"{path}: {value!r} not one of {spec['enum']}")
    if t == "object":
        props = spec.get("properties", {})
        out += [f"{path}.{r}: required" for r in spec.get("required", []) if r not in value]
        for k, v in value.items():
            if k not in props:
                out.append(f"{path}.{k}: not declared")
            else:
                out += input_problems(v, props[k], f"{path}.{k}")
    if t == "array" and "items" in spec:
        for i, v in enumerate(value):
            out += input_problems(v, spec["items"], f"{path}[{i}]")
    return out


def check_referrals(ports):
    rdir = os.path.join(SOURCE, "examples", "referrals")
    wf = yaml.safe_load(open(os.path.join(SOURCE, "workflows", "mash-triage.yaml"), encoding="utf-8"))
    inputs = wf["inputs"]
    files = sorted(f for f in os.listdir(rdir) if f.endswith(".json") and f != "expected.json")
    check("at least 60 referrals", len(files) >= 60, str(len(files)))
    check("referral files are named NNN-short-description.json", all(re.match(r"^\d{3}-[a-z0-9-]+\.json$", f) for f in files),
          str([f for f in files if not re.match(r"^\d{3}-[a-z0-9-]+\.json$", f)]))
    problems, ids, children = [], set(), {}
    docs = {}
    for f in files:
        doc = json.load(open(os.path.join(rdir, f), encoding="utf-8"))
        docs[f] = doc
        problems += [f"{f}: {k}: not an input of mash-triage" for k in doc if k not in inputs]
        problems += [f"{f}: {p}" for k, spec in inputs.items() if k in doc for p in input_problems(doc[k], spec, k)]
        problems += [f"{f}: {k}: required" for k, spec in inputs.items()
                     if k not in doc and not (isinstance(spec, dict) and "default" in spec)]
        ref = doc.get("referral", {})
        if ref.get("id") in ids:
            problems.append(f"{f}: duplicate referral id {ref.get('id')}")
        ids.add(ref.get("id"))
        c = ref.get("child", {})
        children.setdefault((c.get("name", "").lower(), c.get("dob")), []).append(f)
    checks.problems("every referral matches mash-triage's inputs", problems)
    check("some referrals leave optional data out",
          sum(1 for d in docs.values() if not {"source", "domestic_abuse"} <= set(d["referral"]) or "address" not in d["referral"]["child"]) >= 5)
    check("a child with three or more referrals", max(len(v) for v in children.values()) >= 3)
    people = compute_expected.load_people(os.path.join(SOURCE, "examples", "force-systems", "people.json"))
    check("referrals about children unknown to every system", sum(1 for k in children if k not in people) >= 2)

    expected = json.load(open(os.path.join(rdir, "expected.json"), encoding="utf-8"))
    check("expected.json covers every referral", sorted(expected) == files, "")
    counts = {b: [e["band"] for e in expected.values()].count(b) for b in ("RED", "AMBER", "GREEN")}
    check("some referrals are repeats (the area's repeat-referral rule)", sum(e["repeat"] for e in expected.values()) >= 2)
    check("about 20 referrals in each band", all(n >= 15 for n in counts.values()), str(counts))
    r = subprocess.run(["/usr/bin/python3", os.path.join(rdir, "compute_expected.py"), "--check"], capture_output=True, text=True)
    check("expected.json and EXPECTED.md are up to date with the seed data and rules", r.returncode == 0, r.stdout + r.stderr)

    # The expectations hold against the live service, asked as the workflow asks.
    rules, bands = compute_expected.workflow_rules(os.path.join(SOURCE, "workflows", "mash-triage.yaml"))
    since = (datetime.datetime.utcnow() - datetime.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    count, window = compute_expected.repeat_rule(compute_expected.AREA)
    wrong = []
    for f, doc in docs.items():
        ref = doc["referral"]
        # The workflow first asks the PND for candidates (surname sound, near dates of birth)
        # and then looks the child up under the record it matched.
        person, verified = compute_expected.identify(ref["child"], people)
        _, cand = call(ports["pnd"], "GET", "/people/candidates", {
            "surname_keys": json.dumps([compute_expected.soundex(ref["child"]["name"].split()[-1])]),
            "dobs": json.dumps([ref["child"]["dob"]] + ([person["dob"]] if person else []))})
        if person is not None and {"name": person["name"], "dob": person["dob"]} not in cand.get("people", []):
            wrong.append(f"{f}: the PND's candidate search does not offer the matched record")
        who = {"name": person["name"], "dob": person["dob"]} if person else {"name": ref["child"]["name"], "dob": ref["child"]["dob"]}
        _, p = call(ports["pnd"], "GET", "/people", dict(who, fields=json.dumps(["markers", "warnings"])))
        at = ref["received_at"]
        window_start = (datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ") - datetime.timedelta(seconds=window)).strftime("%Y-%m-%dT%H:%M:%SZ")
        _, rm = call(ports["rms"], "GET", "/people/records", dict(who, since=since, referrals_since=window_start, referrals_before=at))
        _, cs = call(ports["csc"], "GET", "/cases", who)
        _, ed = call(ports["education"], "GET", "/pupils", who)
        live = {"markers": p["markers"], "incidents": rm["incidents"], "open_case": cs["open_case"], "on_roll": ed["on_roll"],
                "verified": verified}
        score = sum(points for rid, points, _ in rules if compute_expected.CONDITIONS[rid](live, ref))
        band = max((b for b, t in bands.items() if score >= t), key=lambda b: bands[b])
        repeat = len(rm["referrals"]) + 1 >= count
        if band != expected[f]["band"] or repeat != expected[f]["repeat"]:
            wrong.append(f"{f}: live {band} ({score}, repeat {repeat}), expected {expected.get(f)}")
    checks.problems("expected bands hold against the live service", wrong)


# ---------------------------------------------------------------- main

def main():
    tmp = tempfile.mkdtemp(prefix="vigil-force-systems-")
    outcomes = os.path.join(tmp, "outcomes.jsonl")
    stderr_path = os.path.join(tmp, "stderr.log")
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen([BINARY, "--port-base", "0", "--token", TOKEN, "--outcomes", outcomes],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        ports = json.loads(line) if line.strip() else {}
        check("prints its four ports as one JSON line", set(ports) == OUR_CONNECTORS and len(set(ports.values())) == 4
              and all(isinstance(p, int) and p > 0 for p in ports.values()), repr(line))
        if set(ports) == OUR_CONNECTORS:
            check_service(ports, outcomes)
            check_referrals(ports)
        check_people()
        check_connectors()
        bad = subprocess.run([BINARY, "--port-base", "nope"], capture_output=True, text=True, timeout=10)
        check("a bad option is a usage error", bad.returncode == 2 and "usage" in bad.stderr, bad.stderr)
        taken = subprocess.run([BINARY, "--port-base", str(ports.get("pnd", 1)) if ports else "1"], capture_output=True, text=True, timeout=10)
        check("a port in use is an error", taken.returncode == 1 and "cannot bind" in taken.stderr, taken.stderr)
    finally:
        proc.terminate()
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    check("stops cleanly on SIGTERM", code == 0, str(code))
    log = open(stderr_path, encoding="utf-8").read()
    shutil.rmtree(tmp, ignore_errors=True)
    check("the request log has lines", " GET /people 200" in log, log[:500])
    check("the request log names nobody", "Synthetic Child" not in log and "synthetic child" not in log.lower() and "2015-03-14" not in log, log[:500])
    checks.finish()


if __name__ == "__main__":
    main()
