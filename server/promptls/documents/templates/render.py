"""Render a template body with sample inputs, e.g. to count the tokens of the prompt a model will see.

Handlebars/Mustache go through our own interpreter (`hb_render`); Jinja2 through jinja2's
`SandboxedEnvironment` with a lenient undefined (`jinja_render`, imported lazily). Both bound their
output (`MAX_OUTPUT_CHARS`) and loop iterations, so a hostile template cannot explode, and raise
`RenderError` / `RenderLimitError` instead of returning a partial result silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from promptls.documents.templates.hb_parse import ParseResult, apply_whitespace, parse
from promptls.documents.templates.hb_render import (
    MAX_ITERATIONS,
    MAX_OUTPUT_CHARS,
    HandlebarsRenderer,
    RenderError,
    RenderLimitError,
)

__all__ = [
    "MAX_ITERATIONS",
    "MAX_OUTPUT_CHARS",
    "RenderError",
    "RenderLimitError",
    "render_handlebars",
    "render_jinja",
]


def _no_partials(name: str) -> str | None:
    return None


def render_handlebars(
    body: str,
    data: dict,
    *,
    mustache: bool = False,
    partials: Callable[[str], str | None] = _no_partials,
    context: Mapping[str, Any] | None = None,
    escape: bool = False,
    max_output_chars: int = MAX_OUTPUT_CHARS,
    parsed: ParseResult | None = None,
) -> str:
    """Render a Handlebars (or Mustache) body (`parsed`: the analyser's tree of this same body, reused).

    `partials(name)` returns a partial's source or None; `context` supplies `@`-variables (Dotprompt
    passes `@state`, `@auth`, ... this way); `escape` turns on HTML escaping of `{{x}}` (off, as in
    Dotprompt). Dotprompt helpers render their markers (`<<<dotprompt:role:user>>>`, ...); split them
    with `promptls.documents.templates.dotprompt_messages.to_messages`. Syntax problems do not stop rendering:
    the parser recovers as the analyser does.
    """
    parsed = apply_whitespace(parsed) if parsed is not None else parse(body, mustache=mustache)
    if any(issue.kind == "too-deep" for issue in parsed.issues):
        # The parser dropped what lies too deep: rendering would silently lose text.
        raise RenderLimitError("template nesting is too deep to render")
    program = parsed.program
    renderer = HandlebarsRenderer(
        mustache=mustache, partials=partials, escape=escape, max_output_chars=max_output_chars
    )
    return renderer.render(program, data, context)


def render_jinja(
    body: str,
    data: dict,
    *,
    partials: Callable[[str], str | None] = _no_partials,
    max_output_chars: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render a Jinja2 body in a sandbox; undefined names render as empty text.

    `partials(name)` resolves `{% include %}` / `{% import %}` / `{% extends %}` sources.
    Raises `RenderError` for syntax or runtime errors, `RenderLimitError` past a bound.
    """
    # jinja2 loads on first use: importing promptls (and starting the server) must not pay for it.
    from promptls.documents.templates.jinja_render import render

    return render(body, data, partials=partials, max_output_chars=max_output_chars)
