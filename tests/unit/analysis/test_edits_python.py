"""Python edit builders: each fix is applied to the source, the result re-parsed and its shape checked; the retry
helper and the prompt-file loader are executed for real against stand-ins for the SDK."""

from __future__ import annotations

import ast
import asyncio
import email.utils
import itertools
import sys
import time
import types

import pytest

from promptls.analysis.fixes import edits_python as ep
from promptls.core.findings import Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.code.python_sites import extract_python


def apply(text: str, fix: Fix) -> str:
    spans = sorted((e.span.start, e.span.end) for e in fix.edits)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "overlapping edits"
    for e in sorted(fix.edits, key=lambda e: e.span.start, reverse=True):
        text = text[:e.span.start] + e.new_text + text[e.span.end:]
    return text


def calls_named(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "attr", None) == name or getattr(n.func, "id", None) == name)]


def kwargs(call: ast.Call) -> dict[str, object]:
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg and isinstance(k.value, ast.Constant)}


# -- add_timeout ---------------------------------------------------------------------------------------------
CLIENTS = '''import anthropic
import ollama
from google import genai
from google.genai import types
from openai import OpenAI

bare = anthropic.Anthropic()
multi = OpenAI(
    base_url="http://127.0.0.1:8000/v1",
    max_retries=1,
)
local = ollama.Client(host="http://127.0.0.1:11434")
gem = genai.Client()
gem_opts = genai.Client(http_options=types.HttpOptions(api_version="v1"))
gem_dict = genai.Client(http_options={"api_version": "v1"}, vertexai=False)
gem_empty = genai.Client(http_options={})
spread = OpenAI(**settings)
already = OpenAI(timeout=5)
'''


def test_add_timeout_per_sdk_produces_valid_code():
    doc = extract_python("clients.py", CLIENTS)
    by_var = {c.var: c for c in doc.clients}
    expected = {
        "bare": ("Anthropic", {"timeout": 60.0}),
        "multi": ("OpenAI", {"timeout": 60.0, "max_retries": 1, "base_url": "http://127.0.0.1:8000/v1"}),
        "local": ("Client", {"timeout": 60.0, "host": "http://127.0.0.1:11434"}),
    }
    for var, (ctor, want) in expected.items():
        fix = ep.add_timeout(doc, by_var[var])
        tree = ast.parse(apply(CLIENTS, fix))
        (call,) = [c for c in calls_named(tree, ctor) if any(isinstance(t, ast.Name) and t.id == var
                                                             for s in tree.body if isinstance(s, ast.Assign)
                                                             and s.value is c for t in s.targets)]
        assert kwargs(call) == want, var
        assert fix.title == "Add `timeout=60.0`"

    fixed = apply(CLIENTS, ep.add_timeout(doc, by_var["gem"]))
    assert "gem = genai.Client(http_options={\"timeout\": 60_000})" in fixed
    fixed = apply(CLIENTS, ep.add_timeout(doc, by_var["gem_opts"], seconds=30))
    assert 'types.HttpOptions(api_version="v1", timeout=30_000)' in fixed and ast.parse(fixed)
    fixed = apply(CLIENTS, ep.add_timeout(doc, by_var["gem_dict"]))
    assert 'http_options={"api_version": "v1", "timeout": 60_000}, vertexai=False' in fixed and ast.parse(fixed)
    fixed = apply(CLIENTS, ep.add_timeout(doc, by_var["gem_empty"]))
    assert 'genai.Client(http_options={"timeout": 60_000})' in fixed
    assert ep.add_timeout(doc, by_var["spread"]) is None
    assert ep.add_timeout(doc, by_var["already"]) is None


# -- wrap_with_retry -----------------------------------------------------------------------------------------
class FakeResponse:
    def __init__(self, headers):
        self.headers = headers


class FakeAPIError(Exception):
    def __init__(self, status_code, headers=None):
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.response = FakeResponse(headers or {})


class APIConnectionError(Exception):
    """Named like the SDKs' connection error: no status, no response."""


def fake_anthropic(monkeypatch, outcomes):
    """An `anthropic` module whose `messages.create` raises each exception in `outcomes`, then returns "ok"."""
    seen = []

    def create(**kw):
        seen.append(kw)
        if len(seen) <= len(outcomes):
            raise outcomes[len(seen) - 1]
        return "ok"

    async def acreate(**kw):
        return create(**kw)

    def client_class(make):
        return lambda **_kw: types.SimpleNamespace(messages=types.SimpleNamespace(create=make))

    mod = types.ModuleType("anthropic")
    mod.Anthropic = client_class(create)
    mod.AsyncAnthropic = client_class(acreate)
    monkeypatch.setitem(sys.modules, "anthropic", mod)
    return seen


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)

    async def fake_async_sleep(delay):
        slept.append(delay)

    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return slept


