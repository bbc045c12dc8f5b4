"""Helpers shared by the dialect parsers: body analysis by engine, role-marker lines, removal spans."""

from __future__ import annotations

import difflib
import re

from promptls.core.positions import Span
from promptls.documents.prompt.model import Message
from promptls.documents.templates.handlebars import analyze_handlebars
from promptls.documents.templates.jinja import analyze_jinja
from promptls.documents.templates.model import TemplateInfo

ROLE_LINE = re.compile(r"^[ \t]*#?[ \t]*([A-Za-z_]+)(\[[^\]\r\n]*\])?[ \t]*:[ \t]*$", re.M)


def analyze_body(engine: str, body: str, base: int) -> TemplateInfo:
    if engine == "jinja2":
        return analyze_jinja(body, base)
    return analyze_handlebars(body, base, mustache=engine == "mustache")


def role_line_messages(text: str, body: Span, known: frozenset[str]) -> tuple[list[Message], list[tuple[str, Span]]]:
    """Split a body on Prompty-style role lines (`system:`, `user[name="x"]:`).

    Returns the messages and the role-like lines whose word is not a known role but looks like a typo of one
    (e.g. `sytem:`), which the unknown-role rule reports. Other `Word:` lines are ordinary text.
    """
    body_text = text[body.start:body.end]
    markers: list[tuple[str, Span, int, int]] = []  # role, role span, line start, line end
    suspicious: list[tuple[str, Span]] = []
    for m in ROLE_LINE.finditer(body_text):
        word = m.group(1)
        span = Span(body.start + m.start(1), body.start + m.end(1))
        if word.lower() in known:
            markers.append((word.lower(), span, body.start + m.start(), body.start + m.end()))
        elif difflib.get_close_matches(word.lower(), sorted(known), n=1, cutoff=0.75):
            suspicious.append((word, span))
    messages: list[Message] = []
    if not markers:
        return [Message("user" if "user" in known else sorted(known)[0], body)], suspicious
    first_start = markers[0][2]
    if body_text[: first_start - body.start].strip():
        messages.append(Message("system" if "system" in known else "user", Span(body.start, first_start)))
    for i, (role, span, _ls, le) in enumerate(markers):
        end = markers[i + 1][2] if i + 1 < len(markers) else body.end
        start = le + 1 if le < body.end and text[le:le + 1] in "\r\n" else le
        messages.append(Message(role, Span(min(start, end), end), span))
    return messages, suspicious


def line_removal_span(text: str, start: int, end: int) -> Span:
    """From the start of `start`'s line to just past the line break ending `end`'s line."""
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", max(end - 1, start))
    return Span(ls, len(text) if le < 0 else le + 1)
