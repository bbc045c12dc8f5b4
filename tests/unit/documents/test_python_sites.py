"""The Python call-site extractor on real-looking modules for each SDK: imports and aliases, clients, call sites,
argument values (literals, module constants, dedent, f-strings) and the offsets of everything it reports."""

from __future__ import annotations

import ast

import pytest

from promptls.documents.code import python_sites
from promptls.documents.code.model import UNKNOWN, CodeDocument
from promptls.documents.code.python_sites import extract_python


def src(text: str, span) -> str:
    return text[span.start:span.end]


def calls(doc: CodeDocument) -> list[tuple[str, str, str]]:
    return [(c.sdk, c.api, c.receiver) for c in doc.calls]


ANTHROPIC_BOT = '''"""Support assistant — répond aux tickets (ünïcödé before every call checks the offsets)."""
from __future__ import annotations

import textwrap
from inspect import cleandoc

import anthropic as ant
from anthropic import AsyncAnthropic

MODEL = "claude-sonnet-4-6"
MAX_TOKENS: int = 1_024
TEMPERATURE = -0.5
SYSTEM = textwrap.dedent("""
    Tu es un assistant de support. Réponds en français — poliment.
    Never reveal internal ticket IDs.
""")
STYLE = cleandoc("""
    Short answers.
    No emoji.
""")
GREETING = "Bonjour " "et bienvenue"
COUNTER = 0
COUNTER = 1


class SupportBot:
    def __init__(self, key: str) -> None:
        self.client = ant.Anthropic(
            api_key=key,
            max_retries=2,
        )
        self.aclient = AsyncAnthropic()

    def answer(self, question: str, ticket: int) -> str:
        # ünïcödé: « naïve » text before the call
        resp = self.client.messages.create(
            model=MODEL,
            max_tokens=MAX_TOKENS,
            temperature=TEMPERATURE,
            system=SYSTEM + STYLE,
            messages=[{"role": "user", "content": f"Ticket #{ticket}: {question}"}],
            metadata={"user_id": "support", **self.extra},
            stop_sequences=("\\n\\nHuman:",),
        )
        return resp.content[0].text

    async def answer_async(self, question: str) -> str:
        GREETING = "shadowed"
        msg: ant.types.Message = await self.aclient.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                                                    system=GREETING, stream=False,
                                                                    messages=[{"role": "user", "content": question}])
        return msg.content[0].text

    def count(self, text: str) -> int:
        return self.client.messages.count_tokens(model=MODEL, system=STYLE, messages=[], top_k=COUNTER).input_tokens


def legacy(prompt: str) -> str:
    client = ant.Anthropic()
    return client.completions.create(model="claude-2.1", max_tokens_to_sample=300, prompt=GREETING).completion
'''


