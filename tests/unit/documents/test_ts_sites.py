"""The TypeScript/JavaScript extractor on realistic files for each SDK: imports (ESM and CommonJS), clients,
call sites, argument values and the spans the rules and rewrites rely on."""

from __future__ import annotations

import pytest

from promptls.documents.code import ts_sites
from promptls.documents.code.model import UNKNOWN, CodeDocument
from promptls.documents.code.ts_sites import extract_ts, unescape_js


def src(doc: CodeDocument, span) -> str:
    return doc.text[span.start:span.end]


def only(items):
    assert len(items) == 1, items
    return items[0]


ANTHROPIC_TS = '''\
// Answers support tickets with Claude.
import Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";

export const MODEL = "claude-sonnet-4-6" as const;
const SYSTEM = `You are the support assistant for Acme.
Answer in two sentences.`;
const LIMITS = { max_tokens: 1_024, temperature: 0.2 } satisfies Record<string, number>;

const client = new Anthropic({
  apiKey: process.env.ANTHROPIC_API_KEY,
  maxRetries: 2,
});

export async function answer(question: string, history: Anthropic.MessageParam[]) {
  // promptls-ignore SD006
  const msg = await client.messages.create({
    model: MODEL,
    max_tokens: LIMITS.max_tokens,
    system: SYSTEM,
    temperature: -0.5,
    stop_sequences: ["\\n\\nHuman:", 'END'],
    messages: [...history, { role: "user", content: question }],
  });
  const count = await client.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: question }] });
  return { msg, count, schema: z.string() };
}
'''


def test_anthropic_typescript_client_call_and_values():
    doc = extract_ts("answer.ts", ANTHROPIC_TS, "typescript")
    assert doc.sdks == frozenset({"anthropic"})
    client = only(doc.clients)
    assert (client.sdk, client.callee, client.var) == ("anthropic", "Anthropic", "client")
    assert src(doc, client.span).startswith("new Anthropic({") and src(doc, client.span).endswith("})")
    assert client.args["maxRetries"].value == 2 and client.args["apiKey"].value is UNKNOWN
    assert client.args["apiKey"].source == "process.env.ANTHROPIC_API_KEY"
    # trailing comma: the new property goes after it, set off by a space only
    assert doc.text[client.insert_at - 14:client.insert_at] == "maxRetries: 2," and client.insert_prefix == " "

    create, count = doc.calls
    assert (create.sdk, create.api, count.api) == ("anthropic", "messages.create", "messages.count_tokens")
    assert src(doc, create.callee_span) == "client.messages.create"
    assert src(doc, create.method_span) == "create" and src(doc, count.method_span) == "countTokens"
    assert src(doc, create.span).startswith("client.messages.create({") and src(doc, create.span).endswith("})")
    assert (create.receiver, create.awaited, create.assigned_to, create.indent) == ("client", True, "msg", "  ")
    stmt = src(doc, create.statement_span)
    assert stmt.startswith("  const msg = await client.messages.create({") and stmt.endswith("  });")

    args = create.args
    assert (args["model"].value, args["model"].name, args["model"].source) == ("claude-sonnet-4-6", "MODEL", "MODEL")
    assert src(doc, args["model"].origin) == '"claude-sonnet-4-6"'  # the literal, without `as const`
    assert args["system"].value == "You are the support assistant for Acme.\nAnswer in two sentences."
    assert not args["system"].partial and args["system"].name == "SYSTEM"
    assert args["max_tokens"].value is UNKNOWN  # a member of a constant object is not followed
    assert args["temperature"].value == -0.5
    assert [v.value for v in args["stop_sequences"].value] == ["\n\nHuman:", "END"]
    messages = args["messages"]
    assert messages.partial and only(messages.value).plain() == {"role": "user", "content": UNKNOWN}
    assert not create.has_spread  # the spread is inside `messages`, not among the call's properties
    assert doc.text[create.insert_at - 1] == "," and create.insert_prefix == " "

    assert [text for _span, text in doc.comments] == ["// promptls-ignore SD006"]
    assert doc.text[doc.import_insert_at:].startswith("\nexport const MODEL")
    assert {"MODEL", "SYSTEM", "LIMITS", "client", "answer", "Anthropic", "z"} <= doc.top_level_names


