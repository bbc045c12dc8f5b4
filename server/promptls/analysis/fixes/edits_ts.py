"""TypeScript/JavaScript rewrites of SDK clients and call sites: add a timeout, wrap a call in retry with backoff,
switch a call to the SDK's streaming helper, read an API key from `process.env`, and load a prompt from a
`.prompty` file. Every edit is computed from the `CodeDocument` (its text, spans and insertion points); a rewrite
that cannot be done safely returns None.

Generated helpers are written once in TypeScript; the JavaScript variant is the same text without the type
annotations (the parts between « and » in the templates below).
"""

from __future__ import annotations

import json
import re

from promptls.core.findings import Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.code.model import CallSite, ClientInit, CodeDocument, Value

RETRY_HELPER = """\
async function withRetry«<T>»(fn«: () => Promise<T>», attempts = 5)«: Promise<T>» {
  // Retries timeouts, conflicts, rate limits, server errors (408/409/429/5xx) and connection failures with
  // exponential backoff and full jitter (cap 60 s); a retry-after-ms / retry-after header (seconds or an
  // HTTP date) from the server wins when it asks for at most 60 s.
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err«: any») {
      const status = err?.status ?? err?.status_code;
      const network = status == null && /connect|timeout|fetch failed|socket|ECONN|ETIMEDOUT|EAI_AGAIN/i.test(
        String(err?.name) + " " + String(err?.message) + " " + String(err?.cause?.code ?? ""));
      const retryable = network || status === 408 || status === 409 || status === 429 || status >= 500;
      if (!retryable || attempt >= attempts) throw err;
      const headers = err?.headers;
      const header = (name«: string»)«: string | undefined» => {
        if (!headers) return undefined;
        if (typeof headers.get === "function") return headers.get(name) ?? undefined;
        const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
        return key === undefined ? undefined : String(headers[key]);
      };
      const afterMs = Number.parseFloat(header("retry-after-ms") ?? "");
      const after = header("retry-after") ?? "";
      let asked = Number.NaN;
      if (Number.isFinite(afterMs)) asked = afterMs;
      else if (/^\\s*\\d+(\\.\\d+)?\\s*$/.test(after)) asked = Number(after) * 1000;
      else if (after) asked = Date.parse(after) - Date.now();
      const backoff = Math.random() * Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const delay = asked >= 0 && asked <= 60_000 ? asked : backoff;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
"""

PROMPT_BODY_ESM = """\
function promptBody(file«: string»)«: string» {
  // The body of a .prompty file beside this module: the text after the closing `---` of its frontmatter.
  const text = readFileSync(new URL(file, import.meta.url), "utf8");
  const frontmatter = /^\\uFEFF?---[ \\t]*\\r?\\n(?:[\\s\\S]*?\\r?\\n)?---[ \\t]*(?:\\r?\\n|$)/.exec(text);
  return frontmatter ? text.slice(frontmatter[0].length) : text;
}
"""

PROMPT_BODY_CJS = PROMPT_BODY_ESM.replace(
    'readFileSync(new URL(file, import.meta.url), "utf8")',
    'require("node:fs").readFileSync(require("node:path").join(__dirname, file), "utf8")')

# (sdk, api) -> (event listener, final-result method) of the SDK's stream helper
_STREAMS = {
    ("anthropic", "messages.create"): ('.on("text", (t) => process.stdout.write(t))', ".finalMessage()"),
    ("openai", "chat.completions.create"): ('.on("content.delta", ({ delta }) => process.stdout.write(delta))',
                                            ".finalChatCompletion()"),
    ("openai", "responses.create"): ('.on("response.output_text.delta", (e) => process.stdout.write(e.delta))',
                                     ".finalResponse()"),
}
# Streams are returned synchronously (not promises): retrying them from the outside means nothing.
_NOT_RETRYABLE = frozenset({"messages.stream", "chat.completions.stream", "responses.stream"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _typed(template: str, doc: CodeDocument) -> str:
    """The TypeScript template as TypeScript, or without its annotations for JavaScript."""
    if doc.language in ("javascript", "javascriptreact"):
        return re.sub(r"«[^»]*»", "", template)
    return template.replace("«", "").replace("»", "")


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000):_}"