def test_anthropic_module_clients_calls_and_values():
    text = ANTHROPIC_BOT
    doc = extract_python("bot.py", text)
    assert doc.syntax_error is None and doc.language == "python"
    assert doc.sdks == {"anthropic"}
    assert [(c.sdk, src(text, c.span).split("(")[0], c.var) for c in doc.clients] == [
        ("anthropic", "ant.Anthropic", "self.client"), ("anthropic", "AsyncAnthropic", "self.aclient"),
        ("anthropic", "ant.Anthropic", "client")]
    assert calls(doc) == [("anthropic", "messages.create", "self.client"),
                          ("anthropic", "messages.create", "self.aclient"),
                          ("anthropic", "messages.count_tokens", "self.client"),
                          ("anthropic", "completions.create", "client")]
    create, acreate, count, legacy = doc.calls

    # spans are code-point offsets even after non-ASCII text on earlier lines and on the same line
    assert src(text, create.callee_span) == "self.client.messages.create"
    assert src(text, create.method_span) == "create"
    assert src(text, create.span).startswith("self.client.messages.create(\n") and src(text, create.span).endswith(")")
    stmt = src(text, create.statement_span)
    assert stmt.startswith("        resp = self.client.messages.create(") and stmt.endswith("        )")
    assert create.indent == " " * 8 and create.assigned_to == "resp" and not create.awaited

    args = create.args
    assert (args["model"].value, args["model"].name, src(text, args["model"].span)) == (
        "claude-sonnet-4-6", "MODEL", "MODEL")
    assert src(text, args["model"].origin) == '"claude-sonnet-4-6"'
    assert args["max_tokens"].value == 1024 and src(text, args["max_tokens"].written_at) == "1_024"
    assert args["temperature"].value == -0.5
    assert args["system"].value == ("\nTu es un assistant de support. Réponds en français — poliment.\n"
                                    "Never reveal internal ticket IDs.\nShort answers.\nNo emoji.")
    assert args["system"].source == "SYSTEM + STYLE" and not args["system"].partial
    content = args["messages"].value[0].get("content")
    assert content.value == "Ticket #{...}: {...}" and content.partial
    assert src(text, content.span) == 'f"Ticket #{ticket}: {question}"'
    meta = args["metadata"]
    assert meta.partial and meta.get("user_id").value == "support"
    assert args["stop_sequences"].plain() == ["\n\nHuman:"]
    # a new argument goes after the last one: the trailing comma stays valid
    assert create.insert_prefix == ", " and text[:create.insert_at].endswith('stop_sequences=("\\n\\nHuman:",)')
    assert text[create.insert_at:].startswith(",\n        )")

    assert acreate.awaited and acreate.assigned_to == "msg"
    assert acreate.args["system"].value is UNKNOWN  # a local of the same name shadows the module constant
    assert acreate.args["stream"].value is False
    assert count.args["top_k"].value is UNKNOWN  # assigned twice at module level: not a constant
    assert count.assigned_to is None
    assert legacy.args["prompt"].value == "Bonjour et bienvenue"
    assert legacy.args["prompt"].origin is not None

    bot_client = doc.clients[0]
    assert [k for k in bot_client.args] == ["api_key", "max_retries"]
    assert bot_client.args["api_key"].value is UNKNOWN and bot_client.args["max_retries"].value == 2
    assert bot_client.insert_prefix == ", " and text[bot_client.insert_at - 13:bot_client.insert_at] == "max_retries=2"
    assert doc.clients[1].insert_prefix == "" and text[doc.clients[1].insert_at] == ")"


def test_openai_module_with_aliases_async_and_legacy_calls():
    text = '''import openai
from openai import AsyncOpenAI as AOAI, AzureOpenAI, OpenAI

sync_client = OpenAI(base_url="http://127.0.0.1:8000/v1", timeout=30.0)
azure = AzureOpenAI(api_version="2024-10-21", azure_endpoint="https://example.openai.azure.com")
client = AOAI()


async def classify(ticket):
    kwargs = {"temperature": 0}
    label = await client.chat.completions.create(model="gpt-4.1-mini", messages=[
        {"role": "system", "content": "Label the ticket."},
        {"role": "user", "content": ticket},
    ], **kwargs)
    parsed = await client.beta.chat.completions.parse(model="gpt-4o", messages=[], response_format=Label)
    return label, parsed


def respond(question):
    r = sync_client.responses.create(model="gpt-5", input=question, instructions="Be brief.")
    old = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=[])
    legacy = azure.completions.create(model="gpt-35-turbo-instruct", prompt="Say hi", max_tokens=5)
    module_level = openai.chat.completions.create(model="gpt-4o-mini", messages=[])
    unknown_receiver = get_client().chat.completions.stream(model="gpt-4o", messages=[])
    return r, old, legacy, module_level, unknown_receiver
'''
    doc = extract_python("triage.py", text)
    assert doc.sdks == {"openai"}
    assert [(c.callee, c.var) for c in doc.clients] == [("OpenAI", "sync_client"), ("AzureOpenAI", "azure"),
                                                        ("AOAI", "client")]
    assert doc.clients[0].args["timeout"].value == 30.0
    assert calls(doc) == [("openai", "chat.completions.create", "client"),
                          ("openai", "chat.completions.parse", "client"),
                          ("openai", "responses.create", "sync_client"),
                          ("openai", "ChatCompletion.create", "openai"),
                          ("openai", "completions.create", "azure"),
                          ("openai", "chat.completions.create", "openai")]  # get_client(): not proven
    label = doc.calls[0]
    # `**kwargs` built once in the function is read in full (issue 12)
    assert label.awaited and not label.has_spread and label.insert_prefix == ", "
    assert label.args["temperature"].value == 0
    assert text[label.insert_at - 8:label.insert_at] == "**kwargs"
    assert [m.get("role").value for m in label.args["messages"].value] == ["system", "user"]
    assert label.args["messages"].value[1].get("content").value is UNKNOWN
    parse = doc.calls[1]
    assert src(text, parse.callee_span) == "client.beta.chat.completions.parse"
    assert parse.args["response_format"].value is UNKNOWN
    assert doc.calls[2].args["instructions"].value == "Be brief."


