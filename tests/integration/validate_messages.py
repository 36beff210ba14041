#!/usr/bin/env python3
"""Validates what the agent published (one {"topic", "payload"} per line) against
docs/schemas. Commands the test itself sent are not the agent's output and are skipped.
Usage: validate_messages.py SCHEMA_DIR MESSAGES.jsonl"""
import json
import re
import sys

import jsonschema

schema_dir, path = sys.argv[1], sys.argv[2]
schemas = {name: json.load(open(f"{schema_dir}/{name}.schema.json"))
           for name in ("stream", "status", "command-reply")}
failures = 0
checked = 0
for line in open(path):
    m = json.loads(line)
    topic = m["topic"]
    if topic.endswith("/status"):
        kind = "status"
    elif topic.endswith("/reply") or topic.startswith("cloud/"):
        kind = "command-reply"
    elif "/cmd/" in topic:
        continue
    elif re.match(r"^depot/v1/[^/]+/[^/]+/[a-z]+$", topic):
        kind = "stream"
    else:
        continue
    checked += 1
    try:
        jsonschema.validate(m["payload"], schemas[kind])
        # A reply's result against the results schema of its command (cmd/{name}/reply).
        reply = re.match(r"^depot/v1/[^/]+/[^/]+/cmd/(.+)/reply$", topic)
        results = schemas["command-reply"]["$defs"]["results"]
        if (kind == "command-reply" and reply and m["payload"].get("ok")
                and "result" in m["payload"]):
            name = reply.group(1).replace("/", ".")
            if name in results:
                jsonschema.validate(m["payload"]["result"], results[name])
    except jsonschema.ValidationError as e:
        failures += 1
        print(f"{topic}: {e.message} at {list(e.absolute_path)}")
print(f"{checked} messages checked, {failures} invalid")
sys.exit(1 if failures or not checked else 0)
