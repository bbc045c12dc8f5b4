"""`promptls usage` draws spend per day, provider and model as bar charts, from a ledger filled by real routed calls
against the loopback fakes (plus one earlier day written through the ledger's own API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from tests.unit.router.test_router_cli import PROMPT, _toml

from promptls.cli import main
from promptls.core.figures import format_cost
from promptls.providers.base import Usage
from promptls.router.ledger import Ledger

DAY_S = 86_400


@pytest.fixture
def filled(fakes, keys, tmp_path, monkeypatch, capsys):
    """Two calls through `fast` (OpenAI fake), one through `claude` (Anthropic fake), one older day in the ledger."""
    _toml(fakes, tmp_path)
    (tmp_path / "hello.prompt").write_text(PROMPT)
    monkeypatch.chdir(tmp_path)
    for name in ("Ada", "Bo"):
        assert main(["run", "hello.prompt", "-i", f"name={name}", "--no-cache", "--json"]) == 0
    assert main(["run", "hello.prompt", "-i", "name=Cy", "--no-cache", "--json", "--chain", "claude"]) == 0
    capsys.readouterr()
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.record(ts=time.time() - 2 * DAY_S, provider="fast", kind="openai", model="gpt-4o-mini",
                  usage=Usage(input_tokens=40_000, output_tokens=20_000), cost_usd=0.018, purpose="run")
    ledger.close()
    return tmp_path


def _usage_json(capsys) -> dict:
    assert main(["usage", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keeps_rows_and_adds_series_that_sum_them(filled, capsys):
    doc = _usage_json(capsys)
    rows = doc["rows"]
    assert {"since", "ledger", "rows"} <= doc.keys()
    assert {r["provider"] for r in rows} == {"fast", "claude"}
    total = sum(r["cost_usd"] for r in rows)
    for name in ("day", "provider", "model"):
        series = doc["series"][name]
        assert sum(a["calls"] for a in series) == sum(r["calls"] for r in rows) == 4
        assert sum(a["cost_usd"] for a in series) == pytest.approx(total)
    days = [a["key"] for a in doc["series"]["day"]]
    assert days == sorted(days) and len(days) == 2


def test_terminal_chart_scales_bars_to_the_largest_and_writes_money_once(filled, capsys):
    series = _usage_json(capsys)["series"]
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    for name in ("day", "provider", "model"):
        assert f"spend per {name}" in out
        section = out.split(f"spend per {name}\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert len(section) == len(series[name])
        largest = max(a["cost_usd"] for a in series[name])
        for line, a in zip(section, series[name], strict=True):
            assert a["key"][:28] in line
            money = format_cost(a["cost_usd"])
            assert f"  {money}" in line
            if a["cost_usd"] > 0:
                assert money != "$0"  # never a non-zero cost written as zero
            bar = "".join(ch for ch in line if ch in "█▏▎▍▌▋▊▉")
            cells = bar.count("█") + (len(bar) - bar.count("█")) / 8
            if a["cost_usd"] == largest:
                assert bar == "█" * 30
            elif a["cost_usd"] > 0:
                assert bar, line  # the smallest non-zero spend is still drawn
                assert cells == pytest.approx(30 * a["cost_usd"] / largest, abs=1)
    # today's calls cost a tiny fraction of the older day's 1.8 cents, yet their spend is written, not rounded away
    today = series["day"][-1]
    assert 0 < today["cost_usd"] < 0.001 and format_cost(today["cost_usd"]) in out


def test_ascii_terminal_gets_hash_bars(filled, capsys):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run([sys.executable, "-m", "promptls", "usage"], cwd=filled, env=env, capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = proc.stdout.decode("ascii")  # raises if a single non-ASCII byte slipped through
    assert "spend per provider" in out and "#" * 30 in out
    assert "$0.018" in out
