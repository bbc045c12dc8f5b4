"""A prompt's own output schema as JSON Schema: Dotprompt `output.schema` (Picoschema or JSON Schema, when the
output format is JSON) and Prompty `outputs` (v2 list or map, v1 map). Checked on every answer."""

from __future__ import annotations

import re
from typing import Any

from promptls.documents.prompt.model import PromptDocument

_JSON_TYPES = {"string", "number", "integer", "boolean", "null", "object", "array"}
_PICO_KEY = re.compile(r"^(?P<name>[^?(]+?)(?P<opt>\?)?(?:\((?P<args>[^)]*)\))?$")


def output_schema(doc: PromptDocument) -> dict[str, Any] | None:
    data = doc.frontmatter.data if doc.frontmatter.present else {}
    if not isinstance(data, dict):
        return None
    if doc.dialect == "dotprompt":
        out = data.get("output")
        if not isinstance(out, dict):
            return None
        schema = out.get("schema")
        if schema is None:
            return {} if out.get("format") == "json" else None  # JSON output without a schema: valid JSON
        if isinstance(schema, dict):
            return schema if _is_json_schema(schema) else picoschema(schema)
        if isinstance(schema, str) and schema.strip() in _JSON_TYPES:
            return {"type": schema.strip()}
        return None  # a named schema defined in code: nothing to check here
    if doc.dialect == "prompty":
        return _prompty_outputs(data.get("outputs"))
    return None


def _is_json_schema(v: dict[str, Any]) -> bool:
    return ("type" in v and isinstance(v.get("type"), str) and v.get("type") in _JSON_TYPES and not any(
        "(" in k or k.endswith("?") for k in v)) or "properties" in v or "$schema" in v


def picoschema(node: Any) -> dict[str, Any]:
    """Picoschema (Dotprompt's compact schema) to JSON Schema: `name: type, description`, `name?: type`,
    `name(array): item`, `name(object): {...}`, `name(enum): [..]`, `type[]`, `(*)` for extra keys."""
    if isinstance(node, str):
        return _scalar(node)
    if not isinstance(node, dict):
        return {}
    props: dict[str, Any] = {}
    required: list[str] = []
    extra: Any = False
    for key, value in node.items():
        m = _PICO_KEY.match(str(key).strip())
        if not m:
            continue
        name = m.group("name").strip()
        args = [a.strip() for a in (m.group("args") or "").split(",", 1)] if m.group("args") else []
        if name == "*" or key == "(*)":
            extra = _scalar(value) if isinstance(value, str) else picoschema(value)
            continue
        if args:
            kind = args[0]
            desc = args[1] if len(args) > 1 else None
            if kind == "array":
                sub: dict[str, Any] = {"type": "array", "items": picoschema(value)}
            elif kind == "object":
                sub = picoschema(value)
            elif kind == "enum":
                sub = {"enum": list(value) if isinstance(value, list) else [value]}
            else:
                sub = _scalar(kind)
            if desc:
                sub["description"] = desc
        else:
            sub = _scalar(value) if isinstance(value, str) else picoschema(value)
        props[name] = sub
        if not m.group("opt"):
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        out["required"] = required
    return out


def _scalar(spec: str) -> dict[str, Any]:
    kind, _, desc = spec.partition(",")
    kind = kind.strip()
    if kind.endswith("[]"):
        out: dict[str, Any] = {"type": "array", "items": _scalar(kind[:-2])}
    elif kind in _JSON_TYPES:
        out = {"type": kind}
    else:
        out = {}  # `any` or a named type
    if desc.strip():
        out["description"] = desc.strip()
    return out


def _prompty_outputs(outputs: Any) -> dict[str, Any] | None:
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(outputs, list):
        items = [(str(o["name"]), o) for o in outputs if isinstance(o, dict) and "name" in o]
    elif isinstance(outputs, dict):
        items = [(str(k), v if isinstance(v, dict) else {"type": v}) for k, v in outputs.items()]
    else:
        return None
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in items:
        kind = spec.get("kind", spec.get("type"))
        sub: dict[str, Any] = {"type": kind} if kind in _JSON_TYPES else {}
        if kind == "float":
            sub = {"type": "number"}
        props[name] = sub
        if spec.get("required", True):
            required.append(name)
    return {"type": "object", "properties": props, "required": required}