def test_gemini_clients_configs_and_async_models():
    text = '''import google.genai as genai
from google.genai import types

PROMPT = """Summarise the changelog in three bullet points."""
CONFIG = types.GenerateContentConfig(
    system_instruction="You are a release manager.",
    max_output_tokens=400,
    temperature=0.2,
)

client: genai.Client = genai.Client(http_options=types.HttpOptions(api_version="v1"))


def summarize(changelog: str):
    resp = client.models.generate_content(model="gemini-2.5-flash", contents=[PROMPT, changelog], config=CONFIG)
    tokens = client.models.count_tokens(model="gemini-2.5-flash", contents=PROMPT)
    return resp.text, tokens


async def stream(changelog: str):
    async for chunk in await client.aio.models.generate_content_stream(
        model="gemini-2.5-flash",
        contents=types.Content(role="user", parts=[types.Part(text=changelog)]),
        config=dict(max_output_tokens=100),
    ):
        print(chunk.text)
'''
    doc = extract_python("notes.py", text)
    assert doc.sdks == {"gemini"}
    (client,) = doc.clients
    assert client.sdk == "gemini" and client.var == "client"
    assert client.args["http_options"].plain() == {"api_version": "v1"}
    assert calls(doc) == [("gemini", "models.generate_content", "client"), ("gemini", "models.count_tokens", "client"),
                          ("gemini", "models.generate_content_stream", "client")]
    gen, _count, stream = doc.calls
    config = gen.args["config"]
    assert config.name == "CONFIG" and config.plain() == {
        "system_instruction": "You are a release manager.", "max_output_tokens": 400, "temperature": 0.2}
    assert src(text, config.origin).startswith("types.GenerateContentConfig(")
    assert [v.value for v in gen.args["contents"].value] == ["Summarise the changelog in three bullet points.",
                                                             UNKNOWN]
    assert stream.awaited and src(text, stream.callee_span) == "client.aio.models.generate_content_stream"
    assert stream.args["contents"].get("role").value == "user"
    assert stream.args["config"].plain() == {"max_output_tokens": 100}
    assert src(text, stream.statement_span).startswith("    async for chunk in await client.aio.models")
    assert src(text, stream.statement_span).endswith("        print(chunk.text)")


def test_ollama_and_litellm_functions_clients_and_positional_args():
    text = '''import litellm
import ollama
from litellm import acompletion, completion as complete
from ollama import AsyncClient, Client, chat

local = Client(host="http://127.0.0.1:11434")
options = {"num_predict": 128, "temperature": 0.1}


def ask(q):
    a = ollama.chat(model="llama3.2", messages=[{"role": "user", "content": q}], options=options)
    b = local.generate("qwen2.5", "Say hi")
    c = chat("llama3.2", messages=[])
    d = litellm.completion(model="anthropic/claude-haiku-4-5", messages=[], max_tokens=10)
    e = complete("gpt-4o-mini", [{"role": "user", "content": q}])
    f = local.chat(model="llama3.2", messages=[])
    return a, b, c, d, e, f


async def ask_async(q):
    alocal = AsyncClient()
    x = await alocal.chat(model="llama3.2", messages=[])
    y = await acompletion(model="gpt-4o", messages=[])
    return x, y
'''
    doc = extract_python("local.py", text)
    assert doc.sdks == {"ollama", "litellm"}
    assert [(c.sdk, c.callee, c.var) for c in doc.clients] == [("ollama", "Client", "local"),
                                                               ("ollama", "AsyncClient", "alocal")]
    assert calls(doc) == [("ollama", "chat", "ollama"), ("ollama", "generate", "local"), ("ollama", "chat", ""),
                          ("litellm", "completion", "litellm"), ("litellm", "completion", ""),
                          ("ollama", "chat", "local"), ("ollama", "chat", "alocal"), ("litellm", "acompletion", "")]
    a, b, c, _d, e, *_rest, x, y = doc.calls
    assert a.args["options"].plain() == {"num_predict": 128, "temperature": 0.1}
    assert [p.value for p in b.positional] == ["qwen2.5", "Say hi"] and b.insert_prefix == ", "
    assert src(text, c.callee_span) == "chat" == src(text, c.method_span)
    assert e.positional[0].value == "gpt-4o-mini" and e.positional[1].value[0].get("content").value is UNKNOWN
    assert x.awaited and y.awaited and y.assigned_to == "y"


