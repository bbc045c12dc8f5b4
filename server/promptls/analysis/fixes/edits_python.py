"""Python rewrites of SDK clients and call sites: add a timeout, wrap a call in retry with backoff, switch a
call to the SDK's streaming helper, read an API key from the environment, and load a prompt from a `.prompty`
file. Every edit is computed from the `CodeDocument` (its text, spans and insertion points); a rewrite that
cannot be done safely returns None.

Generated helpers use only the standard library, import inside their bodies (so they never clash with the
module's own names) and target Python 3.8+ syntax.
"""

from __future__ import annotations

import ast
import json
import re
from functools import lru_cache

from promptls.core.findings import Fix, TextEdit
from promptls.core.positions import Span, Utf8Lines
from promptls.documents.code.model import CallSite, ClientInit, CodeDocument, Value
from promptls.documents.code.python_sites import parse_quietly

RETRY_DELAY_HELPER = '''\
def _retry_delay(error, attempt, base, cap):
    """Seconds to wait before retrying after `error`, or None when retrying cannot help. Timeouts, conflicts,
    rate limits, server errors (408/409/429/5xx) and connection failures are retried; the server's
    `retry-after-ms`/`retry-after` header (seconds or an HTTP date) wins over exponential backoff with full
    jitter."""
    import email.utils
    import random
    import time

    status = getattr(error, "status_code", None)
    if not isinstance(status, int):
        status = getattr(error, "code", None)  # google-genai's APIError carries the HTTP status as `code`
    if isinstance(status, int) and not isinstance(status, bool):
        if status not in (408, 409, 429) and status < 500:
            return None
    elif not isinstance(error, (ConnectionError, TimeoutError)) and not any(
            word in type(error).__name__ for word in ("Connect", "Timeout")):
        return None
    headers = getattr(getattr(error, "response", None), "headers", None) or {}

    def header(name):
        value = headers.get(name) if hasattr(headers, "get") else None
        if value is None and hasattr(headers, "items"):
            value = next((v for k, v in headers.items() if str(k).lower() == name), None)
        return value

    delay = None
    try:
        if header("retry-after-ms") is not None:
            delay = float(header("retry-after-ms")) / 1000
        elif header("retry-after") is not None:
            value = str(header("retry-after"))
            try:
                delay = float(value)
            except ValueError:
                delay = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError, IndexError, OverflowError):
        delay = None
    if delay is not None and delay <= cap:
        return max(0.0, delay)
    return random.uniform(0, min(cap, base * 2 ** attempt))
'''

RETRY_HELPER = '''\
def _with_retry(fn, *, attempts=5, base=1.0, cap=60.0):
    """Call `fn()`; after a retryable error wait as `_retry_delay` says and call it again, `attempts` times
    at most."""
    import time

    for attempt in range(attempts):
        try:
            return fn()
        except Exception as error:
            delay = _retry_delay(error, attempt, base, cap)
            if delay is None or attempt + 1 >= attempts:
                raise
            time.sleep(delay)
'''

RETRY_ASYNC_HELPER = '''\
async def _with_retry_async(fn, *, attempts=5, base=1.0, cap=60.0):
    """Await `fn()`; after a retryable error wait as `_retry_delay` says and await it again, `attempts`
    times at most."""
    import asyncio

    for attempt in range(attempts):
        try:
            return await fn()
        except Exception as error:
            delay = _retry_delay(error, attempt, base, cap)
            if delay is None or attempt + 1 >= attempts:
                raise
            await asyncio.sleep(delay)
'''

PROMPT_BODY_HELPER = '''\
def _prompt_body(path):
    """The body of a prompt file (the text after the closing `---` of its frontmatter), relative to this
    module."""
    from pathlib import Path

    text = (Path(__file__).parent / path).read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    if lines and lines[0].rstrip() == "---":
        for i in range(1, len(lines)):
            if lines[i].rstrip() == "---":
                return "".join(lines[i + 1:])
    return text
'''

# Per SDK and API: the streaming method, how to print text as it arrives, and how to get the final object.
_STREAMING = {
    ("anthropic", "messages.create"): ("stream", None, "get_final_message"),
    ("openai", "chat.completions.create"): ("stream", "content.delta", "get_final_completion"),
    ("openai", "responses.create"): ("stream", "response.output_text.delta", "get_final_response"),
}