DIGEST = '''"""Nightly digest."""
import anthropic

client = anthropic.Anthropic(timeout=30)


def digest(text):
    resp = client.messages.create(model="claude-haiku-4-5", max_tokens=300,
                                  messages=[{"role": "user", "content": text}])
    return resp
'''


def run_module(text: str) -> dict:
    ns: dict = {"__name__": "generated"}
    exec(compile(text, "generated.py", "exec"), ns)
    return ns


def test_retry_helper_honours_retry_after_ms(monkeypatch, sleeps):
    doc = extract_python("digest.py", DIGEST)
    fixed = apply(DIGEST, ep.wrap_with_retry(doc, doc.calls[0]))
    tree = ast.parse(fixed)
    (wrapped,) = calls_named(tree, "_with_retry")
    assert isinstance(wrapped.args[0], ast.Lambda)
    assert ast.unparse(wrapped.args[0].body).startswith("client.messages.create(model='claude-haiku-4-5'")
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["_retry_delay", "_with_retry", "digest"]

    err = FakeAPIError(429, {"retry-after-ms": "5"})
    seen = fake_anthropic(monkeypatch, [err, err])
    assert run_module(fixed)["digest"]("release notes") == "ok"
    assert len(seen) == 3 and seen[2]["messages"][0]["content"] == "release notes"
    assert sleeps == [0.005, 0.005]


@pytest.mark.parametrize("error, expected_sleep", [
    (FakeAPIError(503, {"Retry-After": "2"}), 2.0),  # a plain dict with the header's usual capitalisation
    (FakeAPIError(529, {"retry-after": "in 30 s"}), 30.0),  # an HTTP date 30 s ahead, written when the test runs
    (FakeAPIError(408), None),  # no header: backoff with jitter
    (APIConnectionError("connection reset"), None),
    (ConnectionResetError("reset by peer"), None),
])
def test_retry_helper_waits_per_header_or_backoff(monkeypatch, sleeps, error, expected_sleep):
    headers = getattr(getattr(error, "response", None), "headers", {})
    if headers.get("retry-after") == "in 30 s":
        headers["retry-after"] = email.utils.formatdate(time.time() + 30, usegmt=True)
    doc = extract_python("digest.py", DIGEST)
    fixed = apply(DIGEST, ep.wrap_with_retry(doc, doc.calls[0]))
    seen = fake_anthropic(monkeypatch, [error])
    assert run_module(fixed)["digest"]("x") == "ok" and len(seen) == 2
    (slept,) = sleeps
    if expected_sleep is None:
        assert 0 <= slept <= 1.0  # full jitter over base * 2**0
    else:
        assert slept == pytest.approx(expected_sleep, abs=1.5)


def test_retry_helper_gives_up_on_client_errors_and_after_five_attempts(monkeypatch, sleeps):
    doc = extract_python("digest.py", DIGEST)
    fixed = apply(DIGEST, ep.wrap_with_retry(doc, doc.calls[0]))
    seen = fake_anthropic(monkeypatch, [FakeAPIError(400)])
    with pytest.raises(FakeAPIError):
        run_module(fixed)["digest"]("x")
    assert len(seen) == 1 and sleeps == []

    huge = FakeAPIError(429, {"retry-after": "3600"})  # above the cap: exponential backoff instead
    seen = fake_anthropic(monkeypatch, [huge] * 5)
    with pytest.raises(FakeAPIError):
        run_module(fixed)["digest"]("x")
    assert len(seen) == 5 and len(sleeps) == 4
    assert all(0 <= s <= 2 ** i for i, s in enumerate(sleeps))


def test_async_retry_wraps_awaited_calls(monkeypatch, sleeps):
    text = '''import anthropic

aclient = anthropic.AsyncAnthropic()


async def digest(text):
    resp = await aclient.messages.create(model="claude-haiku-4-5", max_tokens=300,
                                         messages=[{"role": "user", "content": text}])
    return resp


def _with_retry(fn):
    return fn()
'''
    doc = extract_python("adigest.py", text)
    fix = ep.wrap_with_retry(doc, doc.calls[0])
    fixed = apply(text, fix)
    tree = ast.parse(fixed)
    digest = next(n for n in tree.body if getattr(n, "name", "") == "digest")
    (awaited,) = [n for n in ast.walk(digest) if isinstance(n, ast.Await)]
    assert isinstance(awaited.value, ast.Call) and awaited.value.func.id == "_with_retry_async"
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert names == ["_retry_delay", "_with_retry_async", "digest", "_with_retry"]

    err = FakeAPIError(429, {"retry-after-ms": "250"})
    seen = fake_anthropic(monkeypatch, [err])
    assert asyncio.run(run_module(fixed)["digest"]("x")) == "ok"
    assert len(seen) == 2 and sleeps == [0.25]


