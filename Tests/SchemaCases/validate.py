"""Validates JSON files against a JSON Schema (2020-12) with the `jsonschema` package.

    python validate.py SCHEMA FILE...
    python validate.py --split CASES.jsonl DIR

--split writes each case of a .jsonl file (one {"why", "expect", "config" or "text"} object a
line) to DIR/case-NNN.json, exactly as Python's json writes it (so 2**64 stays an integer), and
prints {"file", "why", "expect"} a line.

Checks the schema itself first (exit 2 if it is not a valid 2020-12 schema), then prints one JSON
object a line per FILE: {"file": FILE, "valid": true|false, "errors": [{"path", "message"}]}.
Text of the form ${NAME} is replaced by 1 before parsing, so the templated configs of
Config/scenarios (ports filled in by examples/lib/harness.py) can be checked as they are.
Exit status: 0 when the schema is valid, whatever the files say (the caller judges them).
"""
import json
import re
import sys

import jsonschema


def split(cases, directory):
    with open(cases, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    for index, line in enumerate(lines):
        case = json.loads(line)
        text = case["text"] if "text" in case else json.dumps(case["config"], ensure_ascii=False)
        path = f"{directory}/case-{index:03d}.json"
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        print(json.dumps({"file": path, "why": case["why"], "expect": case["expect"]}, ensure_ascii=False))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--split":
        return split(argv[2], argv[3])
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        print(f"the schema is not a valid 2020-12 schema: {error.message} (at {error.json_path})", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"\$\{[A-Z_]+\}", "1", f.read())
        try:
            document = json.loads(text)
        except ValueError as error:
            print(json.dumps({"file": path, "valid": False, "errors": [{"path": "$", "message": f"invalid JSON: {error}"}]}))
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        print(json.dumps({
            "file": path,
            "valid": not errors,
            "errors": [{"path": e.json_path, "message": e.message[:300]} for e in errors],
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
