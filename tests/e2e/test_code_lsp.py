"""End-to-end LSP tests over stdio for source files that call LLM SDKs and for fine-tuning datasets:
diagnostics, hovers, inlay hints, code lenses, model completion, quick fixes and refactorings."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.conftest import wait_diagnostics
from tests.e2e.test_server import pos_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYSTEM = " ".join(f"Policy {i}: check the ledger entry {i * 13} and quote a refund window of {i % 30 + 1} days."
                  for i in range(120))
PY = f'''import anthropic

client = anthropic.Anthropic()
SYSTEM = "{SYSTEM}"


def answer(question: str) -> str:
    resp = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        system=SYSTEM,
        messages=[{{"role": "user", "content": "Answer the customer's question politely: " + question}}],
    )
    return resp.content[0].text


def draft(topic: str):
    return client.messages.create(model="claude-", max_tokens=100, messages=[
        {{"role": "user", "content": "Write a short, friendly reply to a customer asking about shipping times."}}])
'''


def open_text(client: LanguageClient, uri: str, text: str, lang: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))


def ident(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


async def test_python_call_sites_in_the_editor(client: LanguageClient):
    uri = "file:///tmp/promptls-e2e/code/bot.py"
    open_text(client, uri, PY, "python")
    diags = await wait_diagnostics(client, uri)
    by = {d.code: d for d in diags}
    assert {"SD003", "SD006"} <= set(by), [d.code for d in diags]
    assert by["SD003"].range.start == pos_of(PY, "anthropic.Anthropic()")
    # hover on the model id: catalog facts and this call's cost
    h = await client.text_document_hover_async(lsp.HoverParams(ident(uri), pos_of(PY, '"claude-sonnet-4-5"', 3)))
    assert "context window" in h.contents.value and "/call" in h.contents.value
    # inlay hint after the long system prompt: tokens and cost per call
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        ident(uri), lsp.Range(lsp.Position(0, 0), lsp.Position(40, 0))))
    assert any("tokens" in h.label and "/call" in h.label for h in hints)
    # a code lens above each call with a literal model
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(ident(uri)))
    titles = [lens.command.title for lens in lenses]
    assert any(t.startswith("claude-sonnet-4-5") and "tokens (" in t and "input + 512 output" in t and "/call" in t
               for t in titles), titles
    # completion inside model="claude-"
    res = await client.text_document_completion_async(lsp.CompletionParams(
        ident(uri), pos_of(PY, 'model="claude-"', len('model="claude-'))))
    assert res is not None and any(i.label.startswith("claude-") for i in res.items)


async def test_python_quick_fix_and_refactorings(client: LanguageClient):
    uri = "file:///tmp/promptls-e2e/code/refactor.py"
    open_text(client, uri, PY, "python")
    diags = await wait_diagnostics(client, uri)
    sd3 = next(d for d in diags if d.code == "SD003")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        ident(uri), sd3.range, lsp.CodeActionContext(diagnostics=[sd3])))
    timeout = next(a for a in actions if "timeout" in a.title)
    assert timeout.kind == lsp.CodeActionKind.QuickFix
    assert "timeout=" in timeout.edit.changes[uri][0].new_text
    call = pos_of(PY, "client.messages.create")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        ident(uri), lsp.Range(call, call), lsp.CodeActionContext(diagnostics=[])))
    titles = [a.title for a in actions]
    assert any(t.startswith("Use cheaper") and "→" in t for t in titles), titles
    assert any("retry" in t.lower() for t in titles), titles
    assert any("stream" in t.lower() for t in titles), titles
    assert any("Cache the system prompt" in t for t in titles), titles
    call = pos_of(PY, 'model="claude-"')
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        ident(uri), lsp.Range(call, call), lsp.CodeActionContext(diagnostics=[])))
    extract = next(a for a in actions if a.kind == lsp.CodeActionKind.RefactorExtract)
    ops = extract.edit.document_changes
    assert isinstance(ops[0], lsp.CreateFile) and ops[0].uri.endswith(".prompty")
    assert ops[1].edits[0].new_text.startswith("---\nname:")


FAILING = """import anthropic

client = anthropic.Anthropic(timeout=30)


def no_limit():
    return client.messages.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "Hi there"}])


def retired():
    return client.messages.create(model="claude-2.1", max_tokens=100,
                                  messages=[{"role": "user", "content": "Hi there"}])


def fine():
    return client.messages.create(model="claude-sonnet-4-5", max_tokens=100,
                                  messages=[{"role": "user", "content": "Hi there"}])
