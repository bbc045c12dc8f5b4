"""An evaluation as a table (model x case, then per model: pass rate, p50/p95 latency, tokens, cost per request
and per month, the recommendation), as JSON (`version: 1`), or as JUnit XML (one testcase per model x case)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from promptls.eval.runner import CaseResult, EvalReport, ModelSummary


def _r(v: float | None, nd: int) -> float | None:
    return None if v is None else round(v, nd)


def to_json(report: EvalReport) -> dict[str, Any]:
    return {
        "version": 1,
        "results": [{
            "prompt": r.prompt,
            "provider": r.provider,
            "model": r.model,
            "case": r.case.description,
            "pass": r.passed,
            "score": round(r.score, 4),
            "cost_usd": _r(r.cost_usd, 8),
            "latency_ms": _r(r.latency_ms, 1),
            "tokens": r.input_tokens + r.output_tokens,
            "cached": r.cached,
            "failures": r.failures,
        } for r in report.results],
        "summary": {
            "models": [_model_json(m) for m in report.models],
            "recommended": None if report.recommended is None else {
                "provider": report.recommended.provider, "model": report.recommended.model},
        },
    }


def _model_json(m: ModelSummary) -> dict[str, Any]:
    return {
        "provider": m.provider,
        "model": m.model,
        "pass_rate": round(m.pass_rate, 4),
        "cost_per_request_usd": _r(m.cost_per_request_usd, 8),
        "monthly_usd": _r(m.monthly_usd, 4),
        "p50_latency_ms": _r(m.p50_latency_ms, 1),
    }


def render_json(report: EvalReport) -> str:
    return json.dumps(to_json(report), indent=2) + "\n"


def render_junit(report: EvalReport) -> str:
    root = ET.Element("testsuites", name="promptls eval")
    by_model: dict[tuple[str, str], list[CaseResult]] = {}
    for r in report.results:
        by_model.setdefault((r.provider, r.model), []).append(r)
    total = failures = 0
    for (provider, model), rs in by_model.items():
        n_fail = sum(not r.passed for r in rs)
        suite = ET.SubElement(root, "testsuite", name=f"{provider} {model}".strip(), tests=str(len(rs)),
                              failures=str(n_fail), errors="0",
                              time=f"{sum((r.latency_ms or 0.0) for r in rs) / 1000:.3f}")
        for r in rs:
            name = r.case.description + (f" (repeat {r.repeat + 1})" if r.repeat else "")
            tc = ET.SubElement(suite, "testcase", classname=f"{r.prompt} [{provider} {model}]".strip(), name=name,
                               time=f"{(r.latency_ms or 0.0) / 1000:.3f}", file=r.case.path, line=str(r.case.line))
            if not r.passed:
                lines = [f"{f['file']}:{f['line']}: {f['type']}: {f['message']}" for f in r.failures] or [
                    f"score {r.score:.2f} below the threshold {r.case.threshold}"]
                fail = ET.SubElement(tc, "failure", message=lines[0][:300], type="error" if r.error else "assertion")
                fail.text = "\n".join(lines) + (f"\n--- output ---\n{r.output}" if r.output else "")
            props = ET.SubElement(tc, "properties")
            for k, v in (("cached", str(r.cached).lower()), ("score", f"{r.score:.4f}"),
                         ("cost_usd", "" if r.cost_usd is None else f"{r.cost_usd:.8f}"),
                         ("tokens", str(r.input_tokens + r.output_tokens))):
                ET.SubElement(props, "property", name=k, value=v)
        total += len(rs)
        failures += n_fail
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _usd(v: float | None, nd: int = 6) -> str:
    return "?" if v is None else f"{v:.{nd}f}"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def render_table(report: EvalReport) -> str:
    lines: list[str] = []
    w_case = min(40, max([4, *(len(r.case.description) for r in report.results)]))
    w_model = min(36, max([5, *(len(f"{r.provider} {r.model}") for r in report.results)]))
    prompt = None
    for r in report.results:
        if r.prompt != prompt:
            prompt = r.prompt
            lines += ["", f"{prompt}",
                      f"  {'model':<{w_model}}  {'case':<{w_case}}  {'':4}  {'score':>5}  {'ms':>6}  {'tokens':>6}  "
                      f"{'$':>10}  cache"]
        mark = "PASS" if r.passed else "FAIL"
        desc = r.case.description if len(r.case.description) <= w_case else r.case.description[: w_case - 1] + "…"
        lines.append(f"  {f'{r.provider} {r.model}'[:w_model]:<{w_model}}  {desc:<{w_case}}  {mark}  "
                     f"{r.score:>5.2f}  {_ms(r.latency_ms):>6}  {r.input_tokens + r.output_tokens:>6}  "
                     f"{_usd(r.cost_usd):>10}  {'hit' if r.cached else ''}")
        for f in r.failures:
            lines.append(f"      {f['file']}:{f['line']}: {f['type']}: {f['message']}")
    cpm = report.settings.calls_per_month
    lines += ["", f"  {'model':<{w_model}}  {'pass rate':>9}  {'p50 ms':>7}  {'p95 ms':>7}  {'tokens':>7}  "
                  f"{'$/request':>10}  {'$/month':>10}  targets"]
    for m in report.models:
        monthly = "set cost.calls-per-month" if cpm is None else _usd(m.monthly_usd, 2)
        lines.append(f"  {f'{m.provider} {m.model}'[:w_model]:<{w_model}}  {m.pass_rate:>8.0%}  "
                     f"{_ms(m.p50_latency_ms):>7}  {_ms(m.p95_latency_ms):>7}  {m.tokens_per_request:>7.0f}  "
                     f"{_usd(m.cost_per_request_usd):>10}  {monthly:>10}  {'met' if m.meets_targets else 'missed'}")
    s = report.settings
    targets = f"accuracy >= {s.accuracy_target:.0%}" + (
        f", p50 latency <= {s.latency_target_ms:.0f} ms" if s.latency_target_ms is not None else "")
    rec = report.recommended
    lines.append("")
    lines.append(f"recommended: {rec.provider} {rec.model} (cheapest meeting {targets})" if rec
                 else f"recommended: none (no model meets {targets})")
    n_pass = sum(r.passed for r in report.results)
    cached = sum(r.cached for r in report.results)
    lines.append(f"{n_pass}/{len(report.results)} passed, {cached} from cache, spent ${report.spent_usd:.6f}")
    return "\n".join(lines).lstrip("\n") + "\n"


def render(fmt: str, report: EvalReport) -> str:
    return {"json": render_json, "junit": render_junit}.get(fmt, render_table)(report)
