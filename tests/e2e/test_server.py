"""End-to-end LSP tests over stdio (pytest-lsp): every feature of the prompt-file language server."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.conftest import wait_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")

DOC = """---
model: gpt-5.2
config:
  maxOutputTokens: 100
input:
  schema:
    name: string
    unused?: string
  default:
    name: Ada
---
{{role "system"}}
You are kind to 😀 people.
{{role "user"}}
Hello {{name}} from {{city}}!
"""


async def open_doc(client: LanguageClient, uri: str, text: str = DOC, lang: str = "dotprompt") -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))


def pos_of(text: str, needle: str, extra: int = 0) -> lsp.Position:
    off = text.index(needle) + extra
    line = text.count("\n", 0, off)
    col = off - (text.rfind("\n", 0, off) + 1)
    return lsp.Position(line, len(text[off - col:off].encode("utf-16-le")) // 2)


async def test_push_diagnostics_with_utf16_ranges(client: LanguageClient, uri: str):
    await open_doc(client, uri)
    diags = await wait_diagnostics(client, uri)
    by = {d.code: d for d in diags}
    assert {"VR001", "VR002"} <= set(by)
    assert not {"TK001", "TK004"} & set(by)  # figures are not problems (issue 16)
    assert all(d.source == "promptls" for d in diags)
    assert by["VR001"].range.start == pos_of(DOC, "city")
    assert by["VR001"].severity == lsp.DiagnosticSeverity.Warning
    assert lsp.DiagnosticTag.Unnecessary in (by["VR002"].tags or [])


async def test_incremental_edit_republishes(client: LanguageClient, uri: str):
    await open_doc(client, uri)
    await wait_diagnostics(client, uri)
    start = pos_of(DOC, "city")
    end = lsp.Position(start.line, start.character + 4)
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start, end), text="name")]))
    for _ in range(50):
        diags = await wait_diagnostics(client, uri)
        if not any(d.code == "VR001" for d in diags):
            break
        client.diagnostics.pop(uri, None)
    assert not any(d.code == "VR001" for d in client.diagnostics[uri])


async def test_pull_diagnostics_and_utf8_positions(nvim: LanguageClient, uri: str):
    await open_doc(nvim, uri)
    report = await nvim.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert report.kind == "full"
    vr = next(d for d in report.items if d.code == "VR001")
    line = DOC.splitlines()[vr.range.start.line]
    assert line.encode("utf-8")[vr.range.start.character:vr.range.end.character] == b"city"
    again = await nvim.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert again.kind == "unchanged"
    assert uri not in nvim.diagnostics  # a pull client gets no pushed duplicates


async def test_hovers(client: LanguageClient, uri: str):
    await open_doc(client, uri)
    await wait_diagnostics(client, uri)
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(DOC, "{{name}}", 3)))
    assert "string" in h.contents.value and "Ada" in h.contents.value and "line" in h.contents.value
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(DOC, "gpt-5.2", 2)))
    assert "context window" in h.contents.value and "272,000" in h.contents.value
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(DOC, '"user"', 2)))
    assert "tokens" in h.contents.value and "%` of the input" in h.contents.value and "█" in h.contents.value


async def test_inlay_hints_and_code_lens(client: LanguageClient, uri: str):
    await open_doc(client, uri)
    await wait_diagnostics(client, uri)
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(lsp.Position(0, 0), lsp.Position(100, 0))))
    assert len(hints) == 2 and all("tokens" in h.label for h in hints)
    assert hints[0].position.line == pos_of(DOC, '{{role "system"}}').line
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert lenses and "tokens" in lenses[0].command.title and "$" in lenses[0].command.title


CLEAN = """---
model: gpt-5.2
config:
  maxOutputTokens: 5