def test_client_variables_are_scoped_per_function():
    text = '''import anthropic
from openai import OpenAI


def claude():
    client = anthropic.Anthropic()
    return client.completions.create(model="claude-2.1", prompt="Hi", max_tokens_to_sample=5)


def gpt():
    client = OpenAI()
    return client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi")


def passed_in(client):
    return client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[])


oa = OpenAI()


def misnamed(oa):
    return oa.chat(model="llama3.2", messages=[])  # not an OpenAI method, and no ollama import
'''
    doc = extract_python("both.py", text)
    # `passed_in(client)`: an unannotated parameter is not a proven client (issue 12: mocks and fixtures look alike)
    assert calls(doc) == [("anthropic", "completions.create", "client"), ("openai", "completions.create", "client")]


def test_inline_client_and_with_statement():
    text = '''import anthropic

with anthropic.Anthropic() as client:
    r = anthropic.Anthropic(timeout=10).messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[])
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=5, messages=[]) as stream:
        pass
'''
    doc = extract_python("w.py", text)
    assert [(c.var, c.args.get("timeout") is not None) for c in doc.clients] == [("client", False), (None, True)]
    assert calls(doc) == [("anthropic", "messages.create", "anthropic.Anthropic(timeout=10)"),
                          ("anthropic", "messages.stream", "client")]
    assert src(text, doc.calls[1].statement_span).endswith("        pass")


def test_values_of_every_literal_kind():
    text = '''import openai

NAME = "Ada"
PARTS = ["a", "b"]
JOINED = ", ".join(PARTS)
BLOCK = """
    indented
""".strip()
FEATURES = {"beta": True, "level": None, 3: "non-string key"}


def go(x):
    return openai.chat.completions.create(
        a=-3, b=+2.5, c=True, d=None, e=(1, 2), f=[*x, 1], g={"k": [1, {"n": -1}]}, h=dict(a=1, **x),
        i="con" "cat", j=f"{NAME}!", k=f"plain", l="x" + NAME, m=JOINED, n=BLOCK, o=FEATURES,
        p=x.attr, q=len(x), r=b"bytes", s=1j, t=dict({"a": 1}), u="""triple
quoted""",
    )
'''
    doc = extract_python("v.py", text)
    (site,) = doc.calls
    v = site.args
    plain = {k: v[k].plain() for k in v}
    assert plain["a"] == -3 and plain["b"] == 2.5 and plain["c"] is True and plain["d"] is None
    assert plain["e"] == [1, 2] and plain["g"] == {"k": [1, {"n": -1}]}
    assert plain["f"] == [1] and v["f"].partial
    assert plain["h"] == {"a": 1} and v["h"].partial
    assert plain["i"] == "concat" and not v["i"].partial
    assert plain["j"] == "Ada!" and not v["j"].partial  # a hole naming a constant is filled in (issue 12)
    assert plain["k"] == "plain" and not v["k"].partial
    assert plain["l"] == "xAda"
    assert plain["m"] == "a, b" and v["m"].name == "JOINED"
    assert plain["n"] == "indented"
    assert plain["o"] == {"beta": True, "level": None} and v["o"].partial
    for unknown in "pqrst":
        assert v[unknown].value is UNKNOWN, unknown
    assert plain["u"] == "triple\nquoted"
    assert all(v[k].source == src(text, v[k].span) for k in v)
    assert v["g"].value["k"].value[1].get("n").source == "-1"


def test_statement_positions_with_crlf_bom_and_wide_characters():
    text = ('\ufeffimport anthropic\r\n'
            'client = anthropic.Anthropic()\r\n'
            'def f():\r\n'
            '    note = "😀 — emoji is two UTF-16 units, four UTF-8 bytes"; r = client.messages.create(model="m",\r\n'
            '        max_tokens=1)  # trailing\r\n'
            '    return r\r\n')
    doc = extract_python("crlf.py", text)
    (site,) = doc.calls
    assert src(text, site.callee_span) == "client.messages.create"
    assert src(text, site.args["model"].span) == '"m"'
    assert src(text, site.statement_span) == text.split("\r\n")[3] + "\r\n" + text.split("\r\n")[4]
    assert site.assigned_to == "r"
    assert src(text, doc.clients[0].span) == "anthropic.Anthropic()"
    assert text[doc.import_insert_at:].startswith("client = ")


