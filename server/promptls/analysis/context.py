"""What rules may consult besides the document: config, the model catalog, partial lookup, today's date."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from promptls.analysis.findings import Finding, Fix, Severity
from promptls.analysis.registry import rule
from promptls.config import Config
from promptls.positions import Span

# (name, from_path) -> (path, text) of the partial, or None
PartialLookup = Callable[[str, str], "tuple[str, str] | None"]


def fs_partials(name: str, from_path: str) -> tuple[str, str] | None:
    """Dotprompt's directory convention: `{{> name}}` is `_name.prompt` beside the prompt (then `name.prompt`)."""
    folder = Path(from_path).parent
    for cand in (folder / f"_{name}.prompt", folder / f"{name}.prompt", folder / "partials" / f"_{name}.prompt"):
        try:
            if cand.is_file():
                return str(cand), cand.read_text("utf-8", errors="replace")
        except OSError:
            continue
    return None


@dataclass
class Context:
    config: Config
    partials: PartialLookup = fs_partials
    today: _dt.date = field(default_factory=_dt.date.today)
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def catalog(self):
        from promptls.catalog import load_catalog

        return load_catalog(self.config.models or None)

    def finding(self, code: str, message: str, span: Span, *, fixes: tuple[Fix, ...] = (),
                severity: Severity | None = None, **data: Any) -> Finding:
        return Finding(code, severity or rule(code).severity, message, span, fixes, dict(data))
