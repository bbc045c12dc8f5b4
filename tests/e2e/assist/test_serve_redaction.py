"""`promptls serve` never leaks a key a provider echoes back: a loopback OpenAI fake answers every request with a
401 whose body quotes the key it was sent; a prompt is run through the server over stdio, with a verbose log file.
Not one byte of the key (nor a 16-character piece of it) may appear in anything the client receives, in the
server's log file, or on its stderr."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from tests.e2e.assist.conftest import ENV, FAKE_KEY, SERVER, init_params, record_edits, settings
from tests.e2e.assist.test_actions_e2e import PROMPT, open_doc
from tests.e2e.conftest import close

pytestmark = pytest.mark.slow


def _pieces(secret: str, size: int = 16) -> list[str]:
    return [secret[i:i + size] for i in range(0, len(secret) - size + 1)]


async def test_an_echoed_key_reaches_no_client_message_log_or_stderr(fakes, tmp_path: Path, capfd) -> None:
    log = tmp_path / "serve.log"
    config = ClientServerConfig(server_command=[*SERVER, "--log-file", str(log), "--verbose"], server_env=ENV)
    client: LanguageClient = await config.start()
    received: list[str] = []
    try:
        client.edits = record_edits(client)  # type: ignore[attr-defined]
        await asyncio.wait_for(client.initialize_session(init_params(settings(fakes, tmp_path))), 60)
        fakes.openai.echo_key_401 = True
        uri = "file:///tmp/promptls-assist/leak.prompt"
        open_doc(client, uri, PROMPT, "dotprompt")
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))), 30)
        run_lens = next(x for x in lenses if x.command and x.command.command == "promptls.runPrompt")
        res = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command=run_lens.command.command, arguments=run_lens.command.arguments)), 30)
        assert res["ok"] is False and "auth" in json.dumps(res).lower()  # the failure itself is reported
        assert fakes.openai.calls, "the request reached the fake, so the key was echoed"
        conv = get_converter()
        received.append(json.dumps(res))
        received += [json.dumps(conv.unstructure(m)) for m in (*client.messages, *client.log_messages)]
        received += [json.dumps(conv.unstructure(e)) for e in client.edits]  # type: ignore[attr-defined]
        received += [json.dumps(conv.unstructure(d)) for ds in client.diagnostics.values() for d in ds]
    finally:
        fakes.openai.echo_key_401 = False
        with contextlib.suppress(Exception):
            await close(client)
        await client.stop()
    out, err = capfd.readouterr()
    everything = "\n".join([*received, log.read_text("utf-8", "replace"), out, err])
    assert log.stat().st_size > 0 and "401" in everything  # the log was written and the error went through it
    leaked = sum(p in everything for p in _pieces(FAKE_KEY))  # a count: the failure must not print the key
    assert leaked == 0, f"{leaked} pieces of the key leaked"
    sys.stderr.write(err)
