"""What rules may consult besides the document: config, the model catalog, partial lookup, today's date."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from promptls.config import Config
from promptls.core.findings import Finding, Fix, Severity
from promptls.core.positions import Span
from promptls.core.registry import rule
from promptls.documents.partials import PartialLookup, fs_partials


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

        models = self.config.models
        return self.config.derived("catalog", models, lambda: load_catalog(models or None))

    def finding(self, code: str, message: str, span: Span, *, fixes: tuple[Fix, ...] = (),
                severity: Severity | None = None, **data: Any) -> Finding:
        return Finding(code, severity or rule(code).severity, message, span, fixes, dict(data))
