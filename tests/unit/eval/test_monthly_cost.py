"""Monthly cost wherever cost appears once `[cost] calls-per-month` is set: the figures' one written form and
`promptls check --format json` (the lens and hover are tested over LSP in tests/e2e/test_eval_lsp.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptls.core.figures import CallFigures, monthly_usd

PROMPT = """---
model: gpt-4o-mini
config:
  maxOutputTokens: 200
---
Summarise the plot of Hamlet in two sentences.
"""


def test_cost_text_adds_the_month_only_when_calls_per_month_is_set():
    assert CallFigures(29, 256, cost_usd=0.000068).cost_text == "$0.000068/call"
    fig = CallFigures(29, 256, cost_usd=0.000068, calls_per_month=100_000)
    assert fig.monthly_usd == pytest.approx(6.8)
    assert fig.cost_text == "$0.000068/call · $6.80/month"
    assert fig.long == "285 tokens (29 input + 256 output) · $0.000068/call · $6.80/month"
    assert CallFigures(29, 0, calls_per_month=1000).cost_text is None  # no price, no month
    assert monthly_usd(0.5, 0) == 0 and monthly_usd(None, 10) is None and monthly_usd(0.5, None) is None


@pytest.mark.parametrize("cpm", [None, 250_000])
def test_check_json_has_monthly_usd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, cpm):
    from promptls.cli import main

    (tmp_path / "p.prompt").write_text(PROMPT, "utf-8")
    if cpm is not None:
        (tmp_path / "promptls.toml").write_text(f"[cost]\ncalls-per-month = {cpm}\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    main(["check", "--format", "json", "p.prompt"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 4
    (f,) = doc["files"]
    assert f["cost_usd"] > 0
    if cpm is None:
        assert f["monthly_usd"] is None
    else:
        assert f["monthly_usd"] == pytest.approx(f["cost_usd"] * cpm)
