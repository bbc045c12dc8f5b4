"""Totals over a whole check run: files, findings by severity, tokens and cost."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from promptls.core.findings import FileReport, Severity


@dataclass(slots=True)
class Summary:
    files: int = 0
    files_skipped: int = 0
    files_with_errors: int = 0
    by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    input_tokens: int = 0
    output_reserved_tokens: int = 0
    cost_usd: float | None = None  # sum over the files with a known cost; None when no file has one
    files_unpriced: int = 0  # analysed prompt files without a cost (unknown model or price)
    by_kind: dict[str, int] = field(default_factory=lambda: {"prompt": 0, "code": 0, "dataset": 0})
    calls: int = 0  # SDK call sites found in source files
    examples: int = 0  # dataset examples
    training_cost_usd: float | None = None  # sum over datasets with a known training price

    @property
    def findings(self) -> int:
        return sum(self.by_severity.values())

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "files_skipped": self.files_skipped,
            "files_with_errors": self.files_with_errors,
            "diagnostics": {sev.label: self.by_severity[sev] for sev in sorted(Severity, reverse=True)},
            "tokens": {"input": self.input_tokens, "output_reserved": self.output_reserved_tokens},
            "cost_usd": self.cost_usd,
            "files_unpriced": self.files_unpriced,
            "files_by_kind": dict(self.by_kind),
            "calls": self.calls,
            "dataset_examples": self.examples,
            "training_cost_usd": self.training_cost_usd,
        }


def summarize(reports: list[FileReport]) -> Summary:
    s = Summary(files=len(reports))
    costs: list[float] = []
    training: list[float] = []
    for r in reports:
        s.by_kind[r.kind] = s.by_kind.get(r.kind, 0) + 1
        for f in r.findings:
            s.by_severity[f.severity] += 1
        if any(f.severity is Severity.ERROR for f in r.findings):
            s.files_with_errors += 1
        if r.skipped is not None:
            s.files_skipped += 1
            continue
        if r.kind == "code":
            s.calls += len(r.calls)
            continue
        if r.kind == "dataset":
            if r.dataset is not None:
                s.examples += r.dataset.examples
                if r.dataset.training_cost_usd is not None:
                    training.append(r.dataset.training_cost_usd)
            continue
        if r.tokens is not None:
            s.input_tokens += r.tokens.input
            s.output_reserved_tokens += r.tokens.output_reserved
        if r.tokens is not None and r.tokens.cost_usd is not None:
            costs.append(r.tokens.cost_usd)
        else:
            s.files_unpriced += 1
    if costs:
        s.cost_usd = math.fsum(costs)
    if training:
        s.training_cost_usd = math.fsum(training)
    return s
