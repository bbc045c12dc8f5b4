"""Renders `promptls check` results in one of the CLI's output formats: text, json, sarif or github."""

from __future__ import annotations

from collections.abc import Callable

from promptls.core.findings import FileReport
from promptls.output.github import render_github
from promptls.output.json_report import render_json
from promptls.output.sarif import render_sarif
from promptls.output.text import render_text

_RENDERERS: dict[str, Callable[..., str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def render(fmt: str, reports: list[tuple[FileReport, str]], *, root: str, color: bool | None = None,
           calls_per_month: int | None = None) -> str:
    """Render `(report, file text)` pairs; `root` is the directory paths are shown relative to.

    `color` applies to `text` only (None: decide from stdout and NO_COLOR); `calls_per_month` (`[cost]
    calls-per-month`) adds the monthly cost to `json`.
    """
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}: use one of {', '.join(FORMATS)}") from None
    if fmt == "text":
        return renderer(reports, root=root, color=color)
    if fmt == "json":
        return renderer(reports, root=root, calls_per_month=calls_per_month)
    return renderer(reports, root=root)


__all__ = ["FORMATS", "render"]
