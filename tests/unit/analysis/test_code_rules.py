"""SD rules (and the shared MD/TK003/SC001 rules) on real-looking Python and TypeScript that call the LLM SDKs,
through the same engine entry point the CLI and the language server use."""

from __future__ import annotations

import ast
import datetime as dt
import json

import pytest

from promptls.analysis.engine import analyze
from promptls.analysis.fixes.actions import call_actions
from promptls.config import Config

TODAY = dt.date(2026, 11, 25)
CFG = Config(today=TODAY)
# Built at run time so no secret scanner flags this file; the shape is what matters.
FAKE_KEY = "sk-ant-api03-" + "Q7x" * 12

LONG_POLICY = "\n".join(
    f"Rule {i}: when a customer asks about order {i * 7}, check the ledger entry {i * 13} before answering, "
    f"quote the refund window of {i % 30 + 1} days, and never promise delivery dates for region {i % 9}."
    for i in range(60))

PY = f'''"""Support bot: answers tickets with Claude and classifies them with OpenAI."""
import os

import anthropic
import openai
from openai import OpenAI

SYSTEM = """{LONG_POLICY}"""

client = anthropic.Anthropic()
quiet = anthropic.Anthropic()  # promptls-ignore SD003
oai = OpenAI(timeout=30)
leaky = anthropic.Anthropic(api_key="{FAKE_KEY}", timeout=20)


def answer(question: str) -> str:
    resp = client.messages.create(
        model="claude-sonnet-4-6",
        system=SYSTEM,
        messages=[{{"role": "user", "content": question}}],
        temperature=1.5,
    )
    return resp.content[0].text


def classify(text: str) -> str:
    r = oai.chat.completions.create(
        model="gpt-4o-mnii",
        messages=[{{"role": "system", "content": "Classify the ticket."}}, {{"role": "user", "content": text}}],
        response_format={{"type": "json_object"}},
        functions=[{{"name": "label", "parameters": {{}}}}],
    )
    return r.choices[0].message.content


def summarize(text: str) -> str:
    big = oai.chat.completions.create(model="gpt-4.1", max_tokens=50000, messages=[{{"role": "user", "content": text}}])
    reasoned = oai.chat.completions.create(model="o3", max_tokens=2000, messages=[{{"role": "user", "content": text}}])
    old = openai.ChatCompletion.create(model="gpt-5.2", messages=[{{"role": "user", "content": text}}])
    return big, reasoned, old
'''

TS = f'''// Ticket triage service
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const SYSTEM = `{LONG_POLICY}`;

const anthropic = new Anthropic();
const openai = new OpenAI({{ timeout: 20_000 }});

export async function answer(question: string): Promise<string> {{
  const msg = await anthropic.messages.create({{
    model: "claude-sonnet-4-6",
    system: SYSTEM,
    messages: [{{ role: "user", content: question }}],
    top_p: 1.4,
  }});
  return msg.content[0].type === "text" ? msg.content[0].text : "";
}}

export async function classify(text: string) {{
  return openai.chat.completions.create({{
    model: "gpt-4o-mnii",
    max_tokens: 100,
    messages: [{{ role: "user", content: text }}],
    response_format: {{ type: "json_object" }},
  }});
}}
'''


def run(path: str, text: str, cfg: Config = CFG):
    doc, report = analyze(path, text, cfg)
    assert report.kind == "code"
    return doc, report


def codes(report) -> list[str]:
    return [f.code for f in report.findings]


def at(text: str, report, code: str) -> list[str]:
    return [text[f.span.start:f.span.end] for f in report.findings if f.code == code]


def apply(text: str, edits) -> str:
    for e in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[:e.span.start] + e.new_text + text[e.span.end:]
    return text


