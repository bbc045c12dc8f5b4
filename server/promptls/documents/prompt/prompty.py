"""Prompty (`.prompty`), v2 and legacy v1: frontmatter (model, inputs, samples, template engine,
`${env:}`/`${file:}` references) and a Jinja2 or Mustache body split into messages by role lines."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promptls.core import safe_read
from promptls.core.positions import Span
from promptls.documents.prompt.common import analyze_body, line_removal_span, role_line_messages
from promptls.documents.prompt.frontmatter import FMNode, Frontmatter
from promptls.documents.prompt.model import InputDecl, ModelRef, PromptDocument, Reference

ROLES = frozenset({"system", "user", "assistant", "developer", "tool", "function"})
V1_MODEL = frozenset({"api", "configuration", "parameters", "response"})
V2_MODEL = frozenset({"id", "provider", "apiType", "connection", "options"})
_REF = re.compile(r"\$\{(env|file):([^}:]*)(?::([^}]*))?\}")


def detect_version(data: dict[str, Any]) -> str:
    """`v1` or `v2` by which generation's keys dominate; ties go to v2 (the current format)."""
    v1 = v2 = 0
    model = data.get("model")
    if isinstance(model, dict):
        v1 += sum(k in model for k in V1_MODEL)
        v2 += sum(k in model for k in V2_MODEL)
    v1 += ("sample" in data) + ("authors" in data)
    v2 += ("metadata" in data) + ("tools" in data)
    inputs = data.get("inputs")
    if isinstance(inputs, list):
        v2 += 2
    elif isinstance(inputs, dict):
        kinds = [v for v in inputs.values() if isinstance(v, dict)]
        v1 += sum("type" in v for v in kinds)
        v2 += sum("kind" in v for v in kinds)
    tmpl = data.get("template")
    if isinstance(tmpl, str) and "${" not in tmpl:
        v1 += 1
    elif isinstance(tmpl, dict):
        v2 += ("format" in tmpl) + ("parser" in tmpl)
    return "v1" if v1 > v2 else "v2"


def engine_of(data: dict[str, Any]) -> str:
    t = data.get("template")
    kind: Any = None
    if isinstance(t, str):
        kind = t
    elif isinstance(t, dict):
        f = t.get("format", t.get("type"))
        kind = f.get("kind") if isinstance(f, dict) else f
    if isinstance(kind, str) and kind.lower() in {"mustache", "handlebars"}:
        return kind.lower()
    return "jinja2"


def parse(path: str, text: str, fm: Frontmatter, *, note: str | None = None,
          dialect: str = "prompty") -> PromptDocument:
    data = fm.data
    engine = engine_of(data)
    body = Span(fm.body_start, len(text))
    info = analyze_body(engine, text[body.start:], body.start)
    doc = PromptDocument(path=path, text=text, dialect=dialect, engine=engine, frontmatter=fm, body_span=body,
                         template=info, dialect_note=note, roles=ROLES, version=detect_version(data))
    root = fm.root
    if root is not None and root.is_map:
        _model(doc, root)
        _inputs(doc, text, root)
        _references(doc, text, fm)
    doc.messages, doc.role_typos = role_line_messages(text, body, ROLES)
    return doc


def _model(doc: PromptDocument, root: FMNode) -> None:
    m = root.get("model")
    if m is None:
        return
    if isinstance(m.value, str):
        if "${" not in m.value:
            doc.model = ModelRef(m.value.strip(), m.span)
        return
    if not m.is_map:
        return
    provider_node = m.get("provider")
    provider = provider_node.value if provider_node and isinstance(provider_node.value, str) else None
    for path in (("id",), ("configuration", "model"), ("configuration", "azure_deployment"),
                 ("configuration", "name"), ("name",)):
        n = m.get(*path)
        if n is not None and isinstance(n.value, str) and n.value.strip() and "${" not in n.value:
            if provider is None and path[0] == "configuration":
                t = m.get("configuration", "type")
                provider = t.value if t is not None and isinstance(t.value, str) else None
                provider = {"azure_openai": "azure", "azure": "azure", "openai": "openai"}.get(provider or "")
            doc.model = ModelRef(n.value.strip(), n.span, provider=provider)
            break
    opts = m.get("options") or m.get("parameters")
    if opts is not None and opts.is_map:
        names = {"temperature": "temperature", "topP": "top_p", "top_p": "top_p",
                 "maxOutputTokens": "max_output", "max_tokens": "max_output",
                 "max_completion_tokens": "max_output"}
        for key, norm in names.items():
            n = opts.get(key)
            if n is None:
                continue
            doc.params[norm] = n.value
            if norm == "max_output" and isinstance(n.value, int) and not isinstance(n.value, bool):
                doc.max_output, doc.max_output_span = n.value, n.span