def _helper_edit(doc: CodeDocument, code: str) -> TextEdit:
    """Insert top-level code after the imports (or above the first statement), set off by blank lines."""
    at = _top_insert_at(doc)
    before = doc.text[:at]
    lead = "" if not before else ("\n" if before.endswith("\n") else "\n\n")
    return TextEdit(Span(at, at), f"{lead}{code}{_blank_after(doc, at)}")


def _blank_after(doc: CodeDocument, at: int) -> str:
    """A blank line after inserted top-level code, unless the text there starts with one."""
    return "" if doc.text[at:at + 1] in ("\n", "\r") else "\n"


def _top_insert_at(doc: CodeDocument) -> int:
    if doc.import_insert_at:
        return doc.import_insert_at
    # no imports: stay below a shebang and a "use strict" directive prologue
    m = re.match(r"(#![^\n]*\n)?(\s*(['\"])use [\w ]+\3;?[^\n]*\n)*", doc.text)
    return m.end() if m else 0


def add_timeout(doc: CodeDocument, client: ClientInit, seconds: float = 60.0) -> Fix | None:
    """anthropic/openai: `timeout: 60_000` (ms) in the options object; @google/genai: `httpOptions: { timeout }`.
    ollama-js has no timeout option; options spread from elsewhere may already hold one: both give None."""
    if client.has_spread or client.sdk not in ("anthropic", "openai", "gemini"):
        return None
    ms = _ms(seconds)
    if client.sdk == "gemini":
        opts = client.args.get("httpOptions") or client.args.get("http_options")
        if opts is not None:
            return _timeout_into(doc, opts, ms)
        prop = f"httpOptions: {{ timeout: {ms} }}"
    else:
        if "timeout" in client.args:
            return None
        prop = f"timeout: {ms}"
    text = f"{client.insert_prefix}{prop}{client.insert_suffix}"
    return Fix(f"Add `{prop}` to the client", (TextEdit(Span(client.insert_at, client.insert_at), text),),
               preferred=True)


def _timeout_into(doc: CodeDocument, opts: Value, ms: str) -> Fix | None:
    """Add `timeout` to an existing literal `httpOptions: { ... }`."""
    span = opts.written_at
    src = doc.text[span.start:span.end]
    if not isinstance(opts.value, dict) or opts.partial or "timeout" in opts.value \
            or not (src.startswith("{") and src.endswith("}")):
        return None
    body = src[1:-1].rstrip()
    if not body.strip():
        return Fix(f"Add `timeout: {ms}` to `httpOptions`", (TextEdit(span, f"{{ timeout: {ms} }}"),), preferred=True)
    at = span.start + 1 + len(body)
    text = f" timeout: {ms}" if body.endswith(",") else f", timeout: {ms}"
    return Fix(f"Add `timeout: {ms}` to `httpOptions`", (TextEdit(Span(at, at), text),), preferred=True)


def wrap_with_retry(doc: CodeDocument, site: CallSite) -> Fix | None:
    """`await <call>` -> `await withRetry(() => <call>)`, defining `withRetry` once after the imports."""
    if site.api in _NOT_RETRYABLE:
        return None
    after = doc.text[site.span.end:]
    # `.withResponse()` / `.asResponse()` live on the SDK's promise; a plain Promise from withRetry lacks them
    if re.match(r"\s*(\?\.|\.)\s*(?!then\b|catch\b|finally\b)", after):
        return None
    call = doc.text[site.span.start:site.span.end]
    edits = []
    if "withRetry" not in doc.top_level_names:
        edits.append(_helper_edit(doc, _typed(RETRY_HELPER, doc)))
    edits.append(TextEdit(site.span, f"withRetry(() => {call})"))
    return Fix("Retry with exponential backoff (honours retry-after)", tuple(edits))


def to_streaming(doc: CodeDocument, site: CallSite) -> Fix | None:
    """`const msg = await client.messages.create(ARGS);` -> the SDK's stream helper printing text as it arrives
    and resolving to the same final object (`.finalMessage()`, `.finalChatCompletion()`, `.finalResponse()`)."""
    spec = _STREAMS.get((site.sdk, site.api))
    if spec is None or doc.language in ("tsx", "typescriptreact") or not _simple_statement(doc, site):
        return None  # TSX renders in a browser as often as not: no process.stdout there
    open_paren = doc.text.find("(", site.method_span.end, site.span.end)
    if open_paren < 0 or doc.text[site.span.end - 1] != ")":
        return None
    args = _args_without_stream_flag(doc, site, open_paren + 1, site.span.end - 1)
    if args is None:
        return None
    on, final = spec
    new = (doc.text[site.span.start:site.method_span.start] + "stream"
           + doc.text[site.method_span.end:open_paren + 1] + args + ")" + on + final)
    return Fix("Stream the response (print text as it arrives)", (TextEdit(site.span, new),))