def test_shape_attribution_needs_the_sdk_imported():
    # mentions openai (so it is parsed) but imports no SDK: a `.messages.create` of its own is not a model call
    text = '''"""Mail sorter; replaced the openai-based prototype."""


class Inbox:
    def __init__(self, messages):
        self.messages = messages

    def file(self, folder):
        return self.messages.create(folder=folder)
'''
    doc = extract_python("inbox.py", text)
    assert doc.calls == [] and doc.clients == [] and doc.sdks == frozenset()
    # nor in a module that imports anthropic: the shape of a call proves no client (issue 12)
    doc = extract_python("inbox.py", "import anthropic\n" + text)
    assert calls(doc) == []


def test_syntax_error_reports_only_the_message():
    doc = extract_python("broken.py", "import anthropic\nclient = anthropic.Anthropic(\n")
    assert doc.syntax_error and "line" in doc.syntax_error
    assert (doc.calls, doc.clients, doc.sdks, doc.comments) == ([], [], frozenset(), [])


def test_file_without_sdk_names_is_not_parsed(monkeypatch):
    def no_parse(*_a, **_k):
        raise AssertionError("parsed a file that mentions no SDK")

    monkeypatch.setattr(python_sites.ast, "parse", no_parse)
    doc = extract_python("util.py", "import json\n\ndef load(p):\n    return json.loads(open(p).read())\n")
    assert doc.calls == [] and doc.syntax_error is None and doc.top_level_names == frozenset()


def test_promptls_comments_skip_hashes_inside_strings():
    text = '''import anthropic

HELP = """Use # promptls-ignore SD001 to silence a rule.
# promptls-ignore SD003 (still inside the string)
"""
client = anthropic.Anthropic()  # promptls-ignore SD003
URL = "http://x/#promptls-anchor"  # a plain comment
# promptls-ignore-file SD006


def f():
    return client.messages.create(model="m", max_tokens=1, messages=[  # promptls-ignore SD001
        {"role": "user", "content": "# promptls-not-a-comment"},
    ])
'''
    doc = extract_python("c.py", text)
    assert [t for _s, t in doc.comments] == ["# promptls-ignore SD003", "# promptls-ignore-file SD006",
                                             "# promptls-ignore SD001"]
    assert all(src(text, s) == t for s, t in doc.comments)


@pytest.mark.parametrize("head, expected_next", [
    ('"""Doc."""\nfrom __future__ import annotations\n\nimport os\nimport anthropic\n\nX = 1\n', "\nX = 1"),
    ('#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nX = "anthropic"\n', 'X = "anthropic"'),
    ('import anthropic\ntry:\n    import orjson as json\nexcept ImportError:\n    import json\n'
     'def f():\n    pass\nimport late\n', "def f():"),
    ('"""Only a docstring about anthropic."""\nX = 1\n', "X = 1"),
])
def test_import_insert_point(head, expected_next):
    doc = extract_python("m.py", head)
    assert head[doc.import_insert_at:].startswith(expected_next)
    ast.parse(head[:doc.import_insert_at] + "import os\n" + head[doc.import_insert_at:])


def test_module_facts_os_import_and_top_level_names():
    text = ('import os.path\nimport anthropic\nfrom openai import OpenAI as O\n\n'
            'if True:\n    FLAG = 1\n\n\ndef helper():\n    import sys\n    local = 1\n\n\n'
            'class Thing:\n    attr = 2\n')
    doc = extract_python("m.py", text)
    assert doc.has_os_import
    assert doc.top_level_names == {"os", "anthropic", "O", "FLAG", "helper", "Thing"}
    assert not extract_python("m.py", "import os as o\nimport anthropic\n").has_os_import


def test_large_module_finds_its_one_call():
    block = '''

def handler_{i}(request, limit=10):
    """Handle request kind {i}: validate and summarise."""
    items = [x.strip() for x in request.get("items", []) if x]
    if len(items) > limit:
        raise ValueError(f"too many items for kind {i}: {{len(items)}}")
    return {{"kind": {i}, "names": sorted(set(items))}}
'''
    body = "".join(block.format(i=i) for i in range(250))
    text = ("import anthropic\nclient = anthropic.Anthropic()\n" + body
            + "\n\ndef ask(q):\n    return client.messages.create(model='claude-haiku-4-5', max_tokens=5, "
              "messages=[{'role': 'user', 'content': q}])\n")
    assert text.count("\n") > 2000
    doc = extract_python("big.py", text)
    assert calls(doc) == [("anthropic", "messages.create", "client")]
    assert src(text, doc.calls[0].span).startswith("client.messages.create(model='claude-haiku-4-5'")