def _inputs(doc: PromptDocument, text: str, root: FMNode) -> None:
    inputs = root.get("inputs") or root.get("inputSchema")
    samples = root.get("sample")
    if inputs is not None:
        doc.inputs_declared = True
        value = inputs.value
        if isinstance(value, str) and value.startswith("${file:"):
            _inputs_from_file(doc, value, inputs.span)
        elif inputs.is_seq:
            for item in inputs.children:  # type: ignore[union-attr]
                name = item.get("name")
                if name is None or not isinstance(name.value, str):
                    continue
                decl = _decl(name.value, name.span, item, text)
                doc.inputs[decl.name] = decl
        elif inputs.is_map:
            props = inputs.get("properties") if isinstance(value.get("properties"), dict) else inputs
            for key, node in props.children.items():  # type: ignore[union-attr]
                decl = _decl(key, node.key_span or node.span, node, text)
                doc.inputs[key] = decl
    if samples is not None and samples.is_map:
        for key, node in samples.children.items():  # type: ignore[union-attr]
            if key in doc.inputs:
                doc.inputs[key].sample, doc.inputs[key].sample_span = node.value, node.span
            else:
                # v1 files often declare inputs only through `sample`
                doc.inputs[key] = InputDecl(key, node.key_span or node.span, sample=node.value,
                                            sample_span=node.span, required=False,
                                            removal_span=line_removal_span(text, (node.key_span or node.span).start,
                                                                           node.span.end))
        if inputs is None:
            doc.inputs_declared = True


def _decl(name: str, name_span: Span, node: FMNode, text: str) -> InputDecl:
    removal = line_removal_span(text, (node.key_span or name_span).start, node.span.end)
    if node.is_seq or not node.is_map:
        # shorthand `name: value` means a string input with that default
        return InputDecl(name, name_span, kind=_kind_for(node.value), default=node.value, default_span=node.span,
                         required=False, removal_span=removal)
    kind_node = node.get("kind") or node.get("type")
    kind = kind_node.value if kind_node is not None and isinstance(kind_node.value, str) else None
    decl = InputDecl(name, name_span, kind=kind, removal_span=removal)
    req = node.get("required")
    for key, attr in (("default", "default"), ("sample", "sample"), ("example", "sample")):
        n = node.get(key)
        if n is not None:
            setattr(decl, attr, n.value)
            setattr(decl, attr + "_span", n.span)
    decl.required = bool(req.value) if req is not None else not decl.has_default
    d = node.get("description")
    decl.description = d.value if d is not None and isinstance(d.value, str) else None
    return decl


def _kind_for(v: Any) -> str | None:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(v))


def _inputs_from_file(doc: PromptDocument, ref: str, span: Span) -> None:
    """`inputs: ${file:schema.json}`: read the declarations from the referenced JSON next to the prompt."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return
    p = Path(doc.path).parent / m.group(2)
    try:  # a regular file of a bounded size only (RF004 says why another is not read)
        data = json.loads(safe_read.read_text(p))
    except (safe_read.Refused, ValueError, RecursionError):  # RecursionError: JSON nested beyond the stack
        doc.inputs_declared = False
        return
    items = data if isinstance(data, list) else data.get("inputs", data) if isinstance(data, dict) else []
    if isinstance(items, dict):
        items = [{"name": k, **(v if isinstance(v, dict) else {})} for k, v in items.items()]
    for it in items:
        if isinstance(it, dict) and isinstance(it.get("name"), str):
            decl = InputDecl(it["name"], span, kind=it.get("kind") or it.get("type"),
                             required=bool(it.get("required", "default" not in it)))
            if "default" in it:
                decl.default = it["default"]
            doc.inputs[decl.name] = decl


def _references(doc: PromptDocument, text: str, fm: Frontmatter) -> None:
    if fm.yaml_span is None:
        return
    for m in _REF.finditer(text, fm.yaml_span.start, fm.yaml_span.end):
        doc.references.append(Reference(m.group(1), m.group(2), m.group(3), Span(m.start(), m.end())))
