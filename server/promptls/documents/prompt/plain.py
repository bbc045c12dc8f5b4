"""Plain Jinja2/Handlebars/Mustache prompt templates. The model and declared inputs come from config
(`templates.overrides`) or from a directive comment in the first lines, e.g.
`{# promptls: model=gpt-4o inputs=topic,style max_output=512 #}`."""

from __future__ import annotations

import re

from promptls.config import Config
from promptls.core.positions import Span
from promptls.documents.prompt.common import analyze_body, role_line_messages
from promptls.documents.prompt.frontmatter import Frontmatter
from promptls.documents.prompt.model import InputDecl, ModelRef, PromptDocument

ROLES = frozenset({"system", "user", "assistant", "developer", "tool"})
_DIRECTIVE = re.compile(r"promptls:[ \t]*(?P<body>[^\r\n]*?)[ \t]*(?:#\}|--\}\}|\}\}|-->|$)", re.M)
_PAIR = re.compile(r"([A-Za-z_]+)=(\S+)")


def parse(path: str, text: str, engine: str, config: Config, *, note: str | None = None) -> PromptDocument:
    body = Span(0, len(text))
    info = analyze_body(engine, text, 0)
    doc = PromptDocument(path=path, text=text, dialect=engine, engine=engine,
                         frontmatter=Frontmatter(present=False), body_span=body, template=info,
                         dialect_note=note, roles=ROLES)
    head_end = _nth_line_end(text, 3)
    m = _DIRECTIVE.search(text, 0, head_end)
    if m:
        for k, v in _PAIR.findall(m.group("body")):
            vstart = text.find(k + "=" + v, m.start("body")) + len(k) + 1
            vspan = Span(vstart, vstart + len(v))
            if k == "model":
                doc.model = ModelRef(v, vspan)
            elif k == "inputs":
                doc.inputs_declared = True
                off = vstart
                for name in v.split(","):
                    if name:
                        doc.inputs[name] = InputDecl(name, Span(off, off + len(name)))
                    off += len(name) + 1
            elif k in {"max_output", "max_tokens"} and v.isdigit():
                doc.max_output, doc.max_output_span = int(v), vspan
    over = config.override_for(path)
    if over is not None:
        if over.model and doc.model is None:
            doc.model = ModelRef(over.model, None, source="config")
        if over.inputs is not None and not doc.inputs_declared:
            doc.inputs_declared = True
            for name in over.inputs:
                doc.inputs[name] = InputDecl(name, Span(0, 0))
    doc.messages, doc.role_typos = role_line_messages(text, body, ROLES)
    return doc


def _nth_line_end(text: str, n: int) -> int:
    pos = 0
    for _ in range(n):
        i = text.find("\n", pos)
        if i < 0:
            return len(text)
        pos = i + 1
    return pos
