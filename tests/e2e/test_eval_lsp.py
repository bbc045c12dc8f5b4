"""Prompt tests in the editor, through the real server over stdio: the Test lens on a prompt with cases, the
`promptls.eval` command running the cases through the router (Ollama SDK against the loopback fake), failing
assertions as EV001 diagnostics on their lines, pass rates as inlay hints, the lens showing the last pass rate,
the case file's own findings (EV002) when it is opened, and `promptls/evalCases` for test explorers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from tests.e2e.conftest import ENV, SERVER, close, init_params
from tests.e2e.eval.conftest import ScriptedOllama
from tests.fakes.http import FakeServer

PROMPT = """---
model: gpt-4o-mini
input:
  schema:
    country: string
---
What is the capital of {{country}}? Answer with the city.
"""

TESTS = """description: capitals
providers: [ollama]
colour: blue
tests:
  - description: France
    vars:
      country: France
    assert:
      - type: icontains
        value: paris
  - description: Japan
    vars:
      country: Japan
    assert:
      - type: not-contains
        value: Kyoto
      - type: icontains
        value: tokyo
"""


@pytest.fixture(scope="module")
def ollama() -> Iterator[tuple[ScriptedOllama, str]]:
    import ollama  # noqa: F401  (imported once, outside the tests' clocks)

    app = ScriptedOllama()
    app.replies = []
    server = FakeServer(app)
    server.start()
    yield app, server.url
    server.stop()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient):
    lsp_client.refreshes = []  # type: ignore[attr-defined]
    for method in (lsp.WORKSPACE_CODE_LENS_REFRESH, lsp.WORKSPACE_INLAY_HINT_REFRESH):
        lsp_client.feature(method)(lambda _params, m=method: lsp_client.refreshes.append(m))
    yield
    await close(lsp_client)


def workspace(tmp: Path, url: str) -> Path:
    (tmp / "promptls.toml").write_text(f"""
[providers.ollama]
kind = "ollama"
model = "qwen2.5:0.5b"
base_url = "{url}"
timeout_s = 10

[router]
run = ["ollama"]
max_attempts = 1

[cache]
path = "{tmp / 'state' / 'cache.sqlite3'}"

