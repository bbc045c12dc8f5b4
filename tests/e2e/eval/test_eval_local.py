"""`promptls eval` once against real local inference: the `local` provider (llama-cpp-python) on a tiny GGUF
written by the test. The tiny model's answer is gibberish by design, so the test checks that the run completes
with a result row answered by llama.cpp (tokens counted, free), not that the case passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # loads a real model

from tests.fakes.tiny_gguf import require_local_inference, write_tiny_gguf  # noqa: E402

require_local_inference()

PROMPT = """---
config:
  maxOutputTokens: 8
input:
  schema:
    word: string
---
{{role "user"}}
Repeat the word {{word}}.
"""

CASES = """providers: [local]
tests:
  - description: repeats hello
    vars:
      word: hello
    assert:
      - type: icontains
        value: hello
"""


def test_eval_runs_a_case_on_the_local_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    from promptls.cli import main

    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    (tmp_path / "promptls.toml").write_text(f"""
[providers.local]
kind = "local"
model = "tiny-test"
model_path = "{model}"
n_ctx = 512
timeout_s = 120

[router]
run = ["local"]
max_attempts = 1

[cache]
enabled = false

[budget]
ledger_path = "{tmp_path / 'ledger.sqlite3'}"
""", "utf-8")
    (tmp_path / "echo.prompt").write_text(PROMPT, "utf-8")
    (tmp_path / "echo.tests.yaml").write_text(CASES, "utf-8")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["eval", "echo.tests.yaml", "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err  # ran (pass or fail), not a usage/config error
    doc = json.loads(out)
    (row,) = doc["results"]
    assert row["case"] == "repeats hello" and row["provider"] == "local" and row["model"] == "tiny-test"
    assert row["tokens"] > 0 and row["cost_usd"] == 0.0 and row["latency_ms"] > 0
    assert not any(f["type"] == "error" for f in row["failures"]), row["failures"]  # answered, not a call failure
    assert row["pass"] == (code == 0)
    (m,) = doc["summary"]["models"]
    assert m["provider"] == "local" and m["cost_per_request_usd"] == 0.0