def test_python_findings_each_where_it_belongs():
    _doc, report = run("bot.py", PY)
    found = codes(report)
    # SD003: the bare client only (the suppressed one, and the ones with a timeout, are not reported)
    assert at(PY, report, "SD003") == ["anthropic.Anthropic()"]
    assert at(PY, report, "SD001") == ["client.messages.create"]
    assert at(PY, report, "SD002") == ["1.5"]
    assert at(PY, report, "MD001") == ['"gpt-4o-mnii"']
    assert at(PY, report, "SD005") == ['"json_object"']
    assert [m for m in at(PY, report, "SD007")] == ['[{"name": "label", "parameters": {}}]', "2000"]
    assert at(PY, report, "TK003") == ["50000"]
    assert at(PY, report, "SD004") == ["openai.ChatCompletion.create"]
    assert at(PY, report, "SC001") == [FAKE_KEY]
    assert "SD006" in found and at(PY, report, "SD006") == ["SYSTEM"]
    assert {"MD002"} <= set(found)  # gpt-4.1 and o3 are deprecated in the pinned catalog
    # messages never carry the key
    assert all(FAKE_KEY not in f.message for f in report.findings)


def test_python_quick_fixes_produce_valid_code():
    _doc, report = run("bot.py", PY)
    by = {f.code: f for f in report.findings}
    fixed = apply(PY, by["SD001"].fixes[0].edits)
    call = next(n for n in ast.walk(ast.parse(fixed)) if isinstance(n, ast.Call)
                and getattr(n.func, "attr", "") == "create" and any(k.arg == "system" for k in n.keywords))
    assert any(k.arg == "max_tokens" and isinstance(k.value, ast.Constant) for k in call.keywords)
    fixed = apply(PY, by["MD001"].fixes[0].edits)
    assert 'model="gpt-4o-mini"' in fixed and ast.parse(fixed)
    fixed = apply(PY, by["SC001"].fixes[0].edits)
    assert FAKE_KEY not in fixed and 'os.environ["ANTHROPIC_API_KEY"]' in fixed and ast.parse(fixed)
    rename = next(f for f in report.findings if f.code == "SD007" and f.fixes)
    fixed = apply(PY, rename.fixes[0].edits)
    assert 'model="o3", max_completion_tokens=2000' in fixed
    fixed = apply(PY, by["SD003"].fixes[0].edits)
    tree = ast.parse(fixed)
    timeouts = [k for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg == "timeout"]
    assert len(timeouts) == 3


def test_call_estimates_count_the_static_prompt():
    from promptls.tokens import counter_for_tokenizer

    _doc, report = run("bot.py", PY)
    est = next(e for e in report.calls if e.model == "claude-sonnet-4-6")
    system_tokens = dict((p.role, n) for p, n in est.parts)["system"]
    counter = counter_for_tokenizer(est.tokenizer)
    # the part includes the chat framing of its message on top of the text itself
    assert system_tokens > counter.count(LONG_POLICY) > 1000
    assert est.cost_usd is not None and est.cost_usd > 0
    assert not est.complete  # the user message is a parameter: the count is a lower bound


def test_typescript_findings_and_fixes():
    _doc, report = run("triage.ts", TS)
    assert at(TS, report, "SD003") == ["new Anthropic()"]
    assert at(TS, report, "SD001") == ["anthropic.messages.create"]
    assert at(TS, report, "SD002") == ["1.4"]
    assert at(TS, report, "MD001") == ['"gpt-4o-mnii"']
    assert at(TS, report, "SD005") == ['"json_object"']
    assert at(TS, report, "SD006") == ["SYSTEM"]
    by = {f.code: f for f in report.findings}
    fixed = apply(TS, by["SD003"].fixes[0].edits)
    assert "new Anthropic({ timeout: 60_000 })" in fixed.replace("60000", "60_000")
    fixed = apply(TS, by["SD001"].fixes[0].edits)
    assert "max_tokens: " in fixed