def test_retry_helpers_are_inserted_once_and_only_where_safe():
    text = DIGEST + '''

def digest_twice(text):
    return client.messages.create(model="claude-haiku-4-5", max_tokens=30, messages=[])
'''
    doc = extract_python("digest.py", text)
    once = apply(text, ep.wrap_with_retry(doc, doc.calls[0]))
    doc2 = extract_python("digest.py", once)
    second = ep.wrap_with_retry(doc2, doc2.calls[1])
    assert len(second.edits) == 1  # the helpers exist now: only the call changes
    twice = apply(once, second)
    assert twice.count("def _with_retry(") == 1 and len(calls_named(ast.parse(twice), "_with_retry")) == 2
    assert ep.wrap_with_retry(doc2, doc2.calls[0]) is None  # already inside `lambda:`

    awaited_args = "import anthropic\nc = anthropic.AsyncAnthropic()\nasync def f():\n" \
                   "    await c.messages.create(model='m', max_tokens=1, messages=await history())\n"
    doc = extract_python("a.py", awaited_args)
    assert ep.wrap_with_retry(doc, doc.calls[0]) is None  # `await` cannot move into a lambda
    streams = "import anthropic\nc = anthropic.AsyncAnthropic()\nasync def f():\n" \
              "    async with c.messages.stream(model='m', max_tokens=1, messages=[]) as s:\n        pass\n"
    doc = extract_python("a.py", streams)
    assert doc.calls[0].awaited and ep.wrap_with_retry(doc, doc.calls[0]) is None
    not_awaited = "import anthropic\nc = anthropic.AsyncAnthropic()\ntask = c.messages.create(model='m')\n"
    doc = extract_python("a.py", not_awaited)
    assert ep.wrap_with_retry(doc, doc.calls[0]) is None  # the coroutine is awaited elsewhere


def test_retry_of_module_level_call_before_a_late_import(monkeypatch, sleeps):
    text = '''import anthropic
client = anthropic.Anthropic()
client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[])
import json
print(json.dumps({"done": True}))
'''
    doc = extract_python("script.py", text)
    fixed = apply(text, ep.wrap_with_retry(doc, doc.calls[0]))
    assert fixed.index("def _with_retry(") < fixed.index("_with_retry(lambda")
    seen = fake_anthropic(monkeypatch, [FakeAPIError(500)])
    monkeypatch.setattr("builtins.print", lambda *a, **k: None)
    run_module(fixed)
    assert len(seen) == 2


# -- to_streaming --------------------------------------------------------------------------------------------
def test_anthropic_create_becomes_stream_with_final_message(monkeypatch):
    text = '''import anthropic

client = anthropic.Anthropic()


def story(text):
    resp = client.messages.create(  # the whole story
        model="claude-sonnet-4-6",
        max_tokens=2000,
        stream=True,
        messages=[{"role": "user", "content": text}],
    )
    return resp
'''
    doc = extract_python("story.py", text)
    fix = ep.to_streaming(doc, doc.calls[0])
    fixed = apply(text, fix)
    fn = ast.parse(fixed).body[-1]
    with_stmt, assign, _ret = fn.body
    assert isinstance(with_stmt, ast.With)
    (item,) = with_stmt.items
    assert ast.unparse(item.context_expr.func) == "client.messages.stream" and item.optional_vars.id == "stream"
    assert sorted(k.arg for k in item.context_expr.keywords) == ["max_tokens", "messages", "model"]
    loop = with_stmt.body[0]
    assert isinstance(loop, ast.For) and loop.target.id == "chunk"  # `text` is a parameter here: not shadowed
    assert ast.unparse(assign) == "resp = stream.get_final_message()"
    assert "# the whole story" in fixed.splitlines()[6]

    class FakeStream:
        text_stream = iter(["Once ", "upon"])

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get_final_message(self):
            return "final"

    printed = []
    mod = types.ModuleType("anthropic")
    mod.Anthropic = lambda: types.SimpleNamespace(messages=types.SimpleNamespace(stream=lambda **kw: FakeStream()))
    monkeypatch.setitem(sys.modules, "anthropic", mod)
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a[0]))
    assert run_module(fixed)["story"]("x") == "final" and printed == ["Once ", "upon"]


