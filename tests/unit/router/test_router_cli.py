"""`promptls run`, `doctor` and `usage` end to end against the loopback fakes (through the main CLI parser)."""

from __future__ import annotations

import json
import socket

import pytest
from tests.fakes.http import status_error

from promptls.cli import main

PROMPT = """---
model: openai/gpt-4o-mini
config:
  temperature: 0
input:
  schema:
    name: string
---
Say hello to {{name}}.
"""


def _toml(fakes, tmp_path, extra: str = "") -> None:
    (tmp_path / "promptls.toml").write_text(f"""
[providers.fast]
kind = "openai"
model = "gpt-4o-mini"
base_url = "{fakes.url('openai')}"
api_key_env = "PLS_TEST_OPENAI_KEY"

[providers.claude]
kind = "anthropic"
base_url = "{fakes.url('anthropic')}"
api_key_env = "PLS_TEST_ANTHROPIC_KEY"

[router]
completion = ["fast"]
action = ["fast"]
run = ["fast", "claude"]
max_attempts = 1

[cache]
path = "{tmp_path / 'cache.sqlite3'}"

[budget]
ledger_path = "{tmp_path / 'ledger.sqlite3'}"
{extra}
""")


@pytest.fixture
def workspace(fakes, keys, tmp_path, monkeypatch):
    _toml(fakes, tmp_path)
    (tmp_path / "hello.prompt").write_text(PROMPT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_streams_the_answer_then_a_summary(workspace, fakes, capsys):
    code = main(["run", "hello.prompt", "--input", "name=Ada"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == "".join(fakes["openai"].default_tokens)
    assert "fast (openai) gpt-4o-mini" in err and "cache miss" in err and "cost $" in err
    sent = fakes["openai"].calls[0].json()
    assert sent["messages"][-1]["content"].strip() == "Say hello to Ada."
    assert sent["temperature"] == 0


def test_run_json_reports_cache_hit_on_second_call(workspace, fakes, capsys):
    assert main(["run", "hello.prompt", "-i", "name=Bo", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["run", "hello.prompt", "-i", "name=Bo", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["cached"] is False and second["cached"] is True
    assert first["text"] == second["text"] and first["provider"] == "fast"
    assert first["usage"]["output_tokens"] == len(fakes["openai"].default_tokens)


def test_run_fails_over_along_the_chain_and_honours_chain_flag(workspace, fakes, capsys):
    fakes["openai"].push(status_error(503))
    assert main(["run", "hello.prompt", "-i", "name=Cy", "--no-cache", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["provider"] == "claude"
    assert main(["run", "hello.prompt", "-i", "name=Cy", "--no-cache", "--json", "--chain", "claude"]) == 0
    assert json.loads(capsys.readouterr().out)["provider"] == "claude"
    assert len(fakes["openai"].calls) == 1


def test_run_reports_missing_inputs_and_errors(workspace, fakes, capsys):
    assert main(["run", "hello.prompt"]) == 2
    assert "name" in capsys.readouterr().err
    fakes["openai"].push(status_error(400, error="bad_request"))
    assert main(["run", "hello.prompt", "-i", "name=Di", "--no-cache"]) == 1
    assert "bad_request" in capsys.readouterr().err


def test_usage_summarises_the_ledger(workspace, fakes, capsys):
    main(["run", "hello.prompt", "-i", "name=Ed", "--json"])
    main(["run", "hello.prompt", "-i", "name=Ed", "--json"])
    capsys.readouterr()
    assert main(["usage", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    (row,) = rows
    assert row["provider"] == "fast" and row["calls"] == 2 and row["cache_hits"] == 1
    assert main(["usage"]) == 0
    table = capsys.readouterr().out
    assert "gpt-4o-mini" in table and "total" in table


def test_doctor_reports_keys_without_values_and_fails_on_dead_chain(workspace, fakes, keys, capsys):
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["providers"]["fast"]["ok"] and report["providers"]["claude"]["ok"]
    assert report["providers"]["fast"]["key_present"] is True
    text = json.dumps(report)
    for key in keys.values():
        assert key not in text
    # A chain whose only provider is down: exit 1.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    cfg = (workspace / "promptls.toml").read_text()
    cfg = cfg.replace(fakes.url("anthropic"), f"http://127.0.0.1:{dead}").replace('run = ["fast", "claude"]',
                                                                                    'run = ["claude"]')
    (workspace / "promptls.toml").write_text(cfg)
    assert main(["doctor"]) == 1
    out, err = capsys.readouterr()
    assert "run" in err and "claude" in out
