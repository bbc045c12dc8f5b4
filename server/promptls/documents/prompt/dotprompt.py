"""Dotprompt (`.prompt`): frontmatter (model, config, input/output schemas in Picoschema or JSON Schema)
and a Handlebars body whose `{{role}}` helpers split it into messages."""

from __future__ import annotations

import re
from typing import Any

from promptls.core.positions import Span
from promptls.documents.prompt.common import analyze_body, line_removal_span
from promptls.documents.prompt.frontmatter import FMNode, Frontmatter
from promptls.documents.prompt.model import InputDecl, Message, ModelRef, PromptDocument

ROLES = frozenset({"system", "user", "model", "tool"})
TOP_KEYS = frozenset({
    "name", "variant", "version", "description", "model", "tools", "toolDefs", "config", "input", "output",
    "raw", "ext", "metadata", "maxTurns", "returnToolRequests", "defaultInput",
})
_PICO_KEY = re.compile(r"^(?P<name>[^?(]+?)(?P<opt>\?)?(?:\((?P<args>[^)]*)\))?$")
PICO_TYPES = frozenset({"string", "number", "integer", "boolean", "null", "any", "object", "array", "enum"})


def parse(path: str, text: str, fm: Frontmatter, *, note: str | None = None) -> PromptDocument:
    body = Span(fm.body_start, len(text))
    info = analyze_body("handlebars", text[body.start:], body.start)
    doc = PromptDocument(path=path, text=text, dialect="dotprompt", engine="handlebars", frontmatter=fm,
                         body_span=body, template=info, dialect_note=note, roles=ROLES)
    root = fm.root
    if root is not None and root.is_map:
        _model(doc, root)
        _config(doc, root)
        _inputs(doc, text, root)
    doc.messages = _messages(doc)
    return doc


def _model(doc: PromptDocument, root: FMNode) -> None:
    m = root.get("model")
    if m is not None and isinstance(m.value, str) and m.value.strip():
        doc.model = ModelRef(m.value.strip(), m.span)


def _config(doc: PromptDocument, root: FMNode) -> None:
    cfg = root.get("config")
    if cfg is None or not cfg.is_map:
        return
    names = {"temperature": "temperature", "topP": "top_p", "topK": "top_k", "maxOutputTokens": "max_output"}
    for key, norm in names.items():
        n = cfg.get(key)
        if n is not None:
            doc.params[norm] = n.value
    mo = cfg.get("maxOutputTokens")
    if mo is not None and isinstance(mo.value, int) and not isinstance(mo.value, bool):
        doc.max_output, doc.max_output_span = mo.value, mo.span


def _inputs(doc: PromptDocument, text: str, root: FMNode) -> None:
    inp = root.get("input")
    if inp is None or not inp.is_map:
        return
    schema = inp.get("schema")
    defaults = inp.get("default")
    if schema is not None:
        doc.inputs_declared = True
        if schema.is_map:
            props = schema.get("properties") if _is_json_schema(schema.value) else schema
            required = schema.value.get("required") if _is_json_schema(schema.value) else None
            if props is not None and props.is_map:
                for key, node in props.children.items():  # type: ignore[union-attr]
                    decl = _decl(key, node, text, json_schema=props is not schema,
                                 required_list=required if isinstance(required, list) else None)
                    if decl is not None:
                        doc.inputs[decl.name] = decl
        elif isinstance(schema.value, str):
            # a named schema reference (`schema: MySchema`): inputs are defined elsewhere
            doc.inputs_declared = False
    if defaults is not None and defaults.is_map:
        for key, node in defaults.children.items():  # type: ignore[union-attr]
            if key in doc.inputs:
                doc.inputs[key].default = node.value
                doc.inputs[key].default_span = node.span
            elif not doc.inputs_declared or schema is None:
                doc.inputs[key] = InputDecl(key, node.key_span or node.span, default=node.value,
                                            default_span=node.span, required=False)


def _is_json_schema(v: Any) -> bool:
    return isinstance(v, dict) and (v.get("type") == "object" or "properties" in v) and not any(
        isinstance(k, str) and ("(" in k or k.endswith("?")) for k in v)


def _decl(key: str, node: FMNode, text: str, *, json_schema: bool,
          required_list: list[Any] | None) -> InputDecl | None:
    key_span = node.key_span or node.span
    removal = line_removal_span(text, key_span.start, node.span.end)
    if json_schema:
        kind, desc = _kind_of(node.value)
        required = True if required_list is None else key in required_list
        return InputDecl(key, key_span, kind=kind, required=required, description=desc, removal_span=removal)
    m = _PICO_KEY.match(key.strip())
    if not m:
        return None
    name = m.group("name").strip()
    if name == "*":
        return None
    kind, desc = _kind_of(node.value)
    args = [a.strip() for a in (m.group("args") or "").split(",", 1)] if m.group("args") else []
    if args:
        kind = args[0] if args[0] in PICO_TYPES else kind
        if len(args) > 1:
            desc = args[1]
    span = Span(key_span.start, key_span.start + len(m.group("name").rstrip()))
    return InputDecl(name, span, kind=kind, required=not m.group("opt"), description=desc, removal_span=removal)


def _kind_of(v: Any) -> tuple[str | None, str | None]:
    if isinstance(v, str):
        t, _, d = v.partition(",")
        t = t.strip()
        if t.endswith("[]"):
            return "array", d.strip() or None
        return (t if t in PICO_TYPES else None), (d.strip() or None)
    if isinstance(v, dict):
        t = v.get("type")
        return (t if isinstance(t, str) else "object"), (v.get("description") if isinstance(
            v.get("description"), str) else None)
    if isinstance(v, list):
        return "enum", None
    return None, None


def _messages(doc: PromptDocument) -> list[Message]:
    """Messages split at `{{role "x"}}`; text before the first marker is a user message (Dotprompt default),
    `{{history}}` is not a message of its own."""
    body = doc.body_span
    markers = []
    for h in doc.template.helpers:
        if h.name == "role" and h.args and isinstance(h.args[0], str):
            markers.append((h.args[0], h))
    if not markers:
        return [Message("user", body)]
    out: list[Message] = []
    text = doc.text
    first = markers[0][1].span.start
    if text[body.start:first].strip():
        out.append(Message("user", Span(body.start, first)))
    for i, (role, h) in enumerate(markers):
        end_h = h.close_span.start if getattr(h, "close_span", None) else None
        nxt = markers[i + 1][1].span.start if i + 1 < len(markers) else body.end
        end = end_h if end_h is not None and end_h <= nxt else nxt
        arg_span = _string_arg_span(text, h.span, role)
        out.append(Message(role, Span(h.span.end, max(h.span.end, end)), arg_span))
    return out


def _string_arg_span(text: str, tag: Span, value: str) -> Span:
    i = text.find(value, tag.start, tag.end)
    return Span(i, i + len(value)) if i >= 0 else tag
