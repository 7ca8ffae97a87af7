"""The contract's field rules as JSON Schema keywords for docs/openapi.json:
`google.api.field_behavior` (OUTPUT_ONLY becomes readOnly; a request's
REQUIRED fields its `required` list) and the `buf.validate` limits a JSON
Schema can say (character lengths, ranges, list sizes, closed sets,
patterns, UUIDs), read from `buf build`'s JSON, which names rules in
lowerCamel (`maxLen`). Limits it cannot say (bytes, 64-bit integers, which proto3
JSON writes as strings) stay in the field's description."""

STRING = {"minLen": "minLength", "maxLen": "maxLength"}
NUMBER = {"gte": "minimum", "lte": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
# Numeric kinds proto3 JSON writes as JSON numbers.
JSON_NUMBERS = ("int32", "sint32", "sfixed32", "uint32", "fixed32", "float", "double")


def behaviors(field):
    return field.get("options", {}).get("[google.api.field_behavior]", [])


def _scalar(rules):
    out = {}
    text = rules.get("string")
    if text:
        for rule, keyword in STRING.items():
            if rule in text:
                out[keyword] = int(text[rule])
        if "pattern" in text:
            out["pattern"] = text["pattern"]
        if text.get("uuid"):
            out["format"] = "uuid"
        if "in" in text:
            out["enum"] = text["in"]
        if "example" in text:
            out["examples"] = text["example"]
    for kind in JSON_NUMBERS:
        for rule, keyword in NUMBER.items():
            if rule in rules.get(kind, {}):
                out[keyword] = rules[kind][rule]
    return out


def keywords(field):
    """(keywords for the value or each element, keywords for the list)."""
    rules = field.get("options", {}).get("[buf.validate.field]", {})
    repeated = rules.get("repeated")
    if repeated is None:
        return _scalar(rules), {}
    items = {}
    for rule, keyword in (("minItems", "minItems"), ("maxItems", "maxItems")):
        if rule in repeated:
            items[keyword] = int(repeated[rule])
    return _scalar(repeated.get("items", {})), items


def summary(field):
    """The field's behaviour and rules in a few words, for the reference
    page: `REQUIRED · string: minLen 1, maxLen 2000`."""
    parts = list(behaviors(field))

    def flat(rules):
        return ", ".join(
            f"{key} {flat(value) if isinstance(value, dict) else value}"
            for key, value in rules.items()
            if key != "example"
        )

    rules = field.get("options", {}).get("[buf.validate.field]", {})
    if rules:
        parts.append(flat(rules).replace("True", "true"))
    return " · ".join(parts)