# -- timeout -------------------------------------------------------------------------------------------------
def add_timeout(doc: CodeDocument, client: ClientInit, seconds: float = 60.0) -> Fix | None:
    """`timeout=60.0` for anthropic/openai/ollama clients; `http_options={"timeout": 60_000}` (milliseconds)
    for google-genai, or a `timeout` added to the `http_options` already written."""
    if client.has_spread:
        return None
    if client.sdk in ("anthropic", "openai", "ollama"):
        if "timeout" in client.args:
            return None
        arg = f"timeout={float(seconds)!r}"
        edit = TextEdit(Span(client.insert_at, client.insert_at), client.insert_prefix + arg)
        return Fix(f"Add `{arg}`", (edit,), preferred=True)
    if client.sdk != "gemini":
        return None
    ms = f"{round(seconds * 1000):_}"
    opts = client.args.get("http_options")
    if opts is None:
        arg = 'http_options={"timeout": ' + ms + "}"
        edit = TextEdit(Span(client.insert_at, client.insert_at), client.insert_prefix + arg)
        return Fix(f"Add `{arg}`", (edit,), preferred=True)
    edit = _add_to_mapping(doc, opts, "timeout", ms)
    return Fix(f"Add a {ms} ms timeout to `http_options`", (edit,), preferred=True) if edit else None


def _add_to_mapping(doc: CodeDocument, opts: Value, key: str, value: str) -> TextEdit | None:
    """Insert `key` into a dict literal (`{...}`) or a keyword-only call (`types.HttpOptions(...)`)."""
    if not isinstance(opts.value, dict) or opts.partial or key in opts.value:
        return None
    where = opts.written_at
    src = doc.text[where.start:where.end]
    literal = src.startswith("{")
    entry = f'"{key}": {value}' if literal else f"{key}={value}"
    if opts.value:
        end = max(v.span.end for v in opts.value.values())
        return TextEdit(Span(end, end), ", " + entry)
    if literal:
        return TextEdit(Span(where.start + 1, where.start + 1), entry)
    if not src.endswith(")"):
        return None
    return TextEdit(Span(where.end - 1, where.end - 1), entry)


# -- retry ---------------------------------------------------------------------------------------------------
def wrap_with_retry(doc: CodeDocument, site: CallSite) -> Fix | None:
    """`_with_retry(lambda: <call>)` (`await _with_retry_async(lambda: <call>)` when awaited), with the helpers
    inserted once after the imports."""
    text = doc.text
    call = text[site.span.start:site.span.end]
    before = text[max(0, site.span.start - 80):site.span.start]
    if site.api.endswith("stream") or before.rstrip().endswith("lambda:") or not _lambda_safe(call):
        return None  # a stream's request starts later, when it is entered or iterated
    if site.awaited and not re.search(r"\bawait\s*\(?\s*$", before):
        return None  # `async with client.messages.stream(...)`: not an awaitable
    if not site.awaited and _is_async(doc, site):
        return None  # a coroutine created here and awaited elsewhere: a sync wrapper would not see its errors
    wrapper = "_with_retry_async" if site.awaited else "_with_retry"
    helpers = [h for name, h in (("_retry_delay", RETRY_DELAY_HELPER),
                                 (wrapper, RETRY_ASYNC_HELPER if site.awaited else RETRY_HELPER))
               if name not in doc.top_level_names]
    edits = [TextEdit(site.span, f"{wrapper}(lambda: {call})")]
    if helpers:
        edits.append(_insert_block(doc, _helper_at(doc, site.statement_span.start), helpers))
    return Fix("Retry with exponential backoff (honours retry-after)", _combine(edits))


def _lambda_safe(call: str) -> bool:
    """Whether the call can become a lambda's body (no `await`/`yield` inside its arguments)."""
    try:
        tree = parse_quietly(call.strip(), mode="eval")
    except SyntaxError:
        return False
    return not any(isinstance(n, ast.Await | ast.Yield | ast.YieldFrom) for n in ast.walk(tree))


def _is_async(doc: CodeDocument, site: CallSite) -> bool:
    if site.api == "acompletion" or ".aio." in doc.text[site.callee_span.start:site.callee_span.end]:
        return True
    return any(c.var == site.receiver and c.callee.rpartition(".")[2].startswith("Async") for c in doc.clients)


