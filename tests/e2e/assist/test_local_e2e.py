"""Real local inference through the whole LSP path: server → assist → router → `local` provider →
llama-cpp-python, on a tiny GGUF written by the test. The model's output is gibberish by design; the test checks
that text sampled by llama.cpp comes back over LSP, as an inline completion and as a run-a-prompt answer."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.assist.conftest import init_params

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # loads a real model

from tests.fakes.tiny_gguf import require_local_inference, write_tiny_gguf  # noqa: E402

require_local_inference()

PY = "def greet(name):\n    return "
PROMPT = """---
input:
  schema:
    topic: string
  default:
    topic: hello world
---
{{role "user"}}
Say {{topic}}.
"""


def local_settings(model_path: str, tmp_path) -> dict:
    return {
        "today": "2026-11-25",
        "providers": {"local": {"kind": "local", "model": "tiny-test", "model_path": model_path, "n_ctx": 1024,
                                "timeout_s": 60}},
        "router": {"completion": ["local"], "action": ["local"], "run": ["local"], "max_attempts": 1},
        "cache": {"enabled": False},
        "budget": {"ledger_path": str(tmp_path / "ledger.sqlite3")},
        "assist": {"debounce_ms": 0, "max_tokens_single": 16, "run_inputs": {}},
    }


def open_doc(client: LanguageClient, uri: str, text: str, lang: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))


async def test_local_model_answers_over_lsp(client: LanguageClient, tmp_path):
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    await client.initialize_session(init_params(local_settings(str(model), tmp_path)))

    uri = (tmp_path / "greet.py").as_uri()
    open_doc(client, uri, PY, "python")
    pos = lsp.Position(1, len("    return "))
    res = await asyncio.wait_for(client.text_document_inline_completion_async(lsp.InlineCompletionParams(
        context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked),
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos)), 120)
    # `local` is the only provider in the chain: a non-empty item can only be text llama.cpp sampled.
    assert isinstance(res, lsp.InlineCompletionList) and len(res.items) == 1
    assert res.items[0].insert_text.strip()
    assert res.items[0].range == lsp.Range(pos, pos)

    prompt_uri = (tmp_path / "hello.prompt").as_uri()
    open_doc(client, prompt_uri, PROMPT, "dotprompt")
    out = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="promptls.runPrompt", arguments=[prompt_uri])), 120)
    assert out["ok"], out
    assert out["provider"] == "local" and out["model"] == "tiny-test"
    assert out["outputTokens"] > 0 and out["inputTokens"] > 0 and out["costUsd"] == 0.0
    assert out["text"]
    # The answer was streamed into the run document over LSP (workspace/applyEdit).
    streamed = "".join(e.new_text for p in client.edits for e in p.edit.changes.get(out["uri"], []))
    assert out["text"] in streamed
