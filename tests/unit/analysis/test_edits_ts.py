"""TypeScript/JavaScript rewrites: each Fix is applied to the text, the result re-parsed with tree-sitter (no ERROR
or MISSING node) and re-extracted to check its new shape; the generated JavaScript helpers run for real in Node."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess

import pytest

from promptls.analysis.fixes import edits_ts
from promptls.core.findings import Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.code.model import CodeDocument
from promptls.documents.code.ts_sites import extract_ts, parse_tree

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH: the generated JavaScript cannot be run")


def apply(text: str, edits: tuple[TextEdit, ...]) -> str:
    spans = sorted((e.span.start, e.span.end) for e in edits)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "edits overlap"
    for e in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[:e.span.start] + e.new_text + text[e.span.end:]
    return text


def errors(text: str, language: str) -> list[str]:
    out, stack = [], [parse_tree(text, language)]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            out.append(f"{node.type} at {node.start_point}")
        stack.extend(node.children)
    return out


def fixed(doc: CodeDocument, fix: Fix | None) -> CodeDocument:
    """Apply the fix, check the result parses cleanly and return it extracted again."""
    assert fix is not None
    text = apply(doc.text, fix.edits)
    assert errors(text, doc.language) == [], text
    return extract_ts(doc.path, text, doc.language)


def run_node(tmp_path, name: str, code: str) -> dict:
    script = tmp_path / name
    script.write_text(code)
    proc = subprocess.run([NODE, str(script)], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


CLIENTS_TS = '''\
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { GoogleGenAI } from "@google/genai";
import { Ollama } from "ollama";

const anthropic = new Anthropic();
const openai = new OpenAI({
  baseURL: "https://proxy.internal/v1",
  maxRetries: 1,
});
const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY });
const tuned = new GoogleGenAI({ vertexai: true, httpOptions: { apiVersion: "v1" } });
const local = new Ollama({ host: "http://127.0.0.1:11434" });
const spread = new OpenAI({ ...shared });
const empty = new Anthropic({});
'''


def test_add_timeout_to_each_client_shape():
    doc = extract_ts("clients.ts", CLIENTS_TS, "typescript")
    by_var = {c.var: c for c in doc.clients}
    for var in ("anthropic", "openai", "empty"):
        after = fixed(doc, edits_ts.add_timeout(doc, by_var[var]))
        client = next(c for c in after.clients if c.var == var)
        assert client.args["timeout"].value == 60000 and client.args["timeout"].source == "60_000"
    after = fixed(doc, edits_ts.add_timeout(doc, by_var["anthropic"], seconds=90))
    assert "new Anthropic({ timeout: 90_000 })" in after.text
    for var in ("ai", "tuned"):
        after = fixed(doc, edits_ts.add_timeout(doc, by_var[var]))
        opts = next(c for c in after.clients if c.var == var).args["httpOptions"]
        assert opts.get("timeout").value == 60000
    assert 'httpOptions: { apiVersion: "v1", timeout: 60_000 }' in apply(
        doc.text, edits_ts.add_timeout(doc, by_var["tuned"]).edits)
    assert edits_ts.add_timeout(doc, by_var["local"]) is None  # ollama-js has no timeout option
    assert edits_ts.add_timeout(doc, by_var["spread"]) is None  # `shared` may already set one


CALLS_TS = '''\
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const anthropic = new Anthropic({ timeout: 30_000 });
const openai = new OpenAI({ timeout: 30_000 });

export async function reply(question: string) {
  const msg = await anthropic.messages.create({
    model: "claude-sonnet-4-6",
    max_tokens: 1024,
    stream: true,
    messages: [{ role: "user", content: question }],
  });
  await openai.chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [] });
  let res;
  res = await openai.responses.create({ model: "gpt-5-mini", input: question });
  return [msg, res, await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [] })];
}
'''


def test_wrap_with_retry_typescript():
    doc = extract_ts("calls.ts", CALLS_TS, "typescript")
    fix = edits_ts.wrap_with_retry(doc, doc.calls[0])
    after = fixed(doc, fix)
    assert "const msg = await withRetry(() => anthropic.messages.create({" in after.text
    assert "async function withRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {" in after.text
    assert after.text.index("async function withRetry") > after.text.index('import OpenAI from "openai";')
    assert "withRetry" in after.top_level_names
    # the wrapped call is still found, now inside the arrow function
    assert [c.api for c in after.calls] == [c.api for c in doc.calls]
    # a second wrap on the rewritten file does not define the helper again
    again = fixed(after, edits_ts.wrap_with_retry(after, after.calls[1]))
    assert again.text.count("async function withRetry") == 1
    assert "await withRetry(() => openai.chat.completions.create({" in again.text


def test_wrap_with_retry_refuses_streams_and_response_helpers():
    text = '''import Anthropic from "@anthropic-ai/sdk";
const client = new Anthropic({ timeout: 1000 });
const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 5, messages: [] });
const { data, response } = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [] })
  .withResponse();
'''
    doc = extract_ts("s.ts", text, "typescript")
    assert [edits_ts.wrap_with_retry(doc, c) for c in doc.calls] == [None, None]


RETRY_JS = '''\
import OpenAI from "openai";

const client = new OpenAI({ timeout: 5_000 });

export async function label(ticket) {
  const res = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: ticket }],
  });
  return res.choices[0].message.content;
}
'''

# Replaces the SDK import in the rewritten module: a client whose call fails twice with a 429 that asks for a
# 5 ms wait, and a setTimeout that records the delays it is asked for (then waits 0 ms to keep the test fast).
FAKE_OPENAI = '''\
let calls = 0;
const delays = [];
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (fn, ms, ...rest) => { delays.push(ms); return realSetTimeout(fn, 0, ...rest); };
class OpenAI {
  constructor() {
    this.chat = { completions: { create: async () => {
      calls += 1;
      if (calls < 3) throw { status: 429, headers: { "retry-after-ms": "5" } };
      return { choices: [{ message: { content: "billing" } }] };
    } } };
  }
}
'''

SCENARIOS = '''
const out = { label: await label("I was charged twice"), attempts: calls, delays: delays.splice(0) };
const failing = (errors) => { let n = 0; return async () => { n += 1; if (n <= errors.length) throw errors[n - 1];
  return n; }; };
const future = new Date(Date.now() + 30_000).toUTCString();
out.headersObject = await withRetry(failing([
  { status: 503, headers: new Headers({ "Retry-After": "2" }) },
  { status: 429, headers: new Headers({ "retry-after": future }) }]));
out.headerDelays = delays.splice(0);
try { await withRetry(failing([{ status: 400, headers: {} }])); } catch (e) { out.badRequest = e.status; }
out.badRequestDelays = delays.splice(0);
const conn = Object.assign(new Error("Connection error."), { name: "APIConnectionError" });
out.connection = await withRetry(failing([conn, conn]));
out.jitter = delays.splice(0);
try { await withRetry(failing([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]));
} catch (e) { out.exhausted = e.status; }
out.exhaustedDelays = delays.splice(0);
console.log(JSON.stringify(out));
'''


@needs_node
def test_generated_javascript_retry_helper_runs_in_node(tmp_path):
    doc = extract_ts("label.mjs", RETRY_JS, "javascript")
    after = fixed(doc, edits_ts.wrap_with_retry(doc, doc.calls[0]))
    assert "Promise<T>" not in after.text and "err: any" not in after.text
    module = after.text.replace('import OpenAI from "openai";\n', FAKE_OPENAI)
    out = run_node(tmp_path, "label.mjs", module + SCENARIOS)
    print(json.dumps({k: out[k] for k in ("attempts", "delays")}))
    assert (out["label"], out["attempts"], out["delays"]) == ("billing", 3, [5, 5])
    # Headers objects: retry-after in seconds, then as an HTTP date about 30 s ahead
    assert out["headersObject"] == 3 and out["headerDelays"][0] == 2000
    assert 25_000 < out["headerDelays"][1] <= 30_000
    assert out["badRequest"] == 400 and out["badRequestDelays"] == []
    # connection errors back off with full jitter: at most 1 s, then 2 s
    assert out["connection"] == 3 and 0 <= out["jitter"][0] <= 1000 and 0 <= out["jitter"][1] <= 2000
    assert out["exhausted"] == 500 and len(out["exhaustedDelays"]) == 4  # 5 attempts, 4 waits


def test_to_streaming_rewrites_each_api():
    doc = extract_ts("calls.ts", CALLS_TS, "typescript")
    msg, chat, responses, returned = doc.calls
    after = fixed(doc, edits_ts.to_streaming(doc, msg))
    assert ('const msg = await anthropic.messages.stream({\n    model: "claude-sonnet-4-6",\n    max_tokens: 1024,\n'
            '    messages: [{ role: "user", content: question }],\n  }).on("text", (t) => process.stdout.write(t))'
            '.finalMessage();') in after.text
    assert after.calls[0].api == "messages.stream" and "stream" not in after.calls[0].args
    after = fixed(doc, edits_ts.to_streaming(doc, chat))
    assert ('await openai.chat.completions.stream({ model: "gpt-4o-mini", messages: [] })'
            '.on("content.delta", ({ delta }) => process.stdout.write(delta)).finalChatCompletion();') in after.text
    after = fixed(doc, edits_ts.to_streaming(doc, responses))
    assert ('res = await openai.responses.stream({ model: "gpt-5-mini", input: question })'
            '.on("response.output_text.delta", (e) => process.stdout.write(e.delta)).finalResponse();') in after.text
    assert after.calls[2].api == "responses.stream"
    assert edits_ts.to_streaming(doc, returned) is None  # inside an array in a return statement


def test_to_streaming_only_for_supported_apis():
    text = '''import { GoogleGenAI } from "@google/genai";
const ai = new GoogleGenAI({ httpOptions: { timeout: 1000 } });
const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
'''
    doc = extract_ts("g.ts", text, "typescript")
    assert edits_ts.to_streaming(doc, doc.calls[0]) is None


def test_key_to_env_inline_and_through_a_constant():
    key = "sk-ant-api03-" + "Zq9" * 12
    text = f'''import Anthropic from "@anthropic-ai/sdk";
const KEY = "{key}";
export const a = new Anthropic({{ apiKey: "{key}", timeout: 10_000 }});
export const b = new Anthropic({{ apiKey: KEY, timeout: 10_000 }});
'''
    doc = extract_ts("k.ts", text, "typescript")
    inline, via_const = (c.args["apiKey"] for c in doc.clients)
    after = fixed(doc, edits_ts.key_to_env(doc, inline, "ANTHROPIC_API_KEY"))
    assert after.clients[0].args["apiKey"].source == "process.env.ANTHROPIC_API_KEY" and after.text.count(key) == 1
    after = fixed(doc, edits_ts.key_to_env(doc, via_const, "ANTHROPIC_API_KEY"))
    assert "const KEY = process.env.ANTHROPIC_API_KEY;" in after.text and after.text.count(key) == 1
    assert edits_ts.key_to_env(doc, inline, "NOT A NAME") is None


PROMPTY = '''---
name: triage
model:
  id: gpt-4o-mini
---
system:
Label the ticket as billing, bug or other.
'''


@needs_node
@pytest.mark.parametrize("name, text", [
    ("triage.mjs", 'import OpenAI from "openai";\n\nconst client = new OpenAI();\nconsole.log(JSON.stringify({}));\n'),
    ("triage.cjs", '"use strict";\nconst OpenAI = require("openai");\n\nconst client = new OpenAI();\n'
                   'console.log(JSON.stringify({}));\n'),
])
def test_prompt_file_loader_reads_the_body_in_esm_and_commonjs(tmp_path, name, text):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "triage.prompty").write_text(PROMPTY)
    doc = extract_ts(name, text, "javascript")
    expr, extra = edits_ts.prompt_file_loader(doc, "prompts/triage.prompty")
    assert expr == 'promptBody("prompts/triage.prompty")'
    target = text.index("{}")
    use = TextEdit(Span(target, target + 2), f"{{ body: {expr} }}")
    after = fixed(doc, Fix("extract", (*extra, use)))
    assert after.text.count("function promptBody") == 1
    # run it for real with a stand-in for the SDK import
    stub = "class OpenAI {}\n"
    module = after.text.replace('import OpenAI from "openai";\n', stub).replace('const OpenAI = require("openai");\n',
                                                                                stub)
    out = run_node(tmp_path, name, module)
    assert out == {"body": "system:\nLabel the ticket as billing, bug or other.\n"}
    # once defined, the helper is not added again
    assert edits_ts.prompt_file_loader(after, "prompts/other.prompty")[1] == ()


def test_prompt_file_loader_typescript_esm_has_types_and_import():
    text = 'import OpenAI from "openai";\nconst client = new OpenAI();\n'
    doc = extract_ts("t.ts", text, "typescript")
    _expr, extra = edits_ts.prompt_file_loader(doc, "p.prompty")
    out = apply(text, extra)
    assert errors(out, "typescript") == []
    assert 'import { readFileSync } from "node:fs";' in out and "function promptBody(file: string): string {" in out
    assert out.index("node:fs") < out.index("const client")
