"""What rules may consult besides the document: config, the model catalog, partial lookup, today's date, and the
measurement (tokens and cost of every call, `measure.py`) made before they run."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from promptls.analysis.measure import Measurement
from promptls.catalog import catalog_for
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
    # Online exact counts, injected by cli/ or lsp/ (providers/counting.py): (model, provider, tokenizer, rendered
    # messages, tool definitions) -> (tokens, label) or None. analysis/ itself never talks to a provider.
    online_count: Callable[..., tuple[int, str] | None] | None = None
    # Set by the engine before the rules run; the rules only read it.
    measurement: Measurement = field(default_factory=Measurement)

    @cached_property
    def catalog(self):
        return catalog_for(self.config)  # built once per configuration, not per analysis

    def finding(self, code: str, message: str, span: Span, *, fixes: tuple[Fix, ...] = (),
                severity: Severity | None = None, **data: Any) -> Finding:
        return Finding(code, severity or rule(code).severity, message, span, fixes, dict(data))
