"""The result types of analysis: findings (with stable rule codes), their fixes, and a per-file report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from promptls.core.positions import Span


class Severity(enum.IntEnum):
    """Ordered so that a larger value is more severe (for --fail-on comparisons)."""

    HINT = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {name!r}: use error, warning, info or hint") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `span` of the analysed document with `new_text`."""

    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False
    create_files: tuple[tuple[str, str], ...] = ()  # (absolute path, content) of new files the fix writes


@dataclass(frozen=True, slots=True)
class Related:
    """A place that explains a finding, possibly in another file: where the client of a call was created, where a
    constant it passes is written. `line` is 0-based; columns are code points on that line."""

    path: str
    line: int
    col: int
    end_col: int
    message: str


@dataclass(slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    span: Span
    fixes: tuple[Fix, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    related: list[Related] = field(default_factory=list)


@dataclass(slots=True)
class MessageTokens:
    role: str
    tokens: int
    span: Span | None = None


@dataclass(slots=True)
class TokenReport:
    """What one call of this prompt costs in tokens and money, and how sure we are."""

    tokenizer: str
    exact: bool
    input: int
    output_reserved: int
    messages: list[MessageTokens] = field(default_factory=list)
    cost_usd: float | None = None
    rendered_with: str = ""  # e.g. "defaults and samples for: topic, style"
    error_pct: int | None = None  # an estimate's measured error bound, "≈ ±N%" (None: exact, or unmeasured)


@dataclass(slots=True)
class FileReport:
    path: str
    dialect: str
    model: str | None
    findings: list[Finding]
    tokens: TokenReport | None = None
    skipped: str | None = None  # reason the file was not analysed (binary, too large, ...)
    kind: str = "prompt"  # "prompt" | "code" | "dataset"
    dataset: Any = None  # datasets.DatasetSummary for fine-tuning datasets
    calls: list[Any] = field(default_factory=list)  # code.estimate.CallEstimate per SDK call site
    locator: Any = None  # maps spans to positions when the text is not kept (streamed datasets)