OPENAI_TSX = '''\
import { useState } from "react";
import { OpenAI, AzureOpenAI } from "openai";
import { zodResponseFormat } from "openai/helpers/zod";

const TONE = "friendly";

class Labeler {
  private client = new AzureOpenAI({ endpoint: "https://acme.openai.azure.com", apiVersion: "2024-10-21" });

  async label(ticket: string, user: string) {
    const completion = await this.client.beta.chat.completions.parse({
      model: "gpt-4o-mini",
      messages: [{ role: "system", content: `Label tickets in a ${TONE} voice for ${user}.` }],
      response_format: zodResponseFormat(Label, "label"),
    });
    return completion.choices[0].message.parsed;
  }
}

export function Summary({ text }: { text: string }) {
  const [summary, setSummary] = useState("");
  const openai = new OpenAI({ dangerouslyAllowBrowser: true });
  async function run() {
    const r = await openai.responses.create({ model: "gpt-5-mini", input: text, max_output_tokens: 300 });
    setSummary(r.output_text);
  }
  return <button onClick={run}>{summary || "Summarise"}</button>;
}
'''


def test_openai_tsx_class_client_beta_parse_and_jsx():
    doc = extract_ts("Summary.tsx", OPENAI_TSX, "tsx")
    assert doc.sdks == frozenset({"openai"})
    assert [(c.callee, c.var) for c in doc.clients] == [("AzureOpenAI", "this.client"), ("OpenAI", "openai")]
    parse, responses = doc.calls
    assert (parse.sdk, parse.api, parse.receiver) == ("openai", "chat.completions.parse", "this.client")
    assert src(doc, parse.callee_span) == "this.client.beta.chat.completions.parse"
    content = parse.args["messages"].value[0].get("content")
    assert content.partial and content.value == "Label tickets in a ${...} voice for ${...}."
    assert parse.args["response_format"].value is UNKNOWN
    assert (responses.api, responses.assigned_to, responses.indent) == ("responses.create", "r", "    ")
    assert responses.args["max_output_tokens"].value == 300 and responses.args["input"].value is UNKNOWN


GEMINI_TS = '''\
import { GoogleGenAI, Type } from "@google/genai";

const apiKey = "AIza" + "SyExampleExampleExample";

const ai = new GoogleGenAI({ apiKey });

export async function summarise(notes: string): Promise<string> {
  const response = await ai.models.generateContent({
    model: "gemini-2.5-flash",
    contents: [{ role: "user", parts: [{ text: "Summarise the release notes." }, { text: notes }] }],
    config: { maxOutputTokens: 60_000, temperature: 2.5, responseMimeType: "application/json",
              responseSchema: { type: Type.OBJECT } },
  });
  for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: notes })) {
    console.log(chunk.text);
  }
  const tokens = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: notes });
  return response.text ?? String(tokens.totalTokens);
}
'''


def test_gemini_camel_case_keys_and_constant_shorthand():
    doc = extract_ts("summarise.ts", GEMINI_TS, "typescript")
    client = only(doc.clients)
    assert (client.sdk, client.var) == ("gemini", "ai")
    key = client.args["apiKey"]  # shorthand property resolved through the module constant
    assert key.value == "AIzaSyExampleExampleExample" and key.name == "apiKey"
    assert src(doc, key.span) == "apiKey" and src(doc, key.origin) == '"AIza" + "SyExampleExampleExample"'
    assert [c.api for c in doc.calls] == ["models.generate_content", "models.generate_content_stream",
                                          "models.count_tokens"]
    config = doc.calls[0].args["config"]
    assert config.plain()["maxOutputTokens"] == 60000 and config.plain()["responseMimeType"] == "application/json"
    assert "max_output_tokens" not in config.value  # keys stay as written
    assert config.get("temperature").source == "2.5"
    assert doc.calls[1].awaited and doc.calls[1].assigned_to is None


