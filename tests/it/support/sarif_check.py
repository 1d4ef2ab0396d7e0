"""Checks a SARIF file for sageflow's tests: the official SARIF 2.1.0 JSON schema, then
what GitHub code scanning requires of an upload.

Usage: python sarif_check.py SARIF_FILE [SCHEMA_FILE]
       (SCHEMA_FILE defaults to $SARIF_SCHEMA)

Run it with the python of the venv that tests/it/support/sarif_setup.sh prints (line 1),
with the schema it prints (line 2): that venv has the pinned jsonschema and the format
checkers for `uri` and `date-time`.

1. Schema: validated with jsonschema, with the validator class the schema's own `$schema`
   names (the OASIS errata01 schema is draft-04; the older committee-specification copy is
   draft-07: both work) and its format checker.
2. GitHub code scanning (docs: "SARIF support for code scanning" and "SARIF results exceed
   limit"), per run:
   - `runs` is an array of at most 20 runs;
   - at most 25,000 results, 25,000 rules and 100 tool extensions;
   - every result has a `ruleId` that is the `id` of a rule in `tool.driver.rules` (and,
     if it has a `ruleIndex`, that rule is the one at that index);
   - every result has `locations[0].physicalLocation.artifactLocation.uri` (a non-empty
     string) and `locations[0].physicalLocation.region.startLine` (an integer >= 1), at
     most 1,000 locations and at most 10,000 thread-flow locations;
   - every result has `partialFingerprints`: a non-empty object of string values;
   - every rule has `properties["security-severity"]`: a string that parses as a number
     from 0.0 to 10.0, and at most 20 `properties.tags`.

Exit status: 0 when the file passes (one line `SARIF OK: ...` on stdout), 1 when it does
not (every problem listed on stderr, each with the JSON path it is about), 2 on a usage
error or an unreadable schema.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import NoReturn

import jsonschema
from jsonschema.validators import validator_for

# GitHub's hard limits on an uploaded SARIF file (larger files are rejected).
MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_RULES_PER_RUN = 25_000
MAX_EXTENSIONS_PER_RUN = 100
MAX_LOCATIONS_PER_RESULT = 1_000
MAX_THREAD_FLOW_LOCATIONS_PER_RESULT = 10_000
MAX_TAGS_PER_RULE = 20

# How many schema errors to list before summarising the rest.
MAX_SCHEMA_ERRORS_LISTED = 50


def usage(msg: str, show_usage: bool = True) -> NoReturn:
    print(f"sarif_check: {msg}", file=sys.stderr)
    if show_usage:
        print("usage: sarif_check.py SARIF_FILE [SCHEMA_FILE]  (or set SARIF_SCHEMA)", file=sys.stderr)
    sys.exit(2)


def load_json(path: str):
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def schema_problems(doc, schema) -> list[str]:
    cls = validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    checker = cls.FORMAT_CHECKER
    missing = {"uri", "date-time"} - set(checker.checkers)
    if missing:
        print(
            f"sarif_check: warning: formats {sorted(missing)} are not checked "
            "(install rfc3986-validator and rfc3339-validator)",
            file=sys.stderr,
        )
    validator = cls(schema, format_checker=checker)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out = []
    for e in errors[:MAX_SCHEMA_ERRORS_LISTED]:
        line = f"schema: {e.json_path}: {e.message}"
        # oneOf/anyOf failures: name the closest sub-error too.
        if e.context:
            best = jsonschema.exceptions.best_match(e.context)
            if best is not None:
                line += f" (closest: {best.json_path}: {best.message})"
        out.append(line)
    if len(errors) > MAX_SCHEMA_ERRORS_LISTED:
        out.append(f"schema: ... and {len(errors) - MAX_SCHEMA_ERRORS_LISTED} more schema errors")
    return out


def check_rule(rule, where: str, problems: list[str]) -> None:
    if not isinstance(rule, dict):
        problems.append(f"github: {where}: a rule must be an object")
        return
    if not isinstance(rule.get("id"), str) or not rule.get("id"):
        problems.append(f"github: {where}.id: missing or not a non-empty string")
    props = rule.get("properties")
    if not isinstance(props, dict):
        problems.append(f'github: {where}.properties: missing, so no "security-severity"')
        return
    sev = props.get("security-severity")
    sev_where = f'{where}.properties["security-severity"]'
    if sev is None:
        problems.append(f"github: {sev_where}: missing")
    elif not isinstance(sev, str):
        problems.append(f"github: {sev_where}: {sev!r} must be a string (such as \"7.5\"), not {type(sev).__name__}")
    else:
        try:
            value = float(sev.strip())
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            problems.append(f"github: {sev_where}: {sev!r} is not a number")
        elif not 0.0 <= value <= 10.0:
            problems.append(f"github: {sev_where}: {sev!r} is outside 0.0..10.0")
    tags = props.get("tags")
    if isinstance(tags, list) and len(tags) > MAX_TAGS_PER_RULE:
        problems.append(f"github: {where}.properties.tags: {len(tags)} tags, more than {MAX_TAGS_PER_RULE}")


def check_result(result, where: str, rules: list, rule_ids: set, problems: list[str]) -> None:
    if not isinstance(result, dict):
        problems.append(f"github: {where}: a result must be an object")
        return

    rule_id = result.get("ruleId")
    if not isinstance(rule_id, str) or not rule_id:
        problems.append(f"github: {where}.ruleId: missing or not a non-empty string")
    elif rule_id not in rule_ids:
        problems.append(f"github: {where}.ruleId: {rule_id!r} is not the id of any rule in tool.driver.rules")
    rule_index = result.get("ruleIndex")
    if rule_index is not None and isinstance(rule_id, str):
        if not is_int(rule_index) or not 0 <= rule_index < len(rules):
            problems.append(f"github: {where}.ruleIndex: {rule_index!r} is not an index into tool.driver.rules")
        elif not isinstance(rules[rule_index], dict) or rules[rule_index].get("id") != rule_id:
            problems.append(
                f"github: {where}.ruleIndex: rule {rule_index} is "
                f"{rules[rule_index].get('id') if isinstance(rules[rule_index], dict) else None!r}, not {rule_id!r}"
            )

    locations = result.get("locations")
    if not isinstance(locations, list) or not locations:
        problems.append(f"github: {where}.locations: missing or empty (GitHub needs a file and a line)")
    else:
        if len(locations) > MAX_LOCATIONS_PER_RESULT:
            problems.append(f"github: {where}.locations: {len(locations)} locations, more than {MAX_LOCATIONS_PER_RESULT}")
        loc = locations[0]
        phys = loc.get("physicalLocation") if isinstance(loc, dict) else None
        lw = f"{where}.locations[0].physicalLocation"
        if not isinstance(phys, dict):
            problems.append(f"github: {lw}: missing")
        else:
            art = phys.get("artifactLocation")
            uri = art.get("uri") if isinstance(art, dict) else None
            if not isinstance(uri, str) or not uri:
                problems.append(f"github: {lw}.artifactLocation.uri: missing or not a non-empty string")
            region = phys.get("region")
            start = region.get("startLine") if isinstance(region, dict) else None
            if start is None:
                problems.append(f"github: {lw}.region.startLine: missing")
            elif not is_int(start) or start < 1:
                problems.append(f"github: {lw}.region.startLine: {start!r} is not an integer >= 1")

    flows = 0
    for cf in result.get("codeFlows") or []:
        for tf in (cf.get("threadFlows") or []) if isinstance(cf, dict) else []:
            if isinstance(tf, dict) and isinstance(tf.get("locations"), list):
                flows += len(tf["locations"])
    if flows > MAX_THREAD_FLOW_LOCATIONS_PER_RESULT:
        problems.append(
            f"github: {where}.codeFlows: {flows} thread-flow locations, more than {MAX_THREAD_FLOW_LOCATIONS_PER_RESULT}"
        )

    fps = result.get("partialFingerprints")
    fw = f"{where}.partialFingerprints"
    if fps is None:
        problems.append(f"github: {fw}: missing")
    elif not isinstance(fps, dict) or not fps:
        problems.append(f"github: {fw}: must be a non-empty object")
    else:
        for k, v in fps.items():
            if not k or not isinstance(v, str) or not v:
                problems.append(f"github: {fw}[{k!r}]: {v!r} is not a non-empty string")


def github_problems(doc) -> tuple[list[str], int, int]:
    """The problems, the number of runs and the number of results."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return ["github: $: the log must be an object"], 0, 0
    runs = doc.get("runs")
    if not isinstance(runs, list):
        return ["github: $.runs: must be an array of runs"], 0, 0
    if len(runs) > MAX_RUNS:
        problems.append(f"github: $.runs: {len(runs)} runs, more than {MAX_RUNS}")
    total = 0
    for i, run in enumerate(runs):
        rw = f"$.runs[{i}]"
        if not isinstance(run, dict):
            problems.append(f"github: {rw}: a run must be an object")
            continue
        tool = run.get("tool")
        driver = tool.get("driver") if isinstance(tool, dict) else None
        if not isinstance(driver, dict):
            problems.append(f"github: {rw}.tool.driver: missing")
            driver = {}
        rules = driver.get("rules")
        if rules is None:
            rules = []
        if not isinstance(rules, list):
            problems.append(f"github: {rw}.tool.driver.rules: must be an array")
            rules = []
        if len(rules) > MAX_RULES_PER_RUN:
            problems.append(f"github: {rw}.tool.driver.rules: {len(rules)} rules, more than {MAX_RULES_PER_RUN}")
        for j, rule in enumerate(rules):
            check_rule(rule, f"{rw}.tool.driver.rules[{j}]", problems)
        rule_ids = {r["id"] for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)}
        extensions = tool.get("extensions") if isinstance(tool, dict) else None
        if isinstance(extensions, list) and len(extensions) > MAX_EXTENSIONS_PER_RUN:
            problems.append(
                f"github: {rw}.tool.extensions: {len(extensions)} extensions, more than {MAX_EXTENSIONS_PER_RUN}"
            )

        results = run.get("results")
        if results is None:
            continue
        if not isinstance(results, list):
            problems.append(f"github: {rw}.results: must be an array")
            continue
        total += len(results)
        if len(results) > MAX_RESULTS_PER_RUN:
            problems.append(f"github: {rw}.results: {len(results)} results, more than {MAX_RESULTS_PER_RUN}")
        for k, result in enumerate(results):
            check_result(result, f"{rw}.results[{k}]", rules, rule_ids, problems)
    return problems, len(runs), total


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        usage("expected a SARIF file and optionally a schema file")
    sarif_path = argv[1]
    schema_path = argv[2] if len(argv) == 3 else os.environ.get("SARIF_SCHEMA", "")
    if not schema_path:
        usage("no schema: give it as the second argument or in $SARIF_SCHEMA")
    try:
        schema = load_json(schema_path)
    except (OSError, ValueError) as e:
        usage(f"cannot read the schema {schema_path}: {e}", show_usage=False)

    try:
        doc = load_json(sarif_path)
    except OSError as e:
        print(f"SARIF check failed for {sarif_path}: cannot read it: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"SARIF check failed for {sarif_path}: not JSON: {e}", file=sys.stderr)
        return 1

    try:
        problems = schema_problems(doc, schema)
    except jsonschema.exceptions.SchemaError as e:
        usage(f"{schema_path} is not a valid JSON schema: {e.message}", show_usage=False)
    gh, nruns, nresults = github_problems(doc)
    problems += gh

    if problems:
        print(f"SARIF check failed for {sarif_path}: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"SARIF OK: {sarif_path}: {nruns} run(s), {nresults} result(s); schema {schema_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
