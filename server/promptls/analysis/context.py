"""What rules may consult besides the document: config, the model catalog, partial lookup, today's date."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from promptls import safe_read
from promptls.analysis.findings import Finding, Fix, Severity
from promptls.analysis.registry import rule
from promptls.config import Config
from promptls.positions import Span

# (name, from_path) -> (path, text) of the partial, or None
PartialLookup = Callable[[str, str], "tuple[str, str] | None"]


def partial_candidates(name: str, from_path: str) -> tuple[Path, ...]:
    """Dotprompt's directory convention: `{{> name}}` is `_name.prompt` beside the prompt (then `name.prompt`)."""
    folder = Path(from_path).parent
    return folder / f"_{name}.prompt", folder / f"{name}.prompt", folder / "partials" / f"_{name}.prompt"


def read_partial(path: str | Path) -> tuple[str, str | None]:
    """A partial file's text, or "" and why it was not read (no regular file, above the cap for referenced
    files); missing files raise FileNotFoundError."""
    try:
        return safe_read.read_text(path, errors="replace"), None
    except safe_read.Refused as e:
        if e.missing:
            raise FileNotFoundError(path) from None
        return "", e.reason


def fs_partials(name: str, from_path: str) -> tuple[str, str] | None:
    """The first partial candidate that exists, as (path, text). One that is there but not read (a FIFO, a
    device, a huge file) counts as found and empty: the references rule says why (RF004)."""
    for cand in partial_candidates(name, from_path):
        try:
            return str(cand), read_partial(cand)[0]
        except FileNotFoundError:
            continue
    return None


@dataclass
class Context:
    config: Config
    partials: PartialLookup = fs_partials
    today: _dt.date = field(default_factory=_dt.date.today)
    extra: dict[str, Any] = field(default_factory=dict)
    # Online exact counts, injected by cli/ or lsp/ (providers/counting.py): (model, provider, tokenizer, rendered
    # messages, tool definitions) -> (tokens, label) or None. analysis/ itself never talks to a provider.
    online_count: Callable[..., tuple[int, str] | None] | None = None

    @cached_property
    def catalog(self):
        from promptls.catalog import load_catalog

        return load_catalog(self.config.models or None)

    def finding(self, code: str, message: str, span: Span, *, fixes: tuple[Fix, ...] = (),
                severity: Severity | None = None, **data: Any) -> Finding:
        return Finding(code, severity or rule(code).severity, message, span, fixes, dict(data))
