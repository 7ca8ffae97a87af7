#!/usr/bin/env python3
"""Conventions of proto/ that buf lint has no rule for (run by scripts/lint.sh):

- every field of every request message, and of every message a request
  holds, says how the server treats it (`google.api.field_behavior`:
  REQUIRED, OPTIONAL, OUTPUT_ONLY, IMMUTABLE, IDENTIFIER);
- no `buf.validate` rule sits on an OUTPUT_ONLY field (the server ignores
  such a field when it is sent, so it could never enforce the rule);
- a REQUIRED enum refuses its `_UNSPECIFIED` zero (`enum.not_in: [0]`, or
  an `enum.in` list).

What the rules say is checked against the server by the `contract_rules`
integration test; this only checks that they are there.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gateway-envoy"))
from buf_build import buf_build  # noqa: E402


def messages_and_inputs():
    out = buf_build("json")
    messages, inputs = {}, set()

    def walk(prefix, found):
        for message in found:
            name = f"{prefix}.{message['name']}"
            messages[name] = message
            walk(name, message.get("nestedType", []))

    for f in json.loads(out)["file"]:
        walk("." + f["package"], f.get("messageType", []))
        for service in f.get("service", []):
            inputs.update(method["inputType"] for method in service.get("method", []))
    return messages, inputs


def request_side(messages, inputs):
    seen, todo = set(), list(inputs)
    while todo:
        name = todo.pop()
        message = messages.get(name)
        if name in seen or not message or not name.startswith(".frevix."):
            continue
        if message.get("options", {}).get("mapEntry"):
            continue
        seen.add(name)
        todo += [f["typeName"] for f in message.get("field", []) if f.get("typeName")]
    return seen


def main():
    messages, inputs = messages_and_inputs()
    problems = []
    for name in sorted(request_side(messages, inputs)):
        for field in messages[name].get("field", []):
            options = field.get("options", {})
            behaviors = options.get("[google.api.field_behavior]")
            where = f"{name.lstrip('.')}.{field['name']}"
            if not behaviors:
                problems.append(f"{where}: no google.api.field_behavior")
            elif "OUTPUT_ONLY" in behaviors and "[buf.validate.field]" in options:
                problems.append(f"{where}: buf.validate rules on an OUTPUT_ONLY field")
            elif field["type"] == "TYPE_ENUM" and "REQUIRED" in behaviors:
                rules = options.get("[buf.validate.field]", {})
                enum = rules.get("enum") or rules.get("repeated", {}).get("items", {}).get("enum", {})
                if 0 not in enum.get("notIn", []) and not enum.get("in"):
                    problems.append(f"{where}: a REQUIRED enum that does not refuse 0")
    if problems:
        sys.exit("proto conventions:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
