"""The workspace index kept up to date in the editor, over stdio: built in the background after `initialized` with
`$/progress`, file watchers registered, and a module changed on disk (a watched-file event) re-analyses the open
modules that import it; a pulling client is asked to refresh and then gets the new findings."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from tests.e2e.conftest import ENV, SERVER, close, init_params, wait_diagnostics

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "llmapp"
OLD = 'MODEL = "claude-sonnet-4-5"'
NEW = 'MODEL = "claude-2.1"'


def copy_repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("ws") / "llmapp"
    shutil.copytree(FIXTURE, dest)
    return dest


@pytest.fixture
def repo(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, repo: Path):
    await lsp_client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(repo))))
    yield
    await close(lsp_client)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def puller(lsp_client: LanguageClient, repo: Path):
    """A pulling client (Neovim 0.11's capabilities) that also takes `workspace/diagnostic/refresh`."""
    caps = client_capabilities("neovim@v0.11.0")
    caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, root_uri=from_fs_path(str(repo)), initialization_options={"today": "2026-11-25"}))
    yield
    await close(lsp_client)


def open_file(client: LanguageClient, path: Path) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())))
    return uri


def md003(diags) -> list[lsp.Diagnostic]:
    return [d for d in diags or () if d.code == "MD003"]


async def until(pred, what: str, rounds: int = 100) -> None:
    """Wait, boundedly, for `pred()` (checked after each message the client gets, or every 0.1 s)."""
    for _ in range(rounds):
        if pred():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def index_built(client: LanguageClient) -> None:
    await until(lambda: client.progress_reports and all(
        v and isinstance(v[-1], lsp.WorkDoneProgressEnd) for v in client.progress_reports.values()), "index built")


async def test_watchers_registered_and_index_built_under_progress(client: LanguageClient):
    await until(lambda: getattr(client, "registrations", None), "a watcher registration")
    (reg,) = client.registrations
    assert reg.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES
    opts = reg.register_options  # the client keeps the options as sent (JSON)
    globs = [w["globPattern"] for w in opts["watchers"]] if isinstance(opts, dict) else \
        [w.glob_pattern for w in opts.watchers]
    assert {"**/*.py", "**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}", "**/tsconfig.json", "**/promptls.toml",
            "**/pyproject.toml"} <= set(globs)

    def ended() -> list:
        return [r for reports in client.progress_reports.values() for r in reports
                if isinstance(r, lsp.WorkDoneProgressEnd) and "modules" in (r.message or "")]

    await until(ended, "the index build's progress end")
    (reports,) = [v for v in client.progress_reports.values() if any(r in v for r in ended())]
    assert isinstance(reports[0], lsp.WorkDoneProgressBegin) and "indexing" in reports[0].title
    assert isinstance(reports[-1], lsp.WorkDoneProgressEnd)
    modules = int(reports[-1].message.split()[0])
    assert modules >= 7, reports[-1].message  # app/*.py and tests/doubles.py


async def test_a_watched_change_on_disk_republishes_open_dependents(client: LanguageClient, repo: Path):
    service_uri = open_file(client, repo / "app" / "service.py")
    before = md003(await wait_diagnostics(client, service_uri))
    assert len(before) == 2
    config = repo / "app" / "config.py"
    original = config.read_text()
    config.write_text(original.replace(OLD, NEW))  # as a `git checkout` or another editor would
    client.diagnostics.pop(service_uri, None)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=from_fs_path(str(config)), type=lsp.FileChangeType.Changed)]))
    await until(lambda: len(md003(client.diagnostics.get(service_uri))) > len(before),
                "service.py republished with the retired model", rounds=300)
    # and back: the file event of a revert takes the findings away again
    config.write_text(original)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=from_fs_path(str(config)), type=lsp.FileChangeType.Changed)]))
    await until(lambda: len(md003(client.diagnostics.get(service_uri))) == len(before),
                "service.py republished without it", rounds=300)


async def test_an_unrelated_watched_change_republishes_nothing(client: LanguageClient, repo: Path):
    service_uri = open_file(client, repo / "app" / "service.py")
    await wait_diagnostics(client, service_uri)
    await index_built(client)
    await asyncio.sleep(0.5)  # any publish of the first analysis has arrived
    client.diagnostics.pop(service_uri, None)
    doubles = repo / "tests" / "doubles.py"
    doubles.write_text(doubles.read_text() + "\nEXTRA = 1\n")
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=from_fs_path(str(doubles)), type=lsp.FileChangeType.Changed)]))
    await asyncio.sleep(1.0)
    assert service_uri not in client.diagnostics  # service.py does not import it: not re-analysed


async def test_a_pulling_client_is_asked_to_refresh_and_pulls_the_new_findings(puller: LanguageClient, repo: Path):
    await index_built(puller)  # its re-analysis of the open documents asks for a refresh too
    service_uri = open_file(puller, repo / "app" / "service.py")
    first = await puller.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(service_uri)))
    assert len(md003(first.items)) == 2
    refreshes = puller.diagnostic_refresh_count
    config = repo / "app" / "config.py"
    config.write_text(config.read_text().replace(OLD, NEW))
    puller.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=from_fs_path(str(config)), type=lsp.FileChangeType.Changed)]))
    await until(lambda: puller.diagnostic_refresh_count > refreshes, "a diagnostic refresh", rounds=300)
    again = await puller.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(service_uri), previous_result_id=first.result_id))
    assert isinstance(again, lsp.RelatedFullDocumentDiagnosticReport)  # not "unchanged": the findings moved
    assert len(md003(again.items)) > 2


async def test_a_pulling_client_is_asked_to_refresh_after_an_edit_of_a_dependency(puller: LanguageClient,
                                                                                   repo: Path):
    await index_built(puller)
    service_uri = open_file(puller, repo / "app" / "service.py")
    config_uri = open_file(puller, repo / "app" / "config.py")
    first = await puller.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(service_uri)))
    await puller.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(config_uri)))
    refreshes = puller.diagnostic_refresh_count
    text = (repo / "app" / "config.py").read_text()
    puller.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=config_uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text.replace(OLD, NEW))]))
    await until(lambda: puller.diagnostic_refresh_count > refreshes, "a diagnostic refresh", rounds=300)
    again = await puller.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(service_uri), previous_result_id=first.result_id))
    assert isinstance(again, lsp.RelatedFullDocumentDiagnosticReport)
    assert len(md003(again.items)) > len(md003(first.items))
