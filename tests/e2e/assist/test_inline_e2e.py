"""Inline completion through the real server (pytest-lsp over stdio) against the loopback fake providers."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.assist.conftest import init_params, settings
from tests.fakes.http import Fault

# Each test starts the real server (about 2-3 s on 2 cores): everyday runs can deselect with -m "not slow".
pytestmark = pytest.mark.slow

PY = "def add(a, b):\n    return "


def open_doc(client: LanguageClient, uri: str, text: str, lang: str = "python") -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))


def end_of(text: str) -> lsp.Position:
    lines = text.split("\n")
    return lsp.Position(len(lines) - 1, len(lines[-1]))


def inline_params(uri: str, pos: lsp.Position, invoked: bool = False) -> lsp.InlineCompletionParams:
    kind = lsp.InlineCompletionTriggerKind.Invoked if invoked else lsp.InlineCompletionTriggerKind.Automatic
    return lsp.InlineCompletionParams(context=lsp.InlineCompletionContext(trigger_kind=kind),
                                      text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos)


async def ask(client: LanguageClient, uri: str, pos: lsp.Position, invoked: bool = False) -> list[str]:
    res = await asyncio.wait_for(client.text_document_inline_completion_async(inline_params(uri, pos, invoked)), 30)
    items = res.items if isinstance(res, lsp.InlineCompletionList) else (res or [])
    return [i.insert_text for i in items]


def type_char(client: LanguageClient, uri: str, version: int, pos: lsp.Position, ch: str) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(pos, pos), text=ch)]))


def user_text(call) -> str:
    return next(m["content"] for m in call.json()["messages"] if m["role"] == "user")


async def test_advertises_inline_completion(client: LanguageClient, fakes, tmp_path):
    res = await client.initialize_session(init_params(settings(fakes, tmp_path)))
    assert res.capabilities.inline_completion_provider is not None


async def test_chat_path_content_and_range(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    fakes.openai.push(Fault(tokens=["a", " +", " b"]))
    uri = "file:///tmp/promptls-assist/calc.py"
    open_doc(client, uri, PY)
    res = await asyncio.wait_for(client.text_document_inline_completion_async(
        inline_params(uri, end_of(PY), invoked=True)), 30)
    assert [i.insert_text for i in res.items] == ["a + b"]
    assert res.items[0].range == lsp.Range(end_of(PY), end_of(PY))
    assert len(fakes.openai.calls) == 1
    body = fakes.openai.calls[0].json()
    assert body["messages"][0]["role"] == "system" and "ONLY the text to insert" in body["messages"][0]["content"]
    assert "    return <|CURSOR|>" in user_text(fakes.openai.calls[0])
    assert body["temperature"] == 0.0


async def test_fim_path_sends_native_suffix(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path, chain=["fim"])))
    fakes.ollama.push(Fault(tokens=["x * ", "y"]))
    text = "def mul(x, y):\n    return \n\nprint(mul(2, 3))\n"
    uri = "file:///tmp/promptls-assist/mul.py"
    open_doc(client, uri, text)
    assert await ask(client, uri, lsp.Position(1, 11), invoked=True) == ["x * y"]
    (call,) = fakes.ollama.calls
    assert call.path == "/api/generate"
    body = call.json()
    assert body["prompt"].endswith("def mul(x, y):\n    return ")
    assert body["suffix"].startswith("\n\nprint(mul(2, 3))")
    assert not fakes.openai.calls


async def test_failover_from_fim_group_to_chat_group(client: LanguageClient, fakes, tmp_path):
    cfg = settings(fakes, tmp_path, chain=["nokey", "chat"])
    await client.initialize_session(init_params(cfg))
    fakes.openai.push(Fault(tokens=["a - b"]))
    uri = "file:///tmp/promptls-assist/sub.py"
    open_doc(client, uri, PY)
    assert await ask(client, uri, end_of(PY), invoked=True) == ["a - b"]


async def test_typing_burst_makes_at_most_two_calls(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    uri = "file:///tmp/promptls-assist/burst.py"
    text = "def total(items):\n    "
    open_doc(client, uri, text)
    typed = "return sum(item.pri"
    fakes.openai.default_tokens = ["ce for item in items)"]
    pending = []
    pos = end_of(text)
    for i, ch in enumerate(typed[:20]):
        type_char(client, uri, i + 2, pos, ch)
        text += ch
        pos = lsp.Position(pos.line, pos.character + 1)
        pending.append(asyncio.ensure_future(client.text_document_inline_completion_async(inline_params(uri, pos))))
        await asyncio.sleep(0.03)
    results = await asyncio.wait_for(asyncio.gather(*pending), 30)
    assert 1 <= len(fakes.openai.calls) <= 2
    final = [i.insert_text for i in results[-1].items]
    assert final == ["ce for item in items)"]
    # The call that produced the final answer saw the final text.
    assert f"    {typed}<|CURSOR|>" in user_text(fakes.openai.calls[-1])
    # Superseded requests answered empty rather than waiting.
    assert all(not r.items for r in results[:-2])


async def test_cancel_request_closes_the_provider_stream(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    fakes.openai.push(Fault(tokens=[f"t{i} " for i in range(200)], token_delay_s=0.05))
    uri = "file:///tmp/promptls-assist/slow.py"
    open_doc(client, uri, PY)
    msg_id = f"inline-{uuid.uuid4().hex[:6]}"
    fut = client.protocol.send_request(lsp.TEXT_DOCUMENT_INLINE_COMPLETION,
                                       inline_params(uri, end_of(PY), invoked=True), msg_id=msg_id)
    for _ in range(300):  # until the fake has started streaming (bounded)
        if fakes.openai.calls:
            break
        await asyncio.sleep(0.02)
    assert fakes.openai.calls
    client.cancel_request(lsp.CancelParams(id=msg_id))
    for _ in range(300):
        if fakes.openai.client_closed:
            break
        await asyncio.sleep(0.02)
    assert fakes.openai.client_closed == 1
    assert fakes.openai.completed == 0
    with pytest.raises(Exception):  # noqa: B017 - answered with RequestCancelled
        await asyncio.wait_for(asyncio.wrap_future(fut), 10)


async def test_prefix_cache_answers_retyping_and_backspace(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    fakes.openai.push(Fault(tokens=["a + b"]))
    uri = "file:///tmp/promptls-assist/cache.py"
    open_doc(client, uri, PY)
    pos = end_of(PY)
    assert await ask(client, uri, pos) == ["a + b"]
    type_char(client, uri, 2, pos, "a")
    after = lsp.Position(pos.line, pos.character + 1)
    assert await ask(client, uri, after) == [" + b"]
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(pos, after), text="")]))
    assert await ask(client, uri, pos) == ["a + b"]
    assert len(fakes.openai.calls) == 1


async def test_stream_reuse_when_typing_what_it_produces(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path, assist={"debounce_ms": 0})))
    fakes.openai.push(Fault(tokens=["a", " + ", "b"], delay_s=0.3))
    uri = "file:///tmp/promptls-assist/reuse.py"
    open_doc(client, uri, PY)
    pos = end_of(PY)
    first = asyncio.ensure_future(client.text_document_inline_completion_async(inline_params(uri, pos)))
    for _ in range(300):
        if fakes.openai.calls:
            break
        await asyncio.sleep(0.01)
    type_char(client, uri, 2, pos, "a")
    second = await asyncio.wait_for(client.text_document_inline_completion_async(
        inline_params(uri, lsp.Position(pos.line, pos.character + 1))), 30)
    await asyncio.wait_for(first, 30)
    assert [i.insert_text for i in second.items] == [" + b"]
    assert len(fakes.openai.calls) == 1


async def test_privacy_excluded_files_never_reach_a_remote_provider(client: LanguageClient, fakes, tmp_path):
    await client.initialize_session(init_params(settings(fakes, tmp_path)))
    secret_uri = "file:///tmp/promptls-assist/secrets.py"
    open_doc(client, secret_uri, "def total_price(order):\n    return order.hidden_margin_value\n")
    # The excluded file itself: no call at all.
    assert await ask(client, secret_uri, lsp.Position(1, 4), invoked=True) == []
    assert not fakes.openai.calls
    # Another file: its request carries snippets of open documents, but none of the excluded one.
    open_doc(client, "file:///tmp/promptls-assist/prices.py",
             "def total_price(order):\n    return order.visible_amount_value\n")
    uri = "file:///tmp/promptls-assist/use.py"
    text = "from prices import total_price\n\ndef checkout(order):\n    x = total_price(order)\n    "
    open_doc(client, uri, text)
    fakes.openai.push(Fault(tokens=["return x"]))
    assert await ask(client, uri, end_of(text), invoked=True) == ["return x"]
    sent = json.dumps(fakes.openai.calls[0].json())
    assert "visible_amount_value" in sent
    assert "hidden_margin_value" not in sent