# -- streaming -----------------------------------------------------------------------------------------------
def to_streaming(doc: CodeDocument, site: CallSite) -> Fix | None:
    """`resp = client.messages.create(ARGS)` -> `with client.messages.stream(ARGS) as stream:` printing text as
    it arrives, then `resp = stream.get_final_message()` (and the OpenAI Chat Completions / Responses
    equivalents). Only for an assignment or expression statement that is just the call."""
    kind = _STREAMING.get((site.sdk, site.api))
    shape = _statement_shape(doc, site) if kind else None
    args = _args_without(doc, site, "stream") if shape else None
    if kind is None or shape is None or args is None:
        return None
    method, event_type, final = kind
    target, comment = shape
    names = _names_in_use(doc.text)
    stream = _fresh(names, "stream", "llm_stream")
    a, aw = ("async ", "await ") if site.awaited else ("", "")
    unit = "\t" if "\t" in site.indent else "    "
    ind, ind2, ind3 = site.indent, site.indent + unit, site.indent + unit * 2
    head = doc.text[site.callee_span.start:site.method_span.start] + method
    lines = [f"{ind}{a}with {head}({args}) as {stream}:{comment}"]
    if event_type is None:
        text_var = _fresh(names, "text", "chunk", "piece")
        lines += [f"{ind2}{a}for {text_var} in {stream}.text_stream:",
                  f'{ind3}print({text_var}, end="", flush=True)']
    else:
        event = _fresh(names, "event", "stream_event")
        lines += [f"{ind2}{a}for {event} in {stream}:",
                  f'{ind3}if {event}.type == "{event_type}":',
                  f'{ind3}{unit}print({event}.delta, end="", flush=True)']
    if target:
        lines.append(f"{ind}{target} = {aw}{stream}.{final}()")
    new = _newline(doc).join(lines)
    title = f"Stream the response (`{site.api.rpartition('.')[0]}.{method}`)"
    return Fix(title, (TextEdit(site.statement_span, new),))


def _statement_shape(doc: CodeDocument, site: CallSite) -> tuple[str, str] | None:
    """(target as written or "", trailing comment or "") when the statement is just `[target =] [await] call`."""
    stmt = site.statement_span
    prefix = doc.text[stmt.start + len(site.indent):site.span.start]
    suffix = doc.text[site.span.end:stmt.end]
    source = prefix + "_" + suffix
    try:
        tree = parse_quietly(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1:
        return None
    node = tree.body[0]
    value = node.value if isinstance(node, ast.Assign | ast.AnnAssign | ast.Expr) else None
    if isinstance(value, ast.Await) != site.awaited:
        return None
    if isinstance(value, ast.Await):
        value = value.value
    if not (isinstance(value, ast.Name) and value.id == "_"):
        return None
    target = ""
    if isinstance(node, ast.Assign):
        if len(node.targets) != 1 or isinstance(node.targets[0], ast.Tuple | ast.List | ast.Starred):
            return None
        target = ast.get_source_segment(source, node.targets[0]) or ""
    elif isinstance(node, ast.AnnAssign):
        target = f"{ast.get_source_segment(source, node.target)}: {ast.get_source_segment(source, node.annotation)}"
    hash_at = suffix.find("#")
    comment = "  " + suffix[hash_at:].splitlines()[0].strip() if hash_at >= 0 else ""
    return target, comment


def _args_without(doc: CodeDocument, site: CallSite, keyword: str) -> str | None:
    """The call's argument text as written, without `keyword=...` (and its comma)."""
    call = doc.text[site.span.start:site.span.end]
    try:
        tree = parse_quietly(call, mode="eval")
    except SyntaxError:
        return None
    node = tree.body
    if not isinstance(node, ast.Call):
        return None
    off = Utf8Lines(call)
    func_end = off.span(node.func).end
    open_at = call.index("(", func_end)
    inner_start, inner_end = open_at + 1, len(call) - 1
    args = sorted([*node.args, *node.keywords], key=lambda n: (n.lineno, n.col_offset))
    spans = [off.span(n) for n in args]
    for i, n in enumerate(args):
        if isinstance(n, ast.keyword) and n.arg == keyword:
            if i + 1 < len(args):
                cut = Span(spans[i].start, spans[i + 1].start)
            elif i > 0:
                cut = Span(spans[i - 1].end, spans[i].end)
            else:
                cut = spans[i]
            call = call[:cut.start] + call[cut.end:]
            inner_end -= cut.end - cut.start
            break
    return call[inner_start:inner_end]


@lru_cache(maxsize=8)
def _names_in_use(text: str) -> frozenset[str]:
    """Every variable, parameter, function and class name of the module (to pick names that shadow nothing)."""
    try:
        tree = parse_quietly(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(n.name)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).partition(".")[0])
    return frozenset(names)


