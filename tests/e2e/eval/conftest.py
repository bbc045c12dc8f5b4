"""Fixtures for the eval tests: loopback fakes of OpenAI, Anthropic and Ollama whose answers depend on the
request (a scripted reply per model and prompt text, so concurrent calls get the right answer), a workspace
with a promptls.toml pointing the providers at them, and a way to run `promptls eval` in-process."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.anthropic_fake import AnthropicFake  # noqa: E402
from tests.fakes.http import FakeServer, Fault, Request, StreamPlan  # noqa: E402
from tests.fakes.ollama_fake import OllamaFake  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

KEY_ENVS = {"openai": "PLS_EVAL_OPENAI_KEY", "anthropic": "PLS_EVAL_ANTHROPIC_KEY"}


class Scripted:
    """Mixin: the answer is the first scripted reply whose model matches (or is None) and whose needle occurs
    in the request's messages; else the fake's default tokens."""

    replies: list[tuple[str | None, str, str]]

    def reply(self, model: str | None, needle: str, answer: str) -> None:
        self.replies.append((model, needle, answer))

    def _tokens_for(self, req: Request, tokens: list[str]) -> list[str]:
        body = req.json()
        text = json.dumps(body.get("messages", []), ensure_ascii=False) + json.dumps(body.get("system", ""))
        for model, needle, answer in self.replies:
            if (model is None or model == body.get("model")) and needle in text:
                return re.findall(r"\S+\s*|\s+", answer) or [answer]
        return tokens

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        return super().plan(req, fault, self._tokens_for(req, tokens))  # type: ignore[misc]

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        return super().full_response(req, fault, self._tokens_for(req, tokens))  # type: ignore[misc]

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        self.replies = []


class ScriptedOpenAI(Scripted, OpenAIFake):
    pass


class ScriptedAnthropic(Scripted, AnthropicFake):
    pass


class ScriptedOllama(Scripted, OllamaFake):
    pass


class Fakes:
    def __init__(self) -> None:
        self.apps = {"openai": ScriptedOpenAI(), "anthropic": ScriptedAnthropic(), "ollama": ScriptedOllama()}
        for app in self.apps.values():
            app.replies = []
        self.servers = {k: FakeServer(a) for k, a in self.apps.items()}

    def url(self, kind: str) -> str:
        base = self.servers[kind].url
        return base + "/v1" if kind == "openai" else base

    def __getitem__(self, kind: str) -> Any:
        return self.apps[kind]


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    import anthropic  # noqa: F401  (import the SDKs once, outside any test's clock)
    import ollama  # noqa: F401
    import openai  # noqa: F401

    f = Fakes()
    for s in f.servers.values():
        s.start()
    yield f
    for s in f.servers.values():
        s.stop()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENVS["openai"], "sk-proj-" + secrets.token_urlsafe(30))
    monkeypatch.setenv(KEY_ENVS["anthropic"], "sk-ant-api03-" + secrets.token_urlsafe(40))


def promptls_toml(fakes: Fakes, tmp: Path, extra: str = "") -> str:
    return f"""
[providers.openai]
kind = "openai"
model = "gpt-4o-mini"
base_url = "{fakes.url('openai')}"
api_key_env = "{KEY_ENVS['openai']}"
timeout_s = 10

[providers.anthropic]
kind = "anthropic"
model = "claude-haiku-4-5"
base_url = "{fakes.url('anthropic')}"
api_key_env = "{KEY_ENVS['anthropic']}"
timeout_s = 10

[providers.ollama]
kind = "ollama"
model = "qwen2.5:0.5b"
base_url = "{fakes.url('ollama')}"
timeout_s = 10

[router]
run = ["openai"]
action = ["anthropic"]
max_attempts = 1

[cache]
path = "{tmp / 'state' / 'cache.sqlite3'}"

[budget]
ledger_path = "{tmp / 'state' / 'ledger.sqlite3'}"

[cost]
calls-per-month = 100000
{extra}
"""


class Workspace:
    def __init__(self, root: Path, fakes: Fakes) -> None:
        self.root = root
        self.fakes = fakes

    def config(self, extra: str = "") -> None:
        (self.root / "promptls.toml").write_text(promptls_toml(self.fakes, self.root, extra), "utf-8")

    def write(self, rel: str, text: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
        return p

    def copy_example(self, rel: str) -> Path:
        src = REPO / "examples" / "eval" / rel
        dst = self.root / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
        return dst

    def run(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        from promptls.cli import main

        capsys.readouterr()
        code = main(["eval", *args])
        out, err = capsys.readouterr()
        return code, out, err

    def run_json(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
        code, out, err = self.run(*args, "--format", "json", capsys=capsys)
        return code, (json.loads(out) if out.strip() else {}), err


@pytest.fixture
def ws(tmp_path: Path, fakes: Fakes, keys: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for app in fakes.apps.values():
        app.reset()
    monkeypatch.chdir(tmp_path)
    w = Workspace(tmp_path, fakes)
    w.config()
    return w


def script_capitals(fakes: Fakes, *, mini_wrong_on_japan: bool = False) -> None:
    o = fakes["openai"]
    o.reply("gpt-4o-mini", "Japan", '{"capital": "Kyoto"}' if mini_wrong_on_japan else '{"capital": "Tokyo"}')
    o.reply(None, "Japan", '{"capital": "Tokyo"}')
    o.reply(None, "France", '{"capital": "Paris"}')
    o.reply(None, "Peru", '{"capital": "Lima"}')
    fakes["anthropic"].reply(None, "<rubric>", '{"reason": "it names Lima", "pass": true, "score": 1}')
