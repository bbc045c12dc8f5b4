"""Online token counts in the editor, over stdio against the Anthropic fake: no counting request per keystroke, one
on save (then the lens shows the exact count), a failing endpoint keeps the estimate and says why in ONE info-level
log message."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e.conftest import close, wait_diagnostics  # noqa: E402
from tests.fakes.anthropic_fake import AnthropicFake  # noqa: E402
from tests.fakes.http import FakeServer, Fault  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_ENV = "PLS_LSP_COUNT_ANTHROPIC_KEY"
KEY = "sk-ant-api03-" + secrets.token_urlsafe(40)
STATE = tempfile.mkdtemp(prefix="promptls-online-")
SERVER = [sys.executable, "-m", "promptls", "serve"]
ENV = {**os.environ, "PROMPTLS_STRICT": "1", "PROMPTLS_STATE_DIR": STATE, KEY_ENV: KEY}
APP = AnthropicFake()
DOC = "---\nmodel: anthropic/claude-haiku-4-5\n---\n{{role \"system\"}}\nYou are terse.\n{{role \"user\"}}\nHi there.\n"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    server = FakeServer(APP)
    server.start()
    yield server
    server.stop()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def client(lsp_client: LanguageClient, fake: FakeServer):
    options = {"today": "2026-11-25", "tokens": {"online": True},
               "providers": {"anthropic": {"kind": "anthropic", "base_url": fake.url, "api_key_env": KEY_ENV,
                                           "timeout_s": 10}}}
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options))
    yield
    await close(lsp_client)


async def lens_title(client: LanguageClient, uri: str, want) -> str:
    """The code lens title once `want(title)` holds, waiting for re-publications (bounded)."""
    title = ""
    for _ in range(60):
        lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri)))
        title = lenses[0].command.title if lenses and lenses[0].command else ""
        if want(title):
            return title
        await wait_diagnostics(client)
    raise AssertionError(f"lens never matched: {title!r}")


def edit(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))


async def test_counted_on_save_only(client: LanguageClient) -> None:
    uri = "file:///tmp/promptls-e2e/online.prompt"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="dotprompt", version=1, text=DOC)))
    await lens_title(client, uri, lambda t: t.startswith("~"))  # the labelled estimate
    for v in range(2, 6):  # typing: never a counting request
        edit(client, uri, v, DOC + "x" * v)
    await lens_title(client, uri, lambda t: t.startswith("~"))
    assert APP.count_calls == []

    save(client, uri)
    title = await lens_title(client, uri, lambda t: not t.startswith("~"))
    assert len(APP.count_calls) == 1
    expected = APP.count_response(APP.count_calls[0])["input_tokens"]
    assert title.startswith(f"{expected} tokens")

    edit(client, uri, 6, DOC + "y")  # an edit shows the estimate again until the next save
    await lens_title(client, uri, lambda t: t.startswith("~"))
    edit(client, uri, 7, DOC + "x" * 5)  # back to the saved text: served from the cache, no request
    await lens_title(client, uri, lambda t: not t.startswith("~"))
    assert len(APP.count_calls) == 1

    APP.push_count(Fault(kind="status", status=500), Fault(kind="status", status=500))
    edit(client, uri, 8, DOC + "z")
    save(client, uri)
    edit(client, uri, 9, DOC + "zz")
    save(client, uri)
    await lens_title(client, uri, lambda t: t.startswith("~"))
    for _ in range(50):
        if len(APP.count_calls) >= 3 and [m for m in client.log_messages if "online token counts" in m.message]:
            break
        await asyncio.sleep(0.1)
    said = [m for m in client.log_messages if "online token counts" in m.message]
    assert len(APP.count_calls) == 3
    assert len(said) == 1 and said[0].type == lsp.MessageType.Info and "kept the offline estimate" in said[0].message
    assert KEY not in said[0].message
