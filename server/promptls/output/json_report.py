"""`--format json`: the versioned machine-readable report that CI consumers parse.

Lines and characters are 0-based; characters count Unicode code points (not UTF-16 units).
The key set is a contract: add keys only with a new `version`.
"""

from __future__ import annotations

import json
from typing import Any

from promptls.core.figures import monthly_usd
from promptls.core.findings import FileReport
from promptls.core.positions import Pos
from promptls.output.located import LocatedFile, locate
from promptls.output.summary import summarize

# 2: `kind`, `dataset`, `calls` per file; kinds, calls and examples in the summary. 3: tokens.error_pct.
# 4: `monthly_usd` per file and per call (cost per call x `[cost] calls-per-month`; null when either is unknown).
VERSION = 4


def _pos(p: Pos) -> dict[str, int]:
    return {"line": p.line, "character": p.character}


def _file(lf: LocatedFile, calls_per_month: int | None = None) -> dict[str, Any]:
    r = lf.report
    analysed = r.skipped is None and r.tokens is not None
    tokens = r.tokens if analysed else None
    diagnostics = []
    for f in lf.findings:
        rng = lf.range(f.span)
        diagnostics.append(
            {
                "code": f.code,
                "severity": f.severity.label,
                "message": f.message,
                "range": {"start": _pos(rng.start), "end": _pos(rng.end)},
            }
        )
    return {
        "path": lf.path,
        "kind": r.kind,
        "dialect": r.dialect,
        "model": r.model,
        "tokenizer": tokens.tokenizer if tokens else None,
        "exact": tokens.exact if tokens else False,
        "tokens": (
            {
                "input": tokens.input,
                "output_reserved": tokens.output_reserved,
                # an estimate's measured error bound in percent (bench/bench_estimates.py); null when exact/unmeasured
                "error_pct": tokens.error_pct,
                "messages": [{"role": m.role, "tokens": m.tokens} for m in tokens.messages],
            }
            if tokens
            else None
        ),
        "cost_usd": tokens.cost_usd if tokens else None,
        "monthly_usd": monthly_usd(tokens.cost_usd, calls_per_month) if tokens else None,
        "skipped": r.skipped,
        "dataset": r.dataset.to_json() if r.dataset is not None else None,
        "calls": [_call(lf, c, calls_per_month) for c in r.calls] if r.calls else None,
        "diagnostics": diagnostics,
    }


def _call(lf: LocatedFile, est: Any, calls_per_month: int | None = None) -> dict[str, Any]:
    """One SDK call site: where, which API, and what the code states about tokens and cost."""
    rng = lf.range(est.site.span)
    return {"sdk": est.site.sdk, "api": est.site.api, "model": est.model,
            "range": {"start": _pos(rng.start), "end": _pos(rng.end)},
            "input_tokens": est.input_tokens, "input_complete": est.complete, "max_output": est.output_tokens,
            "tokenizer": est.tokenizer, "cost_usd": est.cost_usd,
            "monthly_usd": monthly_usd(est.cost_usd, calls_per_month)}


def report_object(reports: list[tuple[FileReport, str]], *, root: str,
                  calls_per_month: int | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict (what `render_json` serialises)."""
    return {
        "version": VERSION,
        "files": [_file(lf, calls_per_month) for lf in locate(reports, root)],
        "summary": summarize([r for r, _ in reports]).to_json(),
    }


def render_json(reports: list[tuple[FileReport, str]], *, root: str, calls_per_month: int | None = None) -> str:
    # ASCII-only output survives any stdout encoding; every JSON parser decodes the \u escapes.
    # One line, no indentation: the C encoder (indentation forces the pure-Python one, ~10x slower on big runs).
    return json.dumps(report_object(reports, root=root, calls_per_month=calls_per_month)) + "\n"
