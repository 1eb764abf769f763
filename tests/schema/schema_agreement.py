#!/usr/bin/python3
"""The JSON Schema of workflows agrees with the loader.

Usage: /usr/bin/python3 schema_agreement.py VIGIL_BINARY SOURCE_DIR

(/usr/bin/python3: it has Debian's python3-jsonschema and python3-yaml.)

The rule, for any document: if `vigil validate --format json` reports a diagnostic of
category `schema`, workflows/schema/workflow.schema.json rejects the document; if it reports
only `semantic`/`expression` diagnostics or none, the schema accepts it. Documents with a
`yaml` diagnostic (unreadable or hostile YAML) are skipped.

Checked on:
  (a) the shipped workflows (workflows/*.yaml, examples/workflows/**/*.yaml): valid for both;
  (b) the invalid-workflow corpus tests/workflows/invalid/*.yaml (any number of files);
  (c) the inline cases below, which also pin what the loader reports for each.

Documents are read with a YAML 1.2 core-schema loader that types scalars exactly as the
engine's reader does (engine/src/yaml/yaml_tree.cpp scalarValue): PyYAML's own YAML 1.1
rules would read `yes`, `on`, `0x1F`, `010` or `2024-01-01` differently.

Two disagreements are inherent to JSON Schema and are reported as KNOWN, not as failures:
a duration over the 366-day maximum (the schema checks only the duration grammar), and an
integer-valued number such as 1.0 where the loader wants an integer (JSON Schema's integer
type accepts 1.0). Also KNOWN: steps past the loader's 5,000-step limit, which it does not
check further.

Prints every disagreement with the file, the loader's diagnostics and the schema's first
error, and ends with `N passed, M failed`; exits 1 when anything failed.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading

import jsonschema
import yaml
from jsonschema.exceptions import best_match

if len(sys.argv) != 3:
    sys.stderr.write("usage: schema_agreement.py VIGIL_BINARY SOURCE_DIR\n")
    sys.exit(2)
VIGIL = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(sys.argv[2])
SCHEMA_PATH = os.path.join(SOURCE, "workflows", "schema", "workflow.schema.json")

results = {"pass": 0, "fail": 0, "known": 0, "skip": 0}


def record(outcome, label, detail=""):
    results[outcome] += 1
    if outcome != "pass":
        print(f"{outcome.upper()} {label}" + (f": {detail}" if detail else ""))


# --- YAML as the engine reads it -------------------------------------------------------------

class CoreResolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema, as vigil::yaml::scalarValue resolves plain scalars."""


CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""])
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF"))
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+\Z"), list("-+0123456789"))
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"),
    list("-+0123456789."))


class CoreLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
                 yaml.constructor.SafeConstructor, CoreResolver):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        CoreResolver.__init__(self)

    def construct_mapping(self, node, deep=False):
        # Keys are their source text (the engine compares key text); no `<<` merging.
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
        out = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(None, None, "map keys must be scalars", key_node.start_mark)
            out[key_node.value] = self.construct_object(value_node, deep=deep)
        return out


def _core_int(loader, node):
    text = loader.construct_scalar(node)
    if len(text) > 40:
        return text
    value = int(text, 10)
    return value if -(2 ** 63) <= value < 2 ** 63 else text  # strtoll range, else text


def _core_float(loader, node):
    text = loader.construct_scalar(node)
    if len(text) > 40:
        return text
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else text


CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _core_float)


def load_yaml(data):
    return yaml.load(data, Loader=CoreLoader)  # noqa: S506 - CoreLoader is built on SafeConstructor


# --- the loader -------------------------------------------------------------------------------