def test_openai_chat_and_responses_streaming_shapes():
    text = '''from openai import AsyncOpenAI, OpenAI

client = OpenAI()
aclient = AsyncOpenAI()


async def chat(q):
    reply: object = await aclient.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": q}])
    return reply


def respond(q):
    client.responses.create(model="gpt-5", input=q, stream=False)
'''
    doc = extract_python("chat.py", text)
    chat, respond = doc.calls
    fixed = apply(text, ep.to_streaming(doc, chat))
    fn = next(n for n in ast.parse(fixed).body if isinstance(n, ast.AsyncFunctionDef))
    with_stmt, assign, _ret = fn.body
    assert isinstance(with_stmt, ast.AsyncWith)
    assert ast.unparse(with_stmt.items[0].context_expr.func) == "aclient.chat.completions.stream"
    loop = with_stmt.body[0]
    assert isinstance(loop, ast.AsyncFor) and ast.unparse(loop.body[0].test) == "event.type == 'content.delta'"
    assert ast.unparse(assign) == "reply: object = await stream.get_final_completion()"

    fixed = apply(text, ep.to_streaming(doc, respond))
    fn = ast.parse(fixed).body[-1]
    (with_stmt,) = fn.body  # an expression statement: nothing to assign afterwards
    call = with_stmt.items[0].context_expr
    assert ast.unparse(call) == "client.responses.stream(model='gpt-5', input=q)"
    assert "response.output_text.delta" in ast.unparse(with_stmt.body[0].body[0].test)


@pytest.mark.parametrize("line", [
    "    return client.messages.create(model='m', max_tokens=1, messages=[])",
    "    print(client.messages.create(model='m', max_tokens=1, messages=[]))",
    "    a, b = client.messages.create(model='m', max_tokens=1, messages=[]), 2",
    "    x = 1; r = client.messages.create(model='m', max_tokens=1, messages=[])",
    "    r = client.messages.count_tokens(model='m', messages=[])",
])
def test_streaming_refuses_other_statement_shapes(line):
    text = f"import anthropic\nclient = anthropic.Anthropic()\ndef f():\n{line}\n"
    doc = extract_python("s.py", text)
    assert ep.to_streaming(doc, doc.calls[0]) is None


# -- key_to_env ----------------------------------------------------------------------------------------------
def test_literal_key_moves_to_the_environment():
    key = "sk-ant-api03-" + "x" * 20
    text = f'"""Bot."""\nimport anthropic\n\nclient = anthropic.Anthropic(api_key="{key}", timeout=10)\n'
    doc = extract_python("k.py", text)
    fix = ep.key_to_env(doc, doc.clients[0].args["api_key"], "ANTHROPIC_API_KEY")
    fixed = apply(text, fix)
    assert key not in fixed
    tree = ast.parse(fixed)
    assert [ast.unparse(s) for s in tree.body[1:3]] == ["import anthropic", "import os"]
    (call,) = calls_named(tree, "Anthropic")
    assert ast.unparse(call) == "anthropic.Anthropic(api_key=os.environ['ANTHROPIC_API_KEY'], timeout=10)"

    # through a module constant: the constant is rewritten; `os` is already imported
    text = f'import os\nimport openai\n\nKEY = "{key}"\nclient = openai.OpenAI(api_key=KEY)\n'
    doc = extract_python("k.py", text)
    fix = ep.key_to_env(doc, doc.clients[0].args["api_key"], "OPENAI_API_KEY")
    assert len(fix.edits) == 1
    assert apply(text, fix) == 'import os\nimport openai\n\nKEY = os.environ["OPENAI_API_KEY"]\n' \
                               "client = openai.OpenAI(api_key=KEY)\n"


# -- prompt_file_loader --------------------------------------------------------------------------------------
def test_prompt_file_loader_reads_the_body_relative_to_the_module(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "haiku.prompty").write_text(
        "---\nname: haiku\nmodel:\n  id: claude-haiku-4-5\n---\nsystem:\nWrite a haiku.\n", "utf-8")
    text = '"""Poet."""\nimport anthropic\n\nSYSTEM = "Write a haiku."\n'
    doc = extract_python(str(tmp_path / "poet.py"), text)
    expr, edits = ep.prompt_file_loader(doc, "prompts/haiku.prompty")
    assert expr == '_prompt_body("prompts/haiku.prompty")'
    start = text.index('"Write a haiku."')
    fixed = apply(text, Fix("extract", (*edits, TextEdit(Span(start, start + len('"Write a haiku."')), expr))))
    ns = {"__file__": str(tmp_path / "poet.py"), "__name__": "poet"}
    exec(compile(fixed.replace("import anthropic\n", ""), "poet.py", "exec"), ns)
    assert ns["SYSTEM"] == "system:\nWrite a haiku.\n"

    doc = extract_python("poet.py", fixed)
    assert ep.prompt_file_loader(doc, "other.prompty") == ('_prompt_body("other.prompty")', ())