[budget]
ledger_path = "{tmp / 'state' / 'ledger.sqlite3'}"
""", "utf-8")
    (tmp / "capital.prompt").write_text(PROMPT, "utf-8")
    (tmp / "capital.tests.yaml").write_text(TESTS, "utf-8")
    return tmp


def line_of(text: str, needle: str, start: int = 0) -> int:
    """0-based line of the first `needle` at or after line `start`."""
    lines = text.splitlines()
    return next(i for i in range(start, len(lines)) if needle in lines[i])


async def diagnostics(client: LanguageClient, uri: str, want: str) -> list[lsp.Diagnostic]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        diags = client.diagnostics.get(uri, [])
        if any(d.code == want for d in diags):
            return diags
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {want} for {uri}: {client.diagnostics.get(uri)}")


def open_doc(client: LanguageClient, path: Path, lang: str) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id=lang, version=1, text=path.read_text("utf-8"))))
    return uri


async def test_lens_runs_cases_then_failures_hints_and_pass_rate(client: LanguageClient, ollama, tmp_path):
    app, url = ollama
    app.reset()
    app.reply(None, "France", "The capital is Paris.")
    app.reply(None, "Japan", "Kyoto, I think.")
    root = workspace(tmp_path, url)
    await client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(root))))
    tests_uri = open_doc(client, root / "capital.tests.yaml", "yaml")

    # the case file's own findings, on their lines, as soon as it is open
    diags = await diagnostics(client, tests_uri, "EV002")
    (unsupported,) = [d for d in diags if d.code == "EV002"]
    assert unsupported.range.start.line == line_of(TESTS, "colour:")
    assert "colour" in unsupported.message and unsupported.severity == lsp.DiagnosticSeverity.Warning

    prompt_uri = open_doc(client, root / "capital.prompt", "dotprompt")
    lenses = await asyncio.wait_for(client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=prompt_uri))), 30)
    (test_lens,) = [c for c in lenses if c.command and c.command.command == "promptls.eval"]
    assert test_lens.command.title == "▶ Test" and list(test_lens.command.arguments) == [prompt_uri]
    assert not app.calls  # a lens runs nothing

    res = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=test_lens.command.command, arguments=test_lens.command.arguments)), 60)
    assert len(app.calls) == 2
    assert res["ok"] is False and (res["passed"], res["total"]) == (1, 2)
    by_case = {r["case"]: r for r in res["results"]}
    assert by_case["France"]["pass"] and not by_case["Japan"]["pass"]
    assert by_case["Japan"]["line"] == line_of(TESTS, "description: Japan") + 1  # 1-based, as the CLI says
    assert {f["type"] for f in by_case["Japan"]["failures"]} == {"not-contains", "icontains"}

    assert lsp.WORKSPACE_CODE_LENS_REFRESH in client.refreshes
    # failing assertions on their own lines, the static finding kept
    diags = await diagnostics(client, tests_uri, "EV001")
    failing = sorted(d.range.start.line for d in diags if d.code == "EV001")
    japan = line_of(TESTS, "description: Japan")
    assert failing == [line_of(TESTS, "type: not-contains", japan), line_of(TESTS, "type: icontains", japan)]
    assert all("Japan" in d.message and "qwen2.5:0.5b" in d.message for d in diags if d.code == "EV001")
    assert any(d.code == "EV002" for d in diags)

    hints = await asyncio.wait_for(client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=tests_uri),
        range=lsp.Range(lsp.Position(0, 0), lsp.Position(len(TESTS.splitlines()), 0)))), 30)
    labels = {h.position.line: h.label for h in hints}
    assert labels == {line_of(TESTS, "description: France"): "✓ 1/1 passed (100%)", japan: "✗ 0/1 passed (0%)"}

    lenses = await asyncio.wait_for(client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=prompt_uri))), 30)
    titles = [c.command.title for c in lenses if c.command and c.command.command == "promptls.eval"]
    assert titles == ["▶ Test · last run 1/2 passed (50%)"]

    listed = await asyncio.wait_for(client.protocol.send_request_async("promptls/evalCases", {}), 30)
    (entry,) = listed
    assert entry["promptUri"] == prompt_uri and entry["uri"] == tests_uri
    assert [c["label"] for c in entry["cases"]] == ["France", "Japan"]
    # the same ids in the list and in a run's results (the Testing view matches them)
    assert [c["id"] for c in entry["cases"]] == [by_case["France"]["id"], by_case["Japan"]["id"]]

    # the case file edited (not saved): the next run uses its text; the answers come from the router's cache
    fixed = TESTS.replace("type: not-contains", "type: contains").replace("value: tokyo", "value: kyoto")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=tests_uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    deadline = time.monotonic() + 30  # an edit drops the last run's failures: their lines may have moved
    while any(d.code == "EV001" for d in client.diagnostics.get(tests_uri, [])) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [d.code for d in client.diagnostics[tests_uri]] == ["EV002"]
    res = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="promptls.eval", arguments=[tests_uri])), 60)
    assert (res["passed"], res["total"]) == (2, 2) and res["ok"]
    assert all(r["cached"] for r in res["results"]) and len(app.calls) == 2  # nothing new was sent
    deadline = time.monotonic() + 30
    while any(d.code == "EV001" for d in client.diagnostics.get(tests_uri, [])) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [d.code for d in client.diagnostics[tests_uri]] == ["EV002"]


MONTHLY_PROMPT = """---
model: gpt-4o-mini
config:
  maxOutputTokens: 200
