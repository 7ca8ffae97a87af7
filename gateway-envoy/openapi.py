#!/usr/bin/env python3
"""Writes docs/openapi.json: the REST/JSON door (every unary RPC's
`google.api.http` path, as Envoy's transcoder serves it) as an OpenAPI 3.1
document, from the descriptor set `buf build` makes of proto/, with the
proto comments as descriptions. Bodies and answers follow proto3's JSON
mapping (lowerCamel names, enums by name, 64-bit integers and bytes as
strings); a failure is a `google.rpc.Status`.

Usage: gateway-envoy/openapi.py [--check]   (--check: fail if the file differs)
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from buf_build import buf_build  # noqa: E402
from openapi_rules import behaviors, keywords  # noqa: E402
from render import PUBLIC_METHODS, REST_SERVICES  # noqa: E402

OUT = HERE.parent / "docs" / "openapi.json"
VERBS = ["get", "post", "put", "patch", "delete"]

SCALARS = {
    "TYPE_DOUBLE": {"type": "number"},
    "TYPE_FLOAT": {"type": "number"},
    "TYPE_INT64": {"type": "string", "format": "int64"},
    "TYPE_UINT64": {"type": "string", "format": "uint64"},
    "TYPE_SINT64": {"type": "string", "format": "int64"},
    "TYPE_FIXED64": {"type": "string", "format": "uint64"},
    "TYPE_SFIXED64": {"type": "string", "format": "int64"},
    "TYPE_INT32": {"type": "integer", "format": "int32"},
    "TYPE_SINT32": {"type": "integer", "format": "int32"},
    "TYPE_SFIXED32": {"type": "integer", "format": "int32"},
    "TYPE_UINT32": {"type": "integer", "format": "int64", "minimum": 0},
    "TYPE_FIXED32": {"type": "integer", "format": "int64", "minimum": 0},
    "TYPE_BOOL": {"type": "boolean"},
    "TYPE_STRING": {"type": "string"},
    "TYPE_BYTES": {"type": "string", "contentEncoding": "base64"},
}
# Well-known types have JSON forms of their own.
WELL_KNOWN = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d+)?s$"},
    ".google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated field paths."},
    ".google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    ".google.protobuf.Empty": {"type": "object"},
    ".google.protobuf.Struct": {"type": "object", "additionalProperties": True},
}


def descriptor_set():
    return json.loads(buf_build("json"))


def clean(comment):
    lines = [line.strip() for line in (comment or "").strip().splitlines()]
    return " ".join(line for line in lines if line) or None


class Model:
    """Messages, enums and their comments by full name."""

    def __init__(self, fds):
        self.messages, self.enums, self.comments = {}, {}, {}
        self.files = fds["file"]
        for f in self.files:
            package = "." + f.get("package", "")
            comments = {
                tuple(loc["path"]): loc.get("leadingComments")
                for loc in f.get("sourceCodeInfo", {}).get("location", [])
                if loc.get("leadingComments")
            }
            for i, message in enumerate(f.get("messageType", [])):
                self.add_message(package, message, (4, i), comments)
            for i, enum in enumerate(f.get("enumType", [])):
                self.enums[f"{package}.{enum['name']}"] = enum
                self.comments[f"{package}.{enum['name']}"] = comments.get((5, i))
            for si, service in enumerate(f.get("service", [])):
                for mi, method in enumerate(service.get("method", [])):
                    key = f"{package[1:]}.{service['name']}/{method['name']}"
                    self.comments[key] = comments.get((6, si, 2, mi))

    def add_message(self, scope, message, path, comments):
        name = f"{scope}.{message['name']}"
        self.messages[name] = message
        self.comments[name] = comments.get(path)
        for i, field in enumerate(message.get("field", [])):
            self.comments[f"{name}#{field['name']}"] = comments.get(path + (2, i))
        for i, nested in enumerate(message.get("nestedType", [])):
            self.add_message(name, nested, path + (3, i), comments)
        for i, enum in enumerate(message.get("enumType", [])):
            self.enums[f"{name}.{enum['name']}"] = enum
            self.comments[f"{name}.{enum['name']}"] = comments.get(path + (4, i))


def ref(name):
    return {"$ref": f"#/components/schemas/{name.lstrip('.')}"}


def field_schema(model, message_name, field, wanted):
    type_name = field.get("typeName")
    if field["type"] == "TYPE_MESSAGE":
        entry = model.messages.get(type_name, {})
        if entry.get("options", {}).get("mapEntry"):
            value = next(f for f in entry["field"] if f["name"] == "value")
            return {"type": "object", "additionalProperties": field_schema(model, type_name, value, wanted)}
        if type_name in WELL_KNOWN:
            schema = dict(WELL_KNOWN[type_name])
        else:
            wanted.add(type_name)
            schema = ref(type_name)
    elif field["type"] == "TYPE_ENUM":
        wanted.add(type_name)
        schema = ref(type_name)
    else:
        schema = dict(SCALARS[field["type"]])
    value, items = keywords(field)
    if field["type"] != "TYPE_ENUM":
        schema.update(value)
    if field.get("label") == "LABEL_REPEATED":
        schema = {"type": "array", "items": schema, **items}
    if "OUTPUT_ONLY" in behaviors(field):
        schema["readOnly"] = True
    return schema


def message_schema(model, name, wanted, requests=()):
    """A message's schema; an RPC's request lists its REQUIRED fields."""
    message = model.messages[name]
    properties = {}
    required = [
        field.get("jsonName", field["name"])
        for field in message.get("field", [])
        if name in requests and "REQUIRED" in behaviors(field)
    ]
    for field in message.get("field", []):
        schema = field_schema(model, name, field, wanted)
        comment = clean(model.comments.get(f"{name}#{field['name']}"))
        if comment:
            schema = {**schema, "description": comment} if "$ref" not in schema else {"allOf": [schema], "description": comment}
        properties[field.get("jsonName", field["name"])] = schema
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if clean(model.comments.get(name)):
        out["description"] = clean(model.comments[name])
    return out


def enum_schema(model, name):
    out = {"type": "string", "enum": [v["name"] for v in model.enums[name].get("value", [])]}
    if clean(model.comments.get(name)):
        out["description"] = clean(model.comments[name])
    return out


def http_rule(method):
    return method.get("options", {}).get("[google.api.http]")


def query_parameters(model, name, skip, wanted, prefix=""):
    """Singular scalar and enum fields (one level into messages) as query
    parameters, except those bound to the path."""
    out = []
    for field in model.messages[name].get("field", []):
        path = prefix + field["name"]
        if path in skip:
            continue
        repeated = field.get("label") == "LABEL_REPEATED"
        if field["type"] == "TYPE_MESSAGE":
            if field["typeName"] in WELL_KNOWN and not repeated:
                schema = dict(WELL_KNOWN[field["typeName"]])
            elif not prefix and not repeated and field["typeName"] in model.messages:
                out += query_parameters(model, field["typeName"], skip, wanted, path + ".")
                continue
            else:
                continue
        else:
            schema = field_schema(model, name, field, wanted)
        parameter = {"name": path, "in": "query", "schema": schema}
        comment = clean(model.comments.get(f"{name}#{field['name']}"))
        if comment:
            parameter["description"] = comment
        out.append(parameter)
    return out


def document():
    model = Model(descriptor_set())
    wanted = {".google.rpc.Status"}
    requests = set()
    paths = {}
    for f in model.files:
        for service in f.get("service", []):
            full = f"{f['package']}.{service['name']}"
            if full not in REST_SERVICES:
                continue
            for method in service.get("method", []):
                rule = http_rule(method)
                if not rule:
                    continue
                verb = next(v for v in VERBS if v in rule)
                template = rule[verb]
                variables = [part.split("}")[0] for part in template.split("{")[1:]]
                request, response = method["inputType"], method["outputType"]
                wanted.update([request, response])
                requests.add(request)
                rpc = f"{full}/{method['name']}"
                operation = {
                    "operationId": f"{service['name']}_{method['name']}",
                    "tags": [service["name"]],
                    "summary": method["name"],
                    "parameters": [
                        {"name": v, "in": "path", "required": True, "schema": {"type": "string"}}
                        for v in variables
                    ],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {"schema": ref(response)}}},
                        "default": {
                            "description": "The call's google.rpc.Status, under the HTTP status of its code.",
                            "content": {"application/json": {"schema": ref(".google.rpc.Status")}},
                        },
                    },
                }
                comment = clean(model.comments.get(rpc))
                if comment:
                    operation["description"] = comment
                body = rule.get("body")
                if body == "*":
                    operation["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": ref(request)}},
                    }
                elif body:
                    field = next(x for x in model.messages[request]["field"] if x["name"] == body)
                    operation["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": field_schema(model, request, field, wanted)}},
                    }
                if body != "*":
                    skip = set(variables) | ({body} if body else set())
                    operation["parameters"] += query_parameters(model, request, skip, wanted)
                if f"/{rpc}" in PUBLIC_METHODS:
                    operation["security"] = []
                paths.setdefault(template, {})[verb] = operation
    schemas, done = {}, set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        if name in model.enums:
            schemas[name.lstrip(".")] = enum_schema(model, name)
        elif name in model.messages:
            schemas[name.lstrip(".")] = message_schema(model, name, wanted, requests)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Frevix REST/JSON API",
            "version": "v1",
            "description": "The unary RPCs of Frevix's gRPC services at their google.api.http paths, "
            "served by the gateway's gRPC-JSON transcoder. Generated from proto/ by "
            "gateway-envoy/openapi.py; the proto comments are the reference.",
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "make mesh"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def main():
    text = json.dumps(document(), indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit("out of date: docs/openapi.json; run gateway-envoy/openapi.py")
        return
    OUT.write_text(text)


if __name__ == "__main__":
    main()
