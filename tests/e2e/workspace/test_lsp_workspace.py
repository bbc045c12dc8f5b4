"""The workspace index in the editor, over stdio: a module that imports its client from another module gets the
same findings as `check`, each explaining where the client came from (relatedInformation), and go to definition
on an imported client or constant jumps to the module that defines it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from tests.e2e.conftest import ENV, SERVER, close, init_params, wait_diagnostics
from tests.e2e.test_server import pos_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "llmapp"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("ws") / "llmapp"
    shutil.copytree(FIXTURE, dest)
    return dest


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def client(lsp_client: LanguageClient, repo: Path):
    await lsp_client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(repo))))
    yield
    await close(lsp_client)


def open_file(client: LanguageClient, path: Path) -> tuple[str, str]:
    uri = from_fs_path(str(path))
    text = path.read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri, text


async def test_cross_module_findings_explain_their_chain_and_definitions_jump(client: LanguageClient, repo: Path):
    uri, text = open_file(client, repo / "app" / "service.py")
    diags = await wait_diagnostics(client, uri)
    sd001 = [d for d in diags if d.code == "SD001"]
    assert len(sd001) == 7, [d.code for d in diags]
    clients_uri = from_fs_path(str(repo / "app" / "clients.py"))
    related = [r for d in sd001 for r in d.related_information or []]
    assert any(r.location.uri == clients_uri and r.location.range.start.line == 6
               and "client `claude` created in" in r.message and "`anthropic.Anthropic`" in r.message
               for r in related), related
    # go to definition: the client, and a constant through a module alias
    locs = await client.text_document_definition_async(lsp.DefinitionParams(
        lsp.TextDocumentIdentifier(uri), pos_of(text, "claude.messages.create", 2)))
    assert locs and locs[0].uri == clients_uri and locs[0].range.start.line == 6
    locs = await client.text_document_definition_async(lsp.DefinitionParams(
        lsp.TextDocumentIdentifier(uri), pos_of(text, "config.MODEL", len("config.MO"))))
    assert locs and locs[0].uri == from_fs_path(str(repo / "app" / "config.py")) and locs[0].range.start.line == 4
    # hovers: an unmapped-or-mapped Azure deployment says what it serves; a self-hosted id names its entry
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri), pos_of(text, '"support-gpt4o-prod"', 3)))
    assert "Azure deployment `support-gpt4o-prod` serves `gpt-4o`" in hover.contents.value
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri), pos_of(text, '"Qwen/Qwen2.5-7B-Instruct"', 3)))
    assert "self-hosted server at `http://vllm:8000/v1`" in hover.contents.value


async def test_test_doubles_in_the_editor(client: LanguageClient, repo: Path):
    uri, _ = open_file(client, repo / "tests" / "doubles.py")
    assert list(await wait_diagnostics(client, uri)) == []


async def test_an_edit_to_a_constants_module_republishes_its_open_dependents(client: LanguageClient, repo: Path):
    service_uri, _ = open_file(client, repo / "app" / "service.py")
    config_path = repo / "app" / "config.py"
    config_uri, config_text = open_file(client, config_path)
    await wait_diagnostics(client, config_uri)
    before = [d for d in await wait_diagnostics(client, service_uri) if d.code == "MD003"]
    assert len(before) == 2
    client.diagnostics.pop(service_uri, None)
    new = config_text.replace('MODEL = "claude-sonnet-4-5"', 'MODEL = "claude-2.1"')
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=config_uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=new)]))
    # every call through `MODEL` / `config.MODEL` now names a retired model, without touching service.py (a
    # publish of the earlier version may still be on its way: wait, boundedly, for the new one)
    after: list = []
    for _ in range(50):
        after = [d for d in client.diagnostics.get(service_uri) or () if d.code == "MD003"]
        if len(after) > len(before):
            break
        await wait_diagnostics(client)
    assert len(after) > len(before)
    assert any("`model` is `config.MODEL`, defined in" in r.message
               for d in after for r in d.related_information or [])