def _fresh(names: frozenset[str], *choices: str) -> str:
    for c in choices:
        if c not in names:
            return c
    name = choices[-1]
    while name in names:
        name += "_"
    return name


# -- secrets -------------------------------------------------------------------------------------------------
def key_to_env(doc: CodeDocument, value: Value, env_var: str) -> Fix | None:
    """Replace a literal API key with `os.environ["ENV"]`, importing `os` when the module does not."""
    if not isinstance(value.value, str) or value.partial:
        return None
    where = value.written_at
    edits = [TextEdit(where, f"os.environ[{json.dumps(env_var)}]")]
    if not doc.has_os_import:
        at = _helper_at(doc, where.start)
        prefix = "\n" if at == len(doc.text) and doc.text and doc.text[-1] not in "\r\n" else ""
        edits.append(TextEdit(Span(at, at), prefix + "import os" + _newline(doc)))
    return Fix(f"Read the key from `os.environ[{json.dumps(env_var)}]`", _combine(edits), preferred=True)


# -- prompt files --------------------------------------------------------------------------------------------
def prompt_file_loader(doc: CodeDocument, rel_path: str) -> tuple[str, tuple[TextEdit, ...]]:
    """`_prompt_body("rel/path.prompty")` and the edit that defines `_prompt_body` once after the imports."""
    expr = f"_prompt_body({json.dumps(rel_path)})"
    if "_prompt_body" in doc.top_level_names:
        return expr, ()
    return expr, (_insert_block(doc, doc.import_insert_at, [PROMPT_BODY_HELPER]),)


# -- shared --------------------------------------------------------------------------------------------------
def _newline(doc: CodeDocument) -> str:
    return "\r\n" if "\r\n" in doc.text else "\n"


def _insert_block(doc: CodeDocument, at: int, blocks: list[str]) -> TextEdit:
    """Top-level definitions inserted at the start of a line, with two blank lines around them."""
    text = doc.text
    body = "\n\n\n".join(b.rstrip("\n") for b in blocks) + "\n"
    lead = "\n\n"
    if at == len(text) and text and text[-1] not in "\r\n":
        lead = "\n\n\n"
    elif at == 0:
        lead = ""
    following = text[at:at + 2].replace("\r", "")
    trail = "" if following.startswith("\n\n") else "\n" if following.startswith("\n") else "\n\n"
    if at == len(text):
        trail = ""
    new = lead + body + trail
    if _newline(doc) == "\r\n":
        new = new.replace("\n", "\r\n")
    return TextEdit(Span(at, at), new)


def _helper_at(doc: CodeDocument, offset: int) -> int:
    """Where module-level code needed at `offset` goes: after the imports, unless `offset` is in a top-level
    statement that runs before them, in which case just before that statement."""
    at = doc.import_insert_at
    if offset >= at:
        return at
    parsed = _parse(doc.text)
    if parsed is None:
        return at
    tree, off = parsed
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        span = Span(off.starts[first - 1], off.span(stmt).end)
        if span.start <= offset < span.end:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                return at  # runs later, when the module has finished loading
            return min(at, span.start)
    return at


@lru_cache(maxsize=8)
def _parse(text: str) -> tuple[ast.Module, Utf8Lines] | None:
    bom = text.startswith("\ufeff")
    try:
        return parse_quietly(text[1:] if bom else text), Utf8Lines(text, bom=bom)
    except (SyntaxError, ValueError):
        return None


def _combine(edits: list[TextEdit]) -> tuple[TextEdit, ...]:
    """Sorted edits, with an insertion at the very start of a replaced span folded into that replacement (two
    edits at one offset have no defined order)."""
    out: list[TextEdit] = []
    for e in sorted(edits, key=lambda e: (e.span.start, e.span.end)):
        if out and out[-1].span.start == out[-1].span.end == e.span.start:
            out[-1] = TextEdit(e.span, out[-1].new_text + e.new_text)
        else:
            out.append(e)
    return tuple(out)
