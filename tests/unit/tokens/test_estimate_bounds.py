"""Estimates with error bars: the bounds in data/estimate_bounds.json are what bench/bench_estimates.py measures,
and the JSON report and the figures text (lens, hover, check) carry them."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from promptls.tokens import ESTIMATES, counter_for_tokenizer, extra
from promptls.tokens.estimates import measured_bound

REPO = Path(__file__).resolve().parents[3]


def _bounds() -> dict:
    return json.loads(resources.files("promptls").joinpath("data", "estimate_bounds.json").read_text("utf-8"))


def test_every_estimate_has_a_bound_or_says_why_not() -> None:
    methods = _bounds()["methods"]
    assert set(methods) == set(ESTIMATES)
    for family, m in methods.items():
        if m["bound_pct"] is None:
            assert family in ("claude", "gemini") and m["note"]
        else:
            assert isinstance(m["bound_pct"], int) and m["references"]
            assert m["bound_pct"] >= max(abs(m["low_pct"]), abs(m["high_pct"]))
        assert measured_bound(family) == m["bound_pct"]
        assert counter_for_tokenizer(f"estimate:{family}").error_pct == m["bound_pct"]


def test_the_data_file_is_what_the_bench_measures_now() -> None:
    if not all(extra.available(t) for t in ("llama3", "qwen", "deepseek-v4", "mistral-common:")):
        pytest.skip("promptls[tokenizers] is not installed: the bench has no exact references")
    spec = importlib.util.spec_from_file_location("bench_estimates", REPO / "bench" / "bench_estimates.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fresh = bench.measure()
    recorded = _bounds()
    assert fresh["meta"]["corpus_sha256"] == recorded["meta"]["corpus_sha256"]
    assert {k: v["bound_pct"] for k, v in fresh["methods"].items()} == \
        {k: v["bound_pct"] for k, v in recorded["methods"].items()}


def test_reports_carry_the_bound(tmp_path: Path) -> None:
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config
    from promptls.core.figures import of_report
    from promptls.output.json_report import report_object

    path = tmp_path / "a.prompt"
    path.write_text("---\nmodel: ollama/llama2\nconfig:\n  maxOutputTokens: 50\n---\nBonjour, hello.\n", "utf-8")
    report, _ = analyze_path(str(path), Config(), today=date(2026, 12, 7))
    bound = measured_bound("llama")
    assert report.tokens.tokenizer == "estimate:llama" and report.tokens.error_pct == bound
    assert f"(≈ ±{bound}%; " in of_report(report.tokens).long
    doc = report_object([(report, path.read_text("utf-8"))], root=str(tmp_path))
    assert doc["files"][0]["tokens"]["error_pct"] == bound
    exact = tmp_path / "b.prompt"
    exact.write_text("---\nmodel: gpt-4o\n---\nHello.\n", "utf-8")
    report, _ = analyze_path(str(exact), Config(), today=date(2026, 12, 7))
    assert report.tokens.exact and report.tokens.error_pct is None and "≈" not in of_report(report.tokens).long