def _simple_statement(doc: CodeDocument, site: CallSite) -> bool:
    if site.assigned_to is not None:
        return True
    stmt = doc.text[site.statement_span.start:site.statement_span.end]
    call = doc.text[site.span.start:site.span.end]
    return re.fullmatch(r"\s*(await\s+)?" + re.escape(call) + r"\s*;?\s*(//.*)?", stmt) is not None


def _args_without_stream_flag(doc: CodeDocument, site: CallSite, start: int, end: int) -> str | None:
    """The argument text between the parentheses, with a `stream: true` property removed."""
    flag = site.args.get("stream")
    if flag is None:
        return doc.text[start:end]
    if not isinstance(flag.value, bool) or flag.origin is not None:
        return None
    key = re.search(r"[\"']?stream[\"']?\s*:\s*$", doc.text[start:flag.span.start])
    if key is None:
        return None
    cut_start, cut_end = start + key.start(), flag.span.end
    line_start = doc.text.rfind("\n", 0, cut_start) + 1
    rest = re.match(r"[ \t]*,?[ \t]*(\r?\n|$)", doc.text[cut_end:end])
    if doc.text[line_start:cut_start].strip() == "" and rest is not None:  # the property has its own line
        cut_start, cut_end = line_start, cut_end + rest.end()
    elif (comma := re.match(r"\s*,\s*", doc.text[cut_end:end])) is not None:
        cut_end += comma.end()
    elif (prev := re.search(r",\s*$", doc.text[start:cut_start])) is not None:
        cut_start = start + prev.start()
    return doc.text[start:cut_start] + doc.text[cut_end:end]


def key_to_env(doc: CodeDocument, value: Value, env_var: str) -> Fix | None:
    """Replace a literal API key (where it is written: the constant's definition if it came through one) with
    `process.env.ENV_VAR`."""
    span = value.written_at
    src = doc.text[span.start:span.end]
    if not _ENV_NAME.fullmatch(env_var) or not src or src[0] not in "'\"`" or src[-1] != src[0]:
        return None
    return Fix(f"Read the API key from `process.env.{env_var}`", (TextEdit(span, f"process.env.{env_var}"),),
               preferred=True)


def prompt_file_loader(doc: CodeDocument, rel_path: str) -> tuple[str, tuple[TextEdit, ...]]:
    """`promptBody("rel")`, reading the body of the .prompty file at `rel_path` beside the source file, and
    the edits defining `promptBody` (and importing `readFileSync` in an ES module) once."""
    expr = f"promptBody({json.dumps(rel_path)})"
    if "promptBody" in doc.top_level_names:
        return expr, ()
    if not _is_esm(doc):
        return expr, (_helper_edit(doc, _typed(PROMPT_BODY_CJS, doc)),)
    helper = _typed(PROMPT_BODY_ESM, doc)
    if "readFileSync" not in doc.top_level_names:
        at = _top_insert_at(doc)
        lead = "\n" if at and not doc.text[:at].endswith("\n") else ""
        code = f'{lead}import {{ readFileSync }} from "node:fs";\n\n{helper}{_blank_after(doc, at)}'
        return expr, (TextEdit(Span(at, at), code),)
    return expr, (_helper_edit(doc, helper),)


def _is_esm(doc: CodeDocument) -> bool:
    """ES module (`import.meta.url`) or CommonJS (`__dirname`), by file extension, then by what the file uses."""
    path = doc.path.lower()
    if path.endswith((".cjs", ".cts")):
        return False
    if path.endswith((".mjs", ".mts")):
        return True
    if re.search(r"^[ \t]*(import\s*[\w{*\"']|export\s)", doc.text, re.M):
        return True
    return re.search(r"\brequire\s*\(", doc.text) is None