def test_cheaper_model_action_states_cost_before_and_after():
    doc, report = run("bot.py", PY)
    from promptls.analysis.context import Context

    catalog = Context(CFG).catalog
    est = next(e for e in report.calls if e.model == "gpt-4.1")
    actions = call_actions(doc, est, catalog, TODAY)
    cheaper = [a for a in actions if a.fix.title.startswith("Use cheaper")]
    assert cheaper, [a.fix.title for a in actions]
    title = cheaper[0].fix.title
    assert "→" in title and title.count("$") == 2
    new_model = title.split("`")[1]
    fixed = apply(PY, cheaper[0].fix.edits)
    assert f'model="{new_model}"' in fixed
    after = catalog.price_call(new_model, est.input_tokens, est.output_tokens).cost_usd
    assert after < est.cost_usd


def test_cache_action_on_long_static_system_prompt():
    doc, report = run("bot.py", PY)
    from promptls.analysis.context import Context

    est = next(e for e in report.calls if e.model == "claude-sonnet-4-6")
    actions = call_actions(doc, est, Context(CFG).catalog, TODAY)
    cache = next(a for a in actions if "Cache the system prompt" in a.fix.title)
    fixed = apply(PY, cache.fix.edits)
    call = next(n for n in ast.walk(ast.parse(fixed)) if isinstance(n, ast.Call)
                and any(k.arg == "system" for k in n.keywords))
    system = next(k.value for k in call.keywords if k.arg == "system")
    assert isinstance(system, ast.List) and ast.literal_eval(system.elts[0].values[2]) == {"type": "ephemeral"}


def test_extract_prompt_into_prompty_file_round_trips(tmp_path, monkeypatch):
    text = '''import anthropic

client = anthropic.Anthropic(timeout=30)


def haiku(topic):
    return client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=200,
        system="You write haiku about software engineering. Use exactly three lines and no title.",
        messages=[{"role": "user", "content": topic}],
    )
'''
    src = tmp_path / "poet.py"
    src.write_text(text)
    doc, report = run(str(src), text)
    from promptls.analysis.context import Context

    est = report.calls[0]
    extract = next(a for a in call_actions(doc, est, Context(CFG).catalog, TODAY) if a.kind == "refactor.extract")
    (path, content), = extract.fix.create_files
    assert path.startswith(str(tmp_path)) and path.endswith(".prompty")
    (tmp_path / path).write_text(content)
    fixed = apply(text, extract.fix.edits)
    src.write_text(fixed)
    # the prompt file is a clean Prompty file for promptls itself
    _, prompty_report = analyze(path, content, CFG)
    assert prompty_report.kind == "prompt"
    assert not [f for f in prompty_report.findings if f.severity >= 3], prompty_report.findings
    # and the rewritten module, run for real, reads back exactly the original prompt
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-used")
    ns: dict = {"__file__": str(src), "__name__": "poet"}
    exec(compile(fixed, str(src), "exec"), ns)  # creates the client; no request is made
    call = next(n for n in ast.walk(ast.parse(fixed)) if isinstance(n, ast.Call)
                and any(k.arg == "system" for k in n.keywords))
    expr = ast.get_source_segment(fixed, next(k.value for k in call.keywords if k.arg == "system"))
    assert eval(expr, ns) == "You write haiku about software engineering. Use exactly three lines and no title."


@pytest.mark.parametrize("snippet, code", [
    ('client.messages.create(model="claude-haiku-4-5", max_tokens=10, temperature=0.7, messages=[])', None),
    ('client.messages.create(model="claude-haiku-4-5", max_tokens=10, **extra)', None),
    ('client.messages.create(model="claude-haiku-4-5", **extra)', None),
    ('client.messages.count_tokens(model="claude-haiku-4-5", messages=[])', None),
    ('client.messages.create(model="claude-haiku-4-5", max_tokens=10, temperature=-0.1, messages=[])', "SD002"),
])
def test_python_negative_and_edge_cases(snippet, code):
    text = f"import anthropic\nclient = anthropic.Anthropic(timeout=5)\nextra = {{}}\nr = {snippet}\n"
    _, report = run("edge.py", text)
    assert [f.code for f in report.findings if f.code.startswith("SD")] == ([code] if code else [])