def vigil_validate(path):
    """Returns (diagnostics, None) or (None, problem)."""
    try:
        p = subprocess.run([VIGIL, "validate", "--format", "json", path], cwd=SOURCE, capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None, "vigil validate timed out"
    if p.returncode not in (0, 1):
        return None, f"vigil validate exited {p.returncode}: {p.stderr.strip()[:500]}"
    try:
        report = json.loads(p.stdout)
        entry = report["files"][0]
        diags = entry["diagnostics"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return None, f"cannot read vigil's JSON report ({e}): {p.stdout[:300]!r}"
    if entry["ok"] != (p.returncode == 0 and not diags):
        return None, f"vigil reports ok={entry['ok']} with exit {p.returncode} and {len(diags)} diagnostic(s)"
    return diags, None


def show_diags(diags):
    if not diags:
        return "    loader: no diagnostics"
    return "\n".join(f"    loader: {d['line']}:{d['column']} {d['category']}: {d['message']}" for d in diags)


# --- the schema -------------------------------------------------------------------------------

def walk_schema(node, path, out):
    """Collects (path, schema) for every declared property and definition. `if`/`then`/`else`
    only restate properties as conditions, so they are not walked."""
    if not isinstance(node, dict):
        return
    for key in ("properties", "definitions"):
        for name, sub in node.get(key, {}).items():
            out.append((f"{path}/{key}/{name}", sub))
            walk_schema(sub, f"{path}/{key}/{name}", out)
    for key in ("additionalProperties", "items", "not", "propertyNames", "contains"):
        if isinstance(node.get(key), dict):
            walk_schema(node[key], f"{path}/{key}", out)
    for key in ("allOf", "anyOf", "oneOf", "items"):
        if isinstance(node.get(key), list):
            for i, sub in enumerate(node[key]):
                walk_schema(sub, f"{path}/{key}/{i}", out)


def check_schema_document(schema):
    ok = True
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        record("fail", "schema is a valid draft-07 schema", str(e).splitlines()[0])
        return False
    if schema.get("$schema") != "http://json-schema.org/draft-07/schema#":
        record("fail", "schema declares draft-07", f"$schema is {schema.get('$schema')!r}")
        ok = False
    defs = schema.get("definitions", {})
    props = []
    walk_schema(schema, "#", props)
    missing = []
    for path, sub in props:
        target = sub
        if isinstance(sub, dict) and set(sub) == {"$ref"}:
            target = defs.get(sub["$ref"].rsplit("/", 1)[-1], {})
        if not (isinstance(target, dict) and target.get("description") and target.get("markdownDescription")):
            missing.append(path)
    if missing:
        record("fail", "every property has description and markdownDescription", ", ".join(missing[:10]))
        ok = False
    for pointer in sorted(set(re.findall(r'"\$ref": "#/definitions/([^"]+)"', json.dumps(schema)))):
        if pointer not in defs:
            record("fail", "schema $refs resolve", f"#/definitions/{pointer} is not defined")
            ok = False
    if ok:
        record("pass", "schema document")
    return ok


DURATION_SYNTAX = re.compile(r"(?=[0-9])([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?\Z")


def known_limitation(diags, schema_rejects):
    """Why a disagreement is one JSON Schema cannot avoid, or None."""
    if schema_rejects:
        if any("workflow has more than" in d["message"] and d["category"] == "semantic" for d in diags):
            return "steps past the 5,000-step limit are not checked by the loader"
        return None
    reasons = set()
    for d in diags:
        if d["category"] != "schema":
            continue
        # The loader's words for a well-formed duration over the limit ("'400d' is longer
        # than the limit of 366d"; older: "'400d' is not a duration"): the quoted value
        # follows the grammar, so only the maximum is wrong.
        m = re.search(r"'([^']*)' is (?:longer than the limit|not a duration)", d["message"])
        if m and DURATION_SYNTAX.match(m.group(1)):
            reasons.add("a duration over the 366-day maximum (the schema checks only its grammar)")
        elif d["message"].endswith("must be an integer, got number"):
            reasons.add("an integer-valued number such as 1.0 (JSON Schema's integer type accepts it)")
        else:
            return None
    return "; ".join(sorted(reasons)) or None


class Checker:
    def __init__(self, schema):
        self.validator = jsonschema.Draft7Validator(schema)

    def first_error(self, doc):
        """None when the schema accepts `doc`, else a one-line description of its best error."""
        err = best_match(self.validator.iter_errors(doc))
        if err is None:
            return None
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        msg = err.message if len(err.message) < 300 else err.message[:300] + "..."
        return f"at {where}: {msg}"

    def agree(self, label, path, expect=None):
        """Applies the rule to one file; `expect` pins the loader's verdict for inline cases:
        'ok' (no diagnostics), 'semantic' (only semantic/expression), 'schema', 'known'."""
        diags, problem = vigil_validate(path)
        if problem:
            record("fail", label, problem)
            return
        cats = {d["category"] for d in diags}
        if "yaml" in cats:
            if expect:
                record("fail", label, f"inline case expected '{expect}' but the loader reports a yaml problem\n"
                       + show_diags(diags))
            else:
                record("skip", label, "yaml-category diagnostic")
            return
        try:
            with open(os.path.join(SOURCE, path), "rb") as f:  # `path` is relative to SOURCE, or absolute
                data = f.read()
        except OSError as e:
            record("fail", label, f"cannot read it: {e}")
            return
        try:
            doc = load_yaml(data)
        except (yaml.YAMLError, ValueError) as e:
            record("fail" if expect else "skip", label,
                   "PyYAML cannot load it: " + (str(e).splitlines()[0] if str(e) else type(e).__name__))
            return
        try:
            error = self.first_error(doc)
        except RecursionError:
            record("fail", label, "schema validation ran out of recursion depth")
            return
        loader_rejects = "schema" in cats
        schema_rejects = error is not None
        verdict = "schema" if loader_rejects else ("semantic" if diags else "ok")
        if loader_rejects == schema_rejects:
            outcome, why = "pass", ""
        else:
            reason = known_limitation(diags, schema_rejects)
            if reason:
                outcome, why = "known", reason
                verdict = "known"
            else:
                outcome = "fail"
                why = ("the loader reports a schema diagnostic but the schema accepts the document"
                       if loader_rejects else
                       "the loader reports no schema diagnostic but the schema rejects the document")
        if expect is not None and expect != verdict:
            outcome = "fail"
            why = (why + "; " if why else "") + f"inline case expected '{expect}', the loader's verdict is '{verdict}'"
        if outcome == "pass":
            record("pass", label)
            return
        record(outcome, label, f"{why}\n{show_diags(diags)}\n    schema: {error or 'accepts the document'}")


# --- inline cases -----------------------------------------------------------------------------

HEAD = "workflow: t\nversion: 1\nowner: o\n"


def wf(steps, top=""):
    """A workflow with the given top-level keys and `steps:` block (both dedented YAML)."""
    return HEAD + textwrap.dedent(top) + "steps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"


OK_STEP = "- {id: a, set: {x: 1}}"


def nested(kind, depth, inner):
    """A type with `depth` levels of array items (kind 'items') or object properties above `inner`."""
    s = inner
    for _ in range(depth):
        s = f"{{type: array, items: {s}}}" if kind == "items" else f"{{type: object, properties: {{p: {s}}}}}"
    return s


CASES = [
    # --- top level
    ("minimal workflow", "ok", wf(OK_STEP)),
    ("missing owner", "schema", "workflow: t\nversion: 1\nsteps:\n  " + OK_STEP + "\n"),
    ("misspelt top-level key", "schema", wf(OK_STEP, "ownr: x\n")),
    ("workflow name with capitals", "schema", wf(OK_STEP).replace("workflow: t", "workflow: Mash_Triage")),
    ("workflow name with a trailing newline", "schema", wf(OK_STEP).replace("workflow: t", 'workflow: "t\\n"')),
    ("workflow name of 63 characters", "ok", wf(OK_STEP).replace("workflow: t", "workflow: a" + "-" * 62)),
    ("workflow name of 64 characters", "schema", wf(OK_STEP).replace("workflow: t", "workflow: a" + "b" * 63)),
    ("version 0", "schema", wf(OK_STEP).replace("version: 1", "version: 0")),
    ("version 1000000", "ok", wf(OK_STEP).replace("version: 1", "version: 1000000")),
    ("version 1000001", "schema", wf(OK_STEP).replace("version: 1", "version: 1000001")),
    ("version as quoted text", "schema", wf(OK_STEP).replace("version: 1", 'version: "1"')),
    ("version 1.0 (integer-valued float)", "known", wf(OK_STEP).replace("version: 1", "version: 1.0")),
    ("description as a number", "schema", wf(OK_STEP, "description: 5\n")),
    ("empty description value (null)", "schema", wf(OK_STEP, "description:\n")),
    ("empty steps", "schema", HEAD + "steps: []\n"),
    ("document is a list", "schema", "- workflow: t\n"),
    ("duplicate step ids", "semantic", wf("- {id: a, set: {x: 1}}\n- {id: a, set: {y: 1}}")),
    ("outputs as a list", "schema", wf(OK_STEP, "outputs: [a]\n")),
    ("outputs with null and nested values", "ok", wf(OK_STEP, "outputs: {a: null, b: [1, {c: d}], x: \"${{ steps.a.output.x }}\"}\n")),
    ("sensitive as a string", "schema", wf(OK_STEP, "sensitive: inputs.x\n")),
    ("sensitive entry a number", "schema", wf(OK_STEP, "sensitive: [5]\n")),
    ("sensitive path under run", "semantic", wf(OK_STEP, "sensitive: [run.id]\n")),
    ("workflow on_error as a map", "schema", wf(OK_STEP, "on_error: {id: h, set: {}}\n")),
    ("workflow on_error step uses error", "ok",
     wf(OK_STEP) + "on_error:\n  - {id: h, set: {m: \"${{ error.message }}\"}}\n"),

    # --- inputs and types
    ("input types in every notation", "ok", wf(OK_STEP, """\
        inputs:
          id: string
          n: { type: integer, default: 3, enum: [1, 2, 3] }
          tags: { type: array, items: string }
          any_value: any
          child: { type: object, required: [name], properties: { name: string, dob: { type: string, description: ISO date } } }
        """)),
    ("input name with a dash", "schema", wf(OK_STEP, "inputs: {bad-name: string}\n")),
    ("unknown type name", "schema", wf(OK_STEP, "inputs: {x: strng}\n")),
    ("type shorthand that is a number", "schema", wf(OK_STEP, "inputs: {x: 5}\n")),
    ("input with no type (null)", "schema", wf(OK_STEP, "inputs:\n  x:\n")),
    ("type map without type", "schema", wf(OK_STEP, "inputs: {x: {description: d}}\n")),
    ("type map with unknown key", "schema", wf(OK_STEP, "inputs: {x: {type: string, format: email}}\n")),
    ("'properties' on a string type is not checked", "semantic", wf(OK_STEP, "inputs: {x: {type: string, properties: 5}}\n")),
    ("'items' on an object type is not checked", "semantic", wf(OK_STEP, "inputs: {x: {type: object, items: [nonsense]}}\n")),
    ("'required' on a string type is not checked", "semantic", wf(OK_STEP, "inputs: {x: {type: string, required: 5}}\n")),
    ("'required' entries must be strings", "schema", wf(OK_STEP, "inputs: {x: {type: object, required: [1]}}\n")),
    ("'properties' of an object must be a map", "schema", wf(OK_STEP, "inputs: {x: {type: object, properties: [a]}}\n")),
    ("enum and default of the wrong type", "semantic", wf(OK_STEP, "inputs: {x: {type: integer, enum: [a], default: b}}\n")),
    ("enum not a list", "schema", wf(OK_STEP, "inputs: {x: {type: string, enum: a}}\n")),
    ("bad type at nesting depth 16 is checked", "schema", wf(OK_STEP, "inputs:\n  x: " + nested("items", 16, "{type: bogus}") + "\n")),
    ("bad type at depth 17 (items) is not checked", "ok", wf(OK_STEP, "inputs:\n  x: " + nested("items", 17, "{type: bogus}") + "\n")),
    ("properties at depth 16 are a semantic error", "semantic",
     wf(OK_STEP, "inputs:\n  x: " + nested("props", 17, "{type: bogus, junk: 1}") + "\n")),

    # --- triggers
    ("one trigger of each kind", "ok", wf(OK_STEP, """\
        triggers:
          - cron: "*/15 8-18 * * mon-fri"
          - webhook: /referrals/mash_2
          - watch: ./inbox
            pattern: "*.json"
        """)),
    ("trigger with cron and webhook", "schema", wf(OK_STEP, "triggers: [{cron: '* * * * *', webhook: /a}]\n")),
    ("trigger with only a pattern", "schema", wf(OK_STEP, "triggers: [{pattern: '*.json'}]\n")),
    ("trigger with unknown key", "schema", wf(OK_STEP, "triggers: [{webhook: /a, method: post}]\n")),
    ("webhook path with capitals", "schema", wf(OK_STEP, "triggers: [{webhook: /Referrals}]\n")),
    ("webhook path without a slash", "schema", wf(OK_STEP, "triggers: [{webhook: referrals}]\n")),
    ("cron as a number", "schema", wf(OK_STEP, "triggers: [{cron: 5}]\n")),
    ("bad cron minute", "semantic", wf(OK_STEP, "triggers: [{cron: '61 * * * *'}]\n")),
    ("pattern on a cron trigger is not checked", "semantic", wf(OK_STEP, "triggers: [{cron: '* * * * *', pattern: [1]}]\n")),
    ("pattern of a watch trigger must be text", "schema", wf(OK_STEP, "triggers: [{watch: ./in, pattern: 5}]\n")),
    ("reference from an input", "ok", wf(OK_STEP, "inputs: {ref: string}\nreference: \"R-${{ inputs.ref }}\"\n")),
    ("reference as a map", "schema", wf(OK_STEP, "reference: {id: 1}\n")),
    ("reference reading a step", "semantic", wf(OK_STEP, "reference: \"${{ steps.a.output.x }}\"\n")),
    ("reference reading a sensitive input", "semantic",
     wf(OK_STEP, "inputs: {name: string}\nsensitive: [inputs.name]\nreference: \"${{ inputs.name }}\"\n")),
    ("webhook answered when done", "ok", wf(OK_STEP, "triggers: [{webhook: /a, wait: 30s}]\n")),
    ("webhook wait as a bare number", "schema", wf(OK_STEP, "triggers: [{webhook: /a, wait: 30}]\n")),
    ("webhook wait over 120s", "semantic", wf(OK_STEP, "triggers: [{webhook: /a, wait: 5m}]\n")),
    ("wait on a cron trigger", "semantic", wf(OK_STEP, "triggers: [{cron: '* * * * *', wait: 30s}]\n")),

    # --- common step keys
    ("step without id", "schema", wf("- {set: {x: 1}}")),
    ("step id with capitals", "schema", wf("- {id: Research, set: {x: 1}}")),
    ("step with two kinds", "schema", wf("- {id: a, set: {x: 1}, wait: 5s}")),
    ("step with no kind", "schema", wf("- {id: a, name: nothing}")),
    ("misspelt step kind", "schema", wf("- {id: a, usse: pnd.search}")),
    ("step that is a string", "schema", wf("- just-a-string")),
    ("'with' on a set step", "schema", wf("- {id: a, set: {x: 1}, with: {y: 2}}")),
    ("'as' on a uses step", "schema", wf("- {id: a, uses: pnd.search, as: x}")),
    ("if: null", "schema", wf("- {id: a, if: null, set: {x: 1}}")),
    ("if: true and if: 3 are expressions", "ok", wf("- {id: a, if: true, set: {x: 1}}\n- {id: b, if: 3, set: {x: 1}}")),
    ("unparsable if", "expression", wf("- {id: a, if: '1 +', set: {x: 1}}")),
    ("retry without max", "schema", wf("- {id: a, uses: p.q, retry: {initial: 1s}}")),
    ("retry max 101", "schema", wf("- {id: a, uses: p.q, retry: {max: 101}}")),
    ("retry with every key", "ok", wf("- {id: a, uses: p.q, retry: {max: 100, backoff: fixed, initial: 1s, max_delay: 2s, jitter: false}}")),
    ("retry backoff linear", "schema", wf("- {id: a, uses: p.q, retry: {max: 2, backoff: linear}}")),
    ("retry jitter as text", "schema", wf("- {id: a, uses: p.q, retry: {max: 2, jitter: 'true'}}")),
    ("retry max_delay shorter than initial", "semantic", wf("- {id: a, uses: p.q, retry: {max: 2, initial: 1m, max_delay: 1s}}")),
    ("timeout as a number", "schema", wf("- {id: a, uses: p.q, timeout: 30}")),
    ("timeout with units out of order", "schema", wf("- {id: a, uses: p.q, timeout: 1m1h}")),
    ("timeout with a repeated unit", "schema", wf("- {id: a, uses: p.q, timeout: 1h1h}")),
    ("timeout with a fraction", "schema", wf("- {id: a, uses: p.q, timeout: 1.5h}")),
    ("timeout with a trailing newline", "schema", wf('- {id: a, uses: p.q, timeout: "5m\\n"}')),
    ("timeout with every unit", "ok", wf("- {id: a, uses: p.q, timeout: 1w2d3h4m5s6ms}")),
    ("timeout 1s500ms", "ok", wf("- {id: a, uses: p.q, timeout: 1s500ms}")),
    ("timeout over 366 days", "known", wf("- {id: a, uses: p.q, timeout: 400d}")),
    ("on_error ignore", "schema", wf("- {id: a, uses: p.q, on_error: ignore}")),
    ("on_error as a number", "schema", wf("- {id: a, uses: p.q, on_error: 5}")),
    ("on_error handler steps", "ok", wf("- id: a\n  uses: p.q\n  on_error:\n    - {id: h, set: {why: \"${{ error.message }}\"}}")),

    # --- uses, parallel, foreach
    ("uses without an action", "schema", wf("- {id: a, uses: pnd}")),
    ("uses with capitals", "schema", wf("- {id: a, uses: PND.search}")),
    ("with as a list", "schema", wf("- {id: a, uses: p.q, with: [1]}")),
    ("parallel with one branch", "schema", wf("- {id: a, parallel: [{id: b, set: {x: 1}}]}")),
    ("parallel as a map", "schema", wf("- {id: a, parallel: {id: b, set: {x: 1}}}")),
    ("parallel branches referencing each other", "semantic",
     wf("- id: a\n  parallel:\n    - {id: b, set: {x: 1}}\n    - {id: c, set: {y: \"${{ steps.b.output.x }}\"}}")),
    ("foreach without steps", "schema", wf("- {id: a, foreach: '[1, 2]'}")),
    ("foreach with empty steps", "schema", wf("- {id: a, foreach: '[1, 2]', steps: []}")),
    ("foreach over a YAML list", "schema", wf("- {id: a, foreach: [1, 2], steps: [{id: b, set: {x: 1}}]}")),
    ("foreach as with capitals", "schema", wf("- {id: a, foreach: '[1]', as: Item, steps: [{id: b, set: {x: 1}}]}")),
    ("foreach as a reserved name", "semantic", wf("- {id: a, foreach: '[1]', as: index, steps: [{id: b, set: {x: 1}}]}")),
    ("foreach concurrency 1001", "schema", wf("- {id: a, foreach: '[1]', concurrency: 1001, steps: [{id: b, set: {x: 1}}]}")),
    ("foreach with as and concurrency", "ok",
     wf("- {id: a, foreach: '[1, 2]', as: n, concurrency: 1000, steps: [{id: b, set: {x: \"${{ n + index }}\"}}]}")),
    ("step inside foreach referenced outside it", "semantic",
     wf("- {id: a, foreach: '[1]', steps: [{id: b, set: {x: 1}}]}\n- {id: c, set: {y: \"${{ steps.b.output.x }}\"}}")),

    # --- switch, call, set
    ("switch without cases", "schema", wf("- {id: a, switch: {default: []}}")),
    ("switch case without steps", "schema", wf("- {id: a, switch: {cases: [{when: 'true'}]}}")),
    ("switch with unknown key", "schema", wf("- {id: a, switch: {cases: [], otherwise: []}}")),
    ("switch with empty cases and default", "ok", wf("- {id: a, switch: {cases: [], default: []}}")),
    ("switch with a case and a default", "ok",
     wf("- id: a\n  switch:\n    cases:\n      - when: \"1 > 0\"\n        steps: [{id: b, set: {x: 1}}]\n    default:\n      - {id: c, set: {x: 2}}")),
    ("call with a number", "schema", wf("- {id: a, call: 5}")),
    ("call of a workflow that is not there", "semantic", wf("- {id: a, call: no-such-workflow, with: {x: 1}}")),
    ("set as a list", "schema", wf("- {id: a, set: [1]}")),
    ("set with nested values", "ok", wf("- {id: a, set: {x: {y: [1, 'two', null]}, z: \"${{ run.id }}\"}}")),

    # --- decide
    ("decide with rules and bands", "ok",
     wf("- id: a\n  decide:\n    rules:\n      - {id: r, when: 'true', score: 2.5, reason: because}\n"
        "      - {when: 'false', score: -1, reason: why}\n    bands: {HIGH: 2, LOW: 0}")),
    ("decide without bands", "schema", wf("- {id: a, decide: {rules: [{when: 'true', score: 1, reason: r}]}}")),
    ("decide with no rules", "schema", wf("- {id: a, decide: {rules: [], bands: {X: 0}}}")),
    ("decide rule without reason", "schema", wf("- {id: a, decide: {rules: [{when: 'true', score: 1}], bands: {X: 0}}}")),
    ("decide score as text", "schema", wf("- {id: a, decide: {rules: [{when: 'true', score: high, reason: r}], bands: {X: 0}}}")),
    ("decide with no bands", "schema", wf("- {id: a, decide: {rules: [{when: 'true', score: 1, reason: r}], bands: {}}}")),
    ("decide band threshold as text", "schema", wf("- {id: a, decide: {rules: [{when: 'true', score: 1, reason: r}], bands: {X: low}}}")),
    ("decide: empty reason, duplicate rule ids and thresholds", "semantic",
     wf("- id: a\n  decide:\n    rules:\n      - {id: r, when: 'true', score: 1, reason: ''}\n"
        "      - {id: r, when: 'true', score: 1, reason: x}\n    bands: {A: 1, B: 1}")),

    # --- approval
    ("approval with every key", "ok", wf("""\
        - id: a
          approval:
            assign: { roles: [mash-supervisor], users: duty-sergeant }
            quorum: 20
            distinct_from: [started_by, run.started_by]
            options: [agree, override_to_red]
            reason: { required: false, min_length: 2000 }
            timeout: 24h
            on_timeout: agree
            escalate: [{ after: 2h, to: duty-inspector }, { after: 6h, to: [superintendent] }]
            show: [inputs.x, run.workflow]
            form: { Free Text: string, rating: { type: string, enum: [RED, GREEN] } }
            recommendation: "'agree'"
        """, "inputs: {x: string}\n")),
    ("approval assign as a list, escalate as one map", "ok",
     wf("- {id: a, approval: {assign: [a, b], timeout: 1h, escalate: {after: 30m, to: c}}}")),
    ("approval without assign", "schema", wf("- {id: a, approval: {quorum: 1}}")),
    ("approval assign names nobody", "semantic", wf("- {id: a, approval: {assign: {}}}")),
    ("approval assign with unknown key", "schema", wf("- {id: a, approval: {assign: {groups: [x]}}}")),
    ("approval assign as a number", "schema", wf("- {id: a, approval: {assign: 5}}")),
    ("approval quorum 21", "schema", wf("- {id: a, approval: {assign: x, quorum: 21}}")),
    ("approval with one option", "schema", wf("- {id: a, approval: {assign: x, options: [approve]}}")),
    ("approval option with capitals", "schema", wf("- {id: a, approval: {assign: x, options: [Approve, reject]}}")),
    ("approval duplicate options", "semantic", wf("- {id: a, approval: {assign: x, options: [yes_, yes_]}}")),
    ("approval on_timeout not an option and no timeout", "semantic", wf("- {id: a, approval: {assign: x, on_timeout: maybe}}")),
    ("approval reason.required as text", "schema", wf("- {id: a, approval: {assign: x, reason: {required: 'true'}}}")),
    ("approval reason.min_length 2001", "schema", wf("- {id: a, approval: {assign: x, reason: {min_length: 2001}}}")),
    ("approval escalation without to", "schema", wf("- {id: a, approval: {assign: x, escalate: [{after: 1h}]}}")),
    ("approval escalations out of order", "semantic",
     wf("- {id: a, approval: {assign: x, escalate: [{after: 2h, to: y}, {after: 1h, to: z}]}}")),
    ("approval show as a string", "schema", wf("- {id: a, approval: {assign: x, show: inputs}}")),
    ("approval form field of unknown type", "schema", wf("- {id: a, approval: {assign: x, form: {f: strng}}}")),
    ("approval distinct_from not a list", "schema", wf("- {id: a, approval: {assign: x, distinct_from: started_by}}")),
    ("approval distinct_from with a null entry", "schema", wf("- {id: a, approval: {assign: x, distinct_from: [~]}}")),

    # --- wait
    ("wait as a number", "schema", wf("- {id: a, wait: 10}")),
    ("wait with no value", "schema", wf("- id: a\n  wait:")),
    ("wait until with an extra key", "schema", wf("- {id: a, wait: {until: 'now()', tz: utc}}")),
    ("wait for a duration and until a time", "ok", wf("- {id: a, wait: 10m}\n- {id: b, wait: {until: 'now()'}}")),

    # --- references
    ("reference to a later step", "semantic", wf("- {id: a, set: {x: \"${{ steps.b.output.y }}\"}}\n- {id: b, set: {y: 1}}")),
    ("reference to an unknown input", "semantic", wf("- {id: a, set: {x: \"${{ inputs.nope }}\"}}")),
]


def run_inline(checker):
    with tempfile.TemporaryDirectory(prefix="vigil-schema-") as tmp:
        for i, (name, expect, text) in enumerate(CASES):
            # One directory per case: `vigil validate` also loads a file's neighbours for calls.
            d = os.path.join(tmp, f"case{i:03d}")
            os.mkdir(d)
            path = os.path.join(d, "case.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            checker.agree(f"inline: {name}", path, "semantic" if expect == "expression" else expect)


def main():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    if not check_schema_document(schema):
        return
    checker = Checker(schema)

    # (a) shipped workflows: valid for both.
    shipped = sorted(glob.glob(os.path.join(SOURCE, "workflows", "*.yaml")) +
                     glob.glob(os.path.join(SOURCE, "workflows", "*.yml")) +
                     glob.glob(os.path.join(SOURCE, "examples", "workflows", "**", "*.yaml"), recursive=True) +
                     glob.glob(os.path.join(SOURCE, "examples", "workflows", "**", "*.yml"), recursive=True))
    if not shipped:
        record("fail", "shipped workflows", "no workflows/*.yaml found")
    for path in shipped:
        rel = os.path.relpath(path, SOURCE)
        diags, problem = vigil_validate(rel)
        if problem or diags:
            record("fail", f"shipped {rel} is valid for vigil", problem or "\n" + show_diags(diags))
            continue
        with open(path, "rb") as f:
            error = checker.first_error(load_yaml(f.read()))
        if error:
            record("fail", f"shipped {rel} is valid under the schema", error)
        else:
            record("pass", rel)

    # (b) the invalid-workflow corpus, whatever it holds right now.
    corpus = sorted(glob.glob(os.path.join(SOURCE, "tests", "workflows", "invalid", "*.yaml")) +
                    glob.glob(os.path.join(SOURCE, "tests", "workflows", "invalid", "*.yml")))
    print(f"corpus: {len(corpus)} file(s) in tests/workflows/invalid")
    for path in corpus:
        rel = os.path.relpath(path, SOURCE)
        if not os.path.exists(path):
            record("skip", rel, "file vanished")
            continue
        checker.agree(rel, rel)

    # (c) inline cases.
    run_inline(checker)


if __name__ == "__main__":
    # Deeply nested (but loader-accepted) documents recurse deeply in jsonschema.
    sys.setrecursionlimit(200000)
    threading.stack_size(512 * 1024 * 1024)

    def guarded():
        try:
            main()
        except Exception:  # noqa: BLE001 - any crash is a failure, with its traceback
            import traceback
            traceback.print_exc()
            record("fail", "schema_agreement.py itself", "crashed")

    worker = threading.Thread(target=guarded)
    worker.start()
    worker.join()
    print(f"{results['known']} known limitation(s) (not failures), {results['skip']} skipped")
    print(f"{results['pass']} passed, {results['fail']} failed")
    sys.exit(1 if results["fail"] or results["pass"] == 0 else 0)
