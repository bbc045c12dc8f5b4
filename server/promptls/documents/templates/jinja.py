"""Analyse a Jinja2 body: syntax errors with exact spans, free variables per occurrence, locals, includes.

The work is done with jinja2's own lexer, parser and scope analysis in `jinja_analysis`, imported on
first use so that importing promptls (and starting the server) does not load jinja2.
"""

from __future__ import annotations

from promptls.documents.templates.model import TemplateInfo


def analyze_jinja(body: str, base: int = 0) -> TemplateInfo:
    """Variables, includes, comments, top-level definitions and issues of a Jinja2 body.

    Spans are offsets into the whole document: `base` is the body's offset in it. Handlebars-only
    constructs (`{{#if}}`, `{{/if}}`, `{{else}}`, `{{> p}}`, `{{! c}}`) are reported as 'wrong-engine'
    instead of Jinja's "unexpected char" error.
    """
    # jinja2 loads on first use: importing promptls (and starting the server) must not pay for it.
    from promptls.documents.templates.jinja_analysis import analyze

    return analyze(body, base)