def test_file_without_sdk_is_cheap_and_clean():
    text = "class Inbox:\n    def create(self):\n        return self.messages.create(model='gpt-4o-mnii')\n"
    doc, report = run("inbox.py", text)
    assert report.findings == [] and doc.calls == []


def test_gemini_and_ollama_specifics():
    text = '''from google import genai
from google.genai import types
import ollama

client = genai.Client()
resp = client.models.generate_content(
    model="gemini-2.5-flash",
    contents="Summarise the release notes.",
    config=types.GenerateContentConfig(temperature=2.5, response_mime_type="application/json"),
)
local = ollama.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], format="json")
'''
    _, report = run("g.py", text)
    assert at(text, report, "SD002") == ["2.5"]
    assert sorted(at(text, report, "SD005")) == ['"application/json"', '"json"']
    # Gemini API's gemini-2.5-flash shuts down on 2026-12-01 in the pinned catalog
    assert at(text, report, "MD002") == ['"gemini-2.5-flash"']
    assert at(text, report, "SD003") == ["genai.Client()"]
    assert not at(text, report, "MD001")  # ollama models are local names


def test_json_report_lists_calls(tmp_path):
    from promptls.output import render

    doc, report = run("bot.py", PY)
    out = json.loads(render("json", [(report, PY)], root=str(tmp_path)))
    f = out["files"][0]
    assert f["kind"] == "code" and len(f["calls"]) == len(doc.calls)
    first = f["calls"][0]
    assert first["sdk"] == "anthropic" and first["api"] == "messages.create"
    assert first["range"]["start"]["line"] == PY[:PY.index("client.messages.create")].count("\n")


def test_typescript_fix_on_a_call_without_options_object():
    from promptls.documents.code.ts_sites import parse_tree

    text = ('import Anthropic from "@anthropic-ai/sdk";\nconst c = new Anthropic({ timeout: 5000 });\n'
            "c.messages.create();\n")
    _, report = run("empty.ts", text)
    sd1 = next(f for f in report.findings if f.code == "SD001")
    fixed = apply(text, sd1.fixes[0].edits)
    assert "c.messages.create({ max_tokens: 1024 })" in fixed
    assert not parse_tree(fixed, "typescript").has_error


def test_typescript_legacy_deprecated_limits_and_secrets():
    from promptls.documents.code.ts_sites import parse_tree

    key = "sk-proj-" + "Zk3" * 10
    text = f'''import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const claude = new Anthropic({{ timeout: 10_000 }});
const openai = new OpenAI({{ apiKey: "{key}", timeout: 10_000 }});

export async function legacy(prompt: string) {{
  return claude.completions.create({{ model: "claude-sonnet-4-6", max_tokens_to_sample: 300, prompt }});
}}

export async function reason(question: string) {{
  return openai.chat.completions.create({{
    model: "o3",
    max_tokens: 500,
    messages: [{{ role: "user", content: question }}],
    functions: [],
  }});
}}

export const big = () =>
  openai.chat.completions.create({{ model: "gpt-4.1", max_completion_tokens: 90000, messages: [] }});
'''
    _, report = run("svc.ts", text)
    assert at(text, report, "SD004") == ["claude.completions.create"]
    assert at(text, report, "SD007") == ["500", "[]"]
    assert at(text, report, "TK003") == ["90000"]
    assert at(text, report, "SC001") == [key]
    sc = next(f for f in report.findings if f.code == "SC001")
    fixed = apply(text, sc.fixes[0].edits)
    assert key not in fixed and "apiKey: process.env.OPENAI_API_KEY" in fixed
    rename = next(f for f in report.findings if f.code == "SD007" and f.fixes)
    fixed = apply(text, rename.fixes[0].edits)
    assert 'model: "o3",\n    max_completion_tokens: 500,' in fixed
    assert not parse_tree(fixed, "typescript").has_error
