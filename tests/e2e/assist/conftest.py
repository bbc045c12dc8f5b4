"""Fixtures for the assist tests: loopback fakes (OpenAI chat, Ollama for FIM) in this process, the real server
over stdio (pytest-lsp) configured to use them, and a recording `workspace/applyEdit` handler."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from tests.e2e.conftest import close

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.http import FakeServer  # noqa: E402
from tests.fakes.ollama_fake import OllamaFake  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

KEY_ENV = "PLS_ASSIST_TEST_KEY"
# A fake key made at run time (never a literal), handed to the server's environment.
FAKE_KEY = "sk-test-" + secrets.token_hex(12)
SERVER = [sys.executable, "-m", "promptls", "serve"]
ENV = {**os.environ, KEY_ENV: FAKE_KEY}


class Fakes:
    def __init__(self) -> None:
        self.openai = OpenAIFake()
        self.ollama = OllamaFake()
        self.servers = [FakeServer(self.openai), FakeServer(self.ollama)]

    def reset(self) -> None:
        self.openai.reset()
        self.ollama.reset()

    @property
    def openai_url(self) -> str:
        return self.servers[0].url + "/v1"

    @property
    def ollama_url(self) -> str:
        return self.servers[1].url


@pytest.fixture(scope="session")
def fakes():
    f = Fakes()
    for s in f.servers:
        s.start()
    yield f
    for s in f.servers:
        s.stop()


def settings(fakes: Fakes, tmp: Path, *, chain: list[str] | None = None, assist: dict[str, Any] | None = None,
             privacy: dict[str, Any] | None = None) -> dict[str, Any]:
    chain = chain or ["chat"]
    out: dict[str, Any] = {
        "today": "2026-11-25",
        "providers": {
            "chat": {"kind": "openai", "model": "gpt-4o-mini", "base_url": fakes.openai_url, "api_key_env": KEY_ENV,
                     "timeout_s": 10},
            "fim": {"kind": "ollama", "model": "qwen2.5-coder:1.5b", "base_url": fakes.ollama_url, "timeout_s": 10},
            "nokey": {"kind": "anthropic", "model": "claude-haiku-4-5", "api_key_env": "PLS_ASSIST_UNSET_KEY"},
        },
        "router": {"completion": chain, "action": chain, "run": chain, "max_attempts": 1,
                   "deadlines": {"completion": {"first_token_s": 20, "idle_s": 20, "total_s": 30}}},
        "cache": {"enabled": False},
        "budget": {"ledger_path": str(tmp / "ledger.sqlite3")},
        "assist": {"debounce_ms": 75, **(assist or {})},
    }
    if privacy is not None:
        out["privacy"] = privacy
    return out


def init_params(options: dict[str, Any], spec: str = "visual-studio-code") -> lsp.InitializeParams:
    return lsp.InitializeParams(capabilities=client_capabilities(spec), initialization_options=options)


def record_edits(client: LanguageClient) -> list[lsp.ApplyWorkspaceEditParams]:
    edits: list[lsp.ApplyWorkspaceEditParams] = []

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        edits.append(params)
        return lsp.ApplyWorkspaceEditResult(applied=True)

    return edits


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient):
    """A server started per test; the test initialises it with its own settings (see `start`)."""
    lsp_client.edits = record_edits(lsp_client)  # type: ignore[attr-defined]
    yield
    await close(lsp_client)


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    if "fakes" in request.fixturenames:
        request.getfixturevalue("fakes").reset()