def test_shorthand_without_constant_is_unknown_and_shadowing_is_respected():
    text = '''import OpenAI from "openai";
const MODEL = "gpt-4o";
export function make(apiKey: string, MODEL: string) {
  const client = new OpenAI({ apiKey });
  return client.chat.completions.create({ model: MODEL, messages: [] });
}
export const other = () => new OpenAI().chat.completions.create({ model: MODEL, messages: [] });
'''
    doc = extract_ts("make.ts", text, "typescript")
    assert doc.clients[0].args["apiKey"].value is UNKNOWN
    shadowed, module_level = doc.calls
    assert shadowed.args["model"].value is UNKNOWN  # the parameter, not the module constant
    assert module_level.args["model"].value == "gpt-4o" and module_level.receiver == "new OpenAI()"
    assert module_level.sdk == "openai"


CJS_JS = '''\
#!/usr/bin/env node
"use strict";
const Anthropic = require("@anthropic-ai/sdk");
const { OpenAI: Client } = require("openai");
const fs = require("node:fs");

const anthropic = new Anthropic();
const openai = new Client({ timeout: 20 * 1000 });

async function main() {
  const prompt = fs.readFileSync(process.argv[2], "utf8");
  const messages = [{ role: "user", content: prompt }];
  const r = await openai.chat.completions.create({ model: "gpt-4o-mini", messages });
  const m = await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 200, messages: [] });
  console.log(r.choices[0].message.content, m.content);
}

main();
'''


def test_commonjs_requires_and_constructor_without_arguments():
    doc = extract_ts("main.js", CJS_JS, "javascript")
    assert doc.sdks == frozenset({"anthropic", "openai"})
    bare, configured = doc.clients
    assert (bare.sdk, bare.callee, bare.var, bare.args) == ("anthropic", "Anthropic", "anthropic", {})
    assert doc.text[bare.insert_at - 1] == "(" and (bare.insert_prefix, bare.insert_suffix) == ("{ ", " }")
    assert (configured.sdk, configured.callee, configured.var) == ("openai", "Client", "openai")
    assert configured.args["timeout"].value is UNKNOWN and configured.args["timeout"].source == "20 * 1000"
    assert [(c.sdk, c.api, c.receiver) for c in doc.calls] == [
        ("openai", "chat.completions.create", "openai"), ("anthropic", "messages.create", "anthropic")]
    assert doc.calls[0].args["messages"].value is UNKNOWN  # a local variable, not a module constant
    # after the last require, not after the shebang or "use strict"
    assert doc.text[doc.import_insert_at:].startswith("\nconst anthropic = new Anthropic();")


OLLAMA_MJS = '''\
import ollama from "ollama";
import { Ollama } from "ollama/browser";

const remote = new Ollama({ host: "http://gpu-box:11434" });

const reply = await ollama.chat({
  model: "llama3.2",
  messages: [{ role: "user", content: "Why is the sky blue?" }],
  format: "json",
  options: { num_predict: 128, temperature: 0.7 },
});
const story = await remote.generate({ model: "llama3.2", prompt: "Once upon a time", stream: false });
const local = { chat: (x) => x };
local.chat({ model: "not-a-call" });
console.log(reply.message.content, story.response);
'''


def test_ollama_default_instance_and_client():
    doc = extract_ts("ask.mjs", OLLAMA_MJS, "javascript")
    client = only(doc.clients)
    assert (client.sdk, client.callee, client.var) == ("ollama", "Ollama", "remote")
    assert client.args["host"].value == "http://gpu-box:11434"
    chat, generate = doc.calls  # `local.chat` is not an ollama client
    assert (chat.sdk, chat.api, chat.receiver, chat.assigned_to) == ("ollama", "chat", "ollama", "reply")
    assert chat.args["options"].plain() == {"num_predict": 128, "temperature": 0.7}
    assert chat.statement_span.start == 0 or doc.text[chat.statement_span.start - 1] == "\n"
    assert (generate.api, generate.receiver, generate.args["stream"].value) == ("generate", "remote", False)