"""


async def test_a_call_that_cannot_succeed_is_not_priced(client: LanguageClient):
    uri = "file:///tmp/promptls-e2e/code/failing.py"
    open_text(client, uri, FAILING, "python")
    diags = await wait_diagnostics(client, uri)
    assert {"SD001", "MD003"} <= {d.code for d in diags}
    assert not {"TK001", "TK004"} & {d.code for d in diags}
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(ident(uri)))
    by_line = {lens.range.start.line: lens.command.title for lens in lenses}
    no_limit = by_line[pos_of(FAILING, "client.messages.create(model=\"claude-sonnet-4-5\", messages").line]
    retired = by_line[pos_of(FAILING, 'model="claude-2.1"').line]
    fine = by_line[FAILING[:FAILING.rindex("client.messages.create")].count("\n")]
    assert "Fails: `max_tokens` missing (SD001)" in no_limit and "$" not in no_limit, no_limit
    assert "Fails: model retired (MD003)" in retired and "$" not in retired, retired
    assert "/call" in fine and "Fails" not in fine, fine
    h = await client.text_document_hover_async(lsp.HoverParams(ident(uri), pos_of(FAILING, '"claude-2.1"', 3)))
    assert "Fails: model retired" in h.contents.value and "/call" not in h.contents.value


async def test_typescript_diagnostics(client: LanguageClient):
    uri = "file:///tmp/promptls-e2e/code/triage.ts"
    text = ('import OpenAI from "openai";\nconst openai = new OpenAI({ timeout: 10_000 });\n'
            'export const run = () => openai.chat.completions.create({ model: "gpt-4o-mnii", messages: [] });\n')
    open_text(client, uri, text, "typescript")
    diags = await wait_diagnostics(client, uri)
    md = next(d for d in diags if d.code == "MD001")
    assert md.range.start == pos_of(text, '"gpt-4o-mnii"')


def _example(i: int) -> str:
    return json.dumps({"messages": [{"role": "system", "content": "You are a terse support agent."},
                                    {"role": "user", "content": f"Where is order {i}?"},
                                    {"role": "assistant", "content": f"Order {i} ships on day {i % 7 + 1}."}]})


async def test_dataset_diagnostics_and_summary_lens(client: LanguageClient):
    uri = "file:///tmp/promptls-e2e/data/train.jsonl"
    lines = [_example(i) for i in range(12)]
    lines[3] = '{"messages": [{"role": "user", "content": "broken"'
    text = "\n".join(lines) + "\n"
    open_text(client, uri, text, "jsonl")
    diags = await wait_diagnostics(client, uri)
    ds1 = next(d for d in diags if d.code == "DS001")
    assert ds1.range.start.line == 3
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(ident(uri)))
    title = lenses[0].command.title
    assert "11 examples" in title and "to train gpt-4o-mini" in title and "(default model" in title, title
    assert len(title) < 110, title  # short enough not to be cut off in an editor


async def test_large_dataset_shows_the_top_first():  # async only for the module's asyncio mark; it blocks
    """The first publish for a large dataset covers its top lines; the full pass follows. Spoken over raw stdio
    framing, so that every notification is seen in order (the test client keeps only the last per document)."""
    import select
    import subprocess
    import sys

    from tests.e2e.conftest import ENV
    from tests.e2e.test_robustness import INIT, frame, read_message

    uri = "file:///tmp/promptls-e2e/data/big_train.jsonl"
    lines = [_example(i) for i in range(30_000)]
    lines[5] = "not json"
    lines[-3] = "also not json"
    text = "\n".join(lines) + "\n"
    assert len(text) > 2_000_000
    proc = subprocess.Popen([sys.executable, "-m", "promptls", "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)

    def next_dataset_publish() -> list[int]:
        for _ in range(50):
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no message from the server within 60 s"
            msg = read_message(proc.stdout)
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                return sorted(d["range"]["start"]["line"] for d in msg["params"]["diagnostics"]
                              if d["code"] == "DS001")
        raise AssertionError("no diagnostics for the dataset")

    try:
        proc.stdin.write(frame(INIT))
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "jsonl", "version": 1, "text": text}}}))
        proc.stdin.flush()
        seen = [next_dataset_publish()]
        while len(lines) - 3 not in seen[-1] and len(seen) < 5:
            seen.append(next_dataset_publish())
        assert seen[0] == [5], seen  # the first publish covers the top of the file only
        assert seen[-1] == [5, len(lines) - 3]
    finally:
        proc.kill()
        proc.wait(10)


async def test_oversized_and_broken_sources_are_reported_not_fatal(client: LanguageClient):
    big = "file:///tmp/promptls-e2e/code/huge.py"
    text = "import anthropic\n" + "x = 1\n" * 1_700_000  # ~10.2 MB: above the default max-file-bytes
    open_text(client, big, text, "python")
    diags = await wait_diagnostics(client, big)
    assert [d.code for d in diags] == ["IO001"] and "max-file-bytes" in diags[0].message
    broken = "file:///tmp/promptls-e2e/code/broken.ts"
    src = ('import OpenAI from "openai";\nconst o = new OpenAI({ timeout: 5 });\nconst broken = (;\n'
           'export const f = () => o.chat.completions.create({ model: "gpt-4o-mnii", messages: [] });\n')
    open_text(client, broken, src, "typescript")
    diags = await wait_diagnostics(client, broken)
    assert "MD001" in {d.code for d in diags}  # tree-sitter recovers: the call after the error is still found
    py = "file:///tmp/promptls-e2e/code/syntax.py"
    open_text(client, py, "import openai\nclient = openai.OpenAI(\n", "python")
    assert list(await wait_diagnostics(client, py)) == []  # not parseable: nothing to say, and no crash
    h = await client.text_document_hover_async(lsp.HoverParams(ident(py), lsp.Position(1, 3)))
    assert h is None
