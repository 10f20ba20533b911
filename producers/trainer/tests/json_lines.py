#!/usr/bin/env python3
"""Independent check of an NDJSON event file with Python's own JSON parser: every line is one
strict JSON object (no bare NaN/Infinity, no duplicate keys), and string fields decode to the
values the trainer was given (the model name used by the test contains quotes and a backslash)."""
import json
import sys


def no_constants(name):
    raise ValueError("bare %s is not JSON" % name)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def main(path):
    types = {}
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.decode("utf-8")
            if not line.endswith("\n"):
                raise SystemExit("line %d is not terminated by a newline" % n)
            obj = json.loads(line, parse_constant=no_constants, object_pairs_hook=no_duplicates)
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
                raise SystemExit("line %d: not an event object" % n)
            types[obj["type"]] = types.get(obj["type"], 0) + 1
            if obj["type"] == "model_version_registered" and obj["model_name"] != 'm "quoted" \\ name':
                raise SystemExit("line %d: model_name decoded to %r" % (n, obj["model_name"]))
            if obj["type"] == "step_summary" and obj.get("non_finite_count", 0) > 0 and obj["loss"] != "NaN":
                raise SystemExit("line %d: non-finite window without loss NaN" % n)
    print("python json: %d lines ok %s" % (sum(types.values()), sorted(types.items())))


if __name__ == "__main__":
    main(sys.argv[1])