def test_non_ascii_before_a_call_keeps_offsets_right():
    text = '''import OpenAI from "openai";
// 日本語のコメント — 🚀 emoji take four UTF-8 bytes
const greeting = "¡Hola, señor! 👋";
const client = new OpenAI();
const r = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: greeting }] });
'''
    doc = extract_ts("hola.ts", text, "typescript")
    site = only(doc.calls)
    assert src(doc, site.callee_span) == "client.chat.completions.create"
    assert src(doc, site.args["model"].span) == '"gpt-4o"'
    content = site.args["messages"].value[0].get("content")
    assert content.value == "¡Hola, señor! 👋" and src(doc, content.origin) == '"¡Hola, señor! 👋"'
    assert src(doc, only(doc.clients).span) == "new OpenAI()"
    assert doc.text[site.insert_at:site.insert_at + 3] == " })"


def test_values_of_literals():
    text = '''import OpenAI from "openai";
const BASE = { temperature: 0.5 };
const client = new OpenAI();
client.chat.completions.create({
  model: ("gpt-4o" as string),
  n: -2,
  seed: 0x1F,
  top_p: 1e-1,
  max_tokens: 60_000,
  logprobs: true,
  user: null,
  stop: undefined,
  "metadata": { "team": 'ops\\u0021', nested: [1, [2, 3]] },
  messages: [`one\\ttwo`, "a" + "b" + "c", 'it\\'s', "tab\\x41"],
  ...BASE,
  [computed]: 1,
});
'''
    site = only(extract_ts("v.ts", text, "typescript").calls)
    a = site.args
    assert (a["model"].value, a["model"].source) == ("gpt-4o", '"gpt-4o"')
    assert (a["n"].value, a["seed"].value, a["top_p"].value, a["max_tokens"].value) == (-2, 31, 0.1, 60000)
    assert (a["logprobs"].value, a["user"].value, a["stop"].value) == (True, None, None)
    assert a["metadata"].plain() == {"team": "ops!", "nested": [1, [2, 3]]}
    assert [m.value for m in a["messages"].value] == ["one\ttwo", "abc", "it's", "tabA"]
    assert site.has_spread and "computed" not in a


def test_unescape_js():
    assert unescape_js(r"a\n\u{1F600}\uD83D\uDE00\x41\'\"\\") == "a\n😀😀A'\"\\"
    assert unescape_js("line\\\ncontinued") == "linecontinued"


@pytest.mark.parametrize("text", [
    # no SDK imported: `.messages.create` on an ORM and `.chat` on anything are not model calls
    'import { prisma } from "./db";\nawait prisma.messages.create({ data: { body: "hi" } });\n',
    'const openai_like = { chat: { completions: { create() {} } } };\nopenai_like.chat.completions.create({});\n',
    # another SDK's client: its sub-resource `messages.create` is not Anthropic's
    'import Anthropic from "@anthropic-ai/sdk";\nimport OpenAI from "openai";\nconst openai = new OpenAI();\n'
    'await openai.beta.threads.messages.create("thread_1", { role: "user", content: "hi" });\n',
])
def test_negative_cases_find_nothing(text):
    assert extract_ts("x.ts", text, "typescript").calls == []


def test_file_without_sdk_markers_is_not_parsed(monkeypatch):
    def boom(*_args):
        raise AssertionError("parsed a file that mentions no SDK")

    monkeypatch.setattr(ts_sites, "_parser", boom)
    doc = extract_ts("db.ts", "export const x = db.messages.create({ model: 'gpt-4o' });\n", "typescript")
    assert doc.calls == [] and doc.clients == [] and doc.sdks == frozenset()


