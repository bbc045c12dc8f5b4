"""`promptls check` on a mixed repository: prompt files, Python and TypeScript that call the SDKs, fine-tuning
datasets (named by glob and recognised by content), and files that must be left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROMPT = """---
model: gpt-5.2
config:
  maxOutputTokens: 200
---
Summarise the ticket in one sentence.
"""
PY = """import anthropic

client = anthropic.Anthropic(timeout=30)
reply = client.messages.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
"""
PLAIN_PY = "def add(a, b):\n    return a + b\n"
TS = """import OpenAI from "openai";
const openai = new OpenAI();
export const go = () => openai.chat.completions.create({ model: "gpt-5.2", temperature: 3, messages: [] });
"""


def example(i: int) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                    {"role": "assistant", "content": f"Answer {i}."}]})


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mixed")
    (root / "prompts").mkdir()
    (root / "prompts" / "summary.prompt").write_text(PROMPT)
    (root / "app").mkdir()
    (root / "app" / "bot.py").write_text(PY)
    (root / "app" / "util.py").write_text(PLAIN_PY)
    (root / "web").mkdir()
    (root / "web" / "triage.ts").write_text(TS)
    (root / "node_modules" / "openai").mkdir(parents=True)
    (root / "node_modules" / "openai" / "index.js").write_text(TS)  # vendored code is skipped
    (root / "data").mkdir()
    rows = [example(i) for i in range(12)]
    rows[2] = rows[1]  # a duplicate
    (root / "data" / "train.jsonl").write_text("\n".join(rows) + "\n")  # named by the default globs
    (root / "exports").mkdir()
    (root / "exports" / "conversations.jsonl").write_text("\n".join(example(i) for i in range(3)) + "\n")  # sniffed
    (root / "exports" / "events.jsonl").write_text('{"ts": 1, "event": "login"}\n{"ts": 2, "event": "logout"}\n')
    return root


def check(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "promptls", "check", ".", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_json_report_covers_each_kind(repo: Path):
    res = check(repo, "--format", "json")
    assert res.returncode == 1, res.stderr  # SD001 and SD002 are errors
    data = json.loads(res.stdout)
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {"prompts/summary.prompt", "app/bot.py", "app/util.py", "web/triage.ts",
                          "data/train.jsonl", "exports/conversations.jsonl"}
    kinds = {p: f["kind"] for p, f in files.items()}
    assert kinds["prompts/summary.prompt"] == "prompt" and kinds["web/triage.ts"] == "code"
    assert kinds["exports/conversations.jsonl"] == "dataset"
    codes = {p: sorted({d["code"] for d in f["diagnostics"]}) for p, f in files.items()}
    assert "SD001" in codes["app/bot.py"] and codes["app/util.py"] == []
    assert {"SD002", "SD003"} <= set(codes["web/triage.ts"])
    assert "DS009" in codes["data/train.jsonl"]
    assert "DS013" in codes["exports/conversations.jsonl"]  # 3 examples: too few to fine-tune
    train = files["data/train.jsonl"]["dataset"]
    assert train["examples"] == 12 and train["format"] == "chat"
    assert train["billed_tokens"] == train["total_tokens"] * train["epochs"]
    dup = next(d for d in files["data/train.jsonl"]["diagnostics"] if d["code"] == "DS009")
    assert dup["range"]["start"]["line"] == 2
    assert files["app/bot.py"]["calls"][0]["model"] == "claude-haiku-4-5"
    summary = data["summary"]
    assert summary["files_by_kind"] == {"prompt": 1, "code": 3, "dataset": 2}
    assert summary["calls"] == 2 and summary["dataset_examples"] == 15


def test_text_sarif_and_selection_agree(repo: Path):
    text = check(repo, "--select", "SD,DS")
    lines = text.stdout.splitlines()
    assert any(line.startswith("app/bot.py:4:") and " SD001 " in line for line in lines)
    assert any(line.startswith("data/train.jsonl:3:") and " DS009 " in line for line in lines)
    assert any("chat dataset · 12 examples" in line for line in lines)
    assert not any(" TK0" in line for line in lines)  # not selected
    github = check(repo, "--format", "github").stdout.splitlines()
    assert any(line.startswith("::warning") and "file=data/train.jsonl,line=3" in line and "DS009" in line
               for line in github), github
    sarif = json.loads(check(repo, "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"SD001", "DS009"} <= {r["ruleId"] for r in results} <= rule_ids


def test_config_turns_code_and_sniffing_off(repo: Path, tmp_path: Path):
    cfg = tmp_path / "promptls.toml"
    cfg.write_text('[code]\nlanguages = []\n\n[datasets]\nsniff = false\n')
    data = json.loads(check(repo, "--format", "json", "--config", str(cfg)).stdout)
    assert {f["path"] for f in data["files"]} == {"prompts/summary.prompt", "data/train.jsonl"}
