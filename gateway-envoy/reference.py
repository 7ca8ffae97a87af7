#!/usr/bin/env python3
"""Writes the API reference as one HTML page (`make docs`: target/docs/api.html)
from the descriptor set `buf build` makes of proto/, with the proto comments:
every service and RPC (with its REST path and whether it needs a token), then
every message with its fields and every enum with its values, linked.

Usage: gateway-envoy/reference.py [OUT]   (default target/docs/api.html)
"""

import html
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from openapi import VERBS, Model, clean, descriptor_set, http_rule  # noqa: E402
from openapi_rules import summary  # noqa: E402
from render import PUBLIC_METHODS  # noqa: E402

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222 }
code, .type { font-family: ui-monospace, monospace; font-size: 0.9em }
h2 { border-bottom: 1px solid #ddd; margin-top: 3rem }
h3 { margin-bottom: 0.2rem }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem }
td, th { border-top: 1px solid #eee; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top }
.rules { font-size: 0.85em; color: #555 } .rest { color: #555 } .public { color: #070 } nav li { margin: 0.1rem 0 }
"""


def anchor(name):
    return name.lstrip(".").replace(".", "-")


def type_link(model, field):
    name = field.get("typeName")
    if name and (name in model.messages or name in model.enums):
        shown = name.lstrip(".")
        text = f'<a href="#{anchor(name)}">{html.escape(shown)}</a>'
    else:
        text = html.escape(field["type"].removeprefix("TYPE_").lower())
    if field.get("label") == "LABEL_REPEATED":
        text = "repeated " + text
    return f'<span class="type">{text}</span>'


def text(comment):
    return html.escape(clean(comment) or "")


def page():
    model = Model(descriptor_set())
    out = [
        "<!doctype html><meta charset=utf-8><title>Frevix API reference</title>",
        f"<style>{STYLE}</style>",
        "<h1>Frevix API reference</h1>",
        "<p>Generated from <code>proto/</code> by <code>gateway-envoy/reference.py</code>. "
        "Every RPC is gRPC (and grpc-web); unary RPCs also answer REST/JSON at the path shown "
        "(see docs/tools.md and docs/openapi.json). RPCs marked <span class=public>public</span> "
        "need no token; every other needs <code>authorization: Bearer &lt;access token&gt;</code>.</p>",
    ]
    services = [
        (f, s) for f in model.files if f.get("package", "").startswith("frevix.") for s in f.get("service", [])
    ]
    out.append("<nav><ul>")
    for f, service in services:
        full = f"{f['package']}.{service['name']}"
        out.append(f'<li><a href="#{anchor(full)}">{html.escape(full)}</a></li>')
    out.append("</ul></nav>")
    used = set()
    for f, service in services:
        full = f"{f['package']}.{service['name']}"
        out.append(f'<h2 id="{anchor(full)}">{html.escape(full)}</h2>')
        for method in service.get("method", []):
            rpc = f"{full}/{method['name']}"
            streams = [w for w, on in (("client", method.get("clientStreaming")), ("server", method.get("serverStreaming"))) if on]
            out.append(f'<h3 id="{anchor(rpc.replace("/", "."))}">{html.escape(method["name"])}</h3>')
            request = f'<a href="#{anchor(method["inputType"])}">{html.escape(method["inputType"].lstrip("."))}</a>'
            response = f'<a href="#{anchor(method["outputType"])}">{html.escape(method["outputType"].lstrip("."))}</a>'
            line = f"<code>{request}</code> → <code>{response}</code>"
            if streams:
                line += f" · {' and '.join(streams)} streaming"
            rule = http_rule(method)
            if rule:
                verb = next(v for v in VERBS if v in rule)
                line += f' · <span class=rest><code>{verb.upper()} {html.escape(rule[verb])}</code></span>'
            if f"/{rpc}" in PUBLIC_METHODS:
                line += " · <span class=public>public</span>"
            out.append(f"<p>{line}<br>{text(model.comments.get(rpc))}</p>")
            used.update([method["inputType"], method["outputType"]])
    out.append('<h2 id="messages">Messages</h2>')
    for name in sorted(n for n in model.messages if n.startswith((".frevix.", ".google.rpc."))):
        message = model.messages[name]
        if message.get("options", {}).get("mapEntry"):
            continue
        out.append(f'<h3 id="{anchor(name)}">{html.escape(name.lstrip("."))}</h3>')
        out.append(f"<p>{text(model.comments.get(name))}</p>")
        fields = message.get("field", [])
        if fields:
            out.append("<table><tr><th>field</th><th>type</th><th>JSON</th><th>rules</th><th></th></tr>")
            for field in fields:
                out.append(
                    f"<tr><td><code>{html.escape(field['name'])}</code> = {field['number']}</td>"
                    f"<td>{type_link(model, field)}</td><td><code>{html.escape(field.get('jsonName', ''))}</code></td>"
                    f"<td class=rules>{html.escape(summary(field))}</td>"
                    f"<td>{text(model.comments.get(name + '#' + field['name']))}</td></tr>"
                )
            out.append("</table>")
    out.append('<h2 id="enums">Enums</h2>')
    for name in sorted(n for n in model.enums if n.startswith((".frevix.", ".google.rpc."))):
        out.append(f'<h3 id="{anchor(name)}">{html.escape(name.lstrip("."))}</h3>')
        out.append(f"<p>{text(model.comments.get(name))}</p><table>")
        for value in model.enums[name].get("value", []):
            out.append(f"<tr><td><code>{html.escape(value['name'])}</code></td><td>{value.get('number', 0)}</td></tr>")
        out.append("</table>")
    return "\n".join(out) + "\n"


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "target" / "docs" / "api.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page())
    print(out)


if __name__ == "__main__":
    main()
