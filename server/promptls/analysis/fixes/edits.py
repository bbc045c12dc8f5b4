"""Code rewrites for SDK call sites: one entry point per action, dispatching to the language's edit builder
(`edits_python`, `edits_ts`) where syntax differs, and written here where it does not (a model id inside its
quotes, a content-block list that reads the same in Python and JavaScript)."""

from __future__ import annotations

import json
import re
from types import ModuleType

from promptls.core.findings import Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.code.model import CallSite, ClientInit, CodeDocument, Value


def _builder(doc: CodeDocument) -> ModuleType:
    if doc.language == "python":
        from promptls.analysis.fixes import edits_python
        return edits_python
    from promptls.analysis.fixes import edits_ts
    return edits_ts


def add_timeout(doc: CodeDocument, client: ClientInit) -> Fix | None:
    return _builder(doc).add_timeout(doc, client)


def wrap_with_retry(doc: CodeDocument, site: CallSite) -> Fix | None:
    return _builder(doc).wrap_with_retry(doc, site)


def to_streaming(doc: CodeDocument, site: CallSite) -> Fix | None:
    return _builder(doc).to_streaming(doc, site)


def key_to_env(doc: CodeDocument, value: Value, env_var: str) -> Fix | None:
    return _builder(doc).key_to_env(doc, value, env_var)


def key_span(doc: CodeDocument, value: Value, key: str) -> Span | None:
    """The span of `key` in `key=value` / `key: value` / `"key": value` just before `value`."""
    start = max(0, value.span.start - len(key) - 16)
    before = doc.text[start:value.span.start]
    m = re.search(r"[\"']?(" + re.escape(key) + r")[\"']?\s*[=:]\s*$", before)
    if m is None:
        return None
    return Span(start + m.start(1), start + m.end(1))


def cache_system_prompt(doc: CodeDocument, site: CallSite) -> Fix | None:
    """Anthropic: turn `system="..."` into one text block with `cache_control`, so the long static prefix is
    written to the prompt cache once and read at a tenth of the price afterwards. The block list reads the
    same in Python and JavaScript."""
    system = site.args.get("system")
    if site.sdk != "anthropic" or system is None or not isinstance(system.value, str):
        return None
    expr = system.source or doc.text[system.span.start:system.span.end]
    block = ('[{"type": "text", "text": ' + expr + ', "cache_control": {"type": "ephemeral"}}]')
    return Fix("Cache the system prompt (Anthropic prompt caching)", (TextEdit(system.span, block),))


def prompty_text(name: str, model: str | None, site: CallSite, system: str | None, user: str | None) -> str:
    """A Prompty v2 file holding an extracted prompt, with the call's model and literal options."""
    lines = ["---", f"name: {name}", "model:"]
    provider = {"anthropic": "anthropic", "openai": "openai", "gemini": "google", "ollama": "ollama"}.get(site.sdk)
    if model:
        lines.append(f"  id: {json.dumps(model)}")
    if provider:
        lines.append(f"  provider: {provider}")
    lines.append("  apiType: chat")
    opts = []
    for key in ("max_tokens", "max_completion_tokens", "temperature", "top_p"):
        v = site.args.get(key)
        if v is not None and isinstance(v.value, int | float) and not isinstance(v.value, bool):
            opts.append(f"    {'maxOutputTokens' if key.startswith('max') else key}: {v.value}")
    if opts:
        lines += ["  options:", *opts]
    lines.append("---")
    body = []
    if system is not None:
        body += ["system:", system.strip("\n"), ""]
    if user is not None:
        body += ["user:", user.strip("\n"), ""]
    return "\n".join(lines) + "\n" + "\n".join(body)


def extract_prompt(doc: CodeDocument, site: CallSite, value: Value, role: str, rel_path: str,
                   abs_path: str) -> Fix | None:
    """Move a literal prompt into a `.prompty` file beside the source and read its body from there."""
    if not isinstance(value.value, str) or value.partial or value.name is not None:
        return None
    model = site.args.get("model")
    model_id = model.value if model is not None and isinstance(model.value, str) else None
    name = rel_path.rpartition("/")[2].removesuffix(".prompty")
    content = prompty_text(name, model_id, site, value.value if role == "system" else None,
                           value.value if role != "system" else None)
    expr, extra = _builder(doc).prompt_file_loader(doc, rel_path)
    # the body starts with its role marker (`system:`/`user:`): the code reads only the text after it
    expr = _strip_role(doc, expr, "system:" if role == "system" else "user:")
    edit = TextEdit(value.span, expr)
    return Fix(f"Extract the {role} prompt into `{rel_path}`", (*extra, edit), create_files=((abs_path, content),))


def _strip_role(doc: CodeDocument, expr: str, marker: str) -> str:
    if doc.language == "python":
        return f"{expr}.split({marker!r}, 1)[1].strip()"
    return f"{expr}.split({json.dumps(marker)}).slice(1).join({json.dumps(marker)}).trim()"


# -- where a replacement goes, and what it says ------------------------------------------------------------
def string_inner(doc: CodeDocument, v: Value) -> Span | None:
    """The span inside the quotes of a plain string literal (where a replacement goes), or None."""
    span = v.written_at
    src = doc.text[span.start:span.end]
    i = 0
    while i < len(src) and src[i] in "rRuUbB":
        i += 1
    if len(src) - i < 2 or src[i] not in "'\"`" or src[-1] != src[i]:
        return None
    q = 3 if src[i:i + 3] in ('"""', "'''") else 1
    inner = Span(span.start + i + q, span.end - q)
    if doc.text[inner.start:inner.end] != v.value:  # escapes: a plain replacement would not mean the same
        return None
    return inner


def replacement_text(written: str, new_id: str) -> str:
    """Keep the dialect's provider prefix: `googleai/gemini-x` → `googleai/<successor>`."""
    prefix, sep, _ = written.rpartition("/")
    bare = new_id.rpartition("/")[2]
    return f"{prefix}/{bare}" if sep else bare