def test_syntax_errors_do_not_hide_other_calls():
    text = '''import Anthropic from "@anthropic-ai/sdk";
const client = new Anthropic();
function broken( {
  return client.messages.create({ model: "claude-haiku-4-5", max_tokens: 10, messages: [] });

export const ok = client.messages.create({ model: "claude-opus-4-1", max_tokens: 5, messages: [] });
'''
    doc = extract_ts("broken.ts", text, "typescript")
    assert "claude-opus-4-1" in [s.args["model"].value for s in doc.calls if "model" in s.args]


def test_options_from_a_variable_and_spread_properties():
    text = '''import OpenAI from "openai";
const client = new OpenAI(config);
const params = { model: "gpt-4o", messages: [] };
await client.chat.completions.create(params, { timeout: 5_000 });
await client.chat.completions.create({ ...params, stream: true });
'''
    doc = extract_ts("p.ts", text, "typescript")
    assert only(doc.clients).has_spread and only(doc.clients).args == {}
    from_var, spread = doc.calls
    assert from_var.has_spread and from_var.args == {}
    assert [v.source for v in from_var.positional] == ["params", "{ timeout: 5_000 }"]
    assert from_var.positional[0].plain() == {"model": "gpt-4o", "messages": []}
    assert spread.has_spread and spread.args["stream"].value is True and spread.insert_prefix == ", "


def test_import_insert_at_and_names_without_imports():
    text = 'export function f() {}\nclass K {}\nlet { a, b: [c] } = g();\n// openai\n'
    doc = extract_ts("n.ts", text, "typescript")
    assert doc.import_insert_at == 0 and doc.calls == []
    assert doc.top_level_names == frozenset({"f", "K", "a", "c"})


def test_crlf_line_endings():
    doc = extract_ts("answer.ts", ANTHROPIC_TS.replace("\n", "\r\n"), "typescript")
    create = doc.calls[0]
    stmt = src(doc, create.statement_span)
    assert stmt.startswith("  const msg") and stmt.endswith("});")  # no line break, no stray \r
    # a template literal's raw CRLF reads as LF, as in JavaScript
    assert create.args["system"].value == "You are the support assistant for Acme.\nAnswer in two sentences."


def test_legacy_completions_follow_the_client_then_the_import():
    text = '''import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
const claude = new Anthropic();
await claude.completions.create({ model: "claude-2.1", max_tokens_to_sample: 100, prompt: "\\n\\nHuman: hi" });
await makeClient().completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi" });
'''
    doc = extract_ts("legacy.ts", text, "typescript")
    # `makeClient()` from nowhere proves no client (issue 12: only proven clients)
    assert [(c.sdk, c.api, c.receiver) for c in doc.calls] == [("anthropic", "completions.create", "claude")]
    assert doc.calls[0].args["prompt"].value == "\n\nHuman: hi"


def test_only_annotated_or_constructed_receivers_are_clients():
    text = '''import Anthropic from "@anthropic-ai/sdk";
import * as oai from "openai";
class Support {
  private other: Anthropic;
  constructor(private client: Anthropic) {}
  ask() { return this.client.messages.create({ model: "claude-sonnet-4-5", messages: [] }); }
  more() { return this.other.messages.create({ model: "claude-sonnet-4-5", messages: [] }); }
}
function viaParam(c: Anthropic | undefined) { return c.messages.create({ model: "claude-sonnet-4-5", messages: [] }); }
const viaArrow = async (o: oai.OpenAI) => o.chat.completions.create({ model: "gpt-4o", messages: [] });
function untyped(fake) { return fake.messages.create({ model: "claude-x", messages: [] }); }
const mock = { messages: { create: (x) => x } };
mock.messages.create({ model: "claude-x", messages: [] });
'''
    doc = extract_ts("svc.ts", text, "typescript")
    assert [(c.sdk, c.receiver) for c in doc.calls] == [
        ("anthropic", "this.client"), ("anthropic", "this.other"), ("anthropic", "c"), ("openai", "o")]
