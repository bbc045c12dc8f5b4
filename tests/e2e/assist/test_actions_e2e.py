"""LLM code actions, user-defined actions, run-a-prompt, status and usage through the real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.assist.conftest import init_params, settings
from tests.fakes.http import Fault

# Each test starts the real server (about 2-3 s on 2 cores): everyday runs can deselect with -m "not slow".
pytestmark = pytest.mark.slow

CODE = "def f(x):\n    return x*2\n"
PROMPT = """---
model: openai/gpt-4o-mini
input:
  schema:
    topic: string
  default:
    topic: zebras
---
{{role "system"}}
You write short poems.
{{role "user"}}
Write a poem about {{topic}}.
"""


def open_doc(client: LanguageClient, uri: str, text: str, lang: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))


async def actions(client: LanguageClient, uri: str, rng: lsp.Range, diags=()) -> list[lsp.CodeAction]:
    res = await asyncio.wait_for(client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=rng,
        context=lsp.CodeActionContext(diagnostics=list(diags)))), 30)
    acts = [a for a in res or [] if isinstance(a, lsp.CodeAction) and isinstance(a.data, dict)
            and "promptlsAssist" in a.data]
    assert all(a.command is None and a.edit is None for a in acts)  # lazy: nothing ran for the menu
    return [await asyncio.wait_for(client.code_action_resolve_async(a), 30) for a in acts]


async def run(client: LanguageClient, command: lsp.Command):
    return await asyncio.wait_for(client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=command.command, arguments=command.arguments)), 30)


def by_title(acts: list[lsp.CodeAction], start: str) -> lsp.CodeAction:
    return next(a for a in acts if a.title.startswith(start))


SEL = lsp.Range(lsp.Position(1, 4), lsp.Position(1, 14))


async def test_fix_diagnostic_and_refactor_edit_the_selection(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    uri = "file:///tmp/promptls-assist/act.py"
    open_doc(client, uri, CODE, "python")
    diag = lsp.Diagnostic(range=SEL, message="E226 missing whitespace around operator", source="flake8",
                          code="E226")
    acts = await actions(client, uri, SEL, [diag])
    titles = [a.title for a in acts]
    assert any(t.startswith("Fix with LLM: E226") for t in titles)
    assert {"Explain selection (LLM)", "Refactor / improve selection (LLM)"} <= set(titles)
    assert not fakes.openai.calls
    fakes.openai.push(Fault(tokens=["return x * 2"]))
    res = await run(client, by_title(acts, "Fix with LLM").command)
    assert res["ok"] and res["text"] == "return x * 2"
    prompt = fakes.openai.calls[0].json()["messages"][1]["content"]
    assert "flake8 E226 (line 2): E226 missing whitespace" in prompt and "return x*2" in prompt
    edit = client.edits[-1].edit.changes[uri][0]
    assert edit.range == SEL and edit.new_text == "return x * 2"
    fakes.openai.push(Fault(tokens=["```python\n", "return 2 * x\n", "```"]))
    res = await run(client, by_title(acts, "Refactor").command)
    assert client.edits[-1].edit.changes[uri][0].new_text == "return 2 * x"  # fences stripped


async def test_explain_shows_a_markdown_document_with_progress(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    uri = "file:///tmp/promptls-assist/explain.py"
    open_doc(client, uri, CODE, "python")
    fakes.openai.push(Fault(tokens=["It ", "doubles ", "x."]))
    res = await run(client, by_title(await actions(client, uri, SEL), "Explain").command)
    assert res["ok"] and res["mode"] == "show"
    shown = client.shown_documents[-1].uri
    assert shown == res["uri"] and shown.endswith(".md")
    assert "It doubles x." in Path(shown[len("file://"):]).read_text()
    kinds = [type(v).__name__ for reports in client.progress_reports.values() for v in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_user_defined_action_fills_its_template(client: LanguageClient, fakes, tmp_path):
    user = [{"title": "Translate comment", "prompt": "In {language}, {instruction}: {selection}",
             "mode": "insert_below", "instruction": "rewrite in French"}]
    await client.initialize_session(init_params(settings(fakes, tmp_path, assist={"actions": user})))
    uri = "file:///tmp/promptls-assist/user.py"
    open_doc(client, uri, CODE, "python")
    fakes.openai.push(Fault(tokens=["# renvoie le double"]))
    res = await run(client, by_title(await actions(client, uri, SEL), "Translate comment").command)
    assert res["ok"]
    sent = fakes.openai.calls[0].json()["messages"][1]["content"]
    assert sent.startswith("In python, rewrite in French: return x*2")
    edit = client.edits[-1].edit.changes[uri][0]
    assert edit.range.start == lsp.Position(2, 0) and edit.new_text == "# renvoie le double\n"


async def test_prompt_file_actions_and_compress_reports_tokens(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    uri = "file:///tmp/promptls-assist/poem.prompt"
    open_doc(client, uri, PROMPT, "dotprompt")
    cursor = lsp.Range(lsp.Position(9, 0), lsp.Position(9, 0))
    acts = await actions(client, uri, cursor)
    assert {"Compress the prompt (LLM)", "Improve the prompt (LLM)", "Generate sample inputs (LLM)"} <= {
        a.title for a in acts}
    short = '{{role "system"}}\nShort poems.\n{{role "user"}}\nPoem: {{topic}}.'
    fakes.openai.push(Fault(tokens=[short]))
    res = await run(client, by_title(acts, "Compress").command)
    assert res["after"]["tokens"] < res["before"]["tokens"]
    edit = client.edits[-1].edit.changes[uri][0]
    assert edit.range.start == lsp.Position(8, 0) and edit.new_text == short
    assert any("tokens" in m.message for m in client.messages)


async def test_no_provider_gives_one_actionable_message(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path, chain=["nokey"])))
    uri = "file:///tmp/promptls-assist/none.py"
    open_doc(client, uri, CODE, "python")
    res = await run(client, by_title(await actions(client, uri, SEL), "Refactor").command)
    assert res["ok"] is False
    assert "nokey" in res["error"] and "PLS_ASSIST_UNSET_KEY" in res["error"] and "[providers]" in res["error"]
    errors = [m for m in client.messages if m.type == lsp.MessageType.Error]
    assert len(errors) == 1 and "Traceback" not in errors[0].message


async def test_run_prompt_streams_into_a_new_document(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    uri = "file:///tmp/promptls-assist/run.prompt"
    open_doc(client, uri, PROMPT, "dotprompt")
    lenses = await asyncio.wait_for(client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))), 30)
    run_lens = next(lens for lens in lenses if lens.command and lens.command.command == "promptls.runPrompt")
    fakes.openai.push(Fault(tokens=["Stripes ", "in ", "the ", "sun."]))
    res = await run(client, run_lens.command)
    assert res["ok"] and res["text"] == "Stripes in the sun."
    assert res["provider"] == "chat" and res["outputTokens"] == 4 and res["inputTokens"] > 0
    sent = fakes.openai.calls[0].json()["messages"]
    assert sent[-1]["role"] == "user" and sent[-1]["content"].strip() == "Write a poem about zebras."
    assert client.shown_documents[-1].uri == res["uri"]
    streamed = "".join(e.new_text for p in client.edits for e in p.edit.changes.get(res["uri"], []))
    assert "Stripes in the sun." in streamed and "4 output tokens" in streamed
    usage = await asyncio.wait_for(client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="promptls.showUsage", arguments=[])), 30)
    assert usage["sessionCalls"] == 1
    assert any(r["provider"] == "chat" and r["calls"] == 1 for r in usage["rows"])
    # Money goes out written by the one formatter; clients show it as sent (clients/vscode/src/usageChart.ts).
    from promptls.core.figures import format_cost

    assert usage["sessionCostText"] == format_cost(usage["sessionCostUsd"])
    assert all(r["costText"] == format_cost(float(r["cost_usd"] or 0)) for r in usage["rows"])
    assert [i["key"] for i in usage["series"]["provider"]] and all(
        i["costText"] == format_cost(i["cost_usd"]) for items in usage["series"].values() for i in items)
