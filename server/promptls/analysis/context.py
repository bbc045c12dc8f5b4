"""What rules may consult besides the document: config, the model catalog, partial lookup, today's date, and the
measurement (tokens and cost of every call, `measure.py`) made before they run."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from promptls.config import Config
from promptls.core.findings import Finding, Fix, Severity
from promptls.core.positions import Span
from promptls.core.registry import rule
from promptls.documents.partials import PartialLookup, fs_partials

if TYPE_CHECKING:
    from promptls.analysis.measure import Measurement

# The language server imports this module at start-up (hover text builds a Context); measuring and the catalog
# pull in the parsers, YAML and the model table, which only the first analysis needs: both load on first use.


def _no_measurement() -> Measurement:
    from promptls.analysis.measure import Measurement

    return Measurement()


@dataclass
class Context:
    config: Config
    partials: PartialLookup = fs_partials
    today: _dt.date = field(default_factory=_dt.date.today)
    # Online exact counts, injected by cli/ or lsp/ (providers/counting.py): (model, provider, tokenizer, rendered
    # messages, tool definitions) -> (tokens, label) or None. analysis/ itself never talks to a provider.
    online_count: Callable[..., tuple[int, str] | None] | None = None
    # Set by the engine before the rules run; the rules only read it.
    measurement: Measurement = field(default_factory=_no_measurement)

    @cached_property
    def catalog(self):
        from promptls.catalog import catalog_for

        return catalog_for(self.config)  # built once per configuration, not per analysis

    def finding(self, code: str, message: str, span: Span, *, fixes: tuple[Fix, ...] = (),
                severity: Severity | None = None, **data: Any) -> Finding:
        return Finding(code, severity or rule(code).severity, message, span, fixes, dict(data))