---
Say hi.
"""


async def test_one_cost_string_on_every_surface(fresh: LanguageClient, tmp_path):
    """A clean prompt: no diagnostics, and the same tokens and cost on the lens, the model hover, the status
    notification and `promptls check`; no "Fix with LLM" without a usable provider."""
    import json
    import subprocess
    import sys

    from promptls.core.figures import format_cost

    client = fresh
    statuses: list[dict] = []

    def plain(o):  # pygls hands custom notifications over as named tuples
        return {k: plain(v) for k, v in o._asdict().items()} if hasattr(o, "_asdict") else o

    client.feature("promptls/status")(lambda params: statuses.append(plain(params)))
    path = tmp_path / "clean.prompt"
    path.write_text(CLEAN)
    uri = path.as_uri()
    await open_doc(client, uri, CLEAN)
    assert list(await wait_diagnostics(client, uri)) == []
    lens = (await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri))))[0].command.title
    hover = (await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(CLEAN, "gpt-5.2", 2)))).contents.value
    for _ in range(100):
        if any((s.get("activeFile") or {}).get("uri") == uri for s in statuses):
            break
        await asyncio.sleep(0.05)
    active = next(s["activeFile"] for s in reversed(statuses) if (s.get("activeFile") or {}).get("uri") == uri)
    check = subprocess.run([sys.executable, "-m", "promptls", "check", str(path)], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    data = json.loads(subprocess.run([sys.executable, "-m", "promptls", "check", "--format", "json", str(path)],
                                     capture_output=True, text=True, timeout=60, cwd=tmp_path).stdout)
    cost = format_cost(data["files"][0]["cost_usd"]) + "/call"
    tokens = f"{data['files'][0]['tokens']['input'] + 5:,} tokens"
    assert cost != "$0/call" and active["costText"] == cost
    for surface in (lens, hover, active["text"], check.stdout):
        assert cost in surface and tokens in surface, (surface, cost, tokens)
    assert active["tokens"] == data["files"][0]["tokens"]["input"] + 5
    # The only provider configured has no key: no "Fix with LLM", not even for an error.
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"promptls": {
        "providers": {"openai": {"kind": "openai", "api_key_env": "PROMPTLS_TEST_KEY_NEVER_SET"}}}}))
    error = lsp.Diagnostic(range=lsp.Range(lsp.Position(5, 0), lsp.Position(5, 3)), message="E1 broken",
                           severity=lsp.DiagnosticSeverity.Error, source="other")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=error.range,
        context=lsp.CodeActionContext(diagnostics=[error])))
    assert not [a for a in actions or [] if "Fix with LLM" in a.title]


async def test_completions(client: LanguageClient, uri: str):
    text = DOC.replace("Hello {{name}}", "Hello {{na")
    await open_doc(client, uri, text)
    await wait_diagnostics(client, uri)
    res = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(text, "{{na", 4)))
    labels = {i.label for i in res.items}
    assert {"name", "unused", "role", "if", "each"} <= labels
    res = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(text, "gpt-5.2", 6)))
    assert any(i.label.startswith("gpt-5.2") for i in res.items)
    res = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(5, 0)))
    assert {"name", "output"} <= {i.label for i in res.items}


async def test_quick_fixes(client: LanguageClient, uri: str):
    text = DOC.replace("model: gpt-5.2", "model: gpt-4o-mnii")
    await open_doc(client, uri, text)
    diags = await wait_diagnostics(client, uri)
    md = next(d for d in diags if d.code == "MD001")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=md.range,
        context=lsp.CodeActionContext(diagnostics=[md])))
    edits = [a.edit.changes[uri][0].new_text for a in actions if a.edit]
    assert "gpt-4o-mini" in edits
    vr = next(d for d in diags if d.code == "VR001")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=vr.range,
        context=lsp.CodeActionContext(diagnostics=[vr])))
    declare = next(a for a in actions if "Declare" in a.title)
    assert "city: string" in declare.edit.changes[uri][0].new_text


async def test_symbols_and_definition(client: LanguageClient, tmp_path):
    (tmp_path / "_footer.prompt").write_text("Bye {{name}}\n")
    uri = (tmp_path / "main.prompt").as_uri()
    text = DOC.replace("Hello {{name}}", "Hello {{> footer}} {{name}}")
    await open_doc(client, uri, text)
    await wait_diagnostics(client, uri)
    syms = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    names = [s.name for s in syms]
    assert names == ["frontmatter", "system message", "user message"]
    loc = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(text, "footer", 2)))
    assert loc[0].uri.endswith("_footer.prompt")
    loc = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(text, "{{name}}", 3)))
    assert loc[0].range.start == pos_of(text, "name: string")


async def test_bad_input_server_keeps_answering(client: LanguageClient, uri: str):
    bad_uri = uri.replace(".prompt", "-bad.prompt")
    await open_doc(client, bad_uri, "---\na: [\n---\n" + "{{#if x}}" * 1000 + "\x00")  # NUL past the binary sniff
    diags = await wait_diagnostics(client, bad_uri)
    assert any(d.code == "FM001" for d in diags)
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=bad_uri), position=lsp.Position(10_000, 10_000)))
    assert h is None
    await open_doc(client, uri)
    assert any(d.code == "VR001" for d in await wait_diagnostics(client, uri))


async def test_configuration_change_and_invalid_settings(fresh: LanguageClient, uri: str):
    client = fresh
    await open_doc(client, uri)
    await wait_diagnostics(client, uri)
    client.diagnostics.pop(uri, None)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"promptls": {"ignore": ["VR"], "bogus": 1}}))
    for _ in range(50):
        diags = await wait_diagnostics(client, uri)
        if not any(d.code.startswith("VR") for d in diags):
            break
        client.diagnostics.pop(uri, None)
    assert not any(d.code.startswith("VR") for d in client.diagnostics[uri])
    for _ in range(50):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert any("bogus" in m.message for m in client.messages)


V1 = """---
name: legacy
authors:
  - someone
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-5.2
  parameters:
    max_tokens: 100
sample:
  question: Why is the sky blue?
---
system:
You answer briefly.

user:
{{question}}
"""


async def test_prompty_v1_migration_and_jinja_completion(client: LanguageClient, uri: str):
    uri = uri.replace(".prompt", ".prompty")
    await open_doc(client, uri, V1, "prompty")
    await wait_diagnostics(client, uri)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
        context=lsp.CodeActionContext(diagnostics=[])))
    migrate = next(a for a in actions if "v2" in a.title)
    assert migrate.kind == lsp.CodeActionKind.RefactorRewrite
    new_yaml = migrate.edit.changes[uri][0].new_text
    import yaml

    data = yaml.safe_load(new_yaml)
    assert data["model"]["id"] == "gpt-5.2" and data["model"]["options"]["maxOutputTokens"] == 100
    assert data["inputs"] == [{"name": "question", "kind": "string", "default": "Why is the sky blue?"}]
    assert data["metadata"]["authors"] == ["someone"]
    text = V1.replace("{{question}}", "{{ que")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
    res = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos_of(text, "{{ que", 6)))
    assert "question" in {i.label for i in res.items}
