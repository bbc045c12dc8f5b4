"""The router prices with the configuration's catalog: a price set under `[models]` in promptls.toml is what a
routed call costs in the ledger, so `promptls usage` (and the budgets) agree with the editor's figures."""

from __future__ import annotations

import json

import pytest

from promptls import config as cfgmod
from promptls.analysis.engine import analyze_path
from promptls.catalog import load_catalog
from promptls.cli import main
from promptls.core.figures import format_cost

PROMPT = """---
model: openai/gpt-4o-mini
config:
  temperature: 0
  maxOutputTokens: 64
input:
  schema:
    name: string
---
Say hello to {{name}}.
"""

# Far from any list price, so the bundled price cannot pass for it.
INPUT_PER_MTOK, OUTPUT_PER_MTOK = 1000.0, 2000.0


@pytest.fixture
def workspace(fakes, keys, tmp_path, monkeypatch):
    (tmp_path / "promptls.toml").write_text(f"""
[providers.fast]
kind = "openai"
model = "gpt-4o-mini"
base_url = "{fakes.url('openai')}"
api_key_env = "PLS_TEST_OPENAI_KEY"

[router]
run = ["fast"]
max_attempts = 1

[cache]
path = "{tmp_path / 'cache.sqlite3'}"

[budget]
ledger_path = "{tmp_path / 'ledger.sqlite3'}"

[models."gpt-4o-mini"]
input_per_mtok = {INPUT_PER_MTOK}
output_per_mtok = {OUTPUT_PER_MTOK}
""")
    (tmp_path / "hello.prompt").write_text(PROMPT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_usage_shows_the_price_configured_under_models(workspace, fakes, capsys):
    assert main(["run", "hello.prompt", "-i", "name=Ada", "--json", "--no-cache"]) == 0
    capsys.readouterr()
    assert main(["usage", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert row["calls"] == 1 and row["unpriced_calls"] == 0
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    configured = (row["input_tokens"] * INPUT_PER_MTOK + row["output_tokens"] * OUTPUT_PER_MTOK) / 1e6
    assert row["cost_usd"] == pytest.approx(configured)
    # the editor prices the same tokens with the same catalog
    cfg, _, _ = cfgmod.load(workspace)
    editor = load_catalog(cfg.models).price_call(row["model"], row["input_tokens"], row["output_tokens"])
    assert editor.cost_usd == pytest.approx(row["cost_usd"]) and editor.source.startswith("config")
    report = analyze_path(str(workspace / "hello.prompt"), cfg)[0]
    assert report.tokens is not None and report.tokens.cost_usd == pytest.approx(
        (report.tokens.input * INPUT_PER_MTOK + report.tokens.output_reserved * OUTPUT_PER_MTOK) / 1e6)
    assert main(["usage"]) == 0
    table = capsys.readouterr().out
    assert "gpt-4o-mini" in table and "total" in table
    assert format_cost(configured) in table.splitlines()[2]  # the row (then the total and the charts)