---
Summarise the plot of Hamlet in two sentences.
"""


async def test_monthly_cost_on_lens_and_hover(client: LanguageClient, tmp_path):
    options = {"today": "2026-11-25", "cost": {"calls-per-month": 100000}}
    await client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(tmp_path)),
                                                options=options))
    path = tmp_path / "monthly.prompt"
    path.write_text(MONTHLY_PROMPT, "utf-8")
    uri = open_doc(client, path, "dotprompt")
    lenses = await asyncio.wait_for(client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))), 30)
    (figures,) = [c.command.title for c in lenses if c.command and "tokens" in c.command.title]
    assert "/call · $" in figures and figures.split(" · gpt-4o-mini")[0].endswith("/month")
    hover = await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(1, 10))), 30)
    assert hover is not None and "/month" in hover.contents.value
    # the month is the call's cost (shown to two significant digits) times calls-per-month
    per_call = float(figures.split("/call")[0].rsplit("$", 1)[1])
    month = float(figures.split("/month")[0].rsplit("$", 1)[1].replace(",", ""))
    assert abs(month - per_call * 100000) <= 0.05 * month


async def test_cancel_from_progress_stops_a_run(client: LanguageClient, ollama, tmp_path):
    from tests.fakes.http import Fault

    app, url = ollama
    app.reset()
    root = workspace(tmp_path, url)
    await client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(root))))
    prompt_uri = open_doc(client, root / "capital.prompt", "dotprompt")
    app.reply(None, "France", "Paris")
    app.reply(None, "Japan", "Tokyo")
    app.push(Fault(kind="stall_head"))  # the first call is accepted and never answered
    run = asyncio.ensure_future(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="promptls.eval", arguments=[prompt_uri])))
    deadline = time.monotonic() + 30
    while not (client.progress_reports and app.calls) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    (token,) = [t for t, reports in list(client.progress_reports.items())
                if getattr(reports[0], "title", "").startswith("promptls: testing")]
    begin = client.progress_reports[token][0]
    assert isinstance(begin, lsp.WorkDoneProgressBegin) and begin.cancellable
    client.protocol.notify(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL, lsp.WorkDoneProgressCancelParams(token=token))
    answer = await asyncio.wait_for(run, 20)
    assert answer["cancelled"] and not answer["ok"]
    deadline = time.monotonic() + 10
    while not isinstance(client.progress_reports[token][-1], lsp.WorkDoneProgressEnd) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert isinstance(client.progress_reports[token][-1], lsp.WorkDoneProgressEnd)
    # the server goes on: the next run answers
    res = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="promptls.eval", arguments=[prompt_uri])), 60)
    assert (res["passed"], res["total"]) == (2, 2)


async def test_pulling_client_gets_case_file_findings_and_promptfoo_lens(client: LanguageClient, ollama, tmp_path):
    _, url = ollama
    root = workspace(tmp_path, url)
    (root / "capital.tests.yaml").unlink()
    (root / "promptfooconfig.yaml").write_text("""prompts:
  - file://capital.prompt
providers:
  - id: ollama:chat:qwen2.5:0.5b
tests:
  - vars:
      country: Peru
    assert:
      - type: icontains
        value: lima
      - type: javascript
        value: output.length > 0
""", "utf-8")
    await client.initialize_session(init_params("neovim@v0.11.0", root_uri=from_fs_path(str(root))))
    config_uri = open_doc(client, root / "promptfooconfig.yaml", "yaml")
    report = await asyncio.wait_for(client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=config_uri))), 30)
    (unknown,) = [d for d in report.items if d.code == "EV002"]
    assert "javascript" in unknown.message and unknown.range.start.line == 10
    assert not client.diagnostics.get(config_uri)  # pulled, not also pushed
    prompt_uri = open_doc(client, root / "capital.prompt", "dotprompt")
    deadline = time.monotonic() + 30
    titles: list[str] = []
    while time.monotonic() < deadline:  # the promptfoo configs are indexed in the background
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=prompt_uri))), 30)
        titles = [c.command.title for c in lenses if c.command and c.command.command == "promptls.eval"]
        if titles:
            break
        await asyncio.sleep(0.1)
    assert titles == ["▶ Test"]


async def test_cancel_request_stops_a_running_run(client: LanguageClient, ollama, tmp_path):
    """$/cancelRequest (what VS Code sends when a test run is cancelled) ends a run that has started."""
    from tests.fakes.http import Fault

    app, url = ollama
    app.reset()
    root = workspace(tmp_path, url)
    await client.initialize_session(init_params("visual-studio-code", root_uri=from_fs_path(str(root))))
    prompt_uri = open_doc(client, root / "capital.prompt", "dotprompt")
    app.push(Fault(kind="stall_head"))
    app.push(Fault(kind="stall_head"))
    run = asyncio.ensure_future(client.protocol.send_request_async(
        lsp.WORKSPACE_EXECUTE_COMMAND, lsp.ExecuteCommandParams(command="promptls.eval", arguments=[prompt_uri]),
        msg_id="eval-1"))
    deadline = time.monotonic() + 30
    while len(app.calls) < 2 and time.monotonic() < deadline:  # both cases are waiting on the model
        await asyncio.sleep(0.05)
    assert len(app.calls) == 2
    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="eval-1"))
    from pygls.exceptions import JsonRpcRequestCancelled

    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(run, 20)
    # and the run itself stopped (pygls alone would let it go on): its progress ends as stopped, long before the
    # provider's 10 s timeout
    (token,) = [t for t, reports in list(client.progress_reports.items())
                if getattr(reports[0], "title", "").startswith("promptls: testing")]
    deadline = time.monotonic() + 5
    while not isinstance(client.progress_reports[token][-1], lsp.WorkDoneProgressEnd) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    end = client.progress_reports[token][-1]
    assert isinstance(end, lsp.WorkDoneProgressEnd) and end.message == "stopped"
