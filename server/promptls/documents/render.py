"""Render a prompt document into the chat messages a call would send, with inputs from the caller, then
defaults and samples. Used for token counts (analysis), `promptls run` and the editor's Run lens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptls.config import Config
from promptls.core.positions import Span
from promptls.documents.load import parse_document
from promptls.documents.partials import fs_partials
from promptls.documents.prompt import frontmatter as fmmod
from promptls.documents.prompt.common import role_line_messages
from promptls.documents.prompt.model import PromptDocument
from promptls.documents.templates.dotprompt_messages import to_messages
from promptls.documents.templates.render import render_handlebars, render_jinja


@dataclass(slots=True)
class RenderedRequest:
    messages: list[dict[str, str]]
    model: str | None
    params: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # declared inputs rendered without any value
    used_values_for: list[str] = field(default_factory=list)  # inputs filled from defaults/samples
    error: str | None = None  # render failure, explained


def values_for(doc: PromptDocument, inputs: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str],
                                                                                    list[str]]:
    inputs = dict(inputs or {})
    data: dict[str, Any] = {}
    filled, missing = [], []
    for name, decl in doc.inputs.items():
        if name in inputs:
            continue
        if decl.has_sample or decl.has_default:
            data[name] = decl.value()
            filled.append(name)
        else:
            missing.append(name)
    data.update(inputs)
    return data, filled, missing


def render_messages(doc: PromptDocument, data: dict[str, Any], partials=None) -> list[tuple[str, str]]:
    """(role, text) per message. Raises on engine errors (the caller decides how to report them)."""
    body = doc.body
    if doc.engine == "jinja2":
        out = render_jinja(body, data)
    else:
        tree = doc.template.tree
        out = render_handlebars(body, data, mustache=doc.engine == "mustache",
                                partials=partials or (lambda name: None),
                                parsed=tree if tree is not None and tree.program is not None else None)
    if doc.dialect == "dotprompt":
        return _split_dotprompt(out)
    msgs, _ = role_line_messages(out, Span(0, len(out)), doc.roles)
    return [(m.role, out[m.content_span.start:m.content_span.end].strip("\n")) for m in msgs]


def _split_dotprompt(out: str) -> list[tuple[str, str]]:
    pairs = []
    for m in to_messages(out):
        if m.history is not None:
            continue
        text = "".join(p.text if p.text is not None else f"[media {p.media.get('url')}]" if p.media else ""
                       for p in m.parts)
        pairs.append((m.role, text))
    return pairs


def render_request(path: str, text: str, inputs: dict[str, Any] | None = None, config=None) -> RenderedRequest:
    """Parse, fill inputs (flags > defaults > samples) and render. Never raises on bad templates."""
    doc = parse_document(path, text, config or Config())
    data, filled, missing = values_for(doc, inputs)
    params = {k: v for k, v in doc.params.items() if v is not None}
    model = doc.model.ref if doc.model else None

    def partial(name: str) -> str | None:
        found = fs_partials(name, path)
        if found is None:
            return None
        return found[1][fmmod.split(found[1]).body_start:]

    try:
        pairs = render_messages(doc, data, partial)
    except Exception as e:  # engine errors of any kind become a message, never a crash
        return RenderedRequest([], model, params, missing, filled, error=f"render failed: {e}")
    messages = [{"role": _api_role(r), "content": t} for r, t in pairs]
    return RenderedRequest(messages, model, params, missing, filled)


def _api_role(role: str) -> str:
    return {"model": "assistant"}.get(role, role)
